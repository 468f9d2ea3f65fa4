package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The deployment benchmark runs the whole control plane as users run it, `bin/berth server`
// (embedded etcd on a fresh data directory, apiserver, scheduler, controllers) in its own
// process, and hollow Nodes in a `bin/berth agent --runtime fake` process. It times a
// Deployment from create to all available and a rolling update of it, next to the raw path:
// as many Pods created straight through the apiserver by 16 clients, bound and Running on the
// same Nodes. The CPU and peak memory of both processes come from /proc.

// deployConfig sizes the deployment benchmark.
type deployConfig struct {
	// replicas of the Deployment, and Pods of the raw path; nodes hollow Nodes.
	replicas, nodes int
	// creators create the raw path's Pods.
	creators int
	// timeout bounds each measured phase.
	timeout time.Duration
}

// Names and targets of the deployment benchmark.
const (
	deployNamespace     = "bench-deploy"
	deployRawNamespace  = "bench-deploy-raw"
	deployWarmNamespace = "bench-deploy-warmup"
	deployName          = "bench-app"
	deployNodePrefix    = "bench-deploy"
	// deployVersionEnv is the container's environment variable the rolling update changes.
	deployVersionEnv = "BENCH_VERSION"
	// deployRatioTarget: a Deployment comes up within this factor of the raw Pods path.
	deployRatioTarget = 2.0
	// deployRSSTarget is DESIGN.md's memory target of the all-in-one control plane (300 MB).
	deployRSSTarget     = 300_000_000
	serverReadyTimeout  = time.Minute
	deployWarmupTimeout = time.Minute
	deployCleanTimeout  = 2 * time.Minute
)

// deployResult is the outcome of the deployment benchmark.
type deployResult struct {
	cfg deployConfig
	// raw is the raw Pods path, create the Deployment's create, rollout its rolling update.
	raw, create, rollout *deployPhase
	// nodesReadyIn is how long the hollow Nodes took to become Ready; idle the processes'
	// memory then, before any Pod.
	nodesReadyIn          time.Duration
	idleServer, idleAgent procSample
	// peakResettable says whether the phases' peaks are theirs (VmHWM could be reset).
	peakResettable bool
	// cleanupIn is how long the namespaces took to go; cleanupErr why they did not.
	cleanupIn           time.Duration
	cleanupErr, skipped string
}

// deployPhase is one measured phase: a time, its milestones and what the processes used.
type deployPhase struct {
	// pods are the Pods the phase brought up.
	pods int
	// elapsed runs from the first call to the watch event that completes the phase.
	elapsed time.Duration
	// created, bound and ready are when the last of the phase's Pods was first seen through
	// a watch, bound to a Node, and Running and Ready; oldGone when the last old Pod went.
	created, bound, ready, oldGone time.Duration
	// server and agent are the processes' CPU and peak memory over the phase.
	server, agent phaseUsage
	// maxActive and minReady are, for the rolling update, the most Pods not terminating and
	// the fewest of them Running and Ready at any moment of the rollout, as the watch saw it.
	maxActive, minReady int
}

// podsPerSecond is the phase's Pods over its time.
func (p *deployPhase) podsPerSecond() float64 {
	if p == nil || p.elapsed <= 0 {
		return 0
	}
	return float64(p.pods) / p.elapsed.Seconds()
}

// deployRun is the system the deployment benchmark runs on.
type deployRun struct {
	cfg           deployConfig
	server, agent *berthProc
	conns         []*client.Client
	dirs          []string
	res           *deployResult
}

