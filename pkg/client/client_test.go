package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

func start(t *testing.T) (*client.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	c, err := client.Dial(ctx, apiservertest.Start(t), client.WithBlock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ctx
}

func configMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": "test"}}, Data: data}
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{
				Metadata: &metav1.ObjectMeta{Labels: labels},
				Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}},
			},
		},
	}
}

func TestCRUD(t *testing.T) {
	c, ctx := start(t)
	cms := c.Resource(scheme.ConfigMaps)

	created, err := cms.Create(ctx, configMap("cfg", map[string]string{"k": "v1"}))
	if err != nil {
		t.Fatal(err)
	}
	if created.GetMetadata().GetUid() == "" || created.GetMetadata().GetResourceVersion() == "" {
		t.Fatalf("created object lacks uid or resourceVersion: %v", created.GetMetadata())
	}
	if _, err := cms.Create(ctx, configMap("cfg", nil)); !kerrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v, want AlreadyExists", err)
	}

	got, err := cms.Get(ctx, "default", "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, created) {
		t.Errorf("Get = %v, want %v", got, created)
	}
	if _, err := cms.Get(ctx, "default", "missing"); !kerrors.IsNotFound(err) {
		t.Errorf("Get missing: %v, want NotFound", err)
	}

	upd := proto.Clone(got).(*corev1.ConfigMap)
	upd.Data["k"] = "v2"
	updated, err := cms.Update(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if v := updated.(*corev1.ConfigMap).GetData()["k"]; v != "v2" {
		t.Errorf("updated data = %q, want v2", v)
	}
	// The first read is stale now.
	stale := proto.Clone(got).(*corev1.ConfigMap)
	stale.Data["k"] = "v3"
	if _, err := cms.Update(ctx, stale); !kerrors.IsConflict(err) {
		t.Errorf("stale update: %v, want Conflict", err)
	}

	if _, err := cms.UpdateStatus(ctx, updated); !kerrors.IsMethodNotSupported(err) {
		t.Errorf("UpdateStatus of a ConfigMap: %v, want MethodNotSupported", err)
	}
	if _, err := cms.Create(ctx, &corev1.Secret{Metadata: &metav1.ObjectMeta{Name: "s"}}); err == nil {
		t.Error("creating a Secret through the ConfigMap client succeeded")
	}

	if _, err := cms.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "cfg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "default", "cfg"); !kerrors.IsNotFound(err) {
		t.Errorf("Get after delete: %v, want NotFound", err)
	}
	if _, err := cms.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "cfg"}); !kerrors.IsNotFound(err) {
		t.Errorf("second delete: %v, want NotFound", err)
	}
}

func TestUpdateStatus(t *testing.T) {
	c, ctx := start(t)
	nodes := c.Resource(scheme.Nodes)
	n, err := nodes.Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}})
	if err != nil {
		t.Fatal(err)
	}
	n.(*corev1.Node).Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}}}
	got, err := nodes.UpdateStatus(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if conds := got.(*corev1.Node).GetStatus().GetConditions(); len(conds) != 1 || conds[0].GetStatus() != "True" {
		t.Errorf("status after UpdateStatus = %v", got.(*corev1.Node).GetStatus())
	}
}

