//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// Workloads (issue 6): Deployments, ReplicaSets and the controllers behind them, seen from the
// outside through berthctl, the stock kubectl and the real Docker Engine.

// deploymentManifest is a Deployment of berth-testapp with a readiness probe, so that "ready"
// means the container answers HTTP.
func deploymentManifest(name, image string, replicas, maxSurge, maxUnavailable int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels:
    app: %[1]s
spec:
  replicas: %[3]d
  selector:
    matchLabels:
      app: %[1]s
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: %[4]d
      maxUnavailable: %[5]d
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: %[2]s
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 1
`, name, image, replicas, maxSurge, maxUnavailable)
}

// dial connects a gRPC client to the server for the checks the tests make many times a second.
func dial(t *testing.T, addr string) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func getDeployment(t *testing.T, c *client.Client, ns, name string) *appsv1.Deployment {
	t.Helper()
	obj, err := c.Resource(scheme.Deployments).Get(context.Background(), ns, name)
	if err != nil {
		t.Fatalf("get deployment %s/%s: %v", ns, name, err)
	}
	return obj.(*appsv1.Deployment)
}

// selectedPods lists the Pods of ns that selector selects.
func selectedPods(t *testing.T, c *client.Client, ns, selector string) []*corev1.Pod {
	t.Helper()
	objs, _, err := c.Resource(scheme.Pods).List(context.Background(), &metav1.ListOptions{Namespace: ns, LabelSelector: selector})
	if err != nil {
		t.Fatalf("list pods %s: %v", selector, err)
	}
	pods := make([]*corev1.Pod, len(objs))
	for i, o := range objs {
		pods[i] = o.(*corev1.Pod)
	}
	return pods
}

func podReady(p *corev1.Pod) bool {
	if p.GetMetadata().GetDeletionTimestamp() != nil {
		return false
	}
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

func countReady(pods []*corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if podReady(p) {
			n++
		}
	}
	return n
}

// waitRolledOut waits until a Deployment's rollout is complete as kubectl defines it: the
// controller saw the latest spec, every replica is updated and available, none is old.
func waitRolledOut(t *testing.T, c *client.Client, ns, name string, timeout time.Duration) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	waitFor(t, timeout, "deployment "+name+" rolled out", func() (bool, string) {
		d = getDeployment(t, c, ns, name)
		s, want := d.GetStatus(), d.GetSpec().GetReplicas()
		done := s.GetObservedGeneration() >= d.GetMetadata().GetGeneration() &&
			s.GetUpdatedReplicas() == want && s.GetReplicas() == want && s.GetAvailableReplicas() == want
		return done, fmt.Sprintf("generation %d, status %v", d.GetMetadata().GetGeneration(), s)
	})
	return d
}

// readyWatcher records the fewest ready Pods seen while it runs.
type readyWatcher struct {
	mu      sync.Mutex
	min     int
	samples int
	stop    context.CancelFunc
	done    chan struct{}
}

func watchReady(t *testing.T, c *client.Client, ns, selector string) *readyWatcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &readyWatcher{min: 1 << 30, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			objs, _, err := c.Resource(scheme.Pods).List(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: selector})
			if err == nil {
				n := 0
				for _, o := range objs {
					if podReady(o.(*corev1.Pod)) {
						n++
					}
				}
				w.mu.Lock()
				w.min = min(w.min, n)
				w.samples++
				w.mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	t.Cleanup(cancel)
	return w
}

func (w *readyWatcher) result() (minReady, samples int) {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.min, w.samples
}

// TestDeploymentOnDocker follows a Deployment of berth-testapp on the real Docker Engine
// through its life: available, a killed container restarted, a deleted Pod replaced,
// scaled up and down, a new image rolled out without dropping below replicas−maxUnavailable
// ready Pods, then rolled back.
func TestDeploymentOnDocker(t *testing.T) {
	srv, ctl, node := agentServer(t)
	c := dial(t, srv.GRPCAddr)
	const sel = "app=web"
	// A second tag of the test app, so that a rollout changes the image.
	e2eutil.Docker(t, "tag", "berth-testapp:latest", "berth-testapp:e2e-v2")
	t.Cleanup(func() { _, _ = e2eutil.DockerErr("rmi", "berth-testapp:e2e-v2") })

	ctl.RunStdin(t, deploymentManifest("web", "berth-testapp:latest", 3, 1, 1), "apply", "-f", "-")
	out := ctl.Run(t, "rollout", "status", "deployment/web", "--timeout", "120s")
	if !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Fatalf("rollout status: %s", out)
	}
	d := waitRolledOut(t, c, "default", "web", 30*time.Second)
	if d.GetStatus().GetReadyReplicas() != 3 {
		t.Fatalf("readyReplicas %d, want 3", d.GetStatus().GetReadyReplicas())
	}
	pods := selectedPods(t, c, "default", sel)
	for _, p := range pods {
		if p.GetSpec().GetNodeName() != node {
			t.Errorf("pod %s on %q, want %s", p.GetMetadata().GetName(), p.GetSpec().GetNodeName(), node)
		}
	}

	t.Run("killed container restarts", func(t *testing.T) {
		p := pods[0]
		id := strings.TrimSpace(e2eutil.Docker(t, "ps", "-q", "--filter", "label=io.berth.pod.uid="+p.GetMetadata().GetUid(), "--filter", "label=io.berth.container.name=web"))
		if id == "" {
			t.Fatalf("no running web container for pod %s", p.GetMetadata().GetName())
		}
		e2eutil.Docker(t, "rm", "-f", id)
		waitFor(t, 60*time.Second, "container restarted and ready", func() (bool, string) {
			ps, ok := getPod(t, ctl, p.GetMetadata().GetName())
			if !ok || len(ps.Status.ContainerStatuses) == 0 {
				return false, "pod gone"
			}
			cs := ps.Status.ContainerStatuses[0]
			return cs.RestartCount >= 1 && cs.Ready, fmt.Sprintf("%+v", cs)
		})
	})

	t.Run("deleted pod replaced", func(t *testing.T) {
		victim := pods[1].GetMetadata().GetName()
		ctl.Run(t, "delete", "pod", victim)
		waitFor(t, 60*time.Second, "3 ready pods without "+victim, func() (bool, string) {
			ps := selectedPods(t, c, "default", sel)
			names := []string{}
			for _, p := range ps {
				if p.GetMetadata().GetName() == victim && p.GetMetadata().GetDeletionTimestamp() == nil {
					return false, "victim still there"
				}
				if podReady(p) {
					names = append(names, p.GetMetadata().GetName())
				}
			}
			return len(names) == 3, strings.Join(names, ",")
		})
	})

	t.Run("scale", func(t *testing.T) {
		if out := ctl.Run(t, "scale", "deployment/web", "--replicas=5"); !strings.Contains(out, "deployment.apps/web scaled") {
			t.Fatalf("scale: %s", out)
		}
		waitRolledOut(t, c, "default", "web", 90*time.Second)
		if n := countReady(selectedPods(t, c, "default", sel)); n != 5 {
			t.Fatalf("%d ready pods after scaling to 5", n)
		}
		ctl.Run(t, "scale", "deployment/web", "--replicas=2")
		waitFor(t, 60*time.Second, "2 pods left", func() (bool, string) {
			ps := selectedPods(t, c, "default", sel)
			return len(ps) == 2 && countReady(ps) == 2, fmt.Sprintf("%d pods", len(ps))
		})
		ctl.Run(t, "scale", "deployment/web", "--replicas=3")
		waitRolledOut(t, c, "default", "web", 90*time.Second)
	})

	t.Run("rolling update and undo", func(t *testing.T) {
		before := rsOf(t, c, "default", sel)
		w := watchReady(t, c, "default", sel)
		ctl.RunStdin(t, deploymentManifest("web", "berth-testapp:e2e-v2", 3, 1, 1), "apply", "-f", "-")
		out := ctl.Run(t, "rollout", "status", "deployment/web", "--timeout", "120s")
		if !strings.Contains(out, "successfully rolled out") {
			t.Fatalf("rollout status: %s", out)
		}
		d := waitRolledOut(t, c, "default", "web", 30*time.Second)
		minReady, samples := w.result()
		t.Logf("rollout: fewest ready pods %d over %d samples", minReady, samples)
		if minReady < 2 {
			t.Errorf("ready pods dropped to %d during the rollout, below replicas−maxUnavailable = 2", minReady)
		}
		if got := d.GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"]; got != "2" {
			t.Errorf("revision %q after the rollout, want 2", got)
		}
		for _, p := range selectedPods(t, c, "default", sel) {
			if img := p.GetSpec().GetContainers()[0].GetImage(); img != "berth-testapp:e2e-v2" && p.GetMetadata().GetDeletionTimestamp() == nil {
				t.Errorf("pod %s runs %s after the rollout", p.GetMetadata().GetName(), img)
			}
		}
		hist := ctl.Run(t, "rollout", "history", "deployment/web")
		if !strings.Contains(hist, "REVISION") || !strings.Contains(hist, "1 ") || !strings.Contains(hist, "2 ") {
			t.Errorf("rollout history:\n%s", hist)
		}

		if out := ctl.Run(t, "rollout", "undo", "deployment/web"); !strings.Contains(out, "rolled back") {
			t.Fatalf("rollout undo: %s", out)
		}
		ctl.Run(t, "rollout", "status", "deployment/web", "--timeout", "120s")
		d = waitRolledOut(t, c, "default", "web", 30*time.Second)
		if img := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); img != "berth-testapp:latest" {
			t.Errorf("image after undo %s, want berth-testapp:latest", img)
		}
		after := rsOf(t, c, "default", sel)
		// The ReplicaSet of revision 1 is brought back (same name), now at revision 3.
		for name, rs := range before {
			if rs.GetSpec().GetReplicas() == 0 {
				continue
			}
			back, ok := after[name]
			if !ok || back.GetSpec().GetReplicas() != 3 {
				t.Errorf("the original ReplicaSet %s is not back at 3 replicas: %v", name, back.GetSpec())
			} else if rev := back.GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"]; rev != "3" {
				t.Errorf("the original ReplicaSet %s has revision %q, want 3", name, rev)
			}
		}
	})

	ctl.Run(t, "delete", "deployment", "web")
	waitFor(t, 60*time.Second, "the deployment's replica sets and pods collected", func() (bool, string) {
		return len(selectedPods(t, c, "default", sel)) == 0 && len(rsOf(t, c, "default", sel)) == 0, ""
	})
}

// rsOf returns the ReplicaSets of ns that selector selects, by name.
func rsOf(t *testing.T, c *client.Client, ns, selector string) map[string]*appsv1.ReplicaSet {
	t.Helper()
	objs, _, err := c.Resource(scheme.ReplicaSets).List(context.Background(), &metav1.ListOptions{Namespace: ns, LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*appsv1.ReplicaSet{}
	for _, o := range objs {
		out[o.GetMetadata().GetName()] = o.(*appsv1.ReplicaSet)
	}
	return out
}

// fakeDeployment is a Deployment for the fake runtime: no probe (nothing listens), Ready as
// soon as its containers "run".
func fakeDeployment(name string, replicas, minReadySeconds int, env string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  minReadySeconds: %[3]d
  selector:
    matchLabels:
      app: %[1]s
  strategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: berth-testapp:latest
        env:
        - name: VERSION
          value: %[4]q
`, name, replicas, minReadySeconds, env)
}

