package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"

	"github.com/berth-dev/berth/agent/runtime/docker"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The agent benchmarks run `bin/berth agent` as its own process against the benchmark's
// apiserver: pod startup on the real Docker Engine next to raw `docker create` + `start` of
// the same containers, and the memory of hollow Nodes.

// agentConfig sizes the agent benchmarks.
type agentConfig struct {
	// pods are started one after the other on one Node.
	pods int
	// hollowNodes run in one `berth agent --hollow-nodes` process.
	hollowNodes int
}

// Images the pod startup benchmark runs (built by `make images`; nothing is pulled).
const (
	benchPauseImage = "berth-pause:latest"
	benchAppImage   = "berth-testapp:latest"
)

// Targets of the agent benchmarks (DESIGN.md, issue 5).
const (
	startupP99Target     = time.Second
	startupRatioTarget   = 1.5
	hollowPerNodeTarget  = 2 << 20
	benchAgentNode       = "bench-agent"
	benchHollowPrefix    = "bench-hollow"
	benchAgentNamespace  = "bench-agent"
	agentLeaseNamespace  = "kube-node-lease"
	benchRawLabel        = "io.berth.bench"
	agentReadyTimeout    = 2 * time.Minute
	podStartTimeout      = 30 * time.Second
	hollowSettle         = 10 * time.Second
	berthBinary          = "bin/berth"
	agentShutdownTimeout = 30 * time.Second
)

// startupResult is the outcome of the pod startup benchmark.
type startupResult struct {
	pods int
	// berth is create → Running seen through a watch, per Pod; raw is docker create + start of
	// the pause and the app container, per Pod; sorted.
	berth, raw []time.Duration
	// skipped says why the benchmark did not run (no Docker, no images, no binary).
	skipped string
}

// hollowResult is the outcome of the hollow Node memory benchmark.
type hollowResult struct {
	nodes int
	// rssOne and rssAll are the agent process's resident memory with one hollow Node and with
	// all of them, every Node Ready; heapAll its Go heap in use then.
	rssOne, rssAll, heapAll int64
	// readyIn is how long all the Nodes took to register and become Ready.
	readyIn time.Duration
	skipped string
}

// perNode is the memory each hollow Node adds: the growth from one Node to all of them.
func (h *hollowResult) perNode() int64 {
	if h.nodes <= 1 {
		return h.rssAll
	}
	return (h.rssAll - h.rssOne) / int64(h.nodes-1)
}

// agentProcess is a running `berth agent`.
type agentProcess struct {
	cmd      *exec.Cmd
	httpAddr string
	log      *bytes.Buffer
	done     chan error
}

