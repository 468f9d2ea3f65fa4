package nodelifecycle_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/agent"
	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/runtime/fake"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/testlog"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
	"github.com/berth-dev/berth/services/controller/nodelifecycle"
)

// Short periods for the tests.
const (
	grace           = time.Second
	evictionTimeout = 3 * time.Second
	quarantine      = 200 * time.Millisecond
)

// env is an apiserver, a client and the test's context.
type env struct {
	t   *testing.T
	c   *client.Client
	ctx context.Context
}

// newEnv starts an apiserver; with run, also the Node lifecycle controller. Both stop when
// the test ends.
func newEnv(t *testing.T, run bool) *env {
	t.Helper()
	c, ctx := controllertest.Start(t)
	if run {
		opts := nodelifecycle.Options{
			NodeMonitorGracePeriod: grace, PodEvictionTimeout: evictionTimeout, PodGCQuarantine: quarantine,
			Logger: testlog.New(t),
		}
		controllertest.Go(t, ctx, "nodelifecycle.Run", func(ctx context.Context) error { return nodelifecycle.Run(ctx, c, opts) })
	}
	return &env{t: t, c: c, ctx: ctx}
}

// readyStatus is the status of a Node as an agent writes it, with Ready set to ready.
func readyStatus(ready string, now time.Time) *corev1.NodeStatus {
	ts := timestamppb.New(now)
	reason := "KubeletReady"
	if ready != "True" {
		reason = "KubeletNotReady"
	}
	conds := []*corev1.NodeCondition{
		{Type: "MemoryPressure", Status: "False", Reason: "KubeletHasSufficientMemory"},
		{Type: "DiskPressure", Status: "False", Reason: "KubeletHasNoDiskPressure"},
		{Type: "PIDPressure", Status: "False", Reason: "KubeletHasSufficientPID"},
		{Type: "Ready", Status: ready, Reason: reason},
	}
	for _, c := range conds {
		c.LastHeartbeatTime, c.LastTransitionTime = ts, ts
	}
	return &corev1.NodeStatus{Capacity: map[string]string{"cpu": "4", "memory": "16Gi", "pods": "110"}, Conditions: conds}
}

// addNode registers a Node with a Ready condition and its Lease, as an agent does.
func (e *env) addNode(name, ready string) {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Nodes).Create(e.ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: name}, Spec: &corev1.NodeSpec{}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.postStatus(obj.(*corev1.Node), ready)
	holder, secs := name, int32(40)
	lease := &coordinationv1.Lease{
		Metadata: &metav1.ObjectMeta{Namespace: nodelifecycle.LeaseNamespace, Name: name},
		Spec:     &coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: timestamppb.Now()},
	}
	if _, err := e.c.Resource(scheme.Leases).Create(e.ctx, lease); err != nil {
		e.t.Fatal(err)
	}
}

// postStatus writes the Node's status as its agent does, with a fresh heartbeat.
func (e *env) postStatus(node *corev1.Node, ready string) {
	e.t.Helper()
	for {
		upd := proto.Clone(node).(*corev1.Node)
		upd.Status = readyStatus(ready, time.Now())
		_, err := e.c.Resource(scheme.Nodes).UpdateStatus(e.ctx, upd)
		if err == nil {
			return
		}
		if !kerrors.IsConflict(err) {
			e.t.Fatal(err)
		}
		node = e.node(node.GetMetadata().GetName())
	}
}

// renew renews the Node's Lease.
func (e *env) renew(name string) error {
	obj, err := e.c.Resource(scheme.Leases).Get(e.ctx, nodelifecycle.LeaseNamespace, name)
	if err != nil {
		return err
	}
	l := proto.Clone(obj).(*coordinationv1.Lease)
	l.Spec.RenewTime = timestamppb.Now()
	_, err = e.c.Resource(scheme.Leases).Update(e.ctx, l)
	return err
}

