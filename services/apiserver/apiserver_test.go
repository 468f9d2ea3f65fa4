package apiserver_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/apistatus"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

func dial(t *testing.T, addr string) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}},
	}
}

func TestPodLifecycle(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	pods := corev1.NewPodServiceClient(c.Conn())

	created, err := pods.Create(ctx, pod("default", "web", map[string]string{"app": "web"}))
	if err != nil {
		t.Fatal(err)
	}
	md := created.GetMetadata()
	if md.GetUid() == "" || md.GetCreationTimestamp() == nil || md.GetResourceVersion() == "" || md.GetGeneration() != 1 {
		t.Fatalf("system metadata not set: %v", md)
	}
	if got := created.GetSpec().GetRestartPolicy(); got != "Always" {
		t.Errorf("restartPolicy defaulted to %q, want Always", got)
	}
	if got := created.GetSpec().GetSchedulerName(); got != "default-scheduler" {
		t.Errorf("schedulerName defaulted to %q", got)
	}
	if got := created.GetStatus().GetPhase(); got != "Pending" {
		t.Errorf("phase = %q, want Pending", got)
	}

	if _, err := pods.Create(ctx, pod("default", "web", nil)); !kerrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}

	// A spec update bumps generation; a status written through Update is ignored.
	upd := proto.Clone(created).(*corev1.Pod)
	upd.Spec.Containers[0].Image = "berth-testapp:v2"
	upd.Status.Phase = "Running"
	updated, err := pods.Update(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if updated.GetMetadata().GetGeneration() != 2 {
		t.Errorf("generation = %d after a spec change, want 2", updated.GetMetadata().GetGeneration())
	}
	if updated.GetStatus().GetPhase() != "Pending" {
		t.Errorf("Update changed status.phase to %q", updated.GetStatus().GetPhase())
	}
	if updated.GetMetadata().GetUid() != md.GetUid() {
		t.Errorf("uid changed on update")
	}

	// The stale resourceVersion of the first read now conflicts.
	stale := proto.Clone(created).(*corev1.Pod)
	stale.Metadata.Labels = map[string]string{"app": "other"}
	_, err = pods.Update(ctx, stale)
	if !kerrors.IsConflict(err) {
		t.Fatalf("stale update: %v, want Conflict", err)
	}
	if s, _ := status.FromError(apistatus.ToGRPC(err)); s.Code() != codes.Aborted {
		t.Errorf("stale update code = %v, want Aborted", s.Code())
	}

	// Status goes through UpdateStatus, which leaves the spec alone; generation stays.
	st := proto.Clone(updated).(*corev1.Pod)
	st.Status.Phase = "Running"
	st.Spec.Containers[0].Image = "ignored"
	afterStatus, err := pods.UpdateStatus(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if afterStatus.GetStatus().GetPhase() != "Running" || afterStatus.GetSpec().GetContainers()[0].GetImage() != "berth-testapp:v2" {
		t.Errorf("UpdateStatus: phase %q image %q", afterStatus.GetStatus().GetPhase(), afterStatus.GetSpec().GetContainers()[0].GetImage())
	}
	if afterStatus.GetMetadata().GetGeneration() != 2 {
		t.Errorf("generation = %d after a status write, want 2", afterStatus.GetMetadata().GetGeneration())
	}

	// An update that changes nothing writes nothing.
	same, err := pods.Update(ctx, afterStatus)
	if err != nil {
		t.Fatal(err)
	}
	if same.GetMetadata().GetResourceVersion() != afterStatus.GetMetadata().GetResourceVersion() {
		t.Errorf("no-op update moved resourceVersion %s -> %s", afterStatus.GetMetadata().GetResourceVersion(), same.GetMetadata().GetResourceVersion())
	}

	// A dry-run delete answers as a delete would and changes nothing.
	if _, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web", DryRun: []string{"All"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "web"}); err != nil {
		t.Fatalf("dry-run delete deleted: %v", err)
	}
	if _, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web", DryRun: []string{"Some"}}); !kerrors.IsInvalid(err) {
		t.Errorf("dryRun Some: %v, want Invalid", err)
	}

	// An unbound Pod is deleted at once.
	if _, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "web"}); !kerrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
}