// TestDeploymentKubectl drives a Deployment with the stock kubectl through the REST gateway,
// as against Kubernetes: scale, rollout status|history|undo|pause|resume|restart, the
// ReplicaSets' hash label, ownerReference and revision annotation, and cascading deletion.
func TestDeploymentKubectl(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Args: []string{"--agent", "--runtime", "fake", "--node-name", "kubectl-node", "--agent-addr", e2eutil.FreeAddr(t)}})
	k := srv.Kubectl(t)
	c := dial(t, srv.GRPCAddr)

	k.RunStdin(t, fakeDeployment("shop", 3, 0, "v1"), "apply", "-f", "-")
	if out := k.Run(t, "rollout", "status", "deployment/shop", "--timeout=60s"); !strings.Contains(out, `deployment "shop" successfully rolled out`) {
		t.Fatalf("kubectl rollout status: %s", out)
	}
	rs := k.Run(t, "get", "rs", "-l", "app=shop", "-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.pod-template-hash} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller} {.metadata.annotations.deployment\.kubernetes\.io/revision}{"\n"}{end}`)
	f := strings.Fields(rs)
	if len(f) != 5 || f[0] != "shop-"+f[1] || f[2] != "Deployment/shop" || f[3] != "true" || f[4] != "1" {
		t.Fatalf("replica set as kubectl sees it: %q (want name shop-<hash>, the hash label, a controller ownerReference to the Deployment, revision 1)", rs)
	}
	status := k.Run(t, "get", "deployment", "shop", "-o", `jsonpath={.status.observedGeneration} {.status.updatedReplicas} {.status.availableReplicas} {.status.readyReplicas}`)
	if got := strings.Fields(status); len(got) != 4 || got[1] != "3" || got[2] != "3" || got[3] != "3" || got[0] == "0" {
		t.Errorf("deployment status observedGeneration, updated, available, ready = %q", status)
	}

	if out := k.Run(t, "scale", "deployment/shop", "--replicas=5"); !strings.Contains(out, "deployment.apps/shop scaled") {
		t.Fatalf("kubectl scale: %s", out)
	}
	k.Run(t, "rollout", "status", "deployment/shop", "--timeout=60s")
	waitRolledOut(t, c, "default", "shop", 30*time.Second)

	k.Run(t, "set", "env", "deployment/shop", "VERSION=v2")
	k.Run(t, "rollout", "status", "deployment/shop", "--timeout=60s")
	waitRolledOut(t, c, "default", "shop", 30*time.Second)
	hist := k.Run(t, "rollout", "history", "deployment/shop")
	if !strings.Contains(hist, "REVISION") || !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		t.Errorf("kubectl rollout history:\n%s", hist)
	}
	if out := k.Run(t, "rollout", "undo", "deployment/shop"); !strings.Contains(out, "deployment.apps/shop rolled back") {
		t.Fatalf("kubectl rollout undo: %s", out)
	}
	k.Run(t, "rollout", "status", "deployment/shop", "--timeout=60s")
	d := waitRolledOut(t, c, "default", "shop", 30*time.Second)
	if v := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetEnv()[0].GetValue(); v != "v1" {
		t.Errorf("VERSION after undo = %s, want v1", v)
	}
	if out := k.Exec(t, "", "rollout", "undo", "deployment/shop", "--to-revision=42"); out.ExitCode == 0 || !strings.Contains(out.Stderr, "unable to find specified revision 42 in history") {
		t.Errorf("undo to a missing revision: exit %d, %s", out.ExitCode, out.Stderr)
	}

	if out := k.Run(t, "rollout", "pause", "deployment/shop"); !strings.Contains(out, "deployment.apps/shop paused") {
		t.Fatalf("kubectl rollout pause: %s", out)
	}
	k.Run(t, "set", "env", "deployment/shop", "VERSION=v3")
	time.Sleep(2 * time.Second) // a paused Deployment must not start a rollout: give it the chance to
	if got := len(rsOf(t, c, "default", "app=shop")); got != 2 {
		t.Errorf("%d replica sets while paused, want 2 (no new one)", got)
	}
	if out := k.Run(t, "rollout", "resume", "deployment/shop"); !strings.Contains(out, "deployment.apps/shop resumed") {
		t.Fatalf("kubectl rollout resume: %s", out)
	}
	k.Run(t, "rollout", "status", "deployment/shop", "--timeout=60s")
	if out := k.Run(t, "rollout", "restart", "deployment/shop"); !strings.Contains(out, "deployment.apps/shop restarted") {
		t.Fatalf("kubectl rollout restart: %s", out)
	}
	k.Run(t, "rollout", "status", "deployment/shop", "--timeout=60s")
	d = waitRolledOut(t, c, "default", "shop", 30*time.Second)
	if d.GetSpec().GetTemplate().GetMetadata().GetAnnotations()["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Error("rollout restart left no restartedAt annotation on the template")
	}

	k.Run(t, "delete", "deployment", "shop")
	waitFor(t, 60*time.Second, "replica sets and pods of shop collected", func() (bool, string) {
		return len(selectedPods(t, c, "default", "app=shop")) == 0 && len(rsOf(t, c, "default", "app=shop")) == 0, ""
	})
}

