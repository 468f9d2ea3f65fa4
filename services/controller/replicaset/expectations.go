package replicaset

import (
	"sync"
	"time"
)

// ExpectationsTimeout is how long the creates and deletes an owner expects may stay unseen
// before the owner is synced regardless: a watch event can be lost for good (Kubernetes'
// ExpectationsTimeout).
const ExpectationsTimeout = 5 * time.Minute

// expectations remember, per owner key, the Pod creates and deletes the controller has made
// and its Pod informer has not reported yet (Kubernetes' UIDTrackingControllerExpectations).
// Deletes are tracked by Pod key, so that a Pod seen first with a deletionTimestamp and then
// gone counts once.
type expectations struct {
	now func() time.Time

	mu    sync.Mutex
	byKey map[string]*expectation
}

// expectation is what one owner waits for.
type expectation struct {
	adds, dels int
	deleting   map[string]struct{} // keys of the Pods whose deletion is expected
	set        time.Time
}

func newExpectations(now func() time.Time) *expectations {
	if now == nil {
		now = time.Now
	}
	return &expectations{now: now, byKey: map[string]*expectation{}}
}

// satisfied reports whether the owner key may be synced: nothing is expected (or ever was),
// everything expected was seen, or the expectations expired.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.byKey[key]
	if !ok {
		return true
	}
	return (x.adds <= 0 && x.dels <= 0) || e.now().Sub(x.set) > ExpectationsTimeout
}

// expectCreations records that n Pods are being created for key.
func (e *expectations) expectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.byKey[key] = &expectation{adds: n, set: e.now()}
}

// expectDeletions records that the Pods podKeys are being deleted for key.
func (e *expectations) expectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{dels: len(podKeys), deleting: make(map[string]struct{}, len(podKeys)), set: e.now()}
	for _, k := range podKeys {
		x.deleting[k] = struct{}{}
	}
	e.byKey[key] = x
}

// creationObserved lowers by one the creates key waits for (a Pod seen, or a create that
// failed or was never attempted).
func (e *expectations) creationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.byKey[key]; ok {
		x.adds--
	}
}

// deletionObserved lowers the deletes key waits for when the Pod podKey was one of them; a Pod
// counts once however often it is reported.
func (e *expectations) deletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.byKey[key]
	if !ok {
		return
	}
	if _, ok := x.deleting[podKey]; ok {
		delete(x.deleting, podKey)
		x.dels--
	}
}

// forget drops what key expects (its owner is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byKey, key)
}
