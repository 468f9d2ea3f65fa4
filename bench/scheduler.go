package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler"
)

// The scheduler benchmarks are scheduler_perf's, with Node objects only (no agent), in this
// process: the scheduler runs as `berth server` runs it (services/scheduler, its own gRPC
// connection to the apiserver), 16 creators create the Pods as fast as they can, and a watch
// sees each Pod bound. Next to it, the same creators create the same Pods with no scheduler:
// the raw create rate, the ceiling of the bound rate.

// schedWorkload is one scheduler benchmark.
type schedWorkload struct {
	name string
	// nodes Nodes (4 CPU, 32 GiB, 110 Pods each) in zones zones; pods Pods of 100m CPU and
	// 100 MiB from creators concurrent creators.
	nodes, pods, creators, zones int
	// constrained Pods carry topology spread constraints and node affinity (see schedPod).
	constrained bool
}

// schedConfig sizes the scheduler benchmarks.
type schedConfig struct {
	workloads []schedWorkload
	// timeout bounds the wait for every Pod to be bound.
	timeout time.Duration
}

// schedConfigFor sizes the scheduler benchmarks: 5,000 Nodes and 10,000 Pods, then 1,000 Nodes
// in 10 zones and 5,000 Pods with spreading and affinity (a tenth of that with -quick).
func schedConfigFor(cfg config) schedConfig {
	if cfg.quick {
		return schedConfig{timeout: 2 * time.Minute, workloads: []schedWorkload{
			{name: "basic", nodes: 500, pods: 1000, creators: 16},
			{name: "spread", nodes: 100, pods: 500, creators: 16, zones: 10, constrained: true},
		}}
	}
	return schedConfig{timeout: 5 * time.Minute, workloads: []schedWorkload{
		{name: "basic", nodes: 5000, pods: 10000, creators: 16},
		{name: "spread", nodes: 1000, pods: 5000, creators: 16, zones: 10, constrained: true},
	}}
}

// schedTarget is the bound rate the basic workload must reach (DESIGN.md, issue 4).
const schedTarget = 1000.0

// benchSchedulerName is the scheduler of the benchmark's Pods, so that the Pods other
// benchmarks leave behind are not its business.
const benchSchedulerName = "bench-scheduler"

// workloadLabel marks a workload's Nodes, and its Pods select them by it, so that Nodes other
// benchmarks leave behind (the agent's hollow Nodes) take none of its Pods.
const workloadLabel = "bench.berth.dev/scheduler-workload"

// schedResult is the outcome of one workload.
type schedResult struct {
	w schedWorkload
	// raw is the create rate of the same Pods with no scheduler.
	raw createRun
	// run is the scheduled run: creates, and bindings seen through the watch.
	run createRun
	// bound counts the Pods seen bound; boundTime runs from the first create sent to the last
	// binding seen; lat holds create-sent → bound-seen latencies, sorted.
	bound     int
	boundTime time.Duration
	lat       []time.Duration
	// attempts are the scheduler's attempts by result; algorithm the mean time of the filter
	// and score of one Pod; events the Scheduled Events stored.
	attempts  map[string]float64
	algorithm time.Duration
	events    int64
	// check is what a check of the placements found wrong ("" when nothing).
	check string
	// cpu splits the profiled run's CPU.
	cpu *schedCPU
}

// createRun is one run of the creators.
type createRun struct {
	created  int
	elapsed  time.Duration
	failures int
}

func (c createRun) rate() float64 {
	if c.elapsed <= 0 {
		return 0
	}
	return float64(c.created) / c.elapsed.Seconds()
}

// boundRate is Pods bound per second, end to end.
func (s *schedResult) boundRate() float64 {
	if s.boundTime <= 0 {
		return 0
	}
	return float64(s.bound) / s.boundTime.Seconds()
}

// scheduler runs the scheduler benchmarks.
func (r *runner) scheduler(ctx context.Context) error {
	cfg := schedConfigFor(r.cfg)
	for _, w := range cfg.workloads {
		res, err := r.schedWorkload(ctx, w, cfg.timeout)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		r.rep.sched = append(r.rep.sched, res)
	}
	return nil
}

