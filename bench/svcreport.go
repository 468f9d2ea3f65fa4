package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// connMode names a connection mode of the service benchmark.
func connMode(keepAlive bool) string {
	if keepAlive {
		return "keep-alive (one pool of connections)"
	}
	return "a new TCP connection per request"
}

// p99Ratio is the ClusterIP's p99 over the Pod IPs'.
func (c *svcCompare) p99Ratio() float64 {
	pod := c.pod.pct(0.99)
	if pod <= 0 {
		return 0
	}
	return float64(c.cluster.pct(0.99)) / float64(pod)
}

// readyStats returns, over the scale-ups, the sorted times from Ready to the Endpoints, to
// the first answer, and from the Endpoints to the first answer.
func (s *svcResult) readyStats() (endpoints, traffic, proxy []time.Duration) {
	for _, r := range s.ready {
		endpoints = append(endpoints, r.endpoints)
		traffic = append(traffic, r.traffic)
		proxy = append(proxy, r.traffic-r.endpoints)
	}
	slices.Sort(endpoints)
	slices.Sort(traffic)
	slices.Sort(proxy)
	return endpoints, traffic, proxy
}

// serviceTargets adds the service benchmark's rows to the targets table.
func (r *report) serviceTargets(t *table) {
	s := r.service
	if s == nil || s.skipped != "" {
		return
	}
	for _, c := range s.open {
		cl, pod := c.cluster.pct(0.99), c.pod.pct(0.99)
		measured := fmt.Sprintf("%.2f× (%s vs %s)", c.p99Ratio(), fmtDur(cl), fmtDur(pod))
		if low := 0.95 * float64(s.cfg.rate); c.cluster.rate() < low || c.pod.rate() < low {
			measured += fmt.Sprintf("; answered %s and %s req/s", fmtRate(c.cluster.rate()), fmtRate(c.pod.rate()))
		}
		if c.cluster.failed+c.pod.failed > 0 {
			measured += fmt.Sprintf("; %d and %d errors", c.cluster.failed, c.pod.failed)
		}
		ok := c.cluster.ok > 0 && c.pod.ok > 0 && c.p99Ratio() <= svcP99Ratio && c.cluster.failed == 0
		t.add(fmt.Sprintf("ClusterIP p99 within %.1f× of Pod IP p99 at %s req/s (berth-testapp, %s)", svcP99Ratio, fmtInt(int64(s.cfg.rate)), connMode(c.keepAlive)),
			measured, passMiss(ok))
	}
	if len(s.ready) > 0 {
		ep, traffic, proxy := s.readyStats()
		t.add(fmt.Sprintf("Pod ready → receives traffic through its Service, within %s of the Endpoints change (%d scale-ups under load)", fmtDur(svcTrafficTarget), len(s.ready)),
			fmt.Sprintf("ready → traffic median %s s, max %s s; Endpoints change → traffic max %s s (ready → Endpoints max %s s)",
				fmtSecs3(percentile(traffic, 0.5)), fmtSecs3(percentile(traffic, 1)), fmtSecs3(percentile(proxy, 1)), fmtSecs3(percentile(ep, 1))),
			passMiss(len(s.ready) == s.cfg.readyRepeats && percentile(proxy, 1) <= svcTrafficTarget))
	}
}

