package replicaset_test

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/controller/replicaset"
)

// tWriter sends logs to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// setup starts an apiserver and both controllers (ReplicaSets and ReplicationControllers) on
// one informer factory, as the controller manager runs them, and stops them when the test ends.
func setup(t *testing.T) (*client.Client, context.Context) { return setupLagging(t, 0) }

// setupLagging is setup with a Pod cache that lags: every Pod event holds the Pod informer for
// lag before the next one reaches the cache, as a busy informer would.
func setupLagging(t *testing.T, lag time.Duration) (*client.Client, context.Context) {
	t.Helper()
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rec := events.New(corev1.NewEventServiceClient(c.Conn()), replicaset.ReplicaSetComponent, "", log)
	rcRec := events.New(corev1.NewEventServiceClient(c.Conn()), replicaset.ReplicationControllerComponent, "", log)
	f := informer.NewFactory(c, informer.Options{Logger: log})
	var runners []*replicaset.Controller
	for _, o := range []replicaset.Options{
		{Resource: scheme.ReplicaSets, Logger: log, Recorder: rec},
		{Resource: scheme.ReplicationControllers, Logger: log, Recorder: rcRec},
	} {
		runners = append(runners, replicaset.New(c, f, o))
	}
	if lag > 0 {
		hold := func(scheme.Object) { time.Sleep(lag) }
		f.For(scheme.Pods).AddHandler(informer.HandlerFuncs{AddFunc: hold, UpdateFunc: func(_, o scheme.Object) { hold(o) }, DeleteFunc: hold})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(runners))
	for _, run := range []func(context.Context){rec.Run, rcRec.Run, f.Start} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	for _, r := range runners {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- r.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		f.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("run: %v", err)
			}
		}
		c.Close()
	})
	return c, ctx
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func template(labels map[string]string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"note": "from-template"}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}}},
	}
}

func newRS(name string, n int32, labels map[string]string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas: proto.Int32(n),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: template(labels),
		},
	}
}

func createRS(t *testing.T, ctx context.Context, c *client.Client, rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	t.Helper()
	out, err := c.Resource(scheme.ReplicaSets).Create(ctx, rs)
	if err != nil {
		t.Fatalf("create replicaset %s: %v", rs.GetMetadata().GetName(), err)
	}
	return out.(*appsv1.ReplicaSet)
}

func getRS(t *testing.T, ctx context.Context, c *client.Client, name string) *appsv1.ReplicaSet {
	t.Helper()
	out, err := c.Resource(scheme.ReplicaSets).Get(ctx, "default", name)
	if err != nil {
		t.Fatalf("get replicaset %s: %v", name, err)
	}
	return out.(*appsv1.ReplicaSet)
}

// activePods are the Pods of namespace default controlled by uid, not finished nor deleting,
// sorted by name.
func activePods(t *testing.T, ctx context.Context, c *client.Client, uid string) []*corev1.Pod {
	t.Helper()
	var out []*corev1.Pod
	for _, p := range allPods(t, ctx, c) {
		if owned(p, uid) && p.GetMetadata().GetDeletionTimestamp() == nil && p.GetStatus().GetPhase() != "Succeeded" && p.GetStatus().GetPhase() != "Failed" {
			out = append(out, p)
		}
	}
	return out
}

func allPods(t *testing.T, ctx context.Context, c *client.Client) []*corev1.Pod {
	t.Helper()
	items, _, err := c.Resource(scheme.Pods).ListAll(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*corev1.Pod, len(items))
	for i, o := range items {
		out[i] = o.(*corev1.Pod)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetMetadata().GetName() < out[j].GetMetadata().GetName() })
	return out
}

func owned(p *corev1.Pod, uid string) bool {
	for _, r := range p.GetMetadata().GetOwnerReferences() {
		if r.GetController() && r.GetUid() == uid {
			return true
		}
	}
	return false
}

func names(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.GetMetadata().GetName()
	}
	return out
}

// waitPods waits until uid controls exactly n active Pods and returns them.
func waitPods(t *testing.T, ctx context.Context, c *client.Client, uid string, n int) []*corev1.Pod {
	t.Helper()
	var pods []*corev1.Pod
	eventually(t, "active pods", func() bool {
		pods = activePods(t, ctx, c, uid)
		return len(pods) == n
	})
	return pods
}

// scale sets the replicas of a ReplicaSet or ReplicationController through the scale
// subresource.
func scale(t *testing.T, ctx context.Context, c *client.Client, r *scheme.Resource, name string, n int32) {
	t.Helper()
	_, err := c.Resource(r).UpdateScale(ctx, &autoscalingv1.Scale{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &autoscalingv1.ScaleSpec{Replicas: n},
	})
	if err != nil {
		t.Fatalf("scale %s %s to %d: %v", r.Kind, name, n, err)
	}
}

// bind assigns a Pod to a Node, as the scheduler would.
func bind(t *testing.T, ctx context.Context, c *client.Client, pod, node string) {
	t.Helper()
	_, err := corev1.NewPodServiceClient(c.Conn()).Bind(ctx, &corev1.Binding{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: pod},
		Target:   &corev1.ObjectReference{Kind: "Node", Name: node},
	})
	if err != nil {
		t.Fatalf("bind %s to %s: %v", pod, node, err)
	}
}

// kubelet writes a Pod's status as a node agent would: Running, Ready or not since readySince.
func kubelet(t *testing.T, ctx context.Context, c *client.Client, name string, ready bool, readySince time.Time) {
	t.Helper()
	pods := c.Resource(scheme.Pods)
	obj, err := pods.Get(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	p := obj.(*corev1.Pod)
	status := "False"
	if ready {
		status = "True"
	}
	p.Status = &corev1.PodStatus{
		Phase: "Running",
		Conditions: []*corev1.PodCondition{{
			Type: "Ready", Status: status, LastTransitionTime: timestamppb.New(readySince),
		}},
	}
	if _, err := pods.UpdateStatus(ctx, p); err != nil {
		t.Fatalf("update status of pod %s: %v", name, err)
	}
}

// eventsFor are the Events about the object name in namespace default.
func eventsFor(t *testing.T, ctx context.Context, c *client.Client, name string) []*corev1.Event {
	t.Helper()
	items, _, err := c.Resource(scheme.Events).ListAll(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var out []*corev1.Event
	for _, o := range items {
		if ev := o.(*corev1.Event); ev.GetInvolvedObject().GetName() == name {
			out = append(out, ev)
		}
	}
	return out
}

// hasEvent reports whether evs holds an Event with that reason and message.
func hasEvent(evs []*corev1.Event, typ, reason, message string) bool {
	for _, ev := range evs {
		if ev.GetType() == typ && ev.GetReason() == reason && ev.GetMessage() == message {
			return true
		}
	}
	return false
}
