package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// throughputRatio is how many times REST's throughput gRPC's is (above 1: gRPC is faster).
func (row restRow) throughputRatio() float64 { return row.grpc.rate() / row.rest.rate() }

// p99Ratio is how many times gRPC's p99 latency REST's is (above 1: REST is slower).
func (row restRow) p99Ratio() float64 {
	return float64(row.rest.pct(0.99)) / float64(row.grpc.pct(0.99))
}

// met tells whether REST is within restTarget of gRPC in throughput and p99 latency.
func (row restRow) met() bool {
	return row.throughputRatio() <= restTarget && row.p99Ratio() <= restTarget
}

// restTargets adds the REST benchmark's targets to the report's table.
func (r *report) restTargets(t *table) {
	res := r.rest
	if res == nil {
		return
	}
	for _, row := range res.rows {
		t.add(fmt.Sprintf("%s through REST within %.1f× of gRPC (throughput and p99), %d client%s", row.op, restTarget, row.clients, plural(row.clients)),
			fmt.Sprintf("gRPC/REST throughput %s (%s vs %s req/s); REST/gRPC p99 %s (%s vs %s)",
				times(row.throughputRatio()), fmtRate(row.grpc.rate()), fmtRate(row.rest.rate()),
				times(row.p99Ratio()), fmtDur(row.rest.pct(0.99)), fmtDur(row.grpc.pct(0.99))),
			passMiss(row.met()))
	}
	if f := res.watch; f != nil {
		measured := fmt.Sprintf("p50 %s, p99 %s", fmtLat(f.fromAck.p50), fmtLat(f.fromAck.p99))
		if rate := f.writeRate(); rate < 0.95*float64(f.cfg.rate) {
			measured += fmt.Sprintf(" (the writer reached %s of %d writes/s)", fmtRate(rate), f.cfg.rate)
		}
		t.add(fmt.Sprintf("%d HTTP watchers, %d writes/s: p99 latency from write acknowledged to event received < %s (the gRPC fan-out's target)", f.cfg.watchers, f.cfg.rate, fmtDur(fanoutTarget)),
			measured, passMiss(f.delivered > 0 && f.fromAck.p99 < fanoutTarget))
		t.add(fmt.Sprintf("%d HTTP watchers: every event delivered, no watcher dropped", f.cfg.watchers),
			fmt.Sprintf("%s of %s events, %d dropped", fmtInt(f.delivered), fmtInt(f.expected), f.dropped),
			passMiss(f.delivered == f.expected && f.dropped == 0))
	}
}

// times writes a ratio as "1.23×".
func times(x float64) string {
	if x != x {
		return "—"
	}
	return fmt.Sprintf("%.2f×", x)
}