// schedWorkload runs one workload: the Nodes, the raw create run, then the scheduled run
// under the CPU profiler; then it deletes everything it wrote.
func (r *runner) schedWorkload(ctx context.Context, w schedWorkload, timeout time.Duration) (*schedResult, error) {
	res := &schedResult{w: w}
	ns := "sched-" + w.name
	rawNS := ns + "-raw"
	for _, n := range []string{ns, rawNS} {
		if err := r.env.createNamespace(ctx, n); err != nil {
			return nil, err
		}
	}
	err := parallel(ctx, w.nodes, 32, func(ctx context.Context, i int) error {
		_, err := r.env.apiConns[i%poolSize].Resource(scheme.Nodes).Create(ctx, schedNode(w, i))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create %d nodes: %w", w.nodes, err)
	}

	// The raw create rate: the same Pods, the same creators, no scheduler.
	if res.raw, _, err = r.createSchedPods(ctx, w, rawNS); err != nil {
		return nil, err
	}
	if err := r.cleanup(ctx, podKeyPrefix+rawNS+"/"); err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	stop, err := r.startScheduler(ctx, reg)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := r.schedWarmup(ctx, w, ns); err != nil {
		return nil, err
	}
	seen, err := r.watchBindings(ctx, ns, w.pods)
	if err != nil {
		return nil, err
	}
	var sent []time.Time
	err = r.profile("scheduler-"+w.name, func() error {
		var err error
		res.run, sent, err = r.createSchedPods(ctx, w, ns)
		if err != nil {
			return err
		}
		select {
		case <-seen.all:
		case <-time.After(timeout):
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	seen.stop()
	if err != nil {
		return nil, err
	}
	res.summarize(sent, seen)
	res.attempts, res.algorithm = schedMetrics(reg)
	if p := r.rep.profileNamed("scheduler-" + w.name); p != nil {
		if res.cpu = schedProfileCPU(p.path); res.cpu != nil {
			res.cpu.wall = p.wall
		}
	}
	if res.check, err = r.checkPlacements(ctx, w, ns); err != nil {
		return nil, err
	}
	stop()
	if res.events, err = r.countScheduledEvents(ctx, ns); err != nil {
		return nil, err
	}
	return res, r.cleanup(ctx, podKeyPrefix+ns+"/", "/registry/core/nodes/"+w.name+"-node-", "/registry/core/events/"+ns+"/", "/registry/core/events/"+rawNS+"/")
}

// schedNode is Node i of a workload: scheduler_perf's default Node (4 CPU, 32 GiB, 110 Pods),
// Ready, with the labels kubelet sets, a zone when the workload has zones, and for the
// constrained workload a tier (a, b or c) and every other Node disk=ssd.
func schedNode(w schedWorkload, i int) *corev1.Node {
	name := fmt.Sprintf("%s-node-%05d", w.name, i)
	labels := map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", workloadLabel: w.name}
	if w.zones > 0 {
		labels["topology.kubernetes.io/zone"] = fmt.Sprintf("zone-%d", i%w.zones)
	}
	if w.constrained {
		labels["tier"] = string(rune('a' + i%3))
		if i%2 == 0 {
			labels["disk"] = "ssd"
		}
	}
	res := map[string]string{"cpu": "4", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
	return &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name, Labels: labels},
		Status: &corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}},
		},
	}
}

