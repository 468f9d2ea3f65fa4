package printers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

func init() {
	handlers["Pod"] = tableHandler{
		columns: []column{
			{name: "NAME"}, {name: "READY"}, {name: "STATUS"}, {name: "RESTARTS"}, {name: "AGE"},
			{name: "IP", wide: true}, {name: "NODE", wide: true},
			{name: "NOMINATED NODE", wide: true}, {name: "READINESS GATES", wide: true},
		},
		row: func(obj scheme.Object, now time.Time) []string {
			p := obj.(*corev1.Pod)
			s := PodStatus(p, now)
			ip := ""
			if ips := p.GetStatus().GetPodIps(); len(ips) > 0 {
				ip = ips[0].GetIp()
			}
			if ip == "" {
				ip = p.GetStatus().GetPodIp()
			}
			return []string{
				p.GetMetadata().GetName(), s.Ready, s.Status, s.Restarts, age(p.GetMetadata().GetCreationTimestamp(), now),
				orNone(ip), orNone(p.GetSpec().GetNodeName()), orNone(p.GetStatus().GetNominatedNodeName()), "<none>",
			}
		},
	}
}

// PodSummary is what kubectl's Pod table says about a Pod.
type PodSummary struct {
	// Ready is "ready/total" containers.
	Ready string
	// Status is the STATUS column: the phase, or the reason that best explains the Pod's
	// state (ContainerCreating, CrashLoopBackOff, Init:1/2, Completed, Terminating, ...).
	Status string
	// Restarts is the RESTARTS column: "3", or "3 (5m ago)" when the last restart is known.
	Restarts string
}

// PodStatus computes a Pod's READY, STATUS and RESTARTS cells with kubectl's rules.
func PodStatus(p *corev1.Pod, now time.Time) PodSummary {
	st := p.GetStatus()
	total := len(p.GetSpec().GetContainers())
	ready, restarts := 0, 0
	var lastRestart time.Time

	reason := st.GetPhase()
	if st.GetReason() != "" {
		reason = st.GetReason()
	}
	for _, c := range st.GetConditions() {
		if c.GetType() == "PodScheduled" && c.GetReason() == "SchedulingGated" {
			reason = "SchedulingGated"
		}
	}
	noteRestart := func(cs *corev1.ContainerStatus) {
		restarts += int(cs.GetRestartCount())
		if t := cs.GetLastState().GetTerminated(); t != nil && t.GetFinishedAt() != nil {
			if f := t.GetFinishedAt().AsTime(); f.After(lastRestart) {
				lastRestart = f
			}
		}
	}

	initializing := false
	nInit := len(p.GetSpec().GetInitContainers())
	for i, cs := range st.GetInitContainerStatuses() {
		noteRestart(cs)
		term, wait := cs.GetState().GetTerminated(), cs.GetState().GetWaiting()
		switch {
		case term != nil && term.GetExitCode() == 0:
			continue
		case term != nil:
			switch {
			case term.GetReason() != "":
				reason = "Init:" + term.GetReason()
			case term.GetSignal() != 0:
				reason = fmt.Sprintf("Init:Signal:%d", term.GetSignal())
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", term.GetExitCode())
			}
		case wait != nil && wait.GetReason() != "" && wait.GetReason() != "PodInitializing":
			reason = "Init:" + wait.GetReason()
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, nInit)
		}
		initializing = true
		break
	}

	if !initializing || conditionTrue(st.GetConditions(), "Initialized") {
		restarts, lastRestart = 0, time.Time{}
		hasRunning := false
		cstats := st.GetContainerStatuses()
		for i := len(cstats) - 1; i >= 0; i-- {
			cs := cstats[i]
			noteRestart(cs)
			term, wait := cs.GetState().GetTerminated(), cs.GetState().GetWaiting()
			switch {
			case wait != nil && wait.GetReason() != "":
				reason = wait.GetReason()
			case term != nil && term.GetReason() != "":
				reason = term.GetReason()
			case term != nil && term.GetSignal() != 0:
				reason = fmt.Sprintf("Signal:%d", term.GetSignal())
			case term != nil:
				reason = fmt.Sprintf("ExitCode:%d", term.GetExitCode())
			case cs.GetReady() && cs.GetState().GetRunning() != nil:
				hasRunning = true
				ready++
			}
		}
		// A Pod whose last container completed but another still runs is Running (or NotReady).
		if reason == "Completed" && hasRunning {
			if conditionTrue(st.GetConditions(), "Ready") {
				reason = "Running"
			} else {
				reason = "NotReady"
			}
		}
	}

	if p.GetMetadata().GetDeletionTimestamp() != nil {
		switch {
		case st.GetReason() == "NodeLost":
			reason = "Unknown"
		case st.GetPhase() != "Succeeded" && st.GetPhase() != "Failed":
			reason = "Terminating"
		}
	}

	rs := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		rs = fmt.Sprintf("%d (%s ago)", restarts, age(timestamp(lastRestart), now))
	}
	return PodSummary{Ready: fmt.Sprintf("%d/%d", ready, total), Status: reason, Restarts: rs}
}

// conditionTrue tells whether the Pod condition of this type has status True.
func conditionTrue(conds []*corev1.PodCondition, typ string) bool {
	for _, c := range conds {
		if c.GetType() == typ {
			return c.GetStatus() == "True"
		}
	}
	return false
}