// TestNodeLossMovesPods runs two Nodes on the fake runtime: one inside berth server, one in a
// `berth agent` process. The agent is killed; its Node stops renewing its Lease, goes
// NotReady (Unknown) and gets the unreachable taint (the grace period must exceed the agents' 10 s
// Lease renewals), and its Pods are evicted and re-created
// on the other Node.
func TestNodeLossMovesPods(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Args: []string{
		"--agent", "--runtime", "fake", "--node-name", "stays", "--agent-addr", e2eutil.FreeAddr(t),
		"--node-monitor-grace-period", "15s", "--pod-eviction-timeout", "5s",
	}})
	ctl := srv.Berthctl(t)
	c := dial(t, srv.GRPCAddr)
	agentProc := e2eutil.StartProcess(t, e2eutil.Binary(t, "berth"), []string{
		"agent", "--server", srv.GRPCAddr, "--runtime", "fake", "--node-name", "goes",
		"--agent-addr", e2eutil.FreeAddr(t), "--http-addr", e2eutil.FreeAddr(t), "--root-dir", t.TempDir(),
	}, e2eutil.ProcessOptions{Combined: true})
	waitNodeReady(t, ctl, "stays")
	waitNodeReady(t, ctl, "goes")

	ctl.RunStdin(t, fakeDeployment("spread", 6, 0, "v1"), "apply", "-f", "-")
	waitRolledOut(t, c, "default", "spread", 60*time.Second)
	onGoes := 0
	for _, p := range selectedPods(t, c, "default", "app=spread") {
		if p.GetSpec().GetNodeName() == "goes" {
			onGoes++
		}
	}
	if onGoes == 0 {
		t.Fatal("no pod was placed on node goes; the test needs some there")
	}

	if err := agentProc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "node goes NotReady with the unreachable taint", func() (bool, string) {
		obj, err := c.Resource(scheme.Nodes).Get(context.Background(), "", "goes")
		if err != nil {
			return false, err.Error()
		}
		n := obj.(*corev1.Node)
		unknown, tainted := false, false
		for _, cond := range n.GetStatus().GetConditions() {
			if cond.GetType() == "Ready" && cond.GetStatus() == "Unknown" {
				unknown = true
			}
		}
		for _, taint := range n.GetSpec().GetTaints() {
			if taint.GetKey() == "node.kubernetes.io/unreachable" {
				tainted = true
			}
		}
		return unknown && tainted, fmt.Sprintf("conditions %v taints %v", n.GetStatus().GetConditions(), n.GetSpec().GetTaints())
	})
	waitFor(t, 90*time.Second, "6 ready pods of spread on node stays", func() (bool, string) {
		ready := 0
		for _, p := range selectedPods(t, c, "default", "app=spread") {
			if podReady(p) && p.GetSpec().GetNodeName() == "stays" {
				ready++
			}
		}
		return ready == 6, fmt.Sprintf("%d ready on stays", ready)
	})
	if out := ctl.Run(t, "get", "events", "-A"); !strings.Contains(out, "NodeNotReady") {
		t.Errorf("no NodeNotReady event:\n%s", out)
	}
}

