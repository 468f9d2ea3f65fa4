package endpoints

import (
	"sync"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// triggerTimes computes the endpoints.kubernetes.io/last-change-trigger-time annotation as
// Kubernetes' TriggerTimeTracker does: the Service's creation time the first time it is seen,
// then the earliest of the changes seen since its last reconcile, where a Pod's change is its
// Ready condition's lastTransitionTime. Zero when nothing changed (the annotation is removed
// then).
type triggerTimes struct {
	mu    sync.Mutex
	state map[string]triggerState // by Service key
}

type triggerState struct {
	service time.Time
	pods    map[string]time.Time // by Pod name
}

func newTriggerTimes() *triggerTimes { return &triggerTimes{state: map[string]triggerState{}} }

// compute returns the trigger time of this reconcile of Service key and remembers what it saw.
func (t *triggerTimes) compute(key string, svc *corev1.Service, pods []*corev1.Pod) time.Time {
	t.mu.Lock()
	old, known := t.state[key]
	t.mu.Unlock()
	var earliest time.Time
	consider := func(now, before time.Time) {
		if now.After(before) && (earliest.IsZero() || now.Before(earliest)) {
			earliest = now
		}
	}
	next := triggerState{pods: make(map[string]time.Time, len(pods))}
	for _, pod := range pods {
		var at time.Time
		for _, c := range pod.GetStatus().GetConditions() {
			if c.GetType() == "Ready" && c.GetLastTransitionTime() != nil {
				at = c.GetLastTransitionTime().AsTime()
			}
		}
		name := pod.GetMetadata().GetName()
		next.pods[name] = at
		consider(at, old.pods[name])
	}
	if ts := svc.GetMetadata().GetCreationTimestamp(); ts != nil {
		next.service = ts.AsTime()
	}
	consider(next.service, old.service)
	t.mu.Lock()
	t.state[key] = next
	t.mu.Unlock()
	if !known {
		return next.service // first look at the Service: its creation
	}
	return earliest
}

// forget drops what was remembered of Service key.
func (t *triggerTimes) forget(key string) {
	t.mu.Lock()
	delete(t.state, key)
	t.mu.Unlock()
}

// staleTracker remembers, per Endpoints, the resourceVersion the controller last wrote over
// ("" for a create), so that a reconcile that runs before the informer's cache has seen the
// write waits for it instead of writing over a stale copy (a conflict) or creating twice.
// The informer's event of the write clears the mark and reconciles the key again; a mark
// older than staleFor is ignored, should that event never come.
type staleTracker struct {
	mu      sync.Mutex
	pending map[string]staleMark // Endpoints key → what was written over
	now     func() time.Time
}

type staleMark struct {
	resourceVersion string
	at              time.Time
}

// staleFor bounds how long a reconcile waits for the cache to show its own write.
const staleFor = 10 * time.Second

func newStaleTracker() *staleTracker {
	return &staleTracker{pending: map[string]staleMark{}, now: time.Now}
}

// wrote records that the Endpoints key at resourceVersion ("" when absent) was written over.
func (s *staleTracker) wrote(key, resourceVersion string) {
	s.mu.Lock()
	s.pending[key] = staleMark{resourceVersion: resourceVersion, at: s.now()}
	s.mu.Unlock()
}

// stale tells whether the cached Endpoints key, at resourceVersion ("" when absent), is the
// state the controller already wrote over.
func (s *staleTracker) stale(key, resourceVersion string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.pending[key]
	return ok && m.resourceVersion == resourceVersion && s.now().Sub(m.at) < staleFor
}

// observed is told of every state of Endpoints key the informer sees (deleted: ""); it
// reports whether that state ends a wait, clearing the mark.
func (s *staleTracker) observed(key, resourceVersion string, deleted bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.pending[key]
	if !ok || (!deleted && m.resourceVersion == resourceVersion) {
		return false
	}
	delete(s.pending, key)
	return true
}

func (s *staleTracker) forget(key string) {
	s.mu.Lock()
	delete(s.pending, key)
	s.mu.Unlock()
}
