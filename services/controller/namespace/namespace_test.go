package namespace_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/controller/namespace"
)

// tWriter sends logs to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// setup starts an apiserver and the Namespace controller, and stops them when the test ends.
func setup(t *testing.T) (*client.Client, context.Context) {
	t.Helper()
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		done <- namespace.Run(ctx, c, namespace.Options{Logger: log, RequeueDelay: 200 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("namespace.Run: %v", err)
		}
		c.Close()
	})
	return c, ctx
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func meta(ns, name string) *metav1.ObjectMeta { return &metav1.ObjectMeta{Namespace: ns, Name: name} }

func podSpec() *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}}
}

// content is one object of each kind the test puts in a Namespace.
func content(ns string) []scheme.Object {
	labels := map[string]string{"app": "web"}
	replicas := int32(2)
	bound := podSpec()
	bound.NodeName = "node-1" // a bound Pod would wait out its grace period for an agent
	return []scheme.Object{
		&corev1.ConfigMap{Metadata: meta(ns, "settings"), Data: map[string]string{"k": "v"}},
		&corev1.Secret{Metadata: meta(ns, "token"), StringData: map[string]string{"k": "v"}},
		&corev1.Pod{Metadata: meta(ns, "web-1"), Spec: podSpec()},
		&corev1.Pod{Metadata: meta(ns, "web-2"), Spec: bound},
		&corev1.Service{Metadata: meta(ns, "web"), Spec: &corev1.ServiceSpec{
			Selector: labels,
			Ports:    []*corev1.ServicePort{{Port: 80, TargetPort: structpb.NewNumberValue(8080)}},
		}},
		&appsv1.Deployment{Metadata: meta(ns, "web"), Spec: &appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels}, Spec: podSpec()},
		}},
	}
}

func create(t *testing.T, ctx context.Context, c *client.Client, objs ...scheme.Object) {
	t.Helper()
	for _, o := range objs {
		if _, err := c.Resource(scheme.ForObject(o)).Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetMetadata().GetName(), err)
		}
	}
}