func TestValidationErrorsNameTheField(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	pods := corev1.NewPodServiceClient(c.Conn())

	bad := pod("default", "Bad_Name", nil)
	bad.Spec.Containers[0].Image = ""
	bad.Spec.Containers[0].Resources = &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "-1"}}
	_, err := pods.Create(ctx, bad)
	if !kerrors.IsInvalid(err) {
		t.Fatalf("create invalid pod: %v, want Invalid", err)
	}
	var se *kerrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil {
		t.Fatalf("no details in %v", err)
	}
	fields := map[string]bool{}
	for _, c := range se.ErrStatus.Details.Causes {
		fields[c.Field] = true
	}
	for _, f := range []string{"metadata.name", "spec.containers[0].image", "spec.containers[0].resources.requests[cpu]"} {
		if !fields[f] {
			t.Errorf("no cause for %s in %v", f, se.ErrStatus.Details.Causes)
		}
	}
	if s, _ := status.FromError(apistatus.ToGRPC(err)); s.Code() != codes.InvalidArgument {
		t.Errorf("code %v, want InvalidArgument", s.Code())
	}
	// Nothing was stored.
	list, err := pods.List(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil || len(list.GetItems()) != 0 {
		t.Fatalf("list after rejected create: %d items, %v", len(list.GetItems()), err)
	}

	// A resourceVersion that is not a number.
	_, err = pods.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "x", ResourceVersion: "abc"})
	if !kerrors.IsBadRequest(err) || !strings.Contains(err.Error(), "resourceVersion") {
		t.Errorf("bad resourceVersion: %v", err)
	}

	// An object over 1.5 MiB.
	cms := corev1.NewConfigMapServiceClient(c.Conn())
	big := &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "big"}, Data: map[string]string{}}
	for i := 0; i < 20; i++ {
		big.Data[fmt.Sprintf("k%d", i)] = strings.Repeat("x", 90*1024)
	}
	if _, err := cms.Create(ctx, big); err == nil || status.Code(apistatus.ToGRPC(err)) != codes.InvalidArgument {
		t.Errorf("oversized object: %v, want InvalidArgument", err)
	}
}

func TestNamespaces(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	nss := corev1.NewNamespaceServiceClient(c.Conn())
	list, err := nss.List(ctx, &metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range list.GetItems() {
		names = append(names, n.GetMetadata().GetName())
		if n.GetStatus().GetPhase() != "Active" {
			t.Errorf("namespace %s phase %q", n.GetMetadata().GetName(), n.GetStatus().GetPhase())
		}
	}
	if got := strings.Join(names, ","); got != "default,kube-node-lease,kube-public,kube-system" {
		t.Errorf("built-in namespaces: %s", got)
	}

	if _, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: "kube-system"}); !kerrors.IsForbidden(err) {
		t.Errorf("delete kube-system: %v, want Forbidden", err)
	}
	pods := corev1.NewPodServiceClient(c.Conn())
	if _, err := pods.Create(ctx, pod("nowhere", "p", nil)); !kerrors.IsNotFound(err) {
		t.Errorf("create in missing namespace: %v, want NotFound", err)
	}

	if _, err := nss.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, pod("team", "p", nil)); err != nil {
		t.Fatal(err)
	}
	// Deleting a Namespace makes it Terminating; nothing new may be created in it.
	del, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: "team"})
	if err != nil {
		t.Fatal(err)
	}
	if del.GetStatus().GetPhase() != "Terminating" || del.GetMetadata().GetDeletionTimestamp() == nil {
		t.Errorf("deleted namespace: phase %q deletionTimestamp %v", del.GetStatus().GetPhase(), del.GetMetadata().GetDeletionTimestamp())
	}
	if _, err := pods.Create(ctx, pod("team", "q", nil)); !kerrors.IsForbidden(err) {
		t.Errorf("create in terminating namespace: %v, want Forbidden", err)
	}
}

