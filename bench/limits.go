package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// limits writes the section that says what limits each measured path. Its numbers come from the
// run and its profiles; its explanations from how the apiserver is built, and they hold as long
// as the code paths they name do.
func (r *report) limits(b *bytes.Buffer) {
	var notes []string
	if n := r.createNote(); n != "" {
		notes = append(notes, n)
	}
	if n := r.readNote(); n != "" {
		notes = append(notes, n)
	}
	if n := r.watchNote(); n != "" {
		notes = append(notes, n)
	}
	if n := r.fanoutNote(); n != "" {
		notes = append(notes, n)
	}
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## What limits it\n\n")
	for _, n := range notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	fmt.Fprintf(b, "\nEverything shares %d CPUs in one process: the load generators' CPU (see the profiles) is CPU the servers did not get, so absolute figures are lower bounds of what the apiserver does on a machine of its own. The ratios compare paths measured the same way.\n", r.machine.cpus)
}

// createNote explains the create figures from the create profile.
func (r *report) createNote() string {
	var creates []comparison
	for _, c := range r.compare {
		if c.op == "Pod create" {
			creates = append(creates, c)
		}
	}
	if len(creates) == 0 {
		return ""
	}
	var s strings.Builder
	s.WriteString("**Creates.** ")
	var parts []string
	for _, c := range creates {
		part := fmt.Sprintf("%s of etcd's put throughput at %d client%s", percent(c.berth.rate()/c.raw.rate()), c.clients, plural(c.clients))
		if txn := r.rawNamed("txn: put if absent", c.clients); txn != nil {
			part += fmt.Sprintf(" (%s of the put-if-absent transaction a create is in etcd)", percent(c.berth.rate()/txn.network.rate()))
		}
		parts = append(parts, part)
	}
	fmt.Fprintf(&s, "Pod creates reach %s. ", strings.Join(parts, ", "))
	s.WriteString("A create costs what a put costs (one raft proposal and a WAL fsync, batched across concurrent writers) plus the apiserver's own work, all on the same CPUs: one more gRPC hop (decode the request, encode the response), defaulting and validation, admission (a Namespace lookup in the cache), one protobuf encode for etcd, and, for every write, the watch cache's decode of the event it receives back from etcd. ")
	if txn, put := r.rawNamed("txn: put if absent", creates[len(creates)-1].clients), r.rawNamed("put", creates[len(creates)-1].clients); txn != nil && put != nil {
		fmt.Fprintf(&s, "(The transaction alone runs at %s of a put at %d clients: its compare adds a read of the key to every write etcd applies, one at a time.) ", percent(txn.network.rate()/put.network.rate()), put.clients)
	}
	if p := r.profileNamed("create"); p != nil && p.total > 0 {
		berth := p.componentShare("Berth")
		fmt.Fprintf(&s, "In the profile of the create runs the servers spent %s of the CPU: %s. Berth's own code (registry, validation, defaulting, watch cache) is %s of it; the rest is the libraries it drives. ",
			p.pct(p.roles[roleServer]), p.topComponents(4), p.pct(berth))
		if d := p.berthNamed("watchcache.(*Cache).apply"); d > 0 {
			fmt.Fprintf(&s, "The watch cache's decode of each written Pod (`watchcache.(*Cache).apply`) is %s, validation (`validation.Object`) %s. ", p.pct(d), p.pct(p.berthNamed("validation.Object")))
		}
		busy := p.total.Seconds() / p.wall.Seconds()
		fmt.Fprintf(&s, "The garbage collector's workers took %s and the clients %s; the process kept %.2f of %d cores busy", p.pct(p.roles[roleRuntime]), p.pct(p.roles[roleClient]), busy, r.machine.cpus)
		if busy >= 0.85*float64(r.machine.cpus) {
			s.WriteString(": the creates are CPU-bound, and every bit of CPU the apiserver saves per create is throughput.")
		} else {
			s.WriteString(", the rest of the time waiting for etcd's WAL fsyncs, which every write needs (or for CPUs other processes held: see the load average).")
		}
	}
	return s.String()
}