// heartbeat renews the Node's Lease every 200 ms until the returned stop is called (or the
// test ends).
func (e *env) heartbeat(name string) (stop func()) {
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := e.renew(name); err != nil && ctx.Err() == nil && !kerrors.IsConflict(err) {
				e.t.Errorf("renew lease %s: %v", name, err)
			}
		}
	}()
	stop = func() { cancel(); wg.Wait() }
	e.t.Cleanup(stop)
	return stop
}

func (e *env) node(name string) *corev1.Node {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Nodes).Get(e.ctx, "", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Node)
}

// addPod creates a Pod bound to node and plays its agent: Running and Ready.
func (e *env) addPod(name, node string, tols ...*corev1.Toleration) {
	e.t.Helper()
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &corev1.PodSpec{
			NodeName: node, Tolerations: tols,
			Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}},
		},
	}
	if _, err := e.c.Resource(scheme.Pods).Create(e.ctx, pod); err != nil {
		e.t.Fatal(err)
	}
	if !controllertest.SetRunning(e.ctx, e.t, e.c, "default", name, controllertest.Running{Ready: true, ContainersReady: true}) {
		e.t.Fatalf("pod %s is gone", name)
	}
}

// pod returns the Pod, nil once it is gone.
func (e *env) pod(name string) *corev1.Pod {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Pods).Get(e.ctx, "default", name)
	if kerrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