func TestListSelectorsAndPagination(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	pods := corev1.NewPodServiceClient(c.Conn())
	for i := 0; i < 25; i++ {
		tier := []string{"web", "db", "cache"}[i%3]
		p := pod("default", fmt.Sprintf("p%02d", i), map[string]string{"tier": tier})
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	binding := &corev1.Binding{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "p03"}, Target: &corev1.ObjectReference{Kind: "Node", Name: "n1"}}
	if _, err := pods.Bind(ctx, binding); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Bind(ctx, binding); !kerrors.IsConflict(err) {
		t.Errorf("second bind: %v, want Conflict", err)
	}

	count := func(opts *metav1.ListOptions) int {
		t.Helper()
		l, err := pods.List(ctx, opts)
		if err != nil {
			t.Fatalf("list %v: %v", opts, err)
		}
		return len(l.GetItems())
	}
	cases := []struct {
		opts *metav1.ListOptions
		want int
	}{
		{&metav1.ListOptions{Namespace: "default"}, 25},
		{&metav1.ListOptions{}, 25},
		{&metav1.ListOptions{Namespace: "kube-system"}, 0},
		{&metav1.ListOptions{LabelSelector: "tier=web"}, 9},
		{&metav1.ListOptions{LabelSelector: "tier in (db,cache)"}, 16},
		{&metav1.ListOptions{LabelSelector: "tier notin (db,cache)"}, 9},
		{&metav1.ListOptions{LabelSelector: "tier!=web"}, 16},
		{&metav1.ListOptions{LabelSelector: "!tier"}, 0},
		{&metav1.ListOptions{LabelSelector: "tier"}, 25},
		{&metav1.ListOptions{FieldSelector: "spec.nodeName=n1"}, 1},
		{&metav1.ListOptions{FieldSelector: "spec.nodeName="}, 24},
		{&metav1.ListOptions{FieldSelector: "metadata.name=p07"}, 1},
		{&metav1.ListOptions{FieldSelector: "status.phase=Pending,metadata.namespace=default"}, 25},
		{&metav1.ListOptions{ResourceVersion: "0"}, 25},
	}
	for _, tc := range cases {
		if got := count(tc.opts); got != tc.want {
			t.Errorf("list %v: %d items, want %d", tc.opts, got, tc.want)
		}
	}
	if _, err := pods.List(ctx, &metav1.ListOptions{FieldSelector: "spec.image=x"}); !kerrors.IsBadRequest(err) {
		t.Errorf("unsupported field selector: %v, want BadRequest", err)
	}
	if _, err := pods.List(ctx, &metav1.ListOptions{LabelSelector: "tier in ("}); !kerrors.IsBadRequest(err) {
		t.Errorf("malformed label selector: %v, want BadRequest", err)
	}

	// Pages of 10 at one revision, even while objects change in between.
	var names []string
	opts := &metav1.ListOptions{Namespace: "default", Limit: 10}
	var rv string
	for page := 0; ; page++ {
		l, err := pods.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if page == 0 {
			rv = l.GetMetadata().GetResourceVersion()
			if r := l.GetMetadata().RemainingItemCount; r == nil || *r != 15 {
				t.Errorf("remainingItemCount %v, want 15", r)
			}
			if _, err := pods.Create(ctx, pod("default", "p99", nil)); err != nil {
				t.Fatal(err)
			}
		} else if l.GetMetadata().GetResourceVersion() != rv {
			t.Errorf("page %d at rv %s, first at %s", page, l.GetMetadata().GetResourceVersion(), rv)
		}
		for _, p := range l.GetItems() {
			names = append(names, p.GetMetadata().GetName())
		}
		if l.GetMetadata().GetContinue() == "" {
			break
		}
		opts.Continue = l.GetMetadata().GetContinue()
	}
	if len(names) != 25 || names[0] != "p00" || names[24] != "p24" {
		t.Errorf("paginated list: %d names %v", len(names), names)
	}
	// Pagination with a selector fills whole pages.
	l, err := pods.List(ctx, &metav1.ListOptions{LabelSelector: "tier=db", Limit: 4})
	if err != nil || len(l.GetItems()) != 4 || l.GetMetadata().GetContinue() == "" {
		t.Errorf("selector page: %d items continue %q err %v", len(l.GetItems()), l.GetMetadata().GetContinue(), err)
	}
	if _, err := pods.List(ctx, &metav1.ListOptions{Continue: "garbage"}); !kerrors.IsBadRequest(err) {
		t.Errorf("garbage continue: %v, want BadRequest", err)
	}
}

