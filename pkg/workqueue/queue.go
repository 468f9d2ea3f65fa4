package workqueue

import (
	"sync"
	"time"
)

// Queue is a rate-limited, de-duplicating work queue of keys. It is safe for concurrent use.
// The zero value is not usable: call New.
type Queue struct {
	limiter RateLimiter

	mu         sync.Mutex
	cond       *sync.Cond
	queue      []string            // keys ready to be processed, in order
	dirty      map[string]struct{} // keys that need processing: queued, or re-added while processing
	processing map[string]struct{} // keys a worker holds between Get and Done
	delayed    map[string]*delay   // keys waiting for AddAfter's timer, with the earliest deadline
	shutdown   bool
}

// delay is one pending AddAfter.
type delay struct {
	at    time.Time
	timer *time.Timer
}

// New returns an empty queue that backs off failing keys with limiter (DefaultRateLimiter()
// when nil).
func New(limiter RateLimiter) *Queue {
	if limiter == nil {
		limiter = DefaultRateLimiter()
	}
	q := &Queue{
		limiter:    limiter,
		dirty:      map[string]struct{}{},
		processing: map[string]struct{}{},
		delayed:    map[string]*delay{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues key unless it is already waiting. A key being processed is queued again when its
// worker calls Done.
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue) addLocked(key string) {
	if q.shutdown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		return
	}
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		return
	}
	q.queue = append(q.queue, key)
	q.cond.Signal()
}

// AddAfter adds key once d has passed (at once when d <= 0). When key is already waiting for
// an earlier deadline, the later one is dropped: a key waits for at most one timer.
func (q *Queue) AddAfter(key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	at := time.Now().Add(d)
	if old, ok := q.delayed[key]; ok {
		if !at.Before(old.at) {
			return
		}
		old.timer.Stop()
	}
	dl := &delay{at: at}
	dl.timer = time.AfterFunc(d, func() { q.fire(key, dl) })
	q.delayed[key] = dl
}

// fire moves a delayed key into the queue, unless a sooner AddAfter replaced its timer.
func (q *Queue) fire(key string, dl *delay) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.delayed[key] != dl {
		return
	}
	delete(q.delayed, key)
	q.addLocked(key)
}

// AddRateLimited adds key after the delay the rate limiter gives it: the backoff of a key whose
// processing failed.
func (q *Queue) AddRateLimited(key string) {
	q.AddAfter(key, q.limiter.When(key))
}

// Forget resets key's backoff: call it when the key was processed successfully (or will not be
// retried). It does not remove key from the queue.
func (q *Queue) Forget(key string) { q.limiter.Forget(key) }

// NumRequeues is how many times key was rate-limited since it was last forgotten.
func (q *Queue) NumRequeues(key string) int { return q.limiter.NumRequeues(key) }

// Get blocks until a key is ready and hands it to the caller, who must call Done(key) when
// finished. It returns shutdown=true, and no key, once the queue is shut down.
func (q *Queue) Get() (key string, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if q.shutdown {
		return "", true
	}
	key = q.queue[0]
	q.queue[0] = ""
	q.queue = q.queue[1:]
	if len(q.queue) == 0 {
		q.queue = nil // let the backing array go once drained
	}
	q.processing[key] = struct{}{}
	delete(q.dirty, key)
	return key, false
}

// Done marks key as processed. If it was added again meanwhile it goes back in the queue.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok && !q.shutdown {
		q.queue = append(q.queue, key)
		q.cond.Signal()
	}
}

// Len is the queue's depth: the keys ready and waiting for a worker (not those being processed
// or delayed).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// Delayed is how many keys wait for an AddAfter or AddRateLimited deadline.
func (q *Queue) Delayed() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.delayed)
}

// ShutDown stops the queue: blocked and future Get calls return shutdown=true, keys still
// queued or delayed are dropped and later adds are ignored. It is safe to call more than once.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	for key, dl := range q.delayed {
		dl.timer.Stop()
		delete(q.delayed, key)
	}
	q.queue = nil
	q.cond.Broadcast()
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutdown
}
