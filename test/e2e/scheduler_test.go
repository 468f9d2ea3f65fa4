//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// The scheduler (issue 4) from the outside: Nodes applied as objects with berthctl (no agent),
// then Pods with requests, selectors, affinity and tolerations; placements, conditions and
// Events as Kubernetes would give them.

const schedNodes = `apiVersion: v1
kind: Node
metadata:
  name: node-ssd
  labels:
    kubernetes.io/hostname: node-ssd
    topology.kubernetes.io/zone: zone-a
    disk: ssd
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "True"}
---
apiVersion: v1
kind: Node
metadata:
  name: node-hdd
  labels:
    kubernetes.io/hostname: node-hdd
    topology.kubernetes.io/zone: zone-b
    disk: hdd
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "True"}
---
apiVersion: v1
kind: Node
metadata:
  name: node-gpu
  labels:
    kubernetes.io/hostname: node-gpu
    topology.kubernetes.io/zone: zone-b
    accelerator: gpu
spec:
  taints:
  - {key: dedicated, value: gpu, effect: NoSchedule}
status:
  capacity: {cpu: "8", memory: 16Gi, pods: "110", example.com/gpu: "2"}
  allocatable: {cpu: "8", memory: 16Gi, pods: "110", example.com/gpu: "2"}
  conditions:
  - {type: Ready, status: "True"}
`

const schedPods = `apiVersion: v1
kind: Pod
metadata:
  name: fast
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: disk, operator: In, values: [ssd]}
  containers:
  - name: app
    image: berth-testapp:latest
    resources:
      requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Pod
metadata:
  name: cuda
spec:
  tolerations:
  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
  containers:
  - name: app
    image: berth-testapp:latest
    resources:
      requests: {cpu: 500m, example.com/gpu: "1"}
      limits: {example.com/gpu: "1"}
---
apiVersion: v1
kind: Pod
metadata:
  name: zonal
spec:
  nodeSelector:
    topology.kubernetes.io/zone: zone-b
  containers:
  - name: app
    image: berth-testapp:latest
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  containers:
  - name: app
    image: berth-testapp:latest
    resources:
      requests: {cpu: 1500m}
---
apiVersion: v1
kind: Pod
metadata:
  name: huge
spec:
  containers:
  - name: app
    image: berth-testapp:latest
    resources:
      requests: {cpu: "3"}
`

const schedBigNode = `apiVersion: v1
kind: Node
metadata:
  name: node-big
  labels:
    kubernetes.io/hostname: node-big
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "True"}
`

