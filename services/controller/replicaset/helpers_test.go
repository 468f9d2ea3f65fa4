package replicaset_test

import (
	"context"
	"log/slog"
	"sort"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/testlog"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
	"github.com/berth-dev/berth/services/controller/replicaset"
)

// setup starts an apiserver and both controllers (ReplicaSets and ReplicationControllers) on
// one informer factory, as the controller manager runs them, and stops them when the test ends.
func setup(t *testing.T) (*client.Client, context.Context) {
	t.Helper()
	c, ctx := controllertest.Start(t)
	startControllers(t, ctx, c, 0)
	return c, ctx
}

// setupLagging is setup with a Pod cache that lags: every Pod event holds the Pod informer for
// lag before the next one reaches the cache, as a busy informer would.
func setupLagging(t *testing.T, lag time.Duration) (*client.Client, context.Context) {
	t.Helper()
	c, ctx := controllertest.Start(t)
	startControllers(t, ctx, c, lag)
	return c, ctx
}

// startControllers runs both controllers against c until the test ends, with a Pod cache
// lagging by lag when it is positive.
func startControllers(t *testing.T, ctx context.Context, c *client.Client, lag time.Duration) {
	t.Helper()
	log := testlog.NewAt(t, slog.LevelInfo)
	controllertest.Go(t, ctx, "replicaset controllers", func(ctx context.Context) error {
		return controller.RunStandalone(ctx, c, log, func(env controller.Env) controller.Runner {
			var runners []controller.Runner
			for _, o := range []replicaset.Options{
				{Resource: scheme.ReplicaSets, Logger: log, Recorder: env.Recorder(replicaset.ReplicaSetComponent)},
				{Resource: scheme.ReplicationControllers, Logger: log, Recorder: env.Recorder(replicaset.ReplicationControllerComponent)},
			} {
				runners = append(runners, replicaset.New(c, env.Factory, o))
			}
			if lag > 0 {
				hold := func(scheme.Object) { time.Sleep(lag) }
				env.Factory.For(scheme.Pods).AddHandler(informer.HandlerFuncs{AddFunc: hold, UpdateFunc: func(_, o scheme.Object) { hold(o) }, DeleteFunc: hold})
			}
			return controllertest.Together(runners...)
		})
	})
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
	controllertest.Eventually(t, "active pods", func() bool {
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
	if !controllertest.SetRunning(ctx, t, c, "default", name, controllertest.Running{Ready: ready, Since: readySince}) {
		t.Fatalf("pod %s is gone", name)
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
