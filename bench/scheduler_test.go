package main

import (
	"context"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/scheme"
)

// TestSchedulerBenchmark runs both scheduler workloads at a tiny size against real servers and
// checks their results and their report.
func TestSchedulerBenchmark(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, the apiserver and the scheduler")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := startServers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	cfg := defaultConfig(true)
	cfg.profileDir = t.TempDir()
	r := &runner{cfg: cfg, env: e, fixtures: map[string]bool{}, rep: &report{cfg: cfg}}
	pprof.Do(ctx, pprof.Labels(roleLabel, roleClients), func(ctx context.Context) {
		if err = r.env.connect(ctx); err != nil {
			return
		}
		// A Node another benchmark left behind takes none of the Pods, and stays.
		stray := schedNode(schedWorkload{name: "stray"}, 0)
		delete(stray.Metadata.Labels, workloadLabel)
		if _, err = r.env.apiConns[0].Resource(scheme.Nodes).Create(ctx, stray); err != nil {
			return
		}
		for _, w := range []schedWorkload{
			{name: "basic", nodes: 30, pods: 200, creators: 4},
			{name: "spread", nodes: 24, pods: 60, creators: 4, zones: 4, constrained: true},
		} {
			var res *schedResult
			if res, err = r.schedWorkload(ctx, w, time.Minute); err != nil {
				return
			}
			r.rep.sched = append(r.rep.sched, res)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.rep.sched {
		if s.bound != s.w.pods || s.check != "" {
			t.Errorf("%s: %d of %d bound, check %q", s.w.name, s.bound, s.w.pods, s.check)
		}
		if s.raw.created != s.w.pods || s.run.created != s.w.pods || s.boundRate() <= 0 || len(s.lat) != s.w.pods {
			t.Errorf("%s: raw %+v, run %+v, rate %v, %d latencies", s.w.name, s.raw, s.run, s.boundRate(), len(s.lat))
		}
		if s.attempts["scheduled"] < float64(s.w.pods) || s.algorithm <= 0 {
			t.Errorf("%s: attempts %v, algorithm %v", s.w.name, s.attempts, s.algorithm)
		}
		if s.cpu == nil || s.cpu.total <= 0 {
			t.Errorf("%s: no profile: %+v", s.w.name, s.cpu)
		}
	}
	if c := r.rep.sched[0].cpu; c == nil || c.scheduler <= 0 {
		t.Errorf("basic: no scheduler CPU in the profile: %+v", c)
	}
	md := string(r.rep.markdown())
	for _, want := range []string{"## Scheduler", "basic (30 Nodes, 200 Pods)", "spread (24 Nodes, 60 Pods)", "Pods bound/s, end to end", "every Pod bound"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Everything written is gone: the next benchmark starts clean; what others wrote stays.
	if n, err := r.podCount(ctx); err != nil || n != 0 {
		t.Errorf("%d pods left (%v)", n, err)
	}
	nodes, _, err := r.env.apiConns[0].Resource(scheme.Nodes).List(ctx, nil)
	if err != nil || len(nodes) != 1 || nodes[0].GetMetadata().GetName() != "stray-node-00000" {
		t.Errorf("nodes left: %d (%v), want the stray one only", len(nodes), err)
	}
}
