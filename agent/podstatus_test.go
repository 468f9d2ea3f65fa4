package agent

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// statusEnv is a status manager on a real apiserver, with the informer it reads from.
type statusEnv struct {
	t    *testing.T
	ctx  context.Context
	pods *client.ResourceClient
	m    *statusManager
	// stopCache stops the informer: its cache then keeps what it has.
	stopCache context.CancelFunc
}

func newStatusEnv(t *testing.T) *statusEnv {
	addr := apiservertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	c, err := client.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	inf := informer.New(c, scheme.Pods, informer.Options{FieldSelector: "spec.nodeName=n1"})
	ictx, stopCache := context.WithCancel(ctx)
	go func() { _ = inf.Run(ictx) }()
	if !informer.WaitForSync(ctx, inf) {
		t.Fatal("informer did not sync")
	}
	m := newStatusManager(c.Resource(scheme.Pods), informer.NewLister[*corev1.Pod](inf), newMetrics(nil), slog.New(slog.DiscardHandler))
	go m.run(ctx, 2)
	return &statusEnv{t: t, ctx: ctx, pods: c.Resource(scheme.Pods), m: m, stopCache: stopCache}
}

func (e *statusEnv) create(name string) *corev1.Pod {
	e.t.Helper()
	obj, err := e.pods.Create(e.ctx, &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &corev1.PodSpec{NodeName: "n1", Containers: []*corev1.Container{{Name: "app", Image: "x"}}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

func (e *statusEnv) get(name string) (*corev1.Pod, error) {
	obj, err := e.pods.Get(e.ctx, "default", name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

func (e *statusEnv) eventually(what string, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *statusEnv) waitPhase(name, phase string) *corev1.Pod {
	e.t.Helper()
	var p *corev1.Pod
	e.eventually("phase "+phase, func() error {
		var err error
		if p, err = e.get(name); err != nil {
			return err
		}
		if p.GetStatus().GetPhase() != phase {
			return fmt.Errorf("phase %q", p.GetStatus().GetPhase())
		}
		return nil
	})
	return p
}

func TestStatusManagerWritesOnChangeOnly(t *testing.T) {
	e := newStatusEnv(t)
	pod := e.create("p")
	running := &corev1.PodStatus{Phase: "Running", PodIp: "10.0.0.9"}
	e.m.SetStatus(pod, running)
	p := e.waitPhase("p", "Running")
	if p.GetStatus().GetQosClass() != "BestEffort" {
		t.Errorf("the apiserver's qosClass was lost: %v", p.GetStatus())
	}
	// The same status again, many times: nothing is written.
	for range 10 {
		e.m.SetStatus(pod, proto.Clone(running).(*corev1.PodStatus))
	}
	time.Sleep(300 * time.Millisecond)
	again, err := e.get("p")
	if err != nil {
		t.Fatal(err)
	}
	if again.GetMetadata().GetResourceVersion() != p.GetMetadata().GetResourceVersion() {
		t.Errorf("an unchanged status was written: resourceVersion %s → %s", p.GetMetadata().GetResourceVersion(), again.GetMetadata().GetResourceVersion())
	}
	// Statuses set in a burst are coalesced: the last one wins.
	for i := range 20 {
		e.m.SetStatus(pod, &corev1.PodStatus{Phase: "Running", PodIp: "10.0.0.9", Message: fmt.Sprint(i)})
	}
	e.eventually("the last status", func() error {
		p, err := e.get("p")
		if err != nil {
			return err
		}
		if m := p.GetStatus().GetMessage(); m != "19" {
			return fmt.Errorf("message %q", m)
		}
		return nil
	})
}

func TestStatusManagerRetriesConflicts(t *testing.T) {
	e := newStatusEnv(t)
	pod := e.create("p")
	// Someone else writes the Pod after the cache saw it (and the cache stays stale): the
	// manager's first write conflicts, and it re-reads.
	e.eventually("cached", func() error {
		if _, ok := e.m.cache.Get("default", "p"); !ok {
			return fmt.Errorf("not cached")
		}
		return nil
	})
	e.stopCache()
	other := proto.Clone(pod).(*corev1.Pod)
	other.Metadata.Labels = map[string]string{"touched": "yes"}
	if _, err := e.pods.Update(e.ctx, other); err != nil {
		t.Fatal(err)
	}
	e.m.SetStatus(pod, &corev1.PodStatus{Phase: "Running"})
	p := e.waitPhase("p", "Running")
	if p.GetMetadata().GetLabels()["touched"] != "yes" {
		t.Errorf("the other write was lost: %v", p.GetMetadata())
	}
	var conflicts dto.Metric
	if err := e.m.metrics.statusUpdates.WithLabelValues("pod", "conflict").Write(&conflicts); err != nil {
		t.Fatal(err)
	}
	if n := conflicts.GetCounter().GetValue(); n != 1 {
		t.Errorf("%v conflicts, want 1", n)
	}
}

func TestStatusManagerFinish(t *testing.T) {
	e := newStatusEnv(t)
	old := e.create("p")
	e.m.SetStatus(old, &corev1.PodStatus{Phase: "Running"})
	e.waitPhase("p", "Running")
	if _, err := e.pods.Delete(e.ctx, &metav1.DeleteRequest{Namespace: "default", Name: "p"}); err != nil {
		t.Fatal(err)
	}
	p, err := e.get("p")
	if err != nil || p.GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatalf("a bound, running Pod waits for its agent: %v, %v", p.GetMetadata(), err)
	}
	final := &corev1.PodStatus{Phase: "Running", Message: "final"}
	e.m.SetStatus(p, final)
	e.m.Finish(p)
	e.eventually("deleted", func() error {
		_, err := e.get("p")
		if kerrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})

	// A Pod of the same name made since is another Pod: finishing the old one leaves it.
	fresh := e.create("p")
	e.m.Finish(old)
	time.Sleep(300 * time.Millisecond)
	p, err = e.get("p")
	if err != nil || p.GetMetadata().GetUid() != fresh.GetMetadata().GetUid() {
		t.Fatalf("the new Pod of the same name: %v, %v", p.GetMetadata(), err)
	}
	// Nor is the old Pod's status written to it.
	e.m.SetStatus(old, &corev1.PodStatus{Phase: "Failed"})
	time.Sleep(300 * time.Millisecond)
	if p, _ = e.get("p"); p.GetStatus().GetPhase() != "Pending" {
		t.Errorf("the new Pod got the old one's status: %v", p.GetStatus())
	}
}
