package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// TestRunStandalone runs a controller on RunStandalone's own informers and Event recorder
// against a real apiserver: it reconciles what its informer shows, its Events are written with
// its component, and RunStandalone returns the controller's outcome once ctx ends.
func TestRunStandalone(t *testing.T) {
	c, err := client.Dial(context.Background(), apiservertest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cms := c.Resource(scheme.ConfigMaps)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "one"}}); err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	seen := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- RunStandalone(runCtx, c, nil, func(env Env) Runner {
			inf := env.Factory.For(scheme.ConfigMaps)
			rec := env.Recorder("standalone-test")
			ctl := New("standalone-test", func(ctx context.Context, key string) (Result, error) {
				if obj, ok := inf.Store().Get(key); ok {
					rec.Eventf(obj, events.Normal, "Seen", "Seen %s", key)
				}
				seen <- key
				return Result{}, nil
			}, Options{})
			ctl.Watch(inf, nil)
			return failingRunner{ctl}
		})
	}()
	select {
	case k := <-seen:
		if k != "default/one" {
			t.Errorf("reconciled %q, want default/one", k)
		}
	case <-ctx.Done():
		t.Fatal("nothing reconciled: the factory was not started")
	}
	for {
		evs, _, err := c.Resource(scheme.Events).ListAll(ctx, &metav1.ListOptions{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 1 {
			if src := evs[0].(*corev1.Event).GetSource().GetComponent(); src != "standalone-test" {
				t.Errorf("event source %q, want standalone-test", src)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("events %v, want one from the recorder", evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; !errors.Is(err, errStopped) {
		t.Errorf("RunStandalone = %v, want the controller's error", err)
	}
}

var errStopped = errors.New("stopped")

// failingRunner runs a controller and then says it stopped, an error RunStandalone must pass on.
type failingRunner struct{ c *Controller }

func (r failingRunner) Run(ctx context.Context) error {
	if err := r.c.Run(ctx); err != nil {
		return err
	}
	return errStopped
}