func TestListPages(t *testing.T) {
	c, ctx := start(t)
	cms := c.Resource(scheme.ConfigMaps)
	for i := range 5 {
		if _, err := cms.Create(ctx, configMap(fmt.Sprintf("cm-%d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	items, meta, err := cms.List(ctx, &metav1.ListOptions{Namespace: "default", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || meta.GetContinue() == "" {
		t.Fatalf("first page: %d items, continue %q; want 2 and a token", len(items), meta.GetContinue())
	}
	all, meta, err := cms.ListAll(ctx, &metav1.ListOptions{Namespace: "default", Limit: 2, LabelSelector: "app=test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || meta.GetContinue() != "" || meta.GetResourceVersion() == "" {
		t.Fatalf("ListAll: %d items, meta %v; want 5, no continue, a resourceVersion", len(all), meta)
	}
	for i, o := range all {
		if want := fmt.Sprintf("cm-%d", i); o.GetMetadata().GetName() != want {
			t.Errorf("item %d is %s, want %s", i, o.GetMetadata().GetName(), want)
		}
	}
	none, _, err := cms.ListAll(ctx, &metav1.ListOptions{Namespace: "default", LabelSelector: "app=other"})
	if err != nil || len(none) != 0 {
		t.Errorf("list app=other: %d items, %v", len(none), err)
	}
	if _, _, err := cms.List(ctx, &metav1.ListOptions{LabelSelector: "a in (b"}); !kerrors.IsBadRequest(err) && !kerrors.IsInvalid(err) {
		t.Errorf("list with a malformed selector: %v, want BadRequest or Invalid", err)
	}
}

func next(t *testing.T, w *client.Watcher) client.Event {
	t.Helper()
	ev, err := w.Next()
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

func TestWatch(t *testing.T) {
	c, ctx := start(t)
	cms := c.Resource(scheme.ConfigMaps)
	if _, err := cms.Create(ctx, configMap("before", nil)); err != nil {
		t.Fatal(err)
	}
	_, meta, err := cms.List(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}

	// From the list's resourceVersion: only what happens after.
	w, err := cms.Watch(ctx, &metav1.ListOptions{Namespace: "default", ResourceVersion: meta.GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	created, err := cms.Create(ctx, configMap("after", map[string]string{"k": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); ev.Type != client.Added || ev.Object.GetMetadata().GetName() != "after" {
		t.Fatalf("first event %s %s, want ADDED after", ev.Type, ev.Object.GetMetadata().GetName())
	}
	upd := proto.Clone(created).(*corev1.ConfigMap)
	upd.Data["k"] = "2"
	if _, err := cms.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); ev.Type != client.Modified || ev.Object.(*corev1.ConfigMap).GetData()["k"] != "2" {
		t.Fatalf("second event %s %v, want MODIFIED with k=2", ev.Type, ev.Object)
	}
	if _, err := cms.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "after"}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); ev.Type != client.Deleted || ev.Object.GetMetadata().GetName() != "after" {
		t.Fatalf("third event %s %s, want DELETED after", ev.Type, ev.Object.GetMetadata().GetName())
	}
	w.Stop()
	if _, err := w.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after Stop: %v, want context.Canceled", err)
	}

	// Without a resourceVersion: the current state first, as ADDED events.
	w, err = cms.Watch(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := next(t, w); ev.Type != client.Added || ev.Object.GetMetadata().GetName() != "before" {
		t.Fatalf("initial event %s %s, want ADDED before", ev.Type, ev.Object.GetMetadata().GetName())
	}
}

func TestWatchEnds(t *testing.T) {
	c, ctx := start(t)
	w, err := c.Resource(scheme.Pods).Watch(ctx, &metav1.ListOptions{Namespace: "default", ResourceVersion: "1", TimeoutSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := w.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v, want events then io.EOF when the server's timeout passes", err)
		}
	}
	if _, err := c.Resource(scheme.Pods).Watch(ctx, &metav1.ListOptions{LabelSelector: "a in (b"}); err == nil {
		t.Error("watch with a malformed selector started")
	}
}

func TestScale(t *testing.T) {
	c, ctx := start(t)
	deps := c.Resource(scheme.Deployments)
	if _, err := deps.Create(ctx, deployment("web", 2)); err != nil {
		t.Fatal(err)
	}
	s, err := deps.GetScale(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if s.GetSpec().GetReplicas() != 2 {
		t.Fatalf("scale replicas = %d, want 2", s.GetSpec().GetReplicas())
	}
	s.Spec.Replicas = 5
	if _, err := deps.UpdateScale(ctx, s); err != nil {
		t.Fatal(err)
	}
	d, err := deps.Get(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if r := d.(*appsv1.Deployment).GetSpec().GetReplicas(); r != 5 {
		t.Errorf("replicas after UpdateScale = %d, want 5", r)
	}
	if _, err := c.Resource(scheme.Pods).GetScale(ctx, "default", "web"); !kerrors.IsMethodNotSupported(err) {
		t.Errorf("GetScale of a Pod: %v, want MethodNotSupported", err)
	}
}

func TestTypedClientOnConn(t *testing.T) {
	c, ctx := start(t)
	_, err := corev1.NewNamespaceServiceClient(c.Conn()).Get(ctx, &metav1.GetRequest{Name: "missing"})
	if !kerrors.IsNotFound(err) {
		t.Errorf("typed Get of a missing namespace: %v, want a NotFound *StatusError", err)
	}
}

func TestDialBlockFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if c, err := client.Dial(ctx, addr, client.WithBlock()); err == nil {
		c.Close()
		t.Fatal("Dial with WithBlock to a closed port succeeded")
	}
	// Without WithBlock the first call reports the unreachable server as a StatusError.
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Resource(scheme.Pods).Get(ctx, "default", "x"); err == nil {
		t.Error("Get against a closed port succeeded")
	} else if !kerrors.IsServiceUnavailable(err) {
		t.Errorf("Get against a closed port: %T %v, want a ServiceUnavailable StatusError", err, err)
	}
}
