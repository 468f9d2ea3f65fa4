package main

import (
	"bytes"
	"fmt"
	"time"
)

// deployTargets adds the deployment benchmark's rows to the targets table.
func (r *report) deployTargets(t *table) {
	d := r.deploy
	if d == nil || d.skipped != "" || d.create == nil || d.raw == nil || d.rollout == nil {
		return
	}
	n := fmtInt(int64(d.cfg.replicas))
	t.add(fmt.Sprintf("%s-replica Deployment create → all available, within %.0f× of the raw Pods path (%s Pods from %d clients → Running and Ready, same Nodes)", n, deployRatioTarget, n, d.cfg.creators),
		fmt.Sprintf("%s s (raw %s s: %s)", fmtSecs(d.create.elapsed), fmtSecs(d.raw.elapsed), ratio(d.create.elapsed, d.raw.elapsed)),
		passMiss(float64(d.create.elapsed) <= deployRatioTarget*float64(d.raw.elapsed)))
	t.add(fmt.Sprintf("Rolling update of %s replicas, maxSurge 25%%, maxUnavailable 25%% → complete (as `kubectl rollout status`)", n),
		fmt.Sprintf("%s s (%s Pods/s)", fmtSecs(d.rollout.elapsed), fmtRate(d.rollout.podsPerSecond())), passMiss(d.rollout.elapsed > 0))
	peak := d.peakServer()
	t.add(fmt.Sprintf("Control plane (`berth server`, embedded etcd) peak RSS ≤ 300 MB through the raw, create and rolling update phases (%s replicas on %d hollow Nodes)", n, d.cfg.nodes),
		fmt.Sprintf("%s (%.0f MB)", fmtBytes(peak), float64(peak)/1e6), passMiss(peak > 0 && peak <= deployRSSTarget))
}

// peakServer is the control plane's highest peak RSS over the phases.
func (d *deployResult) peakServer() int64 {
	var peak int64
	for _, ph := range []*deployPhase{d.raw, d.create, d.rollout} {
		if ph != nil {
			peak = max(peak, ph.server.peak)
		}
	}
	return peak
}