// deployment runs the deployment benchmark.
func (r *runner) deployment(ctx context.Context) error {
	res := &deployResult{cfg: r.cfg.deploy}
	if _, serr := os.Stat(berthBinary); serr != nil {
		res.skipped = fmt.Sprintf("%s: %v (make bench builds it)", berthBinary, serr)
		r.rep.deploy = res
		return nil
	}
	d := &deployRun{cfg: res.cfg, res: res}
	// The phases that completed are reported even when a later one fails.
	defer func() {
		d.cleanup(context.WithoutCancel(ctx))
		r.rep.deploy = res
	}()
	if err := d.start(ctx); err != nil {
		return err
	}
	var err error
	if res.raw, err = d.rawPods(ctx); err != nil {
		return fmt.Errorf("raw pods: %w", err)
	}
	if err := d.warmup(ctx); err != nil {
		return err
	}
	if res.create, err = d.createDeployment(ctx); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if res.rollout, err = d.rollingUpdate(ctx); err != nil {
		return fmt.Errorf("rolling update: %w", err)
	}
	return nil
}

// start starts `berth server` and the hollow Nodes' agent, and waits for the Nodes.
func (d *deployRun) start(ctx context.Context) error {
	dataDir, err := os.MkdirTemp("", "berth-bench-deploy-")
	if err != nil {
		return err
	}
	d.dirs = append(d.dirs, dataDir)
	grpcAddr, err := freeLocalAddr()
	if err != nil {
		return err
	}
	httpAddr, err := freeLocalAddr()
	if err != nil {
		return err
	}
	args := []string{"server", "--data-dir", dataDir, "--grpc-addr", grpcAddr, "--http-addr", httpAddr, "--log-level", "warn"}
	if d.server, err = startBerthProc(ctx, "server", httpAddr, args...); err != nil {
		return err
	}
	if err := waitHTTPReady(ctx, "http://"+httpAddr+"/readyz", d.server); err != nil {
		return err
	}
	for range 4 {
		c, err := client.Dial(ctx, grpcAddr, client.WithBlock())
		if err != nil {
			return fmt.Errorf("dial berth server: %w", err)
		}
		d.conns = append(d.conns, c)
	}
	agentHTTP, err := freeLocalAddr()
	if err != nil {
		return err
	}
	rootDir := dataDir + "/agent"
	agentArgs := []string{"agent", "--server", grpcAddr, "--http-addr", agentHTTP, "--agent-addr", "127.0.0.1:0", "--log-level", "warn",
		"--runtime", "fake", "--hollow-nodes", strconv.Itoa(d.cfg.nodes), "--node-name", deployNodePrefix, "--root-dir", rootDir}
	start := time.Now()
	if d.agent, err = startBerthProc(ctx, "agent", agentHTTP, agentArgs...); err != nil {
		return err
	}
	if err := d.waitNodes(ctx); err != nil {
		return err
	}
	d.res.nodesReadyIn = time.Since(start)
	d.res.idleServer, _ = readProc(d.server.pid())
	d.res.idleAgent, _ = readProc(d.agent.pid())
	return nil
}