func TestWatch(t *testing.T) {
	inst := apiservertest.StartWith(t, apiservertest.Options{CacheCapacity: 16})
	c := dial(t, inst.Addr)
	ctx := ctxT(t)
	pods := c.Resource(scheme.Pods)

	first, err := pods.Create(ctx, pod("default", "a", map[string]string{"app": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	// A watch from "" starts with the current state.
	w, err := pods.Watch(ctx, &metav1.ListOptions{Namespace: "default", LabelSelector: "app=x"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	expect := func(typ, name string) client.Event {
		t.Helper()
		ev, err := w.Next()
		if err != nil {
			t.Fatalf("waiting for %s %s: %v", typ, name, err)
		}
		if ev.Type != typ || ev.Object.GetMetadata().GetName() != name {
			t.Fatalf("got %s %s, want %s %s", ev.Type, ev.Object.GetMetadata().GetName(), typ, name)
		}
		return ev
	}
	expect("ADDED", "a")
	if _, err := pods.Create(ctx, pod("default", "b", map[string]string{"app": "x"})); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, pod("default", "other", map[string]string{"app": "y"})); err != nil {
		t.Fatal(err)
	}
	expect("ADDED", "b")
	// Relabelling b out of the selection is a DELETED for this watcher.
	cur, err := pods.Get(ctx, "default", "b")
	if err != nil {
		t.Fatal(err)
	}
	cur.GetMetadata().Labels = map[string]string{"app": "z"}
	if _, err := pods.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	ev := expect("DELETED", "b")
	relabelRV := ev.Object.GetMetadata().GetResourceVersion()
	if _, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	expect("DELETED", "a")

	// Resuming from a resourceVersion replays what came after it.
	w2, err := pods.Watch(ctx, &metav1.ListOptions{Namespace: "default", ResourceVersion: first.GetMetadata().GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	var seen []string
	for i := 0; i < 4; i++ {
		ev, err := w2.Next()
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ev.Type+" "+ev.Object.GetMetadata().GetName())
	}
	if got := strings.Join(seen, ", "); got != "ADDED b, ADDED other, MODIFIED b, DELETED a" {
		t.Errorf("resumed watch saw %s", got)
	}

	// Once more events than the cache keeps have passed, the old revision is expired.
	for i := 0; i < 40; i++ {
		if _, err := pods.Create(ctx, pod("default", fmt.Sprintf("f%02d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	w3, err := pods.Watch(ctx, &metav1.ListOptions{ResourceVersion: relabelRV})
	if err == nil {
		_, err = w3.Next()
	}
	if !kerrors.IsResourceExpired(err) && !kerrors.IsGone(err) {
		t.Fatalf("watch from an old revision: %v, want Expired", err)
	}
	if status.Code(apistatus.ToGRPC(err)) != codes.OutOfRange {
		t.Errorf("expired code %v, want OutOfRange", status.Code(apistatus.ToGRPC(err)))
	}
}

func TestFinalizersAndGracefulDeletion(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	cms := corev1.NewConfigMapServiceClient(c.Conn())
	cm := &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "held", Finalizers: []string{"example.com/hold"}}}
	if _, err := cms.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	del, err := cms.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "held"})
	if err != nil {
		t.Fatal(err)
	}
	if del.GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatal("no deletionTimestamp on an object with finalizers")
	}
	got, err := cms.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "held"})
	if err != nil {
		t.Fatalf("object with finalizers is gone: %v", err)
	}
	got.Metadata.Finalizers = nil
	if _, err := cms.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "held"}); !kerrors.IsNotFound(err) {
		t.Fatalf("after the last finalizer: %v, want NotFound", err)
	}

	// A bound Pod waits out its grace period for its agent.
	pods := corev1.NewPodServiceClient(c.Conn())
	p := pod("default", "bound", nil)
	p.Spec.NodeName = "n1"
	if _, err := pods.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	d, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "bound"})
	if err != nil {
		t.Fatal(err)
	}
	if d.GetMetadata().GetDeletionTimestamp() == nil || d.GetMetadata().GetDeletionGracePeriodSeconds() != 30 {
		t.Fatalf("bound pod: deletionTimestamp %v grace %d", d.GetMetadata().GetDeletionTimestamp(), d.GetMetadata().GetDeletionGracePeriodSeconds())
	}
	zero := int64(0)
	if _, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "bound", GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "bound"}); !kerrors.IsNotFound(err) {
		t.Fatalf("after grace 0: %v, want NotFound", err)
	}

	// Foreground deletion leaves the foregroundDeletion finalizer for the garbage collector.
	deps := appsv1.NewDeploymentServiceClient(c.Conn())
	if _, err := deps.Create(ctx, deployment("default", "web", 3)); err != nil {
		t.Fatal(err)
	}
	fd, err := deps.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web", PropagationPolicy: "Foreground"})
	if err != nil {
		t.Fatal(err)
	}
	if f := fd.GetMetadata().GetFinalizers(); len(f) != 1 || f[0] != "foregroundDeletion" {
		t.Errorf("finalizers after foreground delete: %v", f)
	}
	// Preconditions.
	wrong := "nope"
	if _, err := deps.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web", Preconditions: &metav1.Preconditions{Uid: &wrong}}); !kerrors.IsConflict(err) {
		t.Errorf("delete with a wrong uid precondition: %v, want Conflict", err)
	}
}