// deploySection writes the deployment benchmark's results.
func (r *report) deploySection(b *bytes.Buffer) {
	d := r.deploy
	if d == nil {
		return
	}
	fmt.Fprintf(b, "\n## Deployment\n\n")
	if d.skipped != "" {
		fmt.Fprintf(b, "Not run: %s.\n", d.skipped)
		return
	}
	if d.raw == nil {
		fmt.Fprintf(b, "No phase completed (see the failed benchmarks above).\n")
		return
	}
	n := fmtInt(int64(d.cfg.replicas))
	fmt.Fprintf(b, `The control plane runs as users run it, `+"`bin/berth server`"+` in its own process (embedded etcd on
a fresh data directory, apiserver, scheduler, controller manager, gateway), so that its CPU and
memory are measured whole and alone, etcd included: DESIGN.md's memory target is that of the
all-in-one control plane, and none of the benchmark's clients share its process. %d hollow
Nodes run in one `+"`bin/berth agent --runtime fake --hollow-nodes %d`"+` process (the fake runtime runs
nothing; a container is Running as soon as it is started). The Pods run one `+"`%s`"+` container
requesting 100m CPU and 64 MiB, with its version in an environment variable. A warm-up Pod
comes up before the raw Pods, and a warm-up Deployment of one replica, in its own namespace,
before the Deployment (the scheduler and the controllers lead and their caches are synced).

- **Raw Pods**: %d clients create %s Pods straight through the apiserver (no controller
  involved); time from the first create sent to the watch event that shows the last one Running
  and Ready. This is what a Deployment can at best approach. The Pods are then deleted, and gone
  before the next phase.
- **Deployment create**: one Deployment of %s replicas; time from the Create call to the watch
  event of the Deployment whose status shows %s updated and %s available replicas.
- **Rolling update**: its template's environment variable changes (RollingUpdate, maxSurge 25%%,
  maxUnavailable 25%%); time from the Update call to the watch event where the rollout is
  complete as `+"`kubectl rollout status`"+` says: observedGeneration ≥ generation, updated =
  replicas, no old replicas left (status.replicas = updated), available = updated.

A watch of the Pods records when the last of a phase's Pods was first seen (**all created**),
bound (**all bound**), and Running and Ready (**all Ready**). **CPU** is utime + stime of each
process over the phase, from /proc/PID/stat; **peak RSS** is VmHWM from /proc/PID/status, reset
at the start of each phase (clear_refs)%s. Every phase runs alone on the same processes, one
after the other, in the same run.

`, d.cfg.nodes, d.cfg.nodes, benchAppImage, d.cfg.creators, n, n, n, n, map[bool]string{true: "", false: " — this kernel refused the reset, so each peak is the process's since it started"}[d.peakResettable])
	t := &table{header: []string{"Phase", "Seconds", "Pods/s", "All created", "All bound", "All Ready", "Old Pods gone",
		"Control plane CPU", "Control plane peak RSS", "Agent CPU", "Agent peak RSS"}, align: "lrrrrrrrrrr"}
	for _, row := range []struct {
		name string
		ph   *deployPhase
	}{
		{fmt.Sprintf("Raw: %s Pods from %d clients → Running and Ready", n, d.cfg.creators), d.raw},
		{fmt.Sprintf("Deployment of %s replicas: create → all available", n), d.create},
		{fmt.Sprintf("Rolling update of %s replicas → complete", n), d.rollout},
	} {
		ph := row.ph
		if ph == nil {
			continue
		}
		t.add(row.name, fmtSecs(ph.elapsed), fmtRate(ph.podsPerSecond()), fmtMilestone(ph.created), fmtMilestone(ph.bound), fmtMilestone(ph.ready), fmtMilestone(ph.oldGone),
			fmtCPU(ph.server.cpu, ph.elapsed), fmtBytes(ph.server.peak), fmtCPU(ph.agent.cpu, ph.elapsed), fmtBytes(ph.agent.peak))
	}
	t.write(b)
	if ro := d.rollout; ro != nil {
		surge, unavailable := (d.cfg.replicas+3)/4, d.cfg.replicas/4
		fmt.Fprintf(b, "\nDuring the rolling update the Pod watch saw at most %s Pods not terminating (the Deployment's bound is replicas + maxSurge = %s, which the controller keeps on the ReplicaSets' replicas, Pods lagging behind them) and never fewer than %s of them Running and Ready (replicas − maxUnavailable = %s).\n",
			fmtInt(int64(ro.maxActive)), fmtInt(int64(d.cfg.replicas+surge)), fmtInt(int64(ro.minReady)), fmtInt(int64(d.cfg.replicas-unavailable)))
	}
	d.memoryTable(b)
	fmt.Fprintf(b, "\nWith the %d Nodes Ready and no Pod yet (after %s), the control plane's RSS was %s and the agent's %s.",
		d.cfg.nodes, d.nodesReadyIn.Round(100*time.Millisecond), fmtBytes(d.idleServer.rss), fmtBytes(d.idleAgent.rss))
	if d.raw != nil && d.create != nil {
		fmt.Fprintf(b, " The Deployment took %s the raw path's time", ratio(d.create.elapsed, d.raw.elapsed))
		if d.raw.server.cpu > 0 {
			fmt.Fprintf(b, " and %s its control-plane CPU", ratio(d.create.server.cpu, d.raw.server.cpu))
		}
		b.WriteString(".")
	}
	if d.cleanupErr != "" {
		fmt.Fprintf(b, " Cleanup: %s.", d.cleanupErr)
	} else if d.cleanupIn > 0 {
		fmt.Fprintf(b, " Deleting the namespaces took %s.", d.cleanupIn.Round(100*time.Millisecond))
	}
	b.WriteString("\n")
}

// memoryTable writes the processes' memory at the end of each phase.
func (d *deployResult) memoryTable(b *bytes.Buffer) {
	fmt.Fprintf(b, "\nMemory at the end of each phase (RSS from /proc/PID/status, split into anonymous memory (heaps, stacks) and mapped files (the binary, etcd's database); Go heap in use from the process's /metrics):\n\n")
	t := &table{header: []string{"After", "Control plane RSS", "anonymous", "mapped files", "Go heap in use", "Agent RSS", "Agent Go heap in use"}, align: "lrrrrrr"}
	for _, row := range []struct {
		name string
		ph   *deployPhase
	}{{"Raw Pods (before their deletion)", d.raw}, {"Deployment create", d.create}, {"Rolling update", d.rollout}} {
		if ph := row.ph; ph != nil {
			t.add(row.name, fmtBytes(ph.server.rss), fmtBytes(ph.server.anon), fmtBytes(ph.server.file), fmtBytes(ph.server.heap), fmtBytes(ph.agent.rss), fmtBytes(ph.agent.heap))
		}
	}
	t.write(b)
}

// fmtSecs writes a duration in seconds.
func fmtSecs(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f", d.Seconds())
	}
	return fmt.Sprintf("%.1f", d.Seconds())
}

// fmtMilestone writes a time since a phase's start, or a dash when not reached.
func fmtMilestone(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmtSecs(d) + " s"
}

// fmtCPU writes CPU seconds and the cores they kept busy over wall.
func fmtCPU(cpu, wall time.Duration) string {
	if wall <= 0 {
		return fmt.Sprintf("%.1f s", cpu.Seconds())
	}
	return fmt.Sprintf("%.1f s (%.2f cores)", cpu.Seconds(), cpu.Seconds()/wall.Seconds())
}
