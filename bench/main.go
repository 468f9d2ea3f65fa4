package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"time"
)

// config sizes a run.
type config struct {
	quick bool
	// clients are the concurrency levels of the load runs.
	clients []int
	timing  timing
	// listSizes are the numbers of Pods listed; the first also serves the gets.
	listSizes []int
	// watchEvents is the number of events in each burst of the watch benchmark.
	watchEvents int
	fanout      fanoutConfig
	agent       agentConfig
	deploy      deployConfig
	service     serviceConfig
	// profileDir keeps the CPU profiles.
	profileDir string
}

// defaultConfig is the full run, about five minutes on two cores, or with quick a smoke run of
// well under a minute.
func defaultConfig(quick bool) config {
	if quick {
		return config{
			quick:       true,
			clients:     []int{1, 16},
			timing:      timing{warmup: 200 * time.Millisecond, measure: 700 * time.Millisecond},
			listSizes:   []int{100, 1000},
			watchEvents: 500,
			fanout:      fanoutConfig{watchers: 100, conns: 4, rate: 200, duration: 5 * time.Second},
			agent:       agentConfig{pods: 10, hollowNodes: 100},
			deploy:      deployConfig{replicas: 100, nodes: 10, creators: 16, timeout: 2 * time.Minute},
			service: serviceConfig{rate: 1000, measure: 2 * time.Second, rounds: 10, warmup: 300 * time.Millisecond, workers: 16,
				closed: timing{warmup: 200 * time.Millisecond, measure: time.Second}, readyRepeats: 2, readyRate: 500,
				readyTimeout: time.Minute, settleTimeout: 2 * time.Minute, replicasBefore: 3},
		}
	}
	return config{
		clients:     []int{1, 16, 64},
		timing:      timing{warmup: 400 * time.Millisecond, measure: 2500 * time.Millisecond},
		listSizes:   []int{1000, 10000},
		watchEvents: 2000,
		fanout:      fanoutConfig{watchers: 1000, conns: 10, rate: 500, duration: 20 * time.Second},
		agent:       agentConfig{pods: 50, hollowNodes: 1000},
		deploy:      deployConfig{replicas: 1000, nodes: 100, creators: 16, timeout: 5 * time.Minute},
		service: serviceConfig{rate: 1000, measure: 10 * time.Second, rounds: 25, warmup: time.Second, workers: 16,
			closed: timing{warmup: 500 * time.Millisecond, measure: 3 * time.Second}, readyRepeats: 5, readyRate: 500,
			readyTimeout: time.Minute, settleTimeout: 2 * time.Minute, replicasBefore: 3},
	}
}

// benchmark is one named benchmark: it measures Berth and, next to it, the raw etcd limit of
// the same operation, and adds both to the report.
type benchmark struct {
	name string
	run  func(r *runner, ctx context.Context) error
}

// benchmarks are run in this order; -run selects them by name.
var benchmarks = []benchmark{
	{"create", (*runner).create},
	{"get", (*runner).get},
	{"list", (*runner).list},
	{"watch", (*runner).watch},
	{"fanout", (*runner).fanout},
	{"startup", (*runner).podStartup},
	{"hollow", (*runner).hollowMemory},
	{"scheduler", (*runner).scheduler},
	{"rest", (*runner).rest},
	{"deployment", (*runner).deployment},
	{"service", (*runner).service},
}

// runner runs the benchmarks against one environment and collects their results.
type runner struct {
	cfg config
	env *env
	rep *report
	// stored is the template Pod as the apiserver stores it in etcd: the value of raw writes.
	stored []byte
	// fixtures records the fixtures already loaded.
	fixtures map[string]bool
}

func main() {
	var (
		out      = flag.String("o", "BENCHMARKS.md", "write the Markdown report to `file`")
		run      = flag.String("run", "", "run only the benchmarks whose name matches `regexp` (create, get, list, watch, fanout, startup, hollow, scheduler, rest, deployment, service)")
		quick    = flag.Bool("quick", false, "smoke run: fewer clients, shorter runs, smaller fixtures (under a minute)")
		profiles = flag.String("profiles", "_output/bench", "keep the CPU profiles in `dir`")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := mainErr(ctx, *out, *run, *quick, *profiles); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func mainErr(ctx context.Context, out, run string, quick bool, profiles string) error {
	selected, err := selectBenchmarks(run)
	if err != nil {
		return err
	}
	cfg := defaultConfig(quick)
	cfg.profileDir = profiles
	rep, err := runBenchmarks(ctx, cfg, selected)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, rep.markdown(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if len(rep.failed) > 0 {
		return fmt.Errorf("%d benchmark(s) failed; %s says which and why", len(rep.failed), out)
	}
	return nil
}

// selectBenchmarks returns the benchmarks whose names match the regular expression.
func selectBenchmarks(run string) ([]benchmark, error) {
	match, err := regexp.Compile(run)
	if err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	var selected []benchmark
	for _, b := range benchmarks {
		if match.MatchString(b.name) {
			selected = append(selected, b)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("-run %q matches no benchmark", run)
	}
	return selected, nil
}

// runBenchmarks starts the servers, runs the selected benchmarks and returns their report.
func runBenchmarks(ctx context.Context, cfg config, selected []benchmark) (*report, error) {
	started := time.Now()
	// The servers start outside the clients' profiler labels: in the CPU profiles, unlabelled
	// samples are the servers' and labelled ones the load generators'.
	e, err := startServers(ctx)
	if err != nil {
		return nil, err
	}
	defer e.close()
	r := &runner{cfg: cfg, env: e, fixtures: map[string]bool{}, rep: &report{
		machine: describeMachine(e.dir),
		cfg:     cfg,
	}}
	pprof.Do(ctx, pprof.Labels(roleLabel, roleClients), func(ctx context.Context) {
		err = r.runAll(ctx, selected)
	})
	if err != nil {
		return nil, err
	}
	r.rep.elapsed = time.Since(started)
	r.rep.machine.loadAfter = loadAverage()
	return r.rep, nil
}

// runAll connects the clients, then runs the selected benchmarks in order. A benchmark that
// fails is recorded in the report and the others still run.
func (r *runner) runAll(ctx context.Context, selected []benchmark) error {
	if err := r.env.connect(ctx); err != nil {
		return err
	}
	if err := r.storeTemplate(ctx); err != nil {
		return err
	}
	for _, b := range selected {
		t := time.Now()
		fmt.Fprintf(os.Stderr, "bench: %s...\n", b.name)
		if err := b.run(r, ctx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			fmt.Fprintf(os.Stderr, "bench: %s failed: %v\n", b.name, err)
			r.rep.failed = append(r.rep.failed, failure{name: b.name, err: err})
			continue
		}
		r.rep.ran = append(r.rep.ran, b.name)
		fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", b.name, time.Since(t).Round(100*time.Millisecond))
	}
	return nil
}