func podCondition(p *corev1.Pod, typ string) *corev1.PodCondition {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

func nodeCondition(n *corev1.Node, typ string) *corev1.NodeCondition {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// taints returns the Node's taints as key:effect → taint.
func taints(n *corev1.Node) map[string]*corev1.Taint {
	out := map[string]*corev1.Taint{}
	for _, t := range n.GetSpec().GetTaints() {
		out[t.GetKey()+":"+t.GetEffect()] = t
	}
	return out
}

// event returns the Event in namespace ns about name with reason, nil when there is none.
func (e *env) event(ns, name, reason string) *corev1.Event {
	e.t.Helper()
	evs, _, err := e.c.Resource(scheme.Events).ListAll(e.ctx, &metav1.ListOptions{Namespace: ns})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range evs {
		ev := o.(*corev1.Event)
		if ev.GetInvolvedObject().GetName() == name && ev.GetReason() == reason {
			return ev
		}
	}
	return nil
}

// waitEvent waits for an Event about name with reason and message, from component.
func (e *env) waitEvent(ns, name, reason, message, component string) {
	e.t.Helper()
	controllertest.EventuallyNil(e.t, fmt.Sprintf("event %s about %s", reason, name), func() error {
		ev := e.event(ns, name, reason)
		switch {
		case ev == nil:
			return fmt.Errorf("none")
		case ev.GetMessage() != message || ev.GetSource().GetComponent() != component:
			return fmt.Errorf("got %q from %q, want %q from %q", ev.GetMessage(), ev.GetSource().GetComponent(), message, component)
		}
		return nil
	})
}

func tolerateUnreachable(secs *int64) *corev1.Toleration {
	return &corev1.Toleration{Key: nodelifecycle.TaintUnreachable, Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs}
}

func TestSilentNodeIsMarkedTaintedAndEvicted(t *testing.T) {
	e := newEnv(t, true)
	e.addNode("silent", "True")
	e.addNode("alive", "True")
	e.heartbeat("alive")
	sixty := int64(60)
	e.addPod("web", "silent")
	e.addPod("patient", "silent", tolerateUnreachable(&sixty))
	e.addPod("forever", "silent", tolerateUnreachable(nil))
	e.addPod("elsewhere", "alive")

	// No heartbeat from "silent" for the grace period: Unknown, tainted.
	var tainted time.Time
	controllertest.EventuallyNil(e.t, "silent to be marked unknown and tainted", func() error {
		n := e.node("silent")
		for _, typ := range []string{"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"} {
			c := nodeCondition(n, typ)
			if c.GetStatus() != "Unknown" || c.GetReason() != "NodeStatusUnknown" || c.GetMessage() != "Kubelet stopped posting node status." {
				return fmt.Errorf("%s = %v", typ, c)
			}
		}
		ts := taints(n)
		for _, k := range []string{"node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"} {
			if ts[k] == nil || ts[k].GetTimeAdded() == nil {
				return fmt.Errorf("taint %s missing or without timeAdded: %v", k, n.GetSpec().GetTaints())
			}
		}
		if len(ts) != 2 {
			return fmt.Errorf("taints %v", n.GetSpec().GetTaints())
		}
		tainted = time.Now()
		return nil
	})
	if p := e.pod("web"); p.GetMetadata().GetDeletionTimestamp() != nil {
		t.Fatal("web was evicted as soon as its Node was tainted, want after the eviction timeout")
	}
	e.waitEvent("default", "silent", "NodeNotReady", "Node silent status is now: NodeNotReady", "node-controller")
	controllertest.EventuallyNil(e.t, "the pods of silent to be not ready", func() error {
		for _, name := range []string{"web", "patient", "forever"} {
			if c := podCondition(e.pod(name), "Ready"); c.GetStatus() != "False" {
				return fmt.Errorf("%s: Ready %v", name, c)
			}
		}
		return nil
	})
	e.waitEvent("default", "web", "NodeNotReady", "Node is not ready", "node-controller")

	// After the eviction timeout, web goes; the Pods tolerating the taint stay.
	controllertest.EventuallyNil(e.t, "web to be evicted", func() error {
		p := e.pod("web")
		if p != nil && p.GetMetadata().GetDeletionTimestamp() == nil {
			return fmt.Errorf("not deleted")
		}
		return nil
	})
	if waited := time.Since(tainted); waited < evictionTimeout-time.Second-100*time.Millisecond {
		t.Errorf("web evicted %v after its Node was tainted, want about %v", waited, evictionTimeout)
	}
	if p := e.pod("web"); p != nil {
		if c := podCondition(p, "DisruptionTarget"); c.GetStatus() != "True" || c.GetReason() != "DeletionByTaintManager" {
			t.Errorf("DisruptionTarget of the evicted pod = %v", c)
		}
	}
	e.waitEvent("default", "web", "TaintManagerEviction", "Marking for deletion Pod default/web", "taint-eviction-controller")
	for _, name := range []string{"patient", "forever", "elsewhere"} {
		if p := e.pod(name); p.GetMetadata().GetDeletionTimestamp() != nil {
			t.Errorf("%s was evicted", name)
		}
	}
	if c := podCondition(e.pod("elsewhere"), "Ready"); c.GetStatus() != "True" {
		t.Errorf("a pod of the live node: Ready %v", c)
	}
	if ts := taints(e.node("alive")); len(ts) != 0 {
		t.Errorf("the live node got taints %v", ts)
	}

	// silent comes back: heartbeats and Ready=True. Its taints go, and the scheduled eviction
	// of patient is cancelled.
	if err := e.renew("silent"); err != nil {
		t.Fatal(err)
	}
	e.postStatus(e.node("silent"), "True")
	controllertest.EventuallyNil(e.t, "silent to lose its taints", func() error {
		if ts := e.node("silent").GetSpec().GetTaints(); len(ts) != 0 {
			return fmt.Errorf("taints %v", ts)
		}
		return nil
	})
	e.waitEvent("default", "silent", "NodeReady", "Node silent status is now: NodeReady", "node-controller")
	e.waitEvent("default", "patient", "TaintManagerEviction", "Cancelling deletion of Pod default/patient", "taint-eviction-controller")
	if p := e.pod("patient"); p.GetMetadata().GetDeletionTimestamp() != nil {
		t.Error("patient was evicted")
	}
}

// TestNodeNotReadyIsTaintedNotReady: an agent that heartbeats but reports Ready=False gets
// the not-ready taints, keeps its conditions, and loses the taints once Ready again.
func TestNodeNotReadyIsTaintedNotReady(t *testing.T) {
	e := newEnv(t, true)
	e.addNode("sick", "False")
	e.heartbeat("sick")
	e.addNode("well", "True") // with no Node ready at all, no NoExecute taints are added
	e.heartbeat("well")
	controllertest.EventuallyNil(e.t, "sick to be tainted not-ready", func() error {
		ts := taints(e.node("sick"))
		if ts["node.kubernetes.io/not-ready:NoSchedule"] == nil || ts["node.kubernetes.io/not-ready:NoExecute"] == nil || len(ts) != 2 {
			return fmt.Errorf("taints %v", ts)
		}
		return nil
	})
	// Two grace periods later it is still False (it heartbeats), not Unknown.
	time.Sleep(2 * grace)
	n := e.node("sick")
	if c := nodeCondition(n, "Ready"); c.GetStatus() != "False" || c.GetReason() != "KubeletNotReady" {
		t.Errorf("Ready of a heartbeating node = %v, want its own False", c)
	}
	e.postStatus(n, "True")
	controllertest.EventuallyNil(e.t, "sick to lose its taints", func() error {
		if ts := e.node("sick").GetSpec().GetTaints(); len(ts) != 0 {
			return fmt.Errorf("taints %v", ts)
		}
		return nil
	})
}

// TestCordonedNodeIsTaintedUnschedulable: spec.unschedulable gives the Node the taint
// node.kubernetes.io/unschedulable:NoSchedule, and other taints are left alone.
func TestCordonedNodeIsTaintedUnschedulable(t *testing.T) {
	e := newEnv(t, true)
	e.addNode("cordoned", "True")
	e.heartbeat("cordoned")
	n := proto.Clone(e.node("cordoned")).(*corev1.Node)
	n.Spec.Unschedulable = true
	n.Spec.Taints = []*corev1.Taint{{Key: "example.com/gpu", Value: "a100", Effect: "NoSchedule"}}
	if _, err := e.c.Resource(scheme.Nodes).Update(e.ctx, n); err != nil {
		t.Fatal(err)
	}
	controllertest.EventuallyNil(e.t, "the unschedulable taint", func() error {
		ts := taints(e.node("cordoned"))
		if ts["node.kubernetes.io/unschedulable:NoSchedule"] == nil || ts["example.com/gpu:NoSchedule"] == nil || len(ts) != 2 {
			return fmt.Errorf("taints %v", ts)
		}
		return nil
	})
}

// TestPodsOfAMissingNodeAreDeleted: Pods bound to a Node that was deleted, or never existed,
// are deleted after the quarantine; Pods of live Nodes stay.
func TestPodsOfAMissingNodeAreDeleted(t *testing.T) {
	e := newEnv(t, true)
	e.addNode("doomed", "True")
	e.addNode("alive", "True")
	e.heartbeat("doomed")
	e.heartbeat("alive")
	e.addPod("on-doomed", "doomed")
	e.addPod("on-ghost", "ghost")
	e.addPod("on-alive", "alive")
	controllertest.EventuallyNil(e.t, "the pod of a node that never existed to be deleted", func() error {
		if e.pod("on-ghost") != nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	if e.pod("on-doomed") == nil {
		t.Fatal("the pod of an existing node was deleted")
	}
	if _, err := e.c.Resource(scheme.Nodes).Delete(e.ctx, &metav1.DeleteRequest{Name: "doomed"}); err != nil {
		t.Fatal(err)
	}
	controllertest.EventuallyNil(e.t, "the pod of the deleted node to be deleted", func() error {
		if e.pod("on-doomed") != nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	if p := e.pod("on-alive"); p == nil || p.GetMetadata().GetDeletionTimestamp() != nil {
		t.Errorf("the pod of a live node was deleted: %v", p)
	}
}

// runHollow runs one hollow Node named prefix-0 (agent.RunHollow, fake runtime) until the
// returned stop is called or the test ends.
func (e *env) runHollow(prefix string) (stop func()) {
	e.t.Helper()
	cfg := agent.HollowConfig{
		Count: 1, Prefix: prefix,
		Template: agent.Config{
			Client: e.c, RootDir: e.t.TempDir(), Logger: testlog.New(e.t), Hostname: "test-host",
			RenewInterval: 200 * time.Millisecond, StatusInterval: 100 * time.Millisecond, StatusReportInterval: time.Second,
		},
		NewRuntime: func(i int, node string) runtime.Runtime { return fake.New(fake.Config{NodeName: node}) },
	}
	return controllertest.Go(e.t, e.ctx, "RunHollow "+prefix, func(ctx context.Context) error { return agent.RunHollow(ctx, cfg) })
}

// TestHollowNodeThatStopsGoesNotReady runs two real (hollow) agents and stops one: its Node
// goes Unknown and tainted, the other stays Ready; restarted, it is Ready and untainted again.
func TestHollowNodeThatStopsGoesNotReady(t *testing.T) {
	e := newEnv(t, true)
	e.runHollow("keep")
	stop := e.runHollow("gone")
	for _, name := range []string{"keep-0", "gone-0"} {
		controllertest.EventuallyNil(e.t, name+" to be Ready", func() error {
			obj, err := e.c.Resource(scheme.Nodes).Get(e.ctx, "", name)
			if err != nil {
				return err
			}
			if c := nodeCondition(obj.(*corev1.Node), "Ready"); c.GetStatus() != "True" {
				return fmt.Errorf("Ready %v", c)
			}
			return nil
		})
	}
	stop()
	controllertest.EventuallyNil(e.t, "gone-0 to be marked unknown and tainted", func() error {
		n := e.node("gone-0")
		if c := nodeCondition(n, "Ready"); c.GetStatus() != "Unknown" || c.GetReason() != "NodeStatusUnknown" {
			return fmt.Errorf("Ready %v", c)
		}
		if ts := taints(n); ts["node.kubernetes.io/unreachable:NoExecute"] == nil || ts["node.kubernetes.io/unreachable:NoSchedule"] == nil {
			return fmt.Errorf("taints %v", ts)
		}
		return nil
	})
	e.waitEvent("default", "gone-0", "NodeNotReady", "Node gone-0 status is now: NodeNotReady", "node-controller")
	n := e.node("keep-0")
	if c := nodeCondition(n, "Ready"); c.GetStatus() != "True" || len(n.GetSpec().GetTaints()) != 0 {
		t.Errorf("the running agent's Node: Ready %v, taints %v", c, n.GetSpec().GetTaints())
	}

	e.runHollow("gone")
	controllertest.EventuallyNil(e.t, "gone-0 to be Ready and untainted again", func() error {
		n := e.node("gone-0")
		if c := nodeCondition(n, "Ready"); c.GetStatus() != "True" || len(n.GetSpec().GetTaints()) != 0 {
			return fmt.Errorf("Ready %v, taints %v", c, n.GetSpec().GetTaints())
		}
		return nil
	})
}

// TestAllNodesDownEvictsNothing: when no Node is ready at all, Kubernetes suspects itself
// rather than the Nodes ("master disruption mode"): no NoExecute taints, no evictions. Once a
// Node is ready again, the others get a fresh grace period and then their taints.
func TestAllNodesDownEvictsNothing(t *testing.T) {
	e := newEnv(t, true)
	e.addNode("only", "True")
	e.addPod("web", "only")
	controllertest.EventuallyNil(e.t, "only to be unknown and tainted NoSchedule", func() error {
		n := e.node("only")
		if c := nodeCondition(n, "Ready"); c.GetStatus() != "Unknown" {
			return fmt.Errorf("Ready %v", c)
		}
		if ts := taints(n); ts["node.kubernetes.io/unreachable:NoSchedule"] == nil || len(ts) != 1 {
			return fmt.Errorf("taints %v", ts)
		}
		return nil
	})
	time.Sleep(evictionTimeout + 500*time.Millisecond)
	if ts := taints(e.node("only")); len(ts) != 1 {
		t.Errorf("taints %v with no Node ready, want only unreachable:NoSchedule", ts)
	}
	if p := e.pod("web"); p.GetMetadata().GetDeletionTimestamp() != nil {
		t.Fatal("a pod was evicted while no Node was ready")
	}

	e.addNode("back", "True")
	e.heartbeat("back")
	controllertest.EventuallyNil(e.t, "only to be tainted NoExecute once another Node is ready", func() error {
		if ts := taints(e.node("only")); ts["node.kubernetes.io/unreachable:NoExecute"] == nil {
			return fmt.Errorf("taints %v", ts)
		}
		return nil
	})
}
