package main

import (
	"bytes"
	"fmt"
	"time"
)

// schedTargets adds the scheduler benchmarks' targets to the report's table.
func (r *report) schedTargets(t *table) {
	for _, s := range r.sched {
		if s.w.name == "basic" {
			t.add(fmt.Sprintf("Scheduler, %s Nodes and %s Pods from %d creators: ≥ %s Pods bound/s, end to end (create → bound seen through a watch)",
				fmtInt(int64(s.w.nodes)), fmtInt(int64(s.w.pods)), s.w.creators, fmtRate(schedTarget)),
				fmt.Sprintf("%s Pods/s (raw create rate without a scheduler %s/s); p99 %s", fmtRate(s.boundRate()), fmtRate(s.raw.rate()), fmtDur(percentile(s.lat, 0.99))),
				passMiss(s.boundRate() >= schedTarget && s.bound == s.w.pods))
		}
		t.add(fmt.Sprintf("Scheduler, %s workload: every Pod bound, no Node overcommitted%s", s.w.name, map[bool]string{true: ", constraints held", false: ""}[s.w.constrained]),
			fmt.Sprintf("%s of %s bound%s", fmtInt(int64(s.bound)), fmtInt(int64(s.w.pods)), problemSuffix(s.check)),
			passMiss(s.bound == s.w.pods && s.check == ""))
	}
}

func problemSuffix(check string) string {
	if check == "" {
		return ""
	}
	return "; " + check
}

// schedSection writes the scheduler benchmarks' results.
func (r *report) schedSection(b *bytes.Buffer) {
	if len(r.sched) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Scheduler\n\n")
	fmt.Fprintf(b, `scheduler_perf's method with Node objects only (no agent), in this process: the scheduler runs
as `+"`berth server`"+` runs it (services/scheduler on its own gRPC connection to the apiserver, with
the default plugins; leader election off), and %d creators create the Pods through gRPC as fast
as they can while a watch on the Pods records when each is first seen bound. A Pod is the
template of the other benchmarks (a Deployment's Pod of about 1 KiB) requesting 100m CPU and
100 MiB; a Node is scheduler_perf's (4 CPU, 32 GiB, 110 Pods), Ready.

- **basic**: %s.
- **spread**: %s.

**Bound/s** is the number of Pods bound over the time from the first create sent to the last
binding seen; **create → bound** the latency of each Pod from its create sent to its binding seen
through the watch. **Raw creates/s** is the same creators creating the same Pods with no
scheduler running (the ceiling of the bound rate: a Pod is bound no faster than it is created);
**creates/s with the scheduler** is the creators' rate during the scheduled run. The scheduler's
**attempts** and its mean **filter + score** time per Pod (wall time) come from its own
metrics. Every scheduled Pod should also have a Scheduled Event, which the event recorder
(pkg/events: one writer, a queue of 1,000) drops when it falls behind: the **Scheduled Events
stored** are those written by the time the last Pod was bound.

`, r.sched[0].w.creators, schedWorkloadLine(r.sched, "basic"), schedWorkloadLine(r.sched, "spread"))
	t := &table{header: []string{"Workload", "Bound/s", "create → bound p50 / p99 / max", "Raw creates/s", "Creates/s with the scheduler",
		"Attempts: scheduled / unschedulable / error", "Filter + score per Pod", "CPU per Pod: process / scheduler", "Cores busy", "Scheduled Events stored"}, align: "lrrrrrrrrr"}
	for _, s := range r.sched {
		cpu, busy := "—", "—"
		if c := s.cpu; c != nil && s.bound > 0 && c.wall > 0 {
			cpu = fmt.Sprintf("%s / %s", fmtDur(c.total/time.Duration(s.bound)), fmtDur(c.scheduler/time.Duration(s.bound)))
			busy = fmt.Sprintf("%.2f", c.total.Seconds()/c.wall.Seconds())
		}
		t.add(fmt.Sprintf("%s (%s Nodes, %s Pods)", s.w.name, fmtInt(int64(s.w.nodes)), fmtInt(int64(s.w.pods))),
			fmtRate(s.boundRate()),
			fmt.Sprintf("%s / %s / %s", fmtDur(percentile(s.lat, 0.5)), fmtDur(percentile(s.lat, 0.99)), fmtDur(percentile(s.lat, 1))),
			fmtRate(s.raw.rate()), fmtRate(s.run.rate()),
			fmt.Sprintf("%.0f / %.0f / %.0f", s.attempts["scheduled"], s.attempts["unschedulable"], s.attempts["error"]),
			fmtDur(s.algorithm), cpu, busy, fmtInt(s.events))
	}
	t.write(b)
	fmt.Fprintf(b, `
**CPU per Pod** is the CPU the whole process (apiserver, etcd, scheduler, creators, watch) and the
scheduler's goroutines alone used in the profiled run, over the Pods bound; **cores busy** is the
process's CPU over the run's wall time. On this 2-core machine, shared with other work, the bound
rate follows the CPU the process gets: the rate is about cores busy over CPU per Pod. The
scheduler keeps up with the creators (creates/s with the scheduler equals bound/s, and a Pod
waits tens of milliseconds); what bounds the rate is the CPU of the apiserver and etcd, which
per Pod do a create, a binding (a read and a write of the Pod in etcd), two watch events to each
watcher, and some Events.
`)
	for _, s := range r.sched {
		c := s.cpu
		if c == nil || c.total <= 0 {
			continue
		}
		fmt.Fprintf(b, "\nThe %s run's CPU (profile `scheduler-%s` below): the scheduler's goroutines (its informers, queue, scheduling loop, bindings, status writes, Events and its gRPC client) took %s of %s sampled (%s); the rest is the apiserver, etcd, the creators and the watch. The scheduler's CPU by activity:\n\n",
			s.w.name, s.w.name, c.scheduler.Round(10*time.Millisecond), c.total.Round(10*time.Millisecond), percent(float64(c.scheduler)/float64(c.total)))
		pt := &table{header: []string{"Activity", "Share of all CPU"}, align: "lr"}
		for _, p := range c.parts {
			pt.add(p.name, percent(float64(p.cpu)/float64(c.total)))
		}
		pt.write(b)
		fmt.Fprintf(b, "\nThe scheduler's functions, cumulative (with what they call):\n\n")
		ft := &table{header: []string{"Function", "Share of all CPU"}, align: "lr"}
		for _, f := range c.functions {
			ft.add(f.name, percent(float64(f.cpu)/float64(c.total)))
		}
		ft.write(b)
	}
}

func schedWorkloadLine(rs []*schedResult, name string) string {
	for _, s := range rs {
		if s.w.name != name {
			continue
		}
		if !s.w.constrained {
			return fmt.Sprintf("%s Nodes, %s Pods without constraints", fmtInt(int64(s.w.nodes)), fmtInt(int64(s.w.pods)))
		}
		return fmt.Sprintf("%s Nodes in %d zones, a third of them tier c and half disk=ssd; %s Pods that must spread "+
			"evenly over the zones (maxSkew 1, DoNotSchedule), prefer to spread over Nodes (ScheduleAnyway), require "+
			"tier a or b and prefer disk=ssd; checked afterwards (zone skew, tiers, no Node overcommitted)",
			fmtInt(int64(s.w.nodes)), s.w.zones, fmtInt(int64(s.w.pods)))
	}
	return "not run"
}