// schedPod is Pod seq of a workload: the benchmarks' template Pod (a Deployment's Pod of about
// 1 KiB) requesting 100m CPU and 100 MiB, for the benchmark's scheduler, selecting the
// workload's Nodes. The constrained
// workload's Pods must spread evenly over zones (maxSkew 1, DoNotSchedule), prefer spreading over
// Nodes (ScheduleAnyway), require tier a or b and prefer disk=ssd.
func schedPod(w schedWorkload, ns string, seq int) *corev1.Pod {
	p := newPod(ns, podName("pod", seq))
	p.Spec.SchedulerName = benchSchedulerName
	p.Spec.NodeSelector[workloadLabel] = w.name
	p.Spec.Containers[0].Resources = &corev1.ResourceRequirements{
		Requests: map[string]string{"cpu": "100m", "memory": "100Mi"},
		Limits:   map[string]string{"cpu": "100m", "memory": "100Mi"},
	}
	if w.constrained {
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "checkout"}}
		p.Spec.TopologySpreadConstraints = []*corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule", LabelSelector: sel},
			{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: "ScheduleAnyway", LabelSelector: sel},
		}
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []*corev1.NodeSelectorTerm{{
				MatchExpressions: []*corev1.NodeSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"a", "b"}}},
			}}},
			PreferredDuringSchedulingIgnoredDuringExecution: []*corev1.PreferredSchedulingTerm{{
				Weight: 50, Preference: &corev1.NodeSelectorTerm{MatchExpressions: []*corev1.NodeSelectorRequirement{{Key: "disk", Operator: "In", Values: []string{"ssd"}}}},
			}},
		}}
	}
	return p
}

// createSchedPods creates a workload's Pods in ns from its creators, as fast as they go, and
// returns the run and the time each create was sent.
func (r *runner) createSchedPods(ctx context.Context, w schedWorkload, ns string) (createRun, []time.Time, error) {
	pods := make([]*corev1.Pod, w.pods)
	for i := range pods {
		pods[i] = schedPod(w, ns, i)
	}
	sent := make([]time.Time, w.pods)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	start := time.Now()
	for c := range w.creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc := r.env.podClient(c)
			for {
				i := int(next.Add(1) - 1)
				if i >= w.pods || ctx.Err() != nil {
					return
				}
				sent[i] = time.Now()
				if _, err := pc.Create(ctx, pods[i]); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = fmt.Errorf("create %s: %w", pods[i].Metadata.Name, err) })
				}
			}
		}()
	}
	wg.Wait()
	run := createRun{created: w.pods - int(failed.Load()), elapsed: time.Since(start), failures: int(failed.Load())}
	if run.failures > w.pods/100 {
		return run, sent, firstErr
	}
	return run, sent, nil
}

// startScheduler starts the scheduler outside the clients' profiler labels, labelled
// component=scheduler so that its share of the profile can be told apart, on its own
// connection to the apiserver. stop stops it and waits for it; it may be called twice.
func (r *runner) startScheduler(ctx context.Context, reg *prometheus.Registry) (stop func(), err error) {
	type started struct {
		c   *client.Client
		err error
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan started, 1)
	done := make(chan error, 1)
	go func() {
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(schedLabel, schedLabelValue)))
		c, err := client.Dial(sctx, r.env.api.Addr(), client.WithBlock())
		ready <- started{c, err}
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		done <- scheduler.Run(sctx, scheduler.Config{
			Client: c, SchedulerName: benchSchedulerName, NoLeaderElection: true, Metrics: reg,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	s := <-ready
	if s.err != nil {
		cancel()
		return nil, fmt.Errorf("connect the scheduler: %w", s.err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "bench: scheduler:", err)
			}
		})
	}, nil
}

// The pprof label of the scheduler's goroutines.
const (
	schedLabel      = "component"
	schedLabelValue = "scheduler"
)