// waitNodes waits until every hollow Node is Ready.
func (d *deployRun) waitNodes(ctx context.Context) error {
	nodes := d.conns[0].Resource(scheme.Nodes)
	deadline := time.Now().Add(agentReadyTimeout)
	for {
		items, _, err := nodes.List(ctx, &metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return fmt.Errorf("list nodes: %w", err)
		}
		ready := 0
		for _, obj := range items {
			if nodeReady(obj.(*corev1.Node)) {
				ready++
			}
		}
		if ready >= d.cfg.nodes {
			return nil
		}
		if err := d.exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d hollow Nodes ready after %s; agent log:\n%s", ready, d.cfg.nodes, agentReadyTimeout, d.agent.log.tail(30))
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// exited returns an error when the server or the agent is no longer running.
func (d *deployRun) exited() error {
	for _, p := range []*berthProc{d.server, d.agent} {
		if p == nil {
			continue
		}
		if ended, err := p.exited(); ended {
			return fmt.Errorf("berth %s exited (%v); log:\n%s", p.name, err, p.log.tail(30))
		}
	}
	return nil
}

// warmup brings up a one-replica Deployment in its own namespace: the controllers lead and
// their informers are synced. It stays until the cleanup.
func (d *deployRun) warmup(ctx context.Context) error {
	if err := d.createNamespace(ctx, deployWarmNamespace); err != nil {
		return err
	}
	dw, err := startDeployWatch(ctx, d.conns[0], deployWarmNamespace)
	if err != nil {
		return err
	}
	defer dw.stop()
	if _, err := d.conns[0].Resource(scheme.Deployments).Create(ctx, benchDeployment(deployWarmNamespace, "warmup", 1, "1")); err != nil {
		return fmt.Errorf("create the warm-up deployment: %w", err)
	}
	err = d.waitUntil(ctx, deployWarmupTimeout, dw.changed, func() bool {
		st := dw.latest().GetStatus()
		return st.GetAvailableReplicas() == 1 && st.GetUpdatedReplicas() == 1
	})
	if err != nil {
		return fmt.Errorf("the warm-up Deployment of one replica (are the Deployment and ReplicaSet controllers registered in berth server?): %w; last status: %v", err, dw.latest().GetStatus())
	}
	return nil
}

// createNamespace creates a namespace in berth server.
func (d *deployRun) createNamespace(ctx context.Context, name string) error {
	_, err := d.conns[0].Resource(scheme.Namespaces).Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}})
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// rawPods creates the Pods straight through the apiserver from the creators and times them
// until every one is Running and Ready; then deletes them and waits until they are gone.
func (d *deployRun) rawPods(ctx context.Context) (*deployPhase, error) {
	n := d.cfg.replicas
	if err := d.createNamespace(ctx, deployRawNamespace); err != nil {
		return nil, err
	}
	pw, err := startPodWatch(ctx, d.conns[len(d.conns)-1], deployRawNamespace)
	if err != nil {
		return nil, err
	}
	defer pw.stop()
	// A warm-up Pod first: the scheduler has the Nodes, the agent its assignment streams.
	warm := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: deployRawNamespace, Name: "warmup"}, Spec: benchPodSpec("warmup")}
	if _, err := d.conns[0].Resource(scheme.Pods).Create(ctx, warm); err != nil {
		return nil, fmt.Errorf("create the warm-up pod: %w", err)
	}
	if err := d.waitUntil(ctx, deployWarmupTimeout, pw.changed, func() bool { return pw.count("warmup").ready == 1 }); err != nil {
		return nil, fmt.Errorf("the warm-up pod: %w; %s", err, pw.count("warmup"))
	}
	m := d.begin()
	start := time.Now()
	var next, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for c := range d.cfg.creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pods := d.conns[c%len(d.conns)].Resource(scheme.Pods)
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: deployRawNamespace, Name: podName("raw", i), Labels: map[string]string{"app": "raw"}}, Spec: benchPodSpec("raw")}
				if _, err := pods.Create(ctx, p); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = fmt.Errorf("create pod %s: %w", p.Metadata.Name, err) })
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("%d creates failed: %w", failed.Load(), firstErr)
	}
	err = d.waitUntil(ctx, d.cfg.timeout, pw.changed, func() bool { return pw.count("raw").ready >= n })
	ph := &deployPhase{pods: n, elapsed: time.Since(start)}
	d.end(ctx, m, ph)
	if err != nil {
		return nil, fmt.Errorf("%w; %s", err, pw.count("raw"))
	}
	pw.milestones(ph, start, "raw")
	// Delete them, and wait until they are gone before the Deployment starts.
	err = parallel(ctx, n, d.cfg.creators, func(ctx context.Context, i int) error {
		zero := int64(0)
		_, err := d.conns[i%len(d.conns)].Resource(scheme.Pods).Delete(ctx, &metav1.DeleteRequest{Namespace: deployRawNamespace, Name: podName("raw", i), GracePeriodSeconds: &zero})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete the raw pods: %w", err)
	}
	if err := d.waitUntil(ctx, d.cfg.timeout, pw.changed, func() bool { return pw.count("raw").live == 0 }); err != nil {
		return nil, fmt.Errorf("the raw pods not gone: %w; %s", err, pw.count("raw"))
	}
	return ph, nil
}