// readNote explains the reads from the get and list profiles and points at the widest gaps.
func (r *report) readNote() string {
	var reads []comparison
	for _, c := range r.compare {
		if c.op != "Pod create" {
			reads = append(reads, c)
		}
	}
	if len(reads) == 0 {
		return ""
	}
	var s strings.Builder
	s.WriteString("**Reads.** A Get with resourceVersion \"\" is a linearizable etcd read through the in-process client, a decode of the Pod and its encoding for the reply; with resourceVersion \"0\" it is a map lookup in the watch cache, a clone of the cached Pod (which the handler only encodes) and the encoding. ")
	if p := r.profileNamed("get"); p != nil && p.total > 0 {
		fmt.Fprintf(&s, "In the profile of the gets the servers spent %s of the CPU (%s); protobuf: %s. ", p.pct(p.roles[roleServer]), p.topComponents(3), p.protobufLine())
	}
	s.WriteString("A List without resourceVersion reads etcd's current revision (a linearizable read), waits for the watch cache to reach it, collects the namespace's Pods from the cache (scanning every cached Pod: the cache has no index by namespace) and encodes them all, for every list, where etcd copies the stored bytes. ")
	if p := r.profileNamed("list"); p != nil && p.total > 0 {
		fmt.Fprintf(&s, "In the profile of the lists, encoding is %s of all CPU, and gRPC's proto.Size before it %s: protobuf's encoder computes the sizes of nested messages again unless told to use the cached ones. Collecting the Pods from the cache (`watchcache.(*Cache).List`) is %s. ",
			p.pct(p.protobuf["encode"]), p.pct(p.protobuf["size"]), p.pct(p.berthNamed("watchcache.(*Cache).List")))
	}
	slices.SortFunc(reads, func(a, b comparison) int {
		ra, rb := a.berth.rate()/a.raw.rate(), b.berth.rate()/b.raw.rate()
		switch {
		case ra < rb:
			return -1
		case ra > rb:
			return 1
		}
		return 0
	})
	var worst []string
	for _, c := range reads[:min(3, len(reads))] {
		worst = append(worst, fmt.Sprintf("%s at %d client%s (%s of etcd's %s)", c.op, c.clients, plural(c.clients), percent(c.berth.rate()/c.raw.rate()), c.rawOp))
	}
	fmt.Fprintf(&s, "The widest gaps: %s.", strings.Join(worst, "; "))
	return s.String()
}

// watchNote explains the watch throughput figures from the watch profile.
func (r *report) watchNote() string {
	if len(r.watch) == 0 {
		return ""
	}
	var parts []string
	for _, w := range r.watch {
		parts = append(parts, fmt.Sprintf("%s at %d watcher%s", percent(w.berth.rate()/w.raw.rate()), w.watchers, plural(w.watchers)))
	}
	var s strings.Builder
	fmt.Fprintf(&s, "**Watch throughput.** Berth delivers %s of etcd's event throughput. etcd sends the events of a revision in one message; the apiserver decodes each event into its watch cache, and each watcher's stream sends every event in a message of its own. ",
		strings.Join(parts, ", "))
	if p := r.profileNamed("watch"); p != nil && p.total > 0 {
		fmt.Fprintf(&s, "In the profile of the bursts the cache's decode of the events (`watchcache.(*Cache).apply`) is %s of all CPU and the streams' send loop (`resourceServer.Watch`) %s; protobuf: %s. ",
			p.pct(p.berthNamed("watchcache.(*Cache).apply")), p.pct(p.berthNamed("apiserver.resourceServer[…].Watch")), p.protobufLine())
		fmt.Fprintf(&s, "The watchers themselves, in this process, took %s.", p.pct(p.roles[roleClient]))
	}
	return s.String()
}

