package agent_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/agent"
	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/runtime/fake"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/ctl"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// testEnv is a real apiserver on embedded etcd and a client of it.
type testEnv struct {
	t    *testing.T
	addr string
	c    *client.Client
	ctx  context.Context
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	addr := apiservertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c, err := client.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testEnv{t: t, addr: addr, c: c, ctx: ctx}
}

// runningAgent is an agent started by a test.
type runningAgent struct {
	cancel context.CancelFunc
	done   chan error
	port   int
	once   sync.Once
}

// stop stops the agent and waits for Run to return; it may be called more than once.
func (a *runningAgent) stop(t *testing.T) {
	t.Helper()
	a.once.Do(func() {
		a.cancel()
		select {
		case err := <-a.done:
			if err != nil {
				t.Errorf("agent.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("agent.Run did not return 30s after its context ended")
		}
	})
}

// fastConfig has the agent's periods short, for tests.
func (e *testEnv) fastConfig(node string, rt runtime.Runtime) agent.Config {
	return agent.Config{
		Client: e.c, NodeName: node, Runtime: rt, RootDir: e.t.TempDir(),
		Logger:        slog.New(slog.NewTextHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RenewInterval: 200 * time.Millisecond, StatusInterval: 100 * time.Millisecond, StatusReportInterval: time.Second,
		Hostname: "test-host", Version: "v-test",
	}
}

// startAgent runs agent.Run with cfg (and a logs/exec listener) until the test ends.
func (e *testEnv) startAgent(cfg agent.Config) *runningAgent {
	e.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.Listener = l
	ctx, cancel := context.WithCancel(context.Background())
	a := &runningAgent{cancel: cancel, done: make(chan error, 1), port: l.Addr().(*net.TCPAddr).Port}
	go func() { a.done <- agent.Run(ctx, cfg) }()
	e.t.Cleanup(func() { a.stop(e.t) })
	return a
}

// testWriter sends the agent's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// eventually polls cond every 50 ms until it returns nil, failing the test after timeout with
// its last error.
func (e *testEnv) eventually(timeout time.Duration, what string, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *testEnv) node(name string) (*corev1.Node, error) {
	obj, err := e.c.Resource(scheme.Nodes).Get(e.ctx, "", name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Node), nil
}

func (e *testEnv) lease(name string) (*coordinationv1.Lease, error) {
	obj, err := e.c.Resource(scheme.Leases).Get(e.ctx, agent.LeaseNamespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*coordinationv1.Lease), nil
}

func (e *testEnv) pod(ns, name string) (*corev1.Pod, error) {
	obj, err := e.c.Resource(scheme.Pods).Get(e.ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

func readyCondition(n *corev1.Node) *corev1.NodeCondition {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c
		}
	}
	return nil
}

func TestRegisterLeaseAndReady(t *testing.T) {
	e := newEnv(t)
	// A Node created ahead of its agent keeps what it has; the agent adds its labels.
	_, err := e.c.Resource(scheme.Nodes).Create(e.ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{
		Name: "n1", Labels: map[string]string{"team": "blue", agent.LabelHostname: "old"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.fastConfig("n1", newFakeRuntime(t, "n1"))
	cfg.Labels = map[string]string{"zone": "z1"}
	cfg.Capacity = map[string]string{"cpu": "4", "memory": "16Gi", "pods": "110"}
	a := e.startAgent(cfg)

	var node *corev1.Node
	e.eventually(10*time.Second, "node n1 Ready", func() error {
		var err error
		if node, err = e.node("n1"); err != nil {
			return err
		}
		if c := readyCondition(node); c.GetStatus() != "True" || c.GetReason() != "KubeletReady" {
			return fmt.Errorf("Ready condition %v", c)
		}
		return nil
	})
	labels := node.GetMetadata().GetLabels()
	for k, v := range map[string]string{"team": "blue", agent.LabelHostname: "n1", agent.LabelOS: "linux", "zone": "z1"} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
		}
	}
	if labels[agent.LabelArch] == "" {
		t.Errorf("no %s label: %v", agent.LabelArch, labels)
	}
	st := node.GetStatus()
	for k, v := range map[string]string{"cpu": "4", "memory": "16Gi", "pods": "110"} {
		if st.GetCapacity()[k] != v || st.GetAllocatable()[k] != v {
			t.Errorf("%s: capacity %q allocatable %q, want %q", k, st.GetCapacity()[k], st.GetAllocatable()[k], v)
		}
	}
	if p := st.GetDaemonEndpoints().GetKubeletEndpoint().GetPort(); int(p) != a.port {
		t.Errorf("kubelet endpoint port %d, want the listener's %d", p, a.port)
	}
	if addrs := st.GetAddresses(); len(addrs) != 2 || addrs[0].GetType() != "InternalIP" || addrs[0].GetAddress() != "127.0.0.1" || addrs[1].GetAddress() != "test-host" {
		t.Errorf("addresses %v", addrs)
	}
	if v := st.GetNodeInfo().GetKubeletVersion(); v != "v-test" {
		t.Errorf("kubeletVersion %q", v)
	}

	// The Lease is held by the Node, owned by it, and renewed.
	var first *coordinationv1.Lease
	e.eventually(10*time.Second, "lease", func() error {
		var err error
		first, err = e.lease("n1")
		return err
	})
	if h := first.GetSpec().GetHolderIdentity(); h != "n1" {
		t.Errorf("holderIdentity %q", h)
	}
	if d := first.GetSpec().GetLeaseDurationSeconds(); d != 40 {
		t.Errorf("leaseDurationSeconds %d", d)
	}
	if refs := first.GetMetadata().GetOwnerReferences(); len(refs) != 1 || refs[0].GetKind() != "Node" || refs[0].GetUid() != node.GetMetadata().GetUid() {
		t.Errorf("ownerReferences %v", refs)
	}
	e.eventually(5*time.Second, "lease renewed", func() error {
		l, err := e.lease("n1")
		if err != nil {
			return err
		}
		if !l.GetSpec().GetRenewTime().AsTime().After(first.GetSpec().GetRenewTime().AsTime()) {
			return errors.New("renewTime did not move")
		}
		return nil
	})

	// The Ready condition's heartbeat moves at least every StatusReportInterval, its
	// transition time does not.
	beat := readyCondition(node)
	e.eventually(5*time.Second, "heartbeat", func() error {
		n, err := e.node("n1")
		if err != nil {
			return err
		}
		c := readyCondition(n)
		if !c.GetLastHeartbeatTime().AsTime().After(beat.GetLastHeartbeatTime().AsTime()) {
			return errors.New("lastHeartbeatTime did not move")
		}
		if !c.GetLastTransitionTime().AsTime().Equal(beat.GetLastTransitionTime().AsTime()) {
			return fmt.Errorf("lastTransitionTime moved: %v → %v", beat.GetLastTransitionTime().AsTime(), c.GetLastTransitionTime().AsTime())
		}
		return nil
	})

	// Someone deletes the Node: the agent registers it again.
	if _, err := e.c.Resource(scheme.Nodes).Delete(e.ctx, &metav1.DeleteRequest{Name: "n1"}); err != nil {
		t.Fatal(err)
	}
	e.eventually(10*time.Second, "node registered again", func() error {
		n, err := e.node("n1")
		if err != nil {
			return err
		}
		if n.GetMetadata().GetUid() == node.GetMetadata().GetUid() {
			return errors.New("still the old Node")
		}
		if c := readyCondition(n); c.GetStatus() != "True" {
			return fmt.Errorf("Ready %v", c)
		}
		return nil
	})
}

// testPod is a Pod of one container bound to node.
func testPod(name, node string) *corev1.Pod {
	grace := int64(1)
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &corev1.PodSpec{
			NodeName: node, TerminationGracePeriodSeconds: &grace,
			Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest"}},
		},
	}
}

func (e *testEnv) createPod(p *corev1.Pod) *corev1.Pod {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Pods).Create(e.ctx, p)
	if err != nil {
		e.t.Fatalf("create pod %s: %v", p.GetMetadata().GetName(), err)
	}
	return obj.(*corev1.Pod)
}

func (e *testEnv) waitRunning(name string) *corev1.Pod {
	e.t.Helper()
	var p *corev1.Pod
	e.eventually(20*time.Second, "pod "+name+" Running", func() error {
		var err error
		if p, err = e.pod("default", name); err != nil {
			return err
		}
		if p.GetStatus().GetPhase() != "Running" || p.GetStatus().GetPodIp() == "" {
			return fmt.Errorf("status %v", p.GetStatus())
		}
		return nil
	})
	return p
}

func (e *testEnv) waitGone(name string) {
	e.t.Helper()
	e.eventually(20*time.Second, "pod "+name+" deleted", func() error {
		_, err := e.pod("default", name)
		if kerrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errors.New("still there")
	})
}

func TestPodsRunAndDelete(t *testing.T) {
	e := newEnv(t)
	rt := newFakeRuntime(t, "n1")
	e.startAgent(e.fastConfig("n1", rt))

	// Pods bound before and after the agent lists, and one bound elsewhere.
	e.createPod(testPod("early", "n1"))
	p := e.waitRunning("early")
	if c := p.GetStatus().GetConditions(); len(c) == 0 {
		t.Errorf("no conditions: %v", p.GetStatus())
	}
	e.createPod(testPod("elsewhere", "n2"))
	e.createPod(testPod("late", "n1"))
	late := e.waitRunning("late")
	if late.GetStatus().GetHostIp() != "127.0.0.1" {
		t.Errorf("hostIP %q", late.GetStatus().GetHostIp())
	}
	if late.GetStatus().GetPodIp() == p.GetStatus().GetPodIp() {
		t.Errorf("two Pods with the IP %s", late.GetStatus().GetPodIp())
	}
	if other, err := e.pod("default", "elsewhere"); err != nil || other.GetStatus().GetPhase() != "Pending" {
		t.Errorf("a Pod of another Node: %v, %v", other.GetStatus(), err)
	}

	// Deletion: the apiserver sets the deletionTimestamp, the agent tears the Pod down and
	// deletes it.
	if _, err := e.c.Resource(scheme.Pods).Delete(e.ctx, &metav1.DeleteRequest{Namespace: "default", Name: "early"}); err != nil {
		t.Fatal(err)
	}
	e.waitGone("early")
	e.eventually(10*time.Second, "containers of early removed", func() error {
		cs, err := rt.ListContainers(e.ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Pod.UID == p.GetMetadata().GetUid() {
				return fmt.Errorf("container %s of early still there", c.Name)
			}
		}
		return nil
	})
	if _, err := e.pod("default", "late"); err != nil {
		t.Errorf("the other Pod: %v", err)
	}
}

func TestRestartAdopts(t *testing.T) {
	e := newEnv(t)
	rt := newFakeRuntime(t, "n1") // the machine: it outlives the agents
	a := e.startAgent(e.fastConfig("n1", rt))
	keep := e.waitRunning(e.createPod(testPod("keep", "n1")).GetMetadata().GetName())
	gone := e.waitRunning(e.createPod(testPod("gone", "n1")).GetMetadata().GetName())
	containers := func(uid string) []string {
		cs, err := rt.ListContainers(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range cs {
			if c.Pod.UID == uid {
				ids = append(ids, c.ID)
			}
		}
		return ids
	}
	before := containers(keep.GetMetadata().GetUid())
	if len(before) != 1 {
		t.Fatalf("containers of keep: %v", before)
	}
	a.stop(t)

	// While the agent is away, one Pod is force-deleted.
	zero := int64(0)
	if _, err := e.c.Resource(scheme.Pods).Delete(e.ctx, &metav1.DeleteRequest{Namespace: "default", Name: "gone", GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	e.startAgent(e.fastConfig("n1", rt))
	e.eventually(10*time.Second, "containers of the deleted Pod removed", func() error {
		if ids := containers(gone.GetMetadata().GetUid()); len(ids) > 0 {
			return fmt.Errorf("still %v", ids)
		}
		return nil
	})
	time.Sleep(time.Second) // a few sync rounds
	if after := containers(keep.GetMetadata().GetUid()); len(after) != 1 || after[0] != before[0] {
		t.Errorf("containers of keep after the restart %v, want %v", after, before)
	}
	e.waitRunning("keep")
}

// berthctl runs berthctl against the test apiserver and returns its exit code and output.
func (e *testEnv) berthctl(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errOut strings.Builder
	code := ctl.Run(e.ctx, args, ctl.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, e.addr)
	return code, out.String(), errOut.String()
}

func TestLogsAndExecThroughTheAPIServer(t *testing.T) {
	e := newEnv(t)
	e.startAgent(e.fastConfig("n1", newFakeRuntime(t, "n1")))
	p := testPod("chatty", "n1")
	p.Spec.Containers[0].Env = []*corev1.EnvVar{{Name: "BERTH_FAKE_LOGS", Value: "line one\nline two\nline three"}}
	p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: "side", Image: "berth-shell:latest"})
	e.createPod(p)
	e.waitRunning("chatty")

	tests := []struct {
		name           string
		stdin          string
		args           []string
		code           int
		stdout         string
		stderrContains string
	}{
		{"logs", "", []string{"logs", "chatty", "-c", "app"}, 0, "line one\nline two\nline three\n", ""},
		{"logs --tail", "", []string{"logs", "chatty", "-c", "app", "--tail", "1"}, 0, "line three\n", ""},
		{"logs --limit-bytes", "", []string{"logs", "pod/chatty", "-c", "app", "--limit-bytes", "6"}, 0, "line o", ""},
		{"logs defaults to the first container", "", []string{"logs", "chatty", "--tail", "1"}, 0, "line three\n", `Defaulted container "app" out of: app, side`},
		{"logs --previous without a restart", "", []string{"logs", "chatty", "-c", "app", "--previous"}, 1, "", `previous terminated container "app" in pod "chatty" not found`},
		{"logs of an unknown container", "", []string{"logs", "chatty", "-c", "db"}, 1, "", "container db is not valid for pod chatty"},
		{"logs of an unknown pod", "", []string{"logs", "nope"}, 1, "", `pods "nope" not found`},
		{"exec", "", []string{"exec", "chatty", "-c", "side", "--", "echo", "hello", "world"}, 0, "hello world\n", ""},
		{"exec -i", "some input\n", []string{"exec", "-i", "chatty", "-c", "side", "--", "cat"}, 0, "some input\n", ""},
		{"exec exit code", "", []string{"exec", "chatty", "-c", "side", "--", "false"}, 1, "", "command terminated with exit code 1"},
		{"exec hostname", "", []string{"exec", "chatty", "-c", "side", "--", "hostname"}, 0, "chatty\n", ""},
		{"exec without a command", "", []string{"exec", "chatty", "--"}, 1, "", "at least one command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := e.berthctl(tt.stdin, tt.args...)
			if code != tt.code || out != tt.stdout || !strings.Contains(errOut, tt.stderrContains) {
				t.Errorf("berthctl %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
					strings.Join(tt.args, " "), code, out, errOut, tt.code, tt.stdout, tt.stderrContains)
			}
		})
	}
}

func TestHollowNodes(t *testing.T) {
	e := newEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := e.fastConfig("", nil)
	tmpl.Capacity = map[string]string{"cpu": "4", "memory": "16Gi", "pods": "110"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- agent.RunHollow(ctx, agent.HollowConfig{
			Count: 3, Prefix: "hollow", Template: tmpl, Listener: l,
			NewRuntime: func(i int, node string) runtime.Runtime {
				return fake.New(fake.Config{NodeName: node, Subnet: fake.SubnetFor(i)})
			},
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunHollow: %v", err)
		}
	}()
	for i := range 3 {
		name := fmt.Sprintf("hollow-%d", i)
		e.eventually(20*time.Second, name+" Ready with a Lease", func() error {
			n, err := e.node(name)
			if err != nil {
				return err
			}
			if c := readyCondition(n); c.GetStatus() != "True" {
				return fmt.Errorf("Ready %v", c)
			}
			if got := n.GetStatus().GetCapacity()["memory"]; got != "16Gi" {
				return fmt.Errorf("memory capacity %q", got)
			}
			if p := n.GetStatus().GetDaemonEndpoints().GetKubeletEndpoint().GetPort(); int(p) != l.Addr().(*net.TCPAddr).Port {
				return fmt.Errorf("port %d", p)
			}
			_, err = e.lease(name)
			return err
		})
	}
	p := testPod("ghost", "hollow-2")
	p.Spec.Containers[0].Env = []*corev1.EnvVar{{Name: "BERTH_FAKE_LOGS", Value: "boo"}}
	e.createPod(p)
	e.waitRunning("ghost")
	if code, out, errOut := e.berthctl("", "logs", "ghost"); code != 0 || out != "boo\n" {
		t.Errorf("logs of a hollow Pod: exit %d, %q, %q", code, out, errOut)
	}
}

// newFakeRuntime is the fake runtime of one Node; a test keeps it across agents to restart an
// agent on the same "machine".
func newFakeRuntime(t *testing.T, node string) *fake.Runtime {
	t.Helper()
	return fake.New(fake.Config{NodeName: node})
}

func TestRuntimeDownMakesTheNodeNotReady(t *testing.T) {
	e := newEnv(t)
	rt := newFakeRuntime(t, "n1")
	e.startAgent(e.fastConfig("n1", rt))
	ready := func(want, reason string) func() error {
		return func() error {
			n, err := e.node("n1")
			if err != nil {
				return err
			}
			if c := readyCondition(n); c.GetStatus() != want || c.GetReason() != reason {
				return fmt.Errorf("Ready condition %v", c)
			}
			return nil
		}
	}
	e.eventually(10*time.Second, "Ready", ready("True", "KubeletReady"))
	rt.SetUnavailable(true)
	e.eventually(10*time.Second, "NotReady", ready("False", "KubeletNotReady"))
	n, _ := e.node("n1")
	if msg := readyCondition(n).GetMessage(); !strings.Contains(msg, "container runtime is down") || !strings.Contains(msg, "unavailable") {
		t.Errorf("NotReady message %q", msg)
	}
	if n.GetStatus().GetCapacity()["cpu"] == "" {
		t.Errorf("capacity lost while the runtime is down: %v", n.GetStatus().GetCapacity())
	}
	// The Lease is the agent's heartbeat, not the runtime's: it keeps being renewed.
	l1, err := e.lease("n1")
	if err != nil {
		t.Fatal(err)
	}
	e.eventually(5*time.Second, "lease renewed while the runtime is down", func() error {
		l2, err := e.lease("n1")
		if err != nil {
			return err
		}
		if !l2.GetSpec().GetRenewTime().AsTime().After(l1.GetSpec().GetRenewTime().AsTime()) {
			return errors.New("not renewed")
		}
		return nil
	})
	rt.SetUnavailable(false)
	e.eventually(10*time.Second, "Ready again", ready("True", "KubeletReady"))
}

func TestAgentRestartWithTheRuntimeDown(t *testing.T) {
	e := newEnv(t)
	rt := newFakeRuntime(t, "n1")
	rt.SetUnavailable(true)
	e.startAgent(e.fastConfig("n1", rt))
	e.createPod(testPod("waits", "n1"))
	// The Node registers, not ready, and adoption waits for the runtime.
	e.eventually(10*time.Second, "NotReady Node", func() error {
		n, err := e.node("n1")
		if err != nil {
			return err
		}
		if c := readyCondition(n); c.GetStatus() != "False" {
			return fmt.Errorf("Ready %v", c)
		}
		return nil
	})
	rt.SetUnavailable(false)
	e.waitRunning("waits")
}