// dialE2E connects to a server's gRPC API for the checks berthctl's output makes awkward.
func dialE2E(t *testing.T, addr string) (*client.Client, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	c, err := client.Dial(ctx, addr, client.WithBlock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, ctx
}

// podNode waits until the Pod is bound and returns its Node.
func podNode(t *testing.T, ctx context.Context, c *client.Client, ns, name string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		obj, err := c.Resource(scheme.Pods).Get(ctx, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		if n := obj.(*corev1.Pod).GetSpec().GetNodeName(); n != "" {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s/%s not bound after %v", ns, name, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func podScheduledCondition(t *testing.T, ctx context.Context, c *client.Client, name string) *corev1.PodCondition {
	t.Helper()
	obj, err := c.Resource(scheme.Pods).Get(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	for _, cond := range obj.(*corev1.Pod).GetStatus().GetConditions() {
		if cond.GetType() == "PodScheduled" {
			return cond
		}
	}
	return nil
}

func TestSchedulerPlacesPods(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctl := srv.Berthctl(t)
	c, ctx := dialE2E(t, srv.GRPCAddr)
	ctl.RunStdin(t, schedNodes, "apply", "-f", "-")
	ctl.RunStdin(t, schedPods, "apply", "-f", "-")

	want := map[string]func(string) bool{
		"fast":  func(n string) bool { return n == "node-ssd" },                    // required affinity
		"cuda":  func(n string) bool { return n == "node-gpu" },                    // the only Node with the extended resource
		"zonal": func(n string) bool { return n == "node-hdd" },                    // zone-b, and node-gpu is tainted
		"plain": func(n string) bool { return n == "node-ssd" || n == "node-hdd" }, // not the tainted Node
	}
	for name, ok := range want {
		if n := podNode(t, ctx, c, "default", name, 30*time.Second); !ok(n) {
			t.Errorf("pod %s placed on %s", name, n)
		}
	}

	// The Pod too big for every Node stays Pending, with Kubernetes' reason.
	msg := "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu."
	deadline := time.Now().Add(30 * time.Second)
	for {
		cond := podScheduledCondition(t, ctx, c, "huge")
		if cond.GetStatus() == "False" && cond.GetReason() == "Unschedulable" && cond.GetMessage() == msg {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("huge: PodScheduled %v, want False Unschedulable %q", cond, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
	describe := ctl.Run(t, "describe", "pod", "huge")
	for _, s := range []string{"FailedScheduling", "default-scheduler", msg, "PodScheduled   False"} {
		if !strings.Contains(describe, s) {
			t.Errorf("describe pod huge lacks %q:\n%s", s, describe)
		}
	}
	events := ctl.Run(t, "get", "events")
	for _, s := range []string{"Successfully assigned default/fast to node-ssd", "Successfully assigned default/cuda to node-gpu"} {
		if !strings.Contains(events, s) {
			t.Errorf("get events lacks %q:\n%s", s, events)
		}
	}
	if table := ctl.Run(t, "get", "pods", "-o", "wide"); !strings.Contains(table, "node-gpu") {
		t.Errorf("get pods -o wide does not show the nodes:\n%s", table)
	}

	// A Node that fits arrives: the Pod is placed there.
	ctl.RunStdin(t, schedBigNode, "apply", "-f", "-")
	if n := podNode(t, ctx, c, "default", "huge", 30*time.Second); n != "node-big" {
		t.Errorf("huge placed on %s, want node-big", n)
	}
	if cond := podScheduledCondition(t, ctx, c, "huge"); cond.GetStatus() != "True" {
		t.Errorf("huge: PodScheduled %v after binding, want True", cond)
	}
}

// A second scheduler, its own process with its own name, takes the Pods that name it; the
// default scheduler inside berth server leaves them alone.
func TestSecondScheduler(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctl := srv.Berthctl(t)
	c, ctx := dialE2E(t, srv.GRPCAddr)
	httpAddr := e2eutil.FreeAddr(t)
	proc := e2eutil.StartProcess(t, e2eutil.Binary(t, "berth"),
		[]string{"scheduler", "--server", srv.GRPCAddr, "--scheduler-name", "second", "--http-addr", httpAddr},
		e2eutil.ProcessOptions{Combined: true})
	proc.WaitForOutput(t, "msg=scheduling", 30*time.Second)
	ctl.RunStdin(t, schedNodes, "apply", "-f", "-")
	ctl.RunStdin(t, `apiVersion: v1
kind: Pod
metadata:
  name: mine
spec:
  schedulerName: second
  containers:
  - name: app
    image: berth-testapp:latest
`, "apply", "-f", "-")
	podNode(t, ctx, c, "default", "mine", 30*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(ctl.Run(t, "get", "events"), "Successfully assigned default/mine") {
		if time.Now().After(deadline) {
			t.Fatal("no Scheduled event for mine")
		}
		time.Sleep(200 * time.Millisecond)
	}
	describe := ctl.Run(t, "describe", "pod", "mine")
	if !strings.Contains(describe, "second") || strings.Contains(describe, "default-scheduler") {
		t.Errorf("mine was not scheduled by second:\n%s", describe)
	}
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `scheduler_schedule_attempts_total{profile="second",result="scheduled"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("the second scheduler's /metrics lacks %q", want)
	}

	// A malformed configuration is refused at start, naming the bad entry.
	r := e2eutil.StartProcess(t, e2eutil.Binary(t, "berth"),
		[]string{"scheduler", "--server", srv.GRPCAddr, "--http-addr", e2eutil.FreeAddr(t), "--config", writeTemp(t, "plugins:\n  score:\n  - name: NodeResourcesFit\n    weight: -1\n")},
		e2eutil.ProcessOptions{Combined: true})
	select {
	case <-r.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("berth scheduler with a bad config still running")
	}
	if r.ExitCode() == 0 || !strings.Contains(r.Stdout(), "plugins.score[0].weight: Invalid value: -1: must not be negative") {
		t.Errorf("bad config: exit %d, output:\n%s", r.ExitCode(), r.Stdout())
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	f := t.TempDir() + "/config.yaml"
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// Two `berth scheduler` processes of the same name against one apiserver: one leads; when it
// is killed (kill -9) in the middle of a run, the other takes over within 15s and every Pod is
// bound exactly once, no Node overcommitted.
func TestSchedulerLeaderKilled(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Role: "apiserver", Args: []string{"--data-dir", t.TempDir()}})
	ctl := srv.Berthctl(t)
	c, ctx := dialE2E(t, srv.GRPCAddr)
	ctl.RunStdin(t, schedNodes, "apply", "-f", "-")
	start := func() (*e2eutil.Process, string) {
		addr := e2eutil.FreeAddr(t)
		p := e2eutil.StartProcess(t, e2eutil.Binary(t, "berth"),
			[]string{"scheduler", "--server", srv.GRPCAddr, "--http-addr", addr}, e2eutil.ProcessOptions{Combined: true})
		p.WaitForOutput(t, "attempting to acquire leader lease", 30*time.Second)
		return p, addr
	}
	a, aAddr := start()
	b, bAddr := start()
	leading := func(addr string) bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), `berth_leader_election_is_leader{lease="kube-system/kube-scheduler"} 1`)
	}
	var leader, follower *e2eutil.Process
	deadline := time.Now().Add(30 * time.Second)
	for leader == nil {
		switch {
		case leading(aAddr):
			leader, follower = a, b
		case leading(bAddr):
			leader, follower = b, a
		case time.Now().After(deadline):
			t.Fatal("no scheduler leads after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Pods keep coming while the leader dies.
	const total = 120
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range total {
			p := &corev1.Pod{
				Metadata: &metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("ha-%03d", i)},
				Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "berth-testapp:latest",
					Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "10m"}}}}},
			}
			if _, err := c.Resource(scheme.Pods).Create(ctx, p); err != nil {
				t.Errorf("create %s: %v", p.Metadata.Name, err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := leader.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-leader.Done()
	follower.WaitForOutput(t, "successfully acquired lease", 20*time.Second)
	if took := time.Since(killed); took > 15*time.Second {
		t.Errorf("the follower took over %s after the kill, want within 15s", took)
	}
	wg.Wait()
	for i := range total {
		podNode(t, ctx, c, "default", fmt.Sprintf("ha-%03d", i), 30*time.Second)
	}
	obj, err := c.Resource(scheme.Leases).Get(ctx, "kube-system", "kube-scheduler")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lease %s, transitions %d", obj.(*coordinationv1.Lease).GetSpec().GetHolderIdentity(), obj.(*coordinationv1.Lease).GetSpec().GetLeaseTransitions())
	// Every Pod bound once: at most one Scheduled event each, from either scheduler.
	items, _, err := c.Resource(scheme.Events).ListAll(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	scheduled := map[string]int32{}
	for _, o := range items {
		if ev := o.(*corev1.Event); ev.GetReason() == "Scheduled" {
			scheduled[ev.GetInvolvedObject().GetName()] += ev.GetCount()
		}
	}
	for name, n := range scheduled {
		if n > 1 {
			t.Errorf("pod %s has %d Scheduled events", name, n)
		}
	}
}
