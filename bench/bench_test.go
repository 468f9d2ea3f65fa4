package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunBenchmarks runs every apiserver benchmark, at a tiny size, against real servers, and
// checks that the report holds a result for each.
func TestRunBenchmarks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and the apiserver")
	}
	cfg := config{
		clients:     []int{1, 2},
		timing:      timing{warmup: 20 * time.Millisecond, measure: 150 * time.Millisecond},
		listSizes:   []int{10, 20},
		watchEvents: 150,
		fanout:      fanoutConfig{watchers: 6, conns: 2, rate: 50, duration: time.Second},
		profileDir:  t.TempDir(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	selected, err := selectBenchmarks("^(create|get|list|watch|fanout)$")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := runBenchmarks(ctx, cfg, selected)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"create", "get", "list", "watch", "fanout"}; strings.Join(rep.ran, ",") != strings.Join(want, ",") {
		t.Errorf("ran %v, want %v", rep.ran, want)
	}
	// Per concurrency: create; get and cached get; a list per size.
	if got, want := len(rep.compare), 2*(1+2+2); got != want {
		t.Errorf("%d comparisons, want %d", got, want)
	}
	for _, c := range rep.compare {
		if c.berth.ops == 0 || c.raw.ops == 0 {
			t.Errorf("%s at %d clients: %d Berth and %d raw operations measured", c.op, c.clients, c.berth.ops, c.raw.ops)
		}
	}
	// Per concurrency: put, txn, get, a range per size.
	if got, want := len(rep.raw), 2*(2+1+2); got != want {
		t.Errorf("%d raw etcd results, want %d", got, want)
	}
	if rep.storedPodBytes < 900 {
		t.Errorf("the stored pod is %d bytes, want about 1 KiB", rep.storedPodBytes)
	}
	for _, w := range rep.watch {
		if w.berth.events == 0 || w.raw.events == 0 {
			t.Errorf("%d watchers: %d Berth and %d raw events", w.watchers, w.berth.events, w.raw.events)
		}
	}
	f := rep.fanout
	if f == nil {
		t.Fatal("no fan-out result")
	}
	if f.expected != 6*50 || f.delivered != f.expected || f.dropped != 0 || f.incomplete != 0 {
		t.Errorf("fan-out: %d of %d events, %d dropped, %d incomplete (%v)", f.delivered, f.expected, f.dropped, f.incomplete, f.dropErr)
	}
	if f.fromSend.p50 <= 0 || f.fromSend.max < f.fromSend.p99 || f.fromAck.p99 > f.fromSend.p99 {
		t.Errorf("fan-out latencies: from send %+v, from ack %+v", f.fromSend, f.fromAck)
	}
	if f.cpu <= 0 || f.rssAfter <= 0 || f.anonAfter <= 0 || f.anonAfter+f.fileAfter > f.rssAfter {
		t.Errorf("fan-out process usage: cpu %v, rss %d (anonymous %d, files %d)", f.cpu, f.rssAfter, f.anonAfter, f.fileAfter)
	}
	if len(rep.profiles) != 5 {
		t.Fatalf("%d profiles, want one per benchmark", len(rep.profiles))
	}
	for _, p := range rep.profiles {
		if p.total <= 0 || p.roles[roleServer] <= 0 {
			t.Errorf("profile %s: %v sampled, %v in the servers", p.name, p.total, p.roles[roleServer])
		}
		if _, err := os.Stat(filepath.Join(cfg.profileDir, p.name+".pprof")); err != nil {
			t.Errorf("profile %s not kept: %v", p.name, err)
		}
		// Each concurrency level of the interleaved benchmarks adds a segment.
		if p.name != "fanout" {
			want := len(cfg.clients)
			if p.name == "list" {
				want *= len(cfg.listSizes)
			}
			if p.segments != want {
				t.Errorf("profile %s has %d segments, want %d", p.name, p.segments, want)
			}
			if _, err := os.Stat(filepath.Join(cfg.profileDir, p.name+"-2.pprof")); err != nil {
				t.Errorf("profile %s's second segment not kept: %v", p.name, err)
			}
		}
	}
	md := string(rep.markdown())
	if strings.Contains(md, "%!") || !strings.Contains(md, "## What limits it") {
		t.Errorf("report:\n%s", md)
	}
}

func TestSelectBenchmarks(t *testing.T) {
	if all, err := selectBenchmarks(""); err != nil || len(all) != len(benchmarks) {
		t.Errorf("selectBenchmarks(\"\") = %d benchmarks, %v; want all %d", len(all), err, len(benchmarks))
	}
	tests := []struct {
		run  string
		want string
		err  bool
	}{
		{"create|fanout", "create,fanout", false},
		{"^(create|get|list|watch|fanout)$", "create,get,list,watch,fanout", false},
		{"^watch$", "watch", false},
		{"nothing", "", true},
		{"(", "", true},
	}
	for _, tt := range tests {
		got, err := selectBenchmarks(tt.run)
		if (err != nil) != tt.err {
			t.Errorf("selectBenchmarks(%q) error = %v", tt.run, err)
			continue
		}
		var names []string
		for _, b := range got {
			names = append(names, b.name)
		}
		if strings.Join(names, ",") != tt.want {
			t.Errorf("selectBenchmarks(%q) = %v, want %s", tt.run, names, tt.want)
		}
	}
}