func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
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

func TestScale(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	deps := appsv1.NewDeploymentServiceClient(c.Conn())
	d, err := deps.Create(ctx, deployment("default", "web", 3))
	if err != nil {
		t.Fatal(err)
	}
	if d.GetSpec().GetStrategy().GetType() != "RollingUpdate" || d.GetSpec().GetRevisionHistoryLimit() != 10 {
		t.Errorf("deployment defaults: %v", d.GetSpec().GetStrategy())
	}
	sc, err := deps.GetScale(ctx, &metav1.GetRequest{Namespace: "default", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if sc.GetSpec().GetReplicas() != 3 || sc.GetStatus().GetSelector() != "app=web" {
		t.Errorf("scale: %v", sc)
	}
	sc.Spec.Replicas = 5
	if _, err := deps.UpdateScale(ctx, sc); err != nil {
		t.Fatal(err)
	}
	d2, err := deps.Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if d2.GetSpec().GetReplicas() != 5 || d2.GetMetadata().GetGeneration() != 2 {
		t.Errorf("after scale: replicas %d generation %d", d2.GetSpec().GetReplicas(), d2.GetMetadata().GetGeneration())
	}
	if _, err := deps.UpdateScale(ctx, &autoscalingv1.Scale{Metadata: sc.Metadata, Spec: &autoscalingv1.ScaleSpec{Replicas: -1}}); !kerrors.IsInvalid(err) {
		t.Errorf("negative scale: %v, want Invalid", err)
	}
}

func TestConcurrentUpdatesOneWins(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	cms := corev1.NewConfigMapServiceClient(c.Conn())
	cm, err := cms.Create(ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "c"}, Data: map[string]string{"n": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		go func() {
			u := proto.Clone(cm).(*corev1.ConfigMap)
			u.Data["n"] = strconv.Itoa(i + 1)
			_, err := cms.Update(ctx, u)
			errs <- err
		}()
	}
	ok, conflicts := 0, 0
	for i := 0; i < writers; i++ {
		switch err := <-errs; {
		case err == nil:
			ok++
		case kerrors.IsConflict(err):
			conflicts++
		default:
			t.Errorf("update: %v", err)
		}
	}
	if ok != 1 || conflicts != writers-1 {
		t.Errorf("%d updates succeeded and %d conflicted; want 1 and %d", ok, conflicts, writers-1)
	}
}