// schedWarmup creates one Pod and waits until it is bound: the scheduler has listed the Nodes.
// The Pod is deleted again.
func (r *runner) schedWarmup(ctx context.Context, w schedWorkload, ns string) error {
	w.constrained = false
	p := schedPod(w, ns, 0)
	p.Metadata.Name = "warmup"
	pods := r.env.podClient(0)
	if _, err := pods.Create(ctx, p); err != nil {
		return fmt.Errorf("create the warm-up pod: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := pods.Get(ctx, &metav1.GetRequest{Namespace: ns, Name: "warmup"})
		if err != nil {
			return fmt.Errorf("get the warm-up pod: %w", err)
		}
		if got.GetSpec().GetNodeName() != "" {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the warm-up pod was not bound within 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err := pods.Delete(ctx, &metav1.DeleteRequest{Namespace: ns, Name: "warmup"})
	return err
}

// bindings is what the bindings watcher saw.
type bindings struct {
	// at[i] is when Pod i was seen bound (zero until then).
	at    []time.Time
	count atomic.Int64
	// all is closed once every Pod is seen bound.
	all  chan struct{}
	stop func()
	err  error
}

// watchBindings watches the Pods of ns and records when each is first seen with a Node.
func (r *runner) watchBindings(ctx context.Context, ns string, n int) (*bindings, error) {
	rc := r.env.apiConns[poolSize-1].Resource(scheme.Pods)
	_, meta, err := rc.List(ctx, &metav1.ListOptions{Namespace: ns, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("list pods of %s: %w", ns, err)
	}
	wctx, cancel := context.WithCancel(ctx)
	w, err := rc.Watch(wctx, &metav1.ListOptions{Namespace: ns, ResourceVersion: meta.GetResourceVersion()})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch pods of %s: %w", ns, err)
	}
	b := &bindings{at: make([]time.Time, n), all: make(chan struct{})}
	done := make(chan struct{})
	b.stop = func() { cancel(); <-done }
	prefix := "pod-"
	go func() {
		defer close(done)
		for {
			ev, err := w.Next()
			if err != nil {
				if wctx.Err() == nil {
					b.err = err
				}
				return
			}
			now := time.Now()
			p, ok := ev.Object.(*corev1.Pod)
			if !ok || p.GetSpec().GetNodeName() == "" {
				continue
			}
			var i int
			if _, err := fmt.Sscanf(strings.TrimPrefix(p.GetMetadata().GetName(), prefix), "%d", &i); err != nil || i < 0 || i >= n {
				continue
			}
			if b.at[i].IsZero() {
				b.at[i] = now
				if b.count.Add(1) == int64(n) {
					close(b.all)
				}
			}
		}
	}()
	return b, nil
}

// summarize computes the bound rate and latencies from the sent and seen times.
func (s *schedResult) summarize(sent []time.Time, b *bindings) {
	var first, last time.Time
	for i, at := range b.at {
		if !sent[i].IsZero() && (first.IsZero() || sent[i].Before(first)) {
			first = sent[i]
		}
		if at.IsZero() {
			continue
		}
		s.bound++
		s.lat = append(s.lat, at.Sub(sent[i]))
		if at.After(last) {
			last = at
		}
	}
	slices.Sort(s.lat)
	if s.bound > 0 {
		s.boundTime = last.Sub(first)
	}
}

// schedMetrics reads the scheduler's attempts by result and its mean algorithm time.
func schedMetrics(reg *prometheus.Registry) (map[string]float64, time.Duration) {
	attempts := map[string]float64{}
	var alg time.Duration
	mfs, err := reg.Gather()
	if err != nil {
		return attempts, 0
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "scheduler_schedule_attempts_total":
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "result" {
						attempts[l.GetValue()] = m.GetCounter().GetValue()
					}
				}
			}
		case "scheduler_scheduling_algorithm_duration_seconds":
			for _, m := range mf.GetMetric() {
				if h := m.GetHistogram(); h.GetSampleCount() > 0 {
					alg = time.Duration(h.GetSampleSum() / float64(h.GetSampleCount()) * float64(time.Second))
				}
			}
		}
	}
	return attempts, alg
}

// checkPlacements checks the scheduler's work: no Node holds more Pods or CPU than it has,
// and the constrained Pods are on tier a or b Nodes, spread over zones with a skew of at most 1.
func (r *runner) checkPlacements(ctx context.Context, w schedWorkload, ns string) (string, error) {
	items, _, err := r.env.apiConns[0].Resource(scheme.Pods).ListAll(ctx, &metav1.ListOptions{Namespace: ns, Limit: 1000})
	if err != nil {
		return "", fmt.Errorf("list pods of %s: %w", ns, err)
	}
	perNode := map[string]int{}
	perZone := map[string]int{}
	var problems []string
	for _, o := range items {
		n := o.(*corev1.Pod).GetSpec().GetNodeName()
		if n == "" {
			continue
		}
		perNode[n]++
		var i int
		if _, err := fmt.Sscanf(n, w.name+"-node-%d", &i); err != nil {
			problems = append(problems, "a pod on the unknown node "+n)
			continue
		}
		if w.zones > 0 {
			perZone[fmt.Sprintf("zone-%d", i%w.zones)]++
		}
		if w.constrained && i%3 == 2 {
			problems = append(problems, "a pod on "+n+" of tier c")
		}
	}
	for n, c := range perNode {
		if c > 40 { // 4 CPU of 100m Pods
			problems = append(problems, fmt.Sprintf("%s holds %d pods of 100m on 4 CPU", n, c))
		}
	}
	if w.constrained && len(perZone) > 0 {
		lo, hi := w.pods, 0
		for z := range w.zones {
			c := perZone[fmt.Sprintf("zone-%d", z)]
			lo, hi = min(lo, c), max(hi, c)
		}
		if hi-lo > 1 {
			problems = append(problems, fmt.Sprintf("zones hold %d to %d pods: skew %d > 1", lo, hi, hi-lo))
		}
	}
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
	}
	return strings.Join(problems, "; "), nil
}