// serviceSection writes the service benchmark's results.
func (r *report) serviceSection(b *bytes.Buffer) {
	s := r.service
	if s == nil {
		return
	}
	fmt.Fprintf(b, "\n## Services\n\n")
	if s.skipped != "" {
		fmt.Fprintf(b, "Not run: %s.\n", s.skipped)
		return
	}
	c := s.cfg
	fmt.Fprintf(b, "`bin/berth server` (the control plane) and `bin/berth agent --runtime docker` (the Node, its Pods and its service proxy) run in processes of their own, as on a real Node, on a fresh data directory with a service range of their own (`%s`); the agent's userspace proxy serves the ClusterIP %s on the host's lo and splices each connection to a ready endpoint, round robin. A Deployment of %d `%s` Pods (readiness probe on /healthz every second) is behind a ClusterIP Service, port %d → the Pods' %d. The benchmark process, on the host, sends `GET /` to the ClusterIP:%d (through the proxy) and straight to the Pod IPs on the Docker bridge (round robin over the %d, the raw limit), in the same run (setup took %s).\n\n",
		s.serviceRange, "`"+s.clusterIP+"`", c.replicasBefore, benchAppImage, svcPort, svcPodPort, svcPort, len(s.podIPs), s.setupIn.Round(100*time.Millisecond))
	fmt.Fprintf(b, `- **Open loop**: %s req/s, each request sent from its own goroutine at its scheduled time
  whatever became of the earlier ones; latency runs from the scheduled send time to the whole
  answer read (no coordinated omission), so the load generator's own lateness is in it: its
  send lag is shown. Per connection mode and path, %s of warm-up, then %s measured in %d
  slices of %s that alternate the two paths (and which goes first), so that whatever else
  the machine runs falls on both alike. **Server CPU** is the berth server and
  agent processes' (apiserver, etcd, controllers; agent and its proxy) utime + stime while that
  path ran; the ClusterIP's minus the Pod IPs' is the proxy's. **Generator CPU** is the benchmark
  process's (the load generator's, with the kernel's work for its sockets) over the same time.
- **Closed loop**: %d workers each sending one request after the other for %s (after %s of
  warm-up): the most requests per second each path serves on this machine, load generator
  included.
- Berth-testapp logs every request; both paths pay for that alike.

`, fmtInt(int64(c.rate)), c.warmup, c.measure, c.rounds, c.measure/time.Duration(max(c.rounds, 1)), c.workers, c.closed.measure, c.closed.warmup)
	if len(s.open) > 0 {
		t := &table{header: []string{"Open loop", "Connections", "Sent", "Answered/s", "Errors", "p50", "p99", "max", "Send lag p99", "Server CPU", "per request", "Generator CPU per request"}, align: "llrrrrrrrrrr"}
		for _, cmp := range s.open {
			for _, row := range []struct {
				name string
				lr   *loadResult
				use  pathUse
			}{{"ClusterIP (proxy)", cmp.cluster, cmp.clusterUse}, {"Pod IPs (direct)", cmp.pod, cmp.podUse}} {
				t.add(row.name, connMode(cmp.keepAlive), fmtInt(int64(row.lr.sent)), fmtRate(row.lr.rate()), errorsCell(row.lr),
					fmtDur(row.lr.pct(0.5)), fmtDur(row.lr.pct(0.99)), fmtDur(row.lr.pct(1)), fmtDur(percentile(row.lr.lag, 0.99)),
					fmtCPU(row.use.server, row.use.wall), perRequest(row.use.server, row.lr.sent), perRequest(row.use.generator, row.lr.sent))
			}
			t.add("ClusterIP / Pod IPs", connMode(cmp.keepAlive), "", "", "",
				ratio(cmp.cluster.pct(0.5), cmp.pod.pct(0.5)), ratio(cmp.cluster.pct(0.99), cmp.pod.pct(0.99)), ratio(cmp.cluster.pct(1), cmp.pod.pct(1)), "", "", "", "")
		}
		t.write(b)
		b.WriteString("\n")
	}
	if len(s.closed) > 0 {
		t := &table{header: []string{"Closed loop", "Connections", "Workers", "req/s", "Errors", "p50", "p99", "Server CPU", "ClusterIP / Pod IPs req/s"}, align: "llrrrrrrr"}
		for _, cmp := range s.closed {
			t.add("ClusterIP (proxy)", connMode(cmp.keepAlive), fmt.Sprint(c.workers), fmtRate(cmp.cluster.rate()), errorsCell(cmp.cluster),
				fmtDur(cmp.cluster.pct(0.5)), fmtDur(cmp.cluster.pct(0.99)), fmtCPU(cmp.clusterUse.server, cmp.clusterUse.wall), percent(cmp.cluster.rate()/cmp.pod.rate()))
			t.add("Pod IPs (direct)", connMode(cmp.keepAlive), fmt.Sprint(c.workers), fmtRate(cmp.pod.rate()), errorsCell(cmp.pod),
				fmtDur(cmp.pod.pct(0.5)), fmtDur(cmp.pod.pct(0.99)), fmtCPU(cmp.podUse.server, cmp.podUse.wall), "")
		}
		t.write(b)
		b.WriteString("\n")
	}
	if len(s.ready) > 0 {
		fmt.Fprintf(b, `**Ready → traffic**: while the open loop sends %s req/s to the ClusterIP with a new connection
per request (each one balanced anew), the Deployment is scaled from %d to %d replicas; the new
Pod is timed from the moment a watch of the Pods sees it Running and Ready (its Ready
condition's lastTransitionTime has whole seconds only) to the moment a watch of the Endpoints
first lists it ready, and to the first answer it gives the load generator through the
ClusterIP (berth-testapp answers with its hostname, the Pod's name). Then the Deployment is
scaled back and the Pods settle; %d times.

`, fmtInt(int64(c.readyRate)), c.replicasBefore, c.replicasBefore+1, c.readyRepeats)
		t := &table{header: []string{"Scale-up", "New Pod", "Ready → Endpoints", "Ready → first answer", "Endpoints → first answer", "Requests (errors)"}, align: "rlrrrr"}
		for i, run := range s.ready {
			t.add(fmt.Sprint(i+1), "`"+run.pod+"`", fmtDur(run.endpoints), fmtDur(run.traffic), fmtDur(run.traffic-run.endpoints), fmt.Sprintf("%s (%d)", fmtInt(int64(run.sent)), run.failed))
		}
		ep, traffic, proxy := s.readyStats()
		t.add("median", "", fmtDur(percentile(ep, 0.5)), fmtDur(percentile(traffic, 0.5)), fmtDur(percentile(proxy, 0.5)), "")
		t.add("max", "", fmtDur(percentile(ep, 1)), fmtDur(percentile(traffic, 1)), fmtDur(percentile(proxy, 1)), "")
		t.write(b)
	}
	s.limitsNote(b)
	if s.cleanupErr != "" {
		fmt.Fprintf(b, "\nCleanup: %s.\n", s.cleanupErr)
	}
}

