package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFormatters(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtInt(0), "0"},
		{fmtInt(999), "999"},
		{fmtInt(1000), "1,000"},
		{fmtInt(1234567), "1,234,567"},
		{fmtInt(-1234), "-1,234"},
		{fmtRate(12.34), "12.3"},
		{fmtRate(12345.6), "12,346"},
		{fmtDur(420 * time.Microsecond), "0.42 ms"},
		{fmtDur(4200 * time.Microsecond), "4.2 ms"},
		{fmtDur(42 * time.Millisecond), "42 ms"},
		{fmtDur(4200 * time.Millisecond), "4.20 s"},
		{fmtBytes(512), "512 B"},
		{fmtBytes(1536), "1.5 KiB"},
		{fmtBytes(10 << 20), "10.0 MiB"},
		{percent(0.5), "50%"},
		{percent(0.0123), "1.2%"},
		{percent(2), "200%"},
		{count(1000), "1k"},
		{count(10000), "10k"},
		{count(100), "100"},
		{count(1500), "1500"},
		{orList([]int{1000, 10000}), "1k or 10k"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	tb := &table{header: []string{"Name", "Value"}, align: "lr"}
	tb.add("a", "1")
	tb.add("b", "2")
	var b bytes.Buffer
	tb.write(&b)
	want := "| Name | Value |\n|---|---:|\n| a | 1 |\n| b | 2 |\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

// sampleStats returns stats of n operations of latency lat over one second.
func sampleStats(n int, lat time.Duration) stats {
	s := stats{ops: n, elapsed: time.Second, bytes: int64(n) * 1000}
	for range n {
		s.lat = append(s.lat, lat)
	}
	return s
}

func TestTargets(t *testing.T) {
	tests := []struct {
		name       string
		berth, raw int
		fanoutP99  time.Duration
		delivered  int64
		want       []string
	}{
		{"all met", 600, 1000, 20 * time.Millisecond, 100, []string{"60%", "PASS", "20 ms", "PASS", "100 of 100 events, 0 dropped", "PASS"}},
		{"creates too slow", 400, 1000, 20 * time.Millisecond, 100, []string{"40%", "MISS"}},
		{"fan-out too slow", 600, 1000, 150 * time.Millisecond, 100, []string{"150 ms", "MISS"}},
		{"events lost", 600, 1000, 20 * time.Millisecond, 99, []string{"99 of 100 events", "MISS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report{
				compare: []comparison{{op: "Pod create", rawOp: "put", clients: 16, berth: sampleStats(tt.berth, time.Millisecond), raw: sampleStats(tt.raw, time.Millisecond)}},
				fanout: &fanoutResult{
					cfg:      fanoutConfig{watchers: 10, rate: 10, duration: time.Second},
					expected: 100, delivered: tt.delivered,
					fromAck: latencies{p99: tt.fanoutP99},
				},
			}
			var b bytes.Buffer
			r.targets(&b)
			for _, want := range tt.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("targets lack %q:\n%s", want, b.String())
				}
			}
		})
	}
}

func TestMarkdownRendersEverySection(t *testing.T) {
	cfg := defaultConfig(false)
	cfg.profileDir = "_output/bench"
	prof := summarizeProfile("fanout", []profSample{
		{cpu: 3e6, stack: []string{"google.golang.org/protobuf/proto.MarshalOptions.marshal", "github.com/berth-dev/berth/services/apiserver.resourceServer[go.shape.*uint8].Watch"}},
		{cpu: 1e6, stack: []string{"main.main"}, labels: map[string]string{roleLabel: roleClients}},
	}, time.Second)
	r := &report{
		machine: machine{cpus: 2, cpuModel: "Test CPU", memory: "1 GiB", kernel: "Linux", goVersion: "go1", dataFS: "ext4 on /dev/x", loadBefore: "0.1", loadAfter: "0.2"},
		cfg:     cfg,
		ran:     []string{"create", "get", "list", "watch", "fanout"},
		compare: []comparison{
			{op: "Pod create", rawOp: "put", clients: 1, berth: sampleStats(500, time.Millisecond), raw: sampleStats(1000, time.Millisecond)},
			{op: "Pod get", rawOp: "get", clients: 1, berth: sampleStats(800, time.Millisecond), raw: sampleStats(1000, time.Millisecond)},
		},
		raw: []rawRow{
			{op: "put", clients: 1, network: sampleStats(1000, time.Millisecond)},
			{op: "txn: put if absent", clients: 1, network: sampleStats(900, time.Millisecond)},
		},
		watch:    []watchRow{{watchers: 1, events: 10, berth: burstStats{events: 10, bytes: 100, elapsed: time.Second}, raw: burstStats{events: 20, bytes: 200, elapsed: time.Second}}},
		fanout:   &fanoutResult{cfg: cfg.fanout, writes: 10, writeTime: time.Second, expected: 100, delivered: 100, deliveryTime: time.Second, cpu: time.Second, wall: time.Second},
		profiles: []*profileSummary{prof},
	}
	md := string(r.markdown())
	for _, want := range []string{
		"# Berth benchmarks", "## Targets", "## Machine", "Test CPU", "## Method", "## Berth's API against raw etcd",
		"## Raw etcd", "## Watch-event throughput", "## Fan-out: 1000 watchers", "## Where the time goes", "## What limits it",
		"`apiserver.resourceServer[…].Watch`", "50%", "**PASS**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "%!") {
		t.Errorf("report has a formatting error:\n%s", md)
	}
}

func TestFailuresSection(t *testing.T) {
	var b bytes.Buffer
	(&report{}).failures(&b)
	if b.Len() != 0 {
		t.Errorf("a report without failures has a failures section:\n%s", b.String())
	}
	r := &report{failed: []failure{{name: "startup", err: errors.New("the agent exited\nlog: no runtime")}}}
	r.failures(&b)
	if want := "- **startup**: the agent exited log: no runtime\n"; !strings.Contains(b.String(), "## Failed benchmarks") || !strings.Contains(b.String(), want) {
		t.Errorf("failures section:\n%s\nwant a line %q", b.String(), want)
	}
}