// startAgent runs bin/berth agent with args against the benchmark's apiserver.
func (r *runner) startAgent(ctx context.Context, args ...string) (*agentProcess, error) {
	if _, err := os.Stat(berthBinary); err != nil {
		return nil, fmt.Errorf("%s: %w (make bench builds it)", berthBinary, err)
	}
	httpAddr, err := freeLocalAddr()
	if err != nil {
		return nil, err
	}
	full := append([]string{"agent", "--server", r.env.api.Addr(), "--http-addr", httpAddr, "--agent-addr", "127.0.0.1:0", "--log-level", "warn"}, args...)
	cmd := exec.CommandContext(ctx, berthBinary, full...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s agent: %w", berthBinary, err)
	}
	p := &agentProcess{cmd: cmd, httpAddr: httpAddr, log: &log, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// stop ends the agent with SIGTERM (SIGKILL after a timeout).
func (p *agentProcess) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(agentShutdownTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// rss is the process's resident set size, from /proc.
func (p *agentProcess) rss() int64 {
	return procStatusBytes(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid), "VmRSS")
}

// metric reads one unlabelled sample of the agent's /metrics.
func (p *agentProcess) metric(ctx context.Context, name string) (float64, error) {
	return scrapeMetric(ctx, p.httpAddr, name)
}

func procStatusBytes(path, key string) int64 {
	v := procField(path, key, ":")
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

func freeLocalAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReadyNodes waits until n Nodes whose names start with prefix are Ready.
func (r *runner) waitReadyNodes(ctx context.Context, prefix string, n int, agent *agentProcess) error {
	nodes := r.env.apiConns[0].Resource(scheme.Nodes)
	deadline := time.Now().Add(agentReadyTimeout)
	for {
		// resourceVersion "0": from the watch cache, sparing etcd while the agents register.
		items, _, err := nodes.List(ctx, &metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return err
		}
		ready := 0
		for _, obj := range items {
			node := obj.(*corev1.Node)
			if !strings.HasPrefix(node.GetMetadata().GetName(), prefix) {
				continue
			}
			for _, c := range node.GetStatus().GetConditions() {
				if c.GetType() == "Ready" && c.GetStatus() == "True" {
					ready++
				}
			}
		}
		if ready >= n {
			return nil
		}
		select {
		case err := <-agent.done:
			agent.done <- err
			return fmt.Errorf("the agent exited (%v) with %d of %d Nodes ready; log:\n%s", err, ready, n, tailLines(agent.log.String(), 30))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d Nodes ready after %s; agent log:\n%s", ready, n, agentReadyTimeout, tailLines(agent.log.String(), 30))
		}
		if !sleepCtx(ctx, time.Second) {
			return ctx.Err()
		}
	}
}

// podStartup measures create → Running of Pods on one Node running on Docker, one Pod at a
// time, each next to raw docker create + start of the same two containers.
func (r *runner) podStartup(ctx context.Context) (err error) {
	// The result is reported when the benchmark ran or was skipped, not when it failed.
	res := &startupResult{pods: r.cfg.agent.pods}
	defer func() {
		if err == nil {
			r.rep.startup = res
		}
	}()
	dc, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err == nil {
		_, err = dc.Ping(ctx)
	}
	if err != nil {
		res.skipped = fmt.Sprintf("no Docker Engine reachable (%v)", err)
		return nil
	}
	defer dc.Close()
	for _, img := range []string{benchPauseImage, benchAppImage} {
		if _, err := dc.ImageInspect(ctx, img); err != nil {
			res.skipped = fmt.Sprintf("image %s missing (make images builds it): %v", img, err)
			return nil
		}
	}
	rootDir, err := os.MkdirTemp("", "berth-bench-agent-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(rootDir)
	agent, err := r.startAgent(ctx, "--node-name", benchAgentNode, "--runtime", "docker", "--root-dir", rootDir)
	if err != nil {
		res.skipped = err.Error()
		return nil
	}
	defer func() {
		agent.stop()
		removeBenchContainers(context.WithoutCancel(ctx), dc)
		if cerr := r.cleanupAgent(context.WithoutCancel(ctx), benchAgentNode); err == nil {
			err = cerr
		}
	}()
	if err := r.waitReadyNodes(ctx, benchAgentNode, 1, agent); err != nil {
		return err
	}
	if err := r.env.createNamespace(ctx, benchAgentNamespace); err != nil {
		return err
	}
	pods := r.env.apiConns[0].Resource(scheme.Pods)
	w, err := pods.Watch(ctx, &metav1.ListOptions{Namespace: benchAgentNamespace})
	if err != nil {
		return err
	}
	defer w.Stop()
	running := make(chan string, 64)
	go func() {
		for {
			ev, err := w.Next()
			if err != nil {
				close(running)
				return
			}
			if p := ev.Object.(*corev1.Pod); p.GetStatus().GetPhase() == "Running" {
				running <- p.GetMetadata().GetName()
			}
		}
	}()
	seen := map[string]bool{}
	for i := range res.pods {
		name := fmt.Sprintf("startup-%d", i)
		start := time.Now()
		if _, err := pods.Create(ctx, startupPod(name)); err != nil {
			return fmt.Errorf("create pod %s: %w", name, err)
		}
		timeout := time.After(podStartTimeout)
		for !seen[name] {
			select {
			case n, ok := <-running:
				if !ok {
					return errors.New("the pod watch ended")
				}
				if !seen[n] && n == name {
					res.berth = append(res.berth, time.Since(start))
				}
				seen[n] = true
			case <-timeout:
				return fmt.Errorf("pod %s not Running after %s; agent log:\n%s", name, podStartTimeout, tailLines(agent.log.String(), 30))
			}
		}
		d, err := rawDockerStart(ctx, dc, i)
		if err != nil {
			return fmt.Errorf("raw docker: %w", err)
		}
		res.raw = append(res.raw, d)
	}
	slices.Sort(res.berth)
	slices.Sort(res.raw)
	// Delete the Pods and let the agent tear them down before it stops.
	zero := int64(0)
	for i := range res.pods {
		_, _ = pods.Delete(ctx, &metav1.DeleteRequest{Namespace: benchAgentNamespace, Name: fmt.Sprintf("startup-%d", i), GracePeriodSeconds: &zero})
	}
	return nil
}

// startupPod is the Pod the startup benchmark creates: one testapp container, bound to the
// benchmark's Node, stopping at once when deleted.
func startupPod(name string) *corev1.Pod {
	grace := int64(0)
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: benchAgentNamespace, Name: name, Labels: map[string]string{"app": "startup"}},
		Spec: &corev1.PodSpec{
			NodeName:                      benchAgentNode,
			TerminationGracePeriodSeconds: &grace,
			Containers: []*corev1.Container{{
				Name: "app", Image: benchAppImage, ImagePullPolicy: "IfNotPresent",
			}},
		},
	}
}

// rawDockerStart creates and starts a pause container on the Pods' network and an app
// container joined to its network, IPC and UTS namespaces, as the agent does for a Pod, and
// returns how long it took.
func rawDockerStart(ctx context.Context, dc *dockerclient.Client, i int) (time.Duration, error) {
	labels := map[string]string{benchRawLabel: "raw"}
	start := time.Now()
	pause, err := dc.ContainerCreate(ctx, &container.Config{Image: benchPauseImage, Labels: labels, Hostname: fmt.Sprintf("raw-%d", i)},
		&container.HostConfig{NetworkMode: container.NetworkMode(docker.DefaultNetwork), IpcMode: "shareable"},
		nil, nil, fmt.Sprintf("berth-bench-raw-pause-%d", i))
	if err != nil {
		return 0, err
	}
	if err := dc.ContainerStart(ctx, pause.ID, container.StartOptions{}); err != nil {
		return 0, err
	}
	joined := container.NetworkMode("container:" + pause.ID)
	app, err := dc.ContainerCreate(ctx, &container.Config{Image: benchAppImage, Labels: labels},
		&container.HostConfig{NetworkMode: joined, IpcMode: container.IpcMode("container:" + pause.ID), UTSMode: container.UTSMode("container:" + pause.ID)},
		nil, nil, fmt.Sprintf("berth-bench-raw-app-%d", i))
	if err != nil {
		return 0, err
	}
	if err := dc.ContainerStart(ctx, app.ID, container.StartOptions{}); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// removeBenchContainers removes the raw containers and whatever the agent left on its Node.
func removeBenchContainers(ctx context.Context, dc *dockerclient.Client) {
	for _, f := range []filters.KeyValuePair{
		filters.Arg("label", benchRawLabel),
		filters.Arg("label", "io.berth.node="+benchAgentNode),
	} {
		list, err := dc.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(f)})
		if err != nil {
			continue
		}
		for _, c := range list {
			_ = dc.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	}
}

// cleanupAgent deletes what a stopped agent left in the apiserver under a Node name prefix:
// its Nodes, their Leases and Events, and the Pods of the startup benchmark's namespace, so
// that the Nodes are not there for the benchmarks after it to schedule on.
func (r *runner) cleanupAgent(ctx context.Context, nodePrefix string) error {
	return r.cleanup(ctx,
		"/registry/core/nodes/"+nodePrefix,
		"/registry/coordination.k8s.io/leases/"+agentLeaseNamespace+"/"+nodePrefix,
		"/registry/core/events/default/"+nodePrefix,
		podKeyPrefix+benchAgentNamespace+"/",
		"/registry/core/events/"+benchAgentNamespace+"/",
	)
}

// hollowMemory measures the memory of hollow Nodes: one agent process with one Node, then
// one with all of them, each measured once every Node is Ready and the process has settled.
func (r *runner) hollowMemory(ctx context.Context) error {
	res := &hollowResult{nodes: r.cfg.agent.hollowNodes}
	measure := func(prefix string, n int) (rss, heap int64, readyIn time.Duration, err error) {
		start := time.Now()
		agent, err := r.startAgent(ctx, "--runtime", "fake", "--hollow-nodes", strconv.Itoa(n), "--node-name", prefix)
		if err != nil {
			return 0, 0, 0, err
		}
		defer func() {
			agent.stop()
			if cerr := r.cleanupAgent(context.WithoutCancel(ctx), prefix+"-"); err == nil {
				err = cerr
			}
		}()
		if err := r.waitReadyNodes(ctx, prefix+"-", n, agent); err != nil {
			return 0, 0, 0, err
		}
		readyIn = time.Since(start)
		if !sleepCtx(ctx, hollowSettle) {
			return 0, 0, 0, ctx.Err()
		}
		h, _ := agent.metric(ctx, "go_memstats_heap_inuse_bytes")
		return agent.rss(), int64(h), readyIn, nil
	}
	var err error
	if res.rssOne, _, _, err = measure(benchHollowPrefix+"-one", 1); err != nil {
		if strings.Contains(err.Error(), berthBinary) {
			res.skipped = err.Error()
			r.rep.hollow = res
			return nil
		}
		return err
	}
	if res.rssAll, res.heapAll, res.readyIn, err = measure(benchHollowPrefix, res.nodes); err != nil {
		return err
	}
	r.rep.hollow = res
	return nil
}

// agentSection renders the agent benchmarks.
func (r *report) agentSection(b *bytes.Buffer) {
	if r.startup == nil && r.hollow == nil {
		return
	}
	fmt.Fprintf(b, "\n## Node agent\n\n")
	if s := r.startup; s != nil {
		fmt.Fprintf(b, "### Pod startup on Docker\n\n")
		if s.skipped != "" {
			fmt.Fprintf(b, "Not run: %s.\n\n", s.skipped)
		} else {
			fmt.Fprintf(b, `%d Pods of one container (%s, plus the %s sandbox), created one at a time with
spec.nodeName set to the Node of one `+"`berth agent --runtime docker`"+` process; latency is from
the Create call to the watch event that shows the Pod Running. Raw Docker, in the same run
between the Pods, is `+"`docker create`"+` + `+"`start`"+` of the same pause container, on the same
Docker network as the agent's sandboxes, and an app container joined to its network, IPC and
UTS namespaces, through the Docker Engine API.

`, s.pods, "`"+benchAppImage+"`", "`"+benchPauseImage+"`")
			t := &table{header: []string{"", "p50", "p99", "max"}, align: "lrrr"}
			t.add("Berth: create → Running (watch)", fmtDur(percentile(s.berth, 0.5)), fmtDur(percentile(s.berth, 0.99)), fmtDur(percentile(s.berth, 1)))
			t.add("Raw Docker: create + start ×2", fmtDur(percentile(s.raw, 0.5)), fmtDur(percentile(s.raw, 0.99)), fmtDur(percentile(s.raw, 1)))
			t.add("Berth / raw", ratio(percentile(s.berth, 0.5), percentile(s.raw, 0.5)), ratio(percentile(s.berth, 0.99), percentile(s.raw, 0.99)), "")
			t.write(b)
			b.WriteString("\n")
		}
	}
	if h := r.hollow; h != nil {
		fmt.Fprintf(b, "### Hollow Nodes\n\n")
		if h.skipped != "" {
			fmt.Fprintf(b, "Not run: %s.\n", h.skipped)
			return
		}
		fmt.Fprintf(b, "`berth agent --runtime fake --hollow-nodes N` as its own process against the benchmark's apiserver: every Node registered, Ready, renewing its Lease every 10 s and watching its Pods; measured %s after the last became Ready.\n\n", hollowSettle)
		t := &table{header: []string{"", "Value"}, align: "lr"}
		t.add("Process RSS with 1 hollow Node", fmtBytes(h.rssOne))
		t.add(fmt.Sprintf("Process RSS with %s hollow Nodes", fmtInt(int64(h.nodes))), fmtBytes(h.rssAll))
		t.add("Go heap in use with all of them", fmtBytes(h.heapAll))
		t.add("Memory per hollow Node ((RSS all − RSS one) / (N − 1))", fmtBytes(h.perNode()))
		t.add(fmt.Sprintf("Time for %s Nodes to register and become Ready", fmtInt(int64(h.nodes))), h.readyIn.Round(100*time.Millisecond).String())
		t.write(b)
	}
}

// agentTargets adds the agent benchmarks' rows to the targets table.
func (r *report) agentTargets(t *table) {
	if s := r.startup; s != nil && s.skipped == "" && len(s.berth) > 0 {
		p99, raw99 := percentile(s.berth, 0.99), percentile(s.raw, 0.99)
		t.add(fmt.Sprintf("Pod startup p99 < %s (create → Running, %d Pods on Docker)", fmtDur(startupP99Target), s.pods), fmtDur(p99), passMiss(p99 < startupP99Target))
		t.add(fmt.Sprintf("Pod startup p99 within %.1f× of raw docker create + start", startupRatioTarget),
			fmt.Sprintf("%s (%s vs %s)", ratio(p99, raw99), fmtDur(p99), fmtDur(raw99)), passMiss(float64(p99) <= startupRatioTarget*float64(raw99)))
	}
	if h := r.hollow; h != nil && h.skipped == "" && h.rssAll > 0 {
		t.add(fmt.Sprintf("Memory per hollow Node < %s (%s Nodes)", fmtBytes(hollowPerNodeTarget), fmtInt(int64(h.nodes))), fmtBytes(h.perNode()), passMiss(h.perNode() < hollowPerNodeTarget))
	}
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