// count is how many objects namespace ns holds, over every namespaced resource.
func count(t *testing.T, ctx context.Context, c *client.Client, ns string) int {
	t.Helper()
	n := 0
	for _, r := range scheme.All {
		if !r.Namespaced {
			continue
		}
		items, _, err := c.Resource(r).ListAll(ctx, &metav1.ListOptions{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		n += len(items)
	}
	return n
}

func gone(t *testing.T, ctx context.Context, c *client.Client, ns string) bool {
	_, err := c.Resource(scheme.Namespaces).Get(ctx, "", ns)
	if err != nil && !kerrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return kerrors.IsNotFound(err)
}

func condition(ns *corev1.Namespace, typ string) *corev1.NamespaceCondition {
	for _, c := range ns.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

func TestDeletingANamespaceDeletesItsContent(t *testing.T) {
	c, ctx := setup(t)
	nss := c.Resource(scheme.Namespaces)
	for _, name := range []string{"shop", "keep"} {
		if _, err := nss.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
		create(t, ctx, c, content(name)...)
	}
	if n := count(t, ctx, c, "shop"); n != 6 {
		t.Fatalf("shop holds %d objects before deletion, want 6", n)
	}

	deleted, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if p := deleted.(*corev1.Namespace).GetStatus().GetPhase(); p != "Terminating" {
		t.Fatalf("deleted namespace is %q, want Terminating", p)
	}
	eventually(t, "namespace shop to be gone", func() bool { return gone(t, ctx, c, "shop") })
	if n := count(t, ctx, c, "shop"); n != 0 {
		t.Errorf("%d objects left in the deleted namespace", n)
	}

	// The other namespace is untouched.
	if gone(t, ctx, c, "keep") {
		t.Fatal("namespace keep was deleted")
	}
	// Events are written asynchronously; wait for the recorder before counting "keep".
	eventually(t, "a ContentDeleted event about shop", func() bool {
		evs, _, err := c.Resource(scheme.Events).ListAll(ctx, &metav1.ListOptions{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range evs {
			ev := o.(*corev1.Event)
			if ev.GetInvolvedObject().GetName() == "shop" && ev.GetReason() == "ContentDeleted" {
				return ev.GetInvolvedObject().GetKind() == "Namespace" && ev.GetType() == "Normal"
			}
		}
		return false
	})
	if n := count(t, ctx, c, "keep"); n != 6 {
		t.Errorf("namespace keep holds %d objects, want its 6", n)
	}
}

// TestContentWithFinalizersHoldsTheNamespace keeps one object alive with a finalizer: the
// Namespace stays Terminating and says why in its conditions, until the finalizer goes.
func TestContentWithFinalizersHoldsTheNamespace(t *testing.T) {
	c, ctx := setup(t)
	nss := c.Resource(scheme.Namespaces)
	if _, err := nss.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "held"}}); err != nil {
		t.Fatal(err)
	}
	held := &corev1.ConfigMap{Metadata: meta("held", "held")}
	held.Metadata.Finalizers = []string{"example.com/hold"}
	create(t, ctx, c, held, &corev1.ConfigMap{Metadata: meta("held", "free")})
	if _, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: "held"}); err != nil {
		t.Fatal(err)
	}

	var ns *corev1.Namespace
	eventually(t, "the conditions to name what remains", func() bool {
		o, err := nss.Get(ctx, "", "held")
		if err != nil {
			t.Fatal(err)
		}
		ns = o.(*corev1.Namespace)
		return condition(ns, namespace.ConditionFinalizersRemaining).GetStatus() == "True"
	})
	want := map[string]string{
		namespace.ConditionContentRemaining:    "Some resources are remaining: configmaps. has 1 resource instances",
		namespace.ConditionFinalizersRemaining: "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
	}
	for typ, msg := range want {
		if got := condition(ns, typ); got.GetStatus() != "True" || got.GetMessage() != msg || got.GetLastTransitionTime() == nil {
			t.Errorf("%s = %v, want True with %q", typ, got, msg)
		}
	}
	if got := condition(ns, namespace.ConditionContentFailure); got.GetStatus() != "False" {
		t.Errorf("%s = %v, want False", namespace.ConditionContentFailure, got)
	}
	if p := ns.GetStatus().GetPhase(); p != "Terminating" {
		t.Errorf("phase %q after a status update, want Terminating", p)
	}
	if _, err := c.Resource(scheme.ConfigMaps).Get(ctx, "held", "free"); !kerrors.IsNotFound(err) {
		t.Errorf("the object without a finalizer is still there: %v", err)
	}
	if _, err := c.Resource(scheme.ConfigMaps).Create(ctx, &corev1.ConfigMap{Metadata: meta("held", "new")}); !kerrors.IsForbidden(err) {
		t.Errorf("create in a terminating namespace: %v, want Forbidden", err)
	}

	// Release the finalizer: the object goes, then the Namespace.
	o, err := c.Resource(scheme.ConfigMaps).Get(ctx, "held", "held")
	if err != nil {
		t.Fatal(err)
	}
	release := proto.Clone(o).(*corev1.ConfigMap)
	release.Metadata.Finalizers = nil
	if _, err := c.Resource(scheme.ConfigMaps).Update(ctx, release); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace held to be gone", func() bool { return gone(t, ctx, c, "held") })
}

// TestRestartFinishesTheJob deletes a Namespace while no controller runs: a controller started
// later finds it in its first list and finishes the deletion (level-based, nothing is lost).
func TestRestartFinishesTheJob(t *testing.T) {
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nss := c.Resource(scheme.Namespaces)
	if _, err := nss.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "early"}}); err != nil {
		t.Fatal(err)
	}
	create(t, ctx, c, content("early")...)
	if _, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: "early"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if gone(t, ctx, c, "early") {
		t.Fatal("the namespace went without a controller")
	}
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- namespace.Run(runCtx, c, namespace.Options{}) }()
	eventually(t, "namespace early to be gone", func() bool { return gone(t, ctx, c, "early") })
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := count(t, ctx, c, "early"); n != 0 {
		t.Errorf("%d objects left", n)
	}
}
