package agent

import "errors"

// newPodWorkers builds the pod workers of agent/podworker for a.
//
// TODO(A3): agent/podworker has not landed yet; this is wired to it as soon as it does.
func newPodWorkers(a *agent) (podWorkers, error) {
	return nil, errors.New("agent: the pod workers (agent/podworker) are not available yet")
}
