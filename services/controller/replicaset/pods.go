package replicaset

import (
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Pod phases and the condition this package reads.
const (
	phasePending   = "Pending"
	phaseRunning   = "Running"
	phaseSucceeded = "Succeeded"
	phaseFailed    = "Failed"
	phaseUnknown   = "Unknown"
	podReady       = "Ready"
)

// isActive reports whether a Pod counts as a replica: not finished, not being deleted
// (Kubernetes' controller.IsPodActive).
func isActive(p *corev1.Pod) bool {
	ph := p.GetStatus().GetPhase()
	return ph != phaseSucceeded && ph != phaseFailed && p.GetMetadata().GetDeletionTimestamp() == nil
}

// readyCondition is the Pod's Ready condition, or nil.
func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == podReady {
			return c
		}
	}
	return nil
}

// isReady reports whether the Pod's Ready condition is True.
func isReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.GetStatus() == "True"
}

// readySince is when the Pod last became ready; zero when it is not ready or does not say.
func readySince(p *corev1.Pod) time.Time {
	c := readyCondition(p)
	if c == nil || c.GetStatus() != "True" || c.GetLastTransitionTime() == nil {
		return time.Time{}
	}
	return c.GetLastTransitionTime().AsTime()
}

// availableIn is how long until a Pod is available: ready for strictly more than minReady
// (Kubernetes' IsPodAvailable). It is 0 for a Pod available now; ok is false for a Pod that
// never will be as it stands (not ready, or ready since an unknown time with a minReady).
func availableIn(p *corev1.Pod, minReady time.Duration, now time.Time) (wait time.Duration, ok bool) {
	if !isReady(p) {
		return 0, false
	}
	if minReady == 0 {
		return 0, true
	}
	since := readySince(p)
	if since.IsZero() {
		return 0, false
	}
	due := since.Add(minReady)
	if due.Before(now) {
		return 0, true
	}
	return max(due.Sub(now), time.Nanosecond), true
}

// isAvailable reports whether the Pod has been ready for more than minReady.
func isAvailable(p *corev1.Pod, minReady time.Duration, now time.Time) bool {
	wait, ok := availableIn(p, minReady, now)
	return ok && wait == 0
}