// restSection writes the REST benchmark's results.
func (r *report) restSection(b *bytes.Buffer) {
	res := r.rest
	if res == nil {
		return
	}
	cfg := res.cfg
	levels := make([]string, len(cfg.clients))
	for i, n := range cfg.clients {
		levels[i] = strconv.Itoa(n)
	}
	fmt.Fprintf(b, "\n## REST gateway against gRPC\n\n")
	fmt.Fprintf(b, `The same process also serves the REST gateway (gateway.New, as `+"`berth server`"+` mounts it) on a
127.0.0.1 HTTP listener; the gateway reaches the apiserver through %s.
REST clients are net/http clients with keep-alive connections (one per concurrent client),
sending and receiving JSON; gRPC clients send protobuf requests over the other benchmarks'
connections and receive the answers undecoded, as theirs do, and REST clients read the JSON
body whole and do not decode it either. Each operation runs at %s clients with the load runs of the other
benchmarks, each side's measured time split into %d rounds that alternate (gRPC, REST, gRPC,
...), so that both share whatever else the machine does. The ratios say how many times faster
gRPC is: gRPC's throughput over REST's, REST's p99 over gRPC's; the target is %.1f× at most.

- **get**: GET /api/v1/namespaces/{ns}/pods/{name} of a random one of %s Pods against Pod Get
  (resourceVersion "", read from etcd).
- **list**: GET /api/v1/namespaces/{ns}/pods of a namespace of %s Pods (%s of JSON; the first
  answer is checked to decode strictly into k8s.io/api's PodList) against Pod List.
- **create**: POST of the template Pod as JSON (201) against Pod Create.
- **watch**: %d watchers GET /api/v1/namespaces/{ns}/pods?watch=true from the namespace's
  resourceVersion, each on an HTTP connection of its own, while a writer creates %d Pods/s
  (through gRPC) for %s; each Pod carries its send time, and each watcher reads each line's
  type, name and send time. As in the fan-out, latency runs from the writer's acknowledgement
  (and from the send) to receipt.
`, res.wiring, strings.Join(levels, ", "), restRounds, restTarget, count(cfg.listSize), count(cfg.listSize), fmtBytes(int64(res.listBytes)),
		cfg.watchers, cfg.rate, cfg.duration)
	if len(res.rows) > 0 {
		fmt.Fprintf(b, "\n")
		t := &table{
			header: []string{"Operation", "Clients", "REST req/s", "p50", "p99", "Bytes/op", "gRPC req/s", "p50", "p99", "Bytes/op", "gRPC/REST throughput", "REST/gRPC p99"},
			align:  "lrrrrrrrrrrr",
		}
		for _, row := range res.rows {
			t.add(row.op, strconv.Itoa(row.clients),
				fmtRate(row.rest.rate()), fmtDur(row.rest.pct(0.5)), fmtDur(row.rest.pct(0.99)), fmtBytes(row.rest.bytesPerOp()),
				fmtRate(row.grpc.rate()), fmtDur(row.grpc.pct(0.5)), fmtDur(row.grpc.pct(0.99)), fmtBytes(row.grpc.bytesPerOp()),
				times(row.throughputRatio()), times(row.p99Ratio()))
		}
		t.write(b)
	}
	if f := res.watch; f != nil {
		fmt.Fprintf(b, "\n### Watch over HTTP: %d watchers, %d writes/s\n\n", f.cfg.watchers, f.cfg.rate)
		t := &table{header: []string{"", ""}, align: "lr"}
		writes := fmt.Sprintf("%s acknowledged in %s: %s/s (target %d/s for %s)", fmtInt(int64(f.writes)), f.writeTime.Round(10*time.Millisecond), fmtRate(f.writeRate()), f.cfg.rate, f.cfg.duration)
		if f.failed > 0 {
			writes += fmt.Sprintf("; %d failed (first: %v)", f.failed, f.writeErr)
		}
		if f.unsent > 0 {
			writes += fmt.Sprintf("; %d not sent within %s", f.unsent, f.cfg.duration+writeGrace)
		}
		t.add("Writes (Pod creates)", writes)
		t.add("Events delivered", fmt.Sprintf("%s of %s expected", fmtInt(f.delivered), fmtInt(f.expected)))
		if f.deliveryTime > 0 {
			t.add("Events delivered per second", fmt.Sprintf("%s (first write to last event: %s)", fmtRate(float64(f.delivered)/f.deliveryTime.Seconds()), f.deliveryTime.Round(10*time.Millisecond)))
		}
		t.add("Latency, write acknowledged → event received: p50 / p99 / max", fmt.Sprintf("%s / %s / %s", fmtLat(f.fromAck.p50), fmtLat(f.fromAck.p99), fmtLat(f.fromAck.max)))
		t.add("Latency, write sent → event received: p50 / p99 / max", fmt.Sprintf("%s / %s / %s", fmtLat(f.fromSend.p50), fmtLat(f.fromSend.p99), fmtLat(f.fromSend.max)))
		dropped := fmt.Sprintf("%d dropped, %d missed events", f.dropped, f.incomplete)
		if f.dropErr != nil {
			dropped += fmt.Sprintf(" (first: %v)", f.dropErr)
		}
		t.add("Watchers dropped", dropped)
		t.add("Process CPU (gateway, apiserver, etcd and clients)", fmt.Sprintf("%.1f s in %s: %.2f of %d cores", f.cpu.Seconds(), f.wall.Round(10*time.Millisecond), f.cpu.Seconds()/f.wall.Seconds(), r.machine.cpus))
		if p := r.profileNamed("rest-watch"); p != nil && p.total > 0 {
			server := float64(p.roles[roleServer]) / float64(p.total)
			t.add("…of which the servers: gateway, apiserver and etcd (by the profile)", fmt.Sprintf("%.1f s (%s; the rest: clients %s, shared GC and scheduler %s)", f.cpu.Seconds()*server, percent(server),
				percent(float64(p.roles[roleClient])/float64(p.total)), percent(float64(p.roles[roleRuntime])/float64(p.total))))
		}
		peak := "unknown"
		if f.peakKnown {
			peak = fmtBytes(f.peak)
		}
		t.add("Process RSS: before / after / peak during the run", fmt.Sprintf("%s / %s / %s", fmtBytes(f.rssBefore), fmtBytes(f.rssAfter), peak))
		t.write(b)
	}
	fmt.Fprintf(b, "\nThe profiles `rest` (the REST operations alone at %d clients, half a measured run each, after the measured runs) and `rest-watch` (the HTTP watch run) are summarised under \"Where the time goes\"; there the servers' CPU includes the gateway's.\n", maxInt(cfg.clients))
}

func maxInt(s []int) int {
	m := 0
	for _, v := range s {
		m = max(m, v)
	}
	return m
}