// createDeployment creates the Deployment and times it until its status shows every replica
// updated and available.
func (d *deployRun) createDeployment(ctx context.Context) (*deployPhase, error) {
	n := d.cfg.replicas
	if err := d.createNamespace(ctx, deployNamespace); err != nil {
		return nil, err
	}
	pw, err := startPodWatch(ctx, d.conns[len(d.conns)-1], deployNamespace)
	if err != nil {
		return nil, err
	}
	defer pw.stop()
	dw, err := startDeployWatch(ctx, d.conns[0], deployNamespace)
	if err != nil {
		return nil, err
	}
	defer dw.stop()
	m := d.begin()
	start := time.Now()
	if _, err := d.conns[0].Resource(scheme.Deployments).Create(ctx, benchDeployment(deployNamespace, deployName, n, "1")); err != nil {
		return nil, fmt.Errorf("create deployment: %w", err)
	}
	err = d.waitUntil(ctx, d.cfg.timeout, dw.changed, func() bool {
		st := dw.latest().GetStatus()
		return int(st.GetAvailableReplicas()) == n && int(st.GetUpdatedReplicas()) == n
	})
	ph := &deployPhase{pods: n, elapsed: time.Since(start)}
	d.end(ctx, m, ph)
	if err != nil {
		return nil, fmt.Errorf("%w; last status %v; %s", err, dw.latest().GetStatus(), pw.count("1"))
	}
	pw.milestones(ph, start, "1")
	return ph, nil
}

// rollingUpdate changes the Deployment's template (an environment variable) and times the
// rollout until it is complete as `kubectl rollout status` sees it.
func (d *deployRun) rollingUpdate(ctx context.Context) (*deployPhase, error) {
	n := d.cfg.replicas
	pw, err := startPodWatch(ctx, d.conns[len(d.conns)-1], deployNamespace)
	if err != nil {
		return nil, err
	}
	defer pw.stop()
	dw, err := startDeployWatch(ctx, d.conns[0], deployNamespace)
	if err != nil {
		return nil, err
	}
	defer dw.stop()
	// The watch has replayed the Deployment's Pods before the rollout's bounds are tracked.
	err = d.waitUntil(ctx, d.cfg.timeout, pw.changed, func() bool { return pw.count("1").ready >= n })
	if err != nil {
		return nil, fmt.Errorf("the pods of the deployment before its update: %w; %s", err, pw.count("1"))
	}
	pw.trackBounds()
	m := d.begin()
	start := time.Now()
	gen, err := d.updateTemplate(ctx, "2")
	if err != nil {
		return nil, err
	}
	err = d.waitUntil(ctx, d.cfg.timeout, dw.changed, func() bool {
		dep := dw.latest()
		return dep.GetMetadata().GetGeneration() >= gen && rolloutComplete(dep)
	})
	ph := &deployPhase{pods: n, elapsed: time.Since(start)}
	d.end(ctx, m, ph)
	if err != nil {
		return nil, fmt.Errorf("%w; last status %v; %s", err, dw.latest().GetStatus(), pw.count("2"))
	}
	pw.milestones(ph, start, "2")
	ph.maxActive, ph.minReady = pw.bounds()
	return ph, nil
}

// updateTemplate sets the Deployment's version variable, retrying on conflicts, and returns
// the generation it got.
func (d *deployRun) updateTemplate(ctx context.Context, version string) (int64, error) {
	deps := d.conns[0].Resource(scheme.Deployments)
	for attempt := 0; ; attempt++ {
		obj, err := deps.Get(ctx, deployNamespace, deployName)
		if err != nil {
			return 0, fmt.Errorf("get deployment: %w", err)
		}
		dep := proto.Clone(obj).(*appsv1.Deployment)
		dep.Spec.Template.Spec = benchPodSpec(version)
		out, err := deps.Update(ctx, dep)
		if kerrors.IsConflict(err) && attempt < 10 {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("update deployment: %w", err)
		}
		return out.GetMetadata().GetGeneration(), nil
	}
}

