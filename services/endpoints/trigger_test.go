package endpoints

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
)

// TestWaitingForTheCacheKeepsTheTriggerTime calls reconcile by hand on real caches: a Pod
// becomes ready while the controller waits for its Endpoints cache to show its last write. The
// reconcile that waits must not use up the Pod's change: the one that then writes carries its
// time in the last-change-trigger-time annotation (it was dropped, as if nothing had changed).
func TestWaitingForTheCacheKeepsTheTriggerTime(t *testing.T) {
	c, ctx := controllertest.Start(t)
	f := informer.NewFactory(c, informer.Options{})
	e := New(c, f, Options{}) // its workers never run: the test reconciles
	runCtx, stop := context.WithCancel(ctx)
	defer f.Wait()
	defer stop()
	f.Start(runCtx)
	if !f.WaitForSync(ctx) {
		t.Fatal("caches never synced")
	}

	labels := map[string]string{"app": "web"}
	for _, obj := range []scheme.Object{
		&corev1.Service{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec:     &corev1.ServiceSpec{Selector: labels, Ports: []*corev1.ServicePort{{Port: 80}}},
		},
		&corev1.Pod{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: labels},
			Spec:     &corev1.PodSpec{NodeName: "node-1", Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}},
		},
	} {
		if _, err := c.Resource(scheme.ForObject(obj)).Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	controllertest.SetRunning(ctx, t, c, "default", "web-1", controllertest.Running{Since: time.Now().Add(-time.Hour), IP: "10.244.0.1"})
	cached := func(what string, cond func() bool) { controllertest.Eventually(t, what, cond) }
	cached("the not ready pod", func() bool {
		p, ok := e.pods.Get("default", "web-1")
		return ok && p.GetStatus().GetPodIp() != "" && len(p.GetStatus().GetConditions()) == 1
	})
	reconcile := func() {
		t.Helper()
		if _, err := e.reconcile(ctx, "default/web"); err != nil {
			t.Fatal(err)
		}
	}
	reconcile() // creates the Endpoints
	cached("the endpoints", func() bool { _, ok := e.endpoints.Get("default", "web"); return ok })

	readyAt := time.Now().Add(-time.Minute).Truncate(time.Second)
	controllertest.SetRunning(ctx, t, c, "default", "web-1", controllertest.Running{Ready: true, Since: readyAt, IP: "10.244.0.1"})
	cached("the ready pod", func() bool { p, ok := e.pods.Get("default", "web-1"); return ok && controllertest.IsReady(p) })
	cur, _ := e.endpoints.Get("default", "web")
	e.stale.wrote("default/web", cur.GetMetadata().GetResourceVersion()) // as if the cache were behind a write
	reconcile()                                                          // waits for the cache
	e.stale.forget("default/web")                                        // the write shows
	reconcile()                                                          // writes the ready address

	obj, err := c.Resource(scheme.Endpoints).Get(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	ep := obj.(*corev1.Endpoints)
	if n := len(ep.GetSubsets()); n != 1 || len(ep.GetSubsets()[0].GetAddresses()) != 1 {
		t.Fatalf("subsets %v, want web-1 ready", ep.GetSubsets())
	}
	want := readyAt.UTC().Format(time.RFC3339Nano)
	if got := ep.GetMetadata().GetAnnotations()[AnnotationLastChangeTriggerTime]; got != want {
		t.Errorf("%s = %q, want %q (when web-1 became ready)", AnnotationLastChangeTriggerTime, got, want)
	}
}