// fanoutNote explains the fan-out figures from the fan-out profile.
func (r *report) fanoutNote() string {
	f := r.fanout
	if f == nil {
		return ""
	}
	var s strings.Builder
	p99 := "a p99 of " + fmtLat(f.fromAck.p99)
	if f.fromAck.p99 == undelivered {
		p99 = fmt.Sprintf("over 1%% of the events never delivered (p99 of the delivered ones %s)", fmtDur(f.fromAck.deliveredP99))
	}
	fmt.Fprintf(&s, "**Fan-out.** %d watchers at %d writes/s ask for %s events/s; the writer reached %s writes/s and the watchers received %s events/s, with a median of %s from acknowledgement to receipt and %s. ",
		f.cfg.watchers, f.cfg.rate, fmtInt(int64(f.cfg.watchers*f.cfg.rate)), fmtRate(f.writeRate()), fmtRate(float64(f.delivered)/max(f.deliveryTime, time.Millisecond).Seconds()), fmtLat(f.fromAck.p50), p99)
	p := r.profileNamed("fanout")
	if p == nil || p.total == 0 {
		return s.String()
	}
	send := p.berthNamed("apiserver.resourceServer[…].Watch")
	fmt.Fprintf(&s, "The servers spent %s of the CPU (%s); the watch streams' send loop (`resourceServer.Watch`, with the encoding and the gRPC sends under it) took %s, of which protobuf encoding %s. ",
		p.pct(p.roles[roleServer]), p.topComponents(3), p.pct(send), p.pct(p.protobuf["encode"]))
	if enc := p.protobuf["encode"]; send > 0 && enc > send/2 {
		s.WriteString("Encoding dominates the send loop: each watcher's stream encodes every event again, although all of them send the same bytes. Encoding each event once and handing the bytes to every stream, as Kubernetes' watch cache does with its cached serializations, would remove most of it. ")
	} else {
		s.WriteString("Each event is encoded once for all watchers; what remains per watcher and event is gRPC's: a message, its HTTP/2 frame, flow control and the socket writes. ")
	}
	fmt.Fprintf(&s, "The watchers' side of those messages (gRPC's receive path, in this process) took %s of the CPU: on machines of their own, the apiserver would have had it. ", p.pct(p.roles[roleClient]))
	if f.dropped > 0 {
		fmt.Fprintf(&s, "%d watchers fell further behind than the watch cache keeps events and were ended with \"too old resource version\", as Kubernetes ends them; a real client re-lists. ", f.dropped)
	}
	if f.writeRate() < 0.95*float64(f.cfg.rate) {
		s.WriteString("The writer fell short of its rate because the creates compete for the same CPUs with the watchers and their streams, which Go schedules with no priority between them")
		if f.failed > 0 {
			fmt.Fprintf(&s, ", and etcd, in the same process, did not get the CPU to commit in time (%d creates failed: %v)", f.failed, f.writeErr)
		}
		s.WriteString(".")
	}
	return s.String()
}

// rawNamed returns the raw etcd result of an operation at a concurrency, or nil.
func (r *report) rawNamed(op string, clients int) *rawRow {
	for i := range r.raw {
		if r.raw[i].op == op && r.raw[i].clients == clients {
			return &r.raw[i]
		}
	}
	return nil
}

// componentShare is the CPU of the components whose names start with prefix.
func (p *profileSummary) componentShare(prefix string) time.Duration {
	var d time.Duration
	for _, c := range p.components {
		if strings.HasPrefix(c.name, prefix) {
			d += c.cpu
		}
	}
	return d
}

// topComponents lists the n largest components with their shares.
func (p *profileSummary) topComponents(n int) string {
	var parts []string
	for _, c := range p.components[:min(n, len(p.components))] {
		parts = append(parts, fmt.Sprintf("%s %s", c.name, p.pct(c.cpu)))
	}
	return strings.Join(parts, ", ")
}

// berthNamed is the cumulative CPU of a Berth function, as listed (0 when it is not).
func (p *profileSummary) berthNamed(name string) time.Duration {
	for _, s := range p.berthAll {
		if s.name == name {
			return s.cpu
		}
	}
	return 0
}