// limitsNote says what the proxy costs per request, from the open loop's CPU figures.
func (s *svcResult) limitsNote(b *bytes.Buffer) {
	var parts []string
	for _, c := range s.open {
		if c.cluster.sent == 0 || c.pod.sent == 0 || c.clusterUse.wall == 0 {
			continue
		}
		extra := c.clusterUse.server/time.Duration(c.cluster.sent) - c.podUse.server/time.Duration(c.pod.sent)
		parts = append(parts, fmt.Sprintf("%s per request with %s (%.2f cores at %s req/s)",
			fmtMicros(extra), connMode(c.keepAlive), extra.Seconds()*float64(s.cfg.rate), fmtInt(int64(s.cfg.rate))))
	}
	if len(parts) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**What limits it.** The proxy costs the berth processes %s: the ClusterIP's server CPU per request minus the Pod IPs'. ", strings.Join(parts, ", "))
	b.WriteString("A new connection through it is a second TCP connection, from the host through the Docker bridge and its netfilter rules to the Pod, two goroutines splicing the two directions and two half-closes; with keep-alive, two splices and two wake-ups of the agent process per request. In a perf profile of the proxy under the open loop of new connections (taken while developing this benchmark) the time is the kernel's (connect, splice and shutdown, each processing the packets it sends through the bridge to the Pod's side within the system call) and the Go runtime's scheduling (threads woken and put back to sleep, and sysmon polling every 20 µs while system calls run long), hardly the proxy's own code, which a Go benchmark puts at tens of microseconds per connection (`go test -bench TCPRelay ./agent/proxy/`). ")
	b.WriteString("On a machine whose CPUs are busy, each of those wake-ups waits for a CPU, which is where the ClusterIP's tail comes from; the closed loop shows how many requests per second the whole path, load generator and Pods included, can serve here.\n")
}

// fmtMicros writes a duration in microseconds.
func fmtMicros(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// errorsCell is a load run's failed requests, with the first error when there was one.
func errorsCell(lr *loadResult) string {
	if lr.failed == 0 || lr.firstErr == nil {
		return fmt.Sprint(lr.failed)
	}
	return fmt.Sprintf("%d (first: %s)", lr.failed, strings.ReplaceAll(lr.firstErr.Error(), "|", `\|`))
}

// perRequest is CPU per request in microseconds.
func perRequest(cpu time.Duration, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f µs", float64(cpu.Microseconds())/float64(n))
}

// fmtSecs3 writes a duration in seconds with three decimals.
func fmtSecs3(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