// rolloutComplete is `kubectl rollout status`'s test of a Deployment: the controller has
// observed the latest spec, every replica is updated, no old replica is left and every updated
// one is available.
func rolloutComplete(d *appsv1.Deployment) bool {
	st := d.GetStatus()
	if d.GetMetadata().GetGeneration() > st.GetObservedGeneration() {
		return false
	}
	if d.GetSpec().Replicas != nil && st.GetUpdatedReplicas() < d.GetSpec().GetReplicas() {
		return false
	}
	return st.GetReplicas() <= st.GetUpdatedReplicas() && st.GetAvailableReplicas() >= st.GetUpdatedReplicas()
}

// benchDeployment is the benchmark's Deployment: replicas of one berth-testapp container
// (the fake runtime runs nothing) requesting 100m CPU and 64 MiB, rolling updates of 25%
// surge and 25% unavailable.
func benchDeployment(ns, name string, replicas int, version string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	r := int32(replicas)
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: &appsv1.DeploymentSpec{
			Replicas: &r,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels}, Spec: benchPodSpec(version)},
			Strategy: &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: structpb.NewStringValue("25%"), MaxUnavailable: structpb.NewStringValue("25%"),
			}},
		},
	}
}

// benchPodSpec is the Pods' spec: version is in the container's environment.
func benchPodSpec(version string) *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []*corev1.Container{{
		Name: "app", Image: benchAppImage, ImagePullPolicy: "IfNotPresent",
		Env:       []*corev1.EnvVar{{Name: deployVersionEnv, Value: version}},
		Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "64Mi"}},
	}}}
}

// waitUntil waits until cond holds, checking it whenever changed signals, for at most timeout.
func (d *deployRun) waitUntil(ctx context.Context, timeout time.Duration, changed <-chan struct{}, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for !cond() {
		select {
		case <-changed:
		case <-tick.C:
			if err := d.exited(); err != nil {
				return err
			}
		case <-deadline.C:
			return fmt.Errorf("not done after %s", timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// cleanup deletes the benchmark's namespaces and waits for them to go, then stops the
// processes and removes their directories.
func (d *deployRun) cleanup(ctx context.Context) {
	if len(d.conns) > 0 && d.exited() == nil {
		start := time.Now()
		if err := d.deleteNamespaces(ctx); err != nil {
			d.res.cleanupErr = err.Error()
		}
		d.res.cleanupIn = time.Since(start)
	}
	for _, c := range d.conns {
		_ = c.Close()
	}
	for _, p := range []*berthProc{d.agent, d.server} {
		if p != nil {
			p.stop()
		}
	}
	for _, dir := range d.dirs {
		_ = os.RemoveAll(dir)
	}
}

// deleteNamespaces deletes the benchmark's namespaces and waits until they are gone.
func (d *deployRun) deleteNamespaces(ctx context.Context) error {
	nss := d.conns[0].Resource(scheme.Namespaces)
	names := []string{deployNamespace, deployRawNamespace, deployWarmNamespace}
	for _, ns := range names {
		if _, err := nss.Delete(ctx, &metav1.DeleteRequest{Name: ns}); err != nil && !kerrors.IsNotFound(err) {
			return fmt.Errorf("delete namespace %s: %w", ns, err)
		}
	}
	deadline := time.Now().Add(deployCleanTimeout)
	for {
		left := 0
		for _, ns := range names {
			if _, err := nss.Get(ctx, "", ns); !kerrors.IsNotFound(err) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d namespace(s) still there %s after their deletion", left, deployCleanTimeout)
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}
