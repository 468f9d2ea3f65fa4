package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/controller"
)

// logBuffer collects a controller manager's log and passes it to the test's.
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  strings.Builder
}

func (w *logBuffer) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *logBuffer) count(s string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Count(w.b.String(), s)
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// namespaceDeletes checks that the namespace controller works: a deleted Namespace goes away.
func namespaceDeletes(t *testing.T, c *client.Client, name string) {
	t.Helper()
	ctx := context.Background()
	nss := c.Resource(scheme.Namespaces)
	if _, err := nss.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "namespace "+name+" finalized", func() bool {
		_, err := nss.Get(ctx, "", name)
		return kerrors.IsNotFound(err)
	})
}

func getLease(t *testing.T, c *client.Client) *coordinationv1.Lease {
	t.Helper()
	obj, err := c.Resource(scheme.Leases).Get(context.Background(), leaderelection.DefaultNamespace, controller.LeaseName)
	if err != nil {
		t.Fatalf("get lease: %v", err)
	}
	return obj.(*coordinationv1.Lease)
}

// TestLeadsThenRunsControllersEachTerm: the controllers run once the manager holds the Lease,
// stop when it loses it, and start afresh when it leads again.
func TestLeadsThenRunsControllersEachTerm(t *testing.T) {
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	logs := &logBuffer{t: t}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, controller.Config{
			Client: c, Logger: slog.New(slog.NewTextHandler(logs, nil)), Metrics: prometheus.NewRegistry(),
			LeaderElection: leaderelection.Config{
				Identity: "cm-a", LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 200 * time.Millisecond,
			},
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if spec := getLease(t, c).GetSpec(); spec.GetHolderIdentity() != "" {
			t.Errorf("lease still held by %q after Run returned", spec.GetHolderIdentity())
		}
	}()
	eventually(t, 10*time.Second, "controllers started", func() bool { return logs.count("controllers started") == 1 })
	if h := getLease(t, c).GetSpec().GetHolderIdentity(); h != "cm-a" {
		t.Fatalf("lease holder %q, want cm-a", h)
	}
	namespaceDeletes(t, c, "term-1")

	// Another holder takes the Lease (for a second): the manager steps down, stops its
	// controllers, and leads again once that Lease expires.
	leases := c.Resource(scheme.Leases)
	for {
		l := getLease(t, c)
		l.Spec.HolderIdentity = ptr("intruder")
		l.Spec.LeaseDurationSeconds = ptr(int32(1))
		_, err := leases.Update(context.Background(), l)
		if err == nil {
			break
		}
		if !kerrors.IsConflict(err) {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "controllers stopped", func() bool { return logs.count("controllers stopped") == 1 })
	eventually(t, 10*time.Second, "controllers started again", func() bool { return logs.count("controllers started") == 2 })
	if spec := getLease(t, c).GetSpec(); spec.GetHolderIdentity() != "cm-a" || spec.GetLeaseTransitions() != 1 {
		t.Fatalf("lease %v, want cm-a after 1 transition (the intruder's write is no transition)", spec)
	}
	namespaceDeletes(t, c, "term-2")
}

// TestNoLeaderElection runs the controllers without a Lease.
func TestNoLeaderElection(t *testing.T) {
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- controller.Run(ctx, controller.Config{Client: c, NoLeaderElection: true, Logger: slog.New(slog.NewTextHandler(&logBuffer{t: t}, nil))})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	namespaceDeletes(t, c, fmt.Sprintf("alone-%d", time.Now().UnixNano()%1000))
	if _, err := c.Resource(scheme.Leases).Get(context.Background(), leaderelection.DefaultNamespace, controller.LeaseName); !kerrors.IsNotFound(err) {
		t.Errorf("get lease without leader election: %v, want NotFound", err)
	}
}

func ptr[T any](v T) *T { return &v }