// TestControllerFailoverMidRollout runs the roles as separate processes with two controller
// managers, kills the leading one with SIGKILL in the middle of a rollout, and checks that the
// other takes over and finishes it.
func TestControllerFailoverMidRollout(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Role: "apiserver", Args: []string{"--data-dir", t.TempDir()}})
	ctl := srv.Berthctl(t)
	c := dial(t, srv.GRPCAddr)
	berth := e2eutil.Binary(t, "berth")
	start := func(args ...string) *e2eutil.Process {
		return e2eutil.StartProcess(t, berth, append(args, "--server", srv.GRPCAddr, "--http-addr", e2eutil.FreeAddr(t)), e2eutil.ProcessOptions{Combined: true})
	}
	start("scheduler")
	start("agent", "--runtime", "fake", "--node-name", "failover", "--agent-addr", e2eutil.FreeAddr(t), "--root-dir", t.TempDir())
	ctrls := []*e2eutil.Process{start("controller"), start("controller")}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range ctrls {
				t.Logf("controller %d log:\n%s", i, p.Stdout())
			}
		}
	})
	waitNodeReady(t, ctl, "failover")

	ctl.RunStdin(t, fakeDeployment("steady", 6, 0, "v1"), "apply", "-f", "-")
	waitRolledOut(t, c, "default", "steady", 60*time.Second)
	// minReadySeconds makes each of the six steps of the rollout (maxSurge 1, maxUnavailable
	// 0) last at least 2 s, so that the kill lands in the middle.
	ctl.RunStdin(t, fakeDeployment("steady", 6, 2, "v2"), "apply", "-f", "-")
	waitFor(t, 60*time.Second, "rollout under way", func() (bool, string) {
		d := getDeployment(t, c, "default", "steady")
		u := d.GetStatus().GetUpdatedReplicas()
		return u >= 1 && u < 6, fmt.Sprintf("updated %d", u)
	})
	leader := -1
	for i, p := range ctrls {
		if strings.Contains(p.Stdout(), "controllers started") {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no controller manager says it started its controllers")
	}
	killed := time.Now()
	if err := ctrls[leader].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	other := ctrls[1-leader]
	other.WaitForOutput(t, "controllers started", 30*time.Second)
	t.Logf("the other controller manager took over %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	d := waitRolledOut(t, c, "default", "steady", 90*time.Second)
	if v := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetEnv()[0].GetValue(); v != "v2" {
		t.Fatalf("template VERSION %s", v)
	}
	for _, p := range selectedPods(t, c, "default", "app=steady") {
		if p.GetMetadata().GetDeletionTimestamp() == nil && p.GetSpec().GetContainers()[0].GetEnv()[0].GetValue() != "v2" {
			t.Errorf("pod %s still runs the old template", p.GetMetadata().GetName())
		}
	}
}