// countScheduledEvents counts the Scheduled Events stored for the Pods of ns.
func (r *runner) countScheduledEvents(ctx context.Context, ns string) (int64, error) {
	items, _, err := r.env.apiConns[0].Resource(scheme.Events).ListAll(ctx, &metav1.ListOptions{Namespace: ns, Limit: 1000})
	if err != nil {
		return 0, fmt.Errorf("list events of %s: %w", ns, err)
	}
	var n int64
	for _, o := range items {
		if ev := o.(*corev1.Event); ev.GetReason() == "Scheduled" {
			n++
		}
	}
	return n, nil
}

// schedCPU splits a scheduled run's CPU between the scheduler and the rest, and names where
// the scheduler's went.
type schedCPU struct {
	total, scheduler time.Duration
	// wall is the profiled run's duration.
	wall time.Duration
	// parts split the scheduler's CPU by activity (schedParts).
	parts []share
	// functions are the scheduler's Berth functions, cumulative, without the wrappers that
	// spend nearly all their time in one Berth callee.
	functions []share
}

// schedParts name the scheduler's activities by the function their goroutines run; a sample
// goes to the first of them on its stack from the leaf.
var schedParts = []struct{ fn, name string }{
	{"scheduler.(*term).scheduleOne", "scheduling loop (queue, snapshot, filter and score, assume)"},
	{"scheduler.(*term).bind.func1", "bindings (Pods.Bind calls)"},
	{"scheduler.(*term).setCondition", "status writes of unschedulable Pods"},
	{"informer.(*Informer).Run", "informers (watch decoding, caches, handlers)"},
	{"events.(*Recorder).Run", "Events"},
	{"queue.(*Queue).Run", "queue flushes"},
}

// schedProfileCPU reads the profile kept at path.
func schedProfileCPU(path string) *schedCPU {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	samples, err := parseProfile(data)
	if err != nil {
		return nil
	}
	c := &schedCPU{}
	cum := map[string]time.Duration{}
	parts := map[string]time.Duration{}
	// through[f][g] is the CPU of f spent in its nearest Berth callee g.
	through := map[string]map[string]time.Duration{}
	for _, s := range samples {
		cpu := time.Duration(s.cpu)
		c.total += cpu
		if s.labels[schedLabel] != schedLabelValue {
			continue
		}
		c.scheduler += cpu
		part := "other (gRPC transport, runtime)"
		seen := map[string]bool{}
		callee := ""
		for _, f := range s.stack {
			if !strings.HasPrefix(f, "github.com/berth-dev/berth/") {
				continue
			}
			f = shortName(f)
			if part == "other (gRPC transport, runtime)" {
				for _, p := range schedParts {
					if f == p.fn {
						part = p.name
						break
					}
				}
			}
			if !seen[f] {
				seen[f] = true
				cum[f] += cpu
				if callee != "" {
					if through[f] == nil {
						through[f] = map[string]time.Duration{}
					}
					through[f][callee] += cpu
				}
			}
			callee = f
		}
		parts[part] += cpu
	}
	for f, callees := range through {
		for _, cpu := range callees {
			if float64(cpu) >= 0.95*float64(cum[f]) {
				delete(cum, f)
			}
		}
	}
	c.parts = topShares(toShares(parts), len(parts))
	c.functions = topShares(toShares(cum), 12)
	return c
}
