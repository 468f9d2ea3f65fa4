package queue

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// Defaults of Options.
const (
	DefaultInitialBackoff   = 1 * time.Second
	DefaultMaxBackoff       = 10 * time.Second
	DefaultMaxUnschedulable = 60 * time.Second
	DefaultFlushInterval    = 1 * time.Second
)

// ErrClosed is returned by Pop once the queue is closed.
var ErrClosed = errors.New("scheduling queue closed")

// QueuedPod is a Pod in the queue with its scheduling history.
type QueuedPod struct {
	Info *framework.PodInfo
	// Timestamp is when the Pod last entered the queue: its place in line among Pods of equal
	// priority, and the start of its backoff after a failure.
	Timestamp time.Time
	// FirstSeen is when the queue first got the Pod: the start of its end-to-end latency.
	FirstSeen time.Time
	// Attempts counts the times the Pod was popped.
	Attempts int
	// Cycle is the scheduling cycle of the Pod's last Pop.
	Cycle int64

	unschedulableSince time.Time
}

// Options tune a Queue; zero fields take the defaults.
type Options struct {
	InitialBackoff, MaxBackoff time.Duration
	// MaxUnschedulable is the longest a Pod stays in the unschedulable set.
	MaxUnschedulable time.Duration
	// FlushInterval is how often Run moves Pods whose wait is over.
	FlushInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Lengths are the number of Pods in each part of the queue.
type Lengths struct {
	Active, Backoff, Unschedulable, InFlight int
}

// Queue is the scheduling queue.
type Queue struct {
	opts Options

	mu            sync.Mutex
	cond          *sync.Cond
	active        *podHeap
	backoff       *podHeap
	unschedulable map[string]*QueuedPod
	inFlight      map[string]*flight
	closed        bool
	// cycle counts Pops; moveCycle is the cycle of the last MoveAllToActiveOrBackoff.
	cycle, moveCycle int64
}

// flight is what happened to a Pod while it was being scheduled.
type flight struct {
	latest  *framework.PodInfo
	updated bool // changed in a way that may make it fit
	deleted bool
}

// New returns an empty queue.
func New(opts Options) *Queue {
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = DefaultInitialBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxUnschedulable <= 0 {
		opts.MaxUnschedulable = DefaultMaxUnschedulable
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q := &Queue{
		opts:          opts,
		unschedulable: map[string]*QueuedPod{},
		inFlight:      map[string]*flight{},
		active: newPodHeap(func(a, b *QueuedPod) bool {
			if a.Info.Priority != b.Info.Priority {
				return a.Info.Priority > b.Info.Priority
			}
			return a.Timestamp.Before(b.Timestamp)
		}),
	}
	q.backoff = newPodHeap(func(a, b *QueuedPod) bool { return q.backoffExpiry(a).Before(q.backoffExpiry(b)) })
	q.cond = sync.NewCond(&q.mu)
	return q
}

// backoffDuration is InitialBackoff doubled for each attempt after the first, up to MaxBackoff.
func (q *Queue) backoffDuration(p *QueuedPod) time.Duration {
	d := q.opts.InitialBackoff
	for i := 1; i < p.Attempts; i++ {
		d *= 2
		if d >= q.opts.MaxBackoff {
			return q.opts.MaxBackoff
		}
	}
	return d
}

func (q *Queue) backoffExpiry(p *QueuedPod) time.Time {
	return p.Timestamp.Add(q.backoffDuration(p))
}

// Add puts a new Pod in the active queue; a Pod the queue has already is updated instead.
func (q *Queue) Add(pi *framework.PodInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.updateLocked(pi) {
		return
	}
	now := q.opts.Now()
	q.active.add(&QueuedPod{Info: pi, Timestamp: now, FirstSeen: now})
	q.cond.Signal()
}

// Update replaces a Pod's object. An unschedulable Pod whose spec, labels or annotations
// changed gets another attempt (after its backoff); a Pod the queue does not hold is added.
func (q *Queue) Update(pi *framework.PodInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.updateLocked(pi) {
		return
	}
	now := q.opts.Now()
	q.active.add(&QueuedPod{Info: pi, Timestamp: now, FirstSeen: now})
	q.cond.Signal()
}

// updateLocked updates the Pod wherever the queue holds it; false if it holds it nowhere.
func (q *Queue) updateLocked(pi *framework.PodInfo) bool {
	key := pi.Key
	if f, ok := q.inFlight[key]; ok {
		if changed(f.latest.Pod, pi.Pod) {
			f.updated = true
		}
		f.latest = pi
		return true
	}
	if p, ok := q.active.get(key); ok {
		p.Info = pi
		q.active.add(p)
		return true
	}
	if p, ok := q.backoff.get(key); ok {
		p.Info = pi
		q.backoff.add(p)
		return true
	}
	if p, ok := q.unschedulable[key]; ok {
		old := p.Info
		p.Info = pi
		if changed(old.Pod, pi.Pod) {
			delete(q.unschedulable, key)
			q.activateOrBackoffLocked(p)
		}
		return true
	}
	return false
}

// changed reports whether an update may change where a Pod fits: its spec, labels or
// annotations (not its status, which the scheduler itself writes).
func changed(a, b *corev1.Pod) bool {
	return !proto.Equal(a.GetSpec(), b.GetSpec()) ||
		!maps.Equal(a.GetMetadata().GetLabels(), b.GetMetadata().GetLabels()) ||
		!maps.Equal(a.GetMetadata().GetAnnotations(), b.GetMetadata().GetAnnotations())
}

// Delete removes the Pod with key ("namespace/name") from the queue.
func (q *Queue) Delete(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if f, ok := q.inFlight[key]; ok {
		f.deleted = true
	}
	q.active.remove(key)
	q.backoff.remove(key)
	delete(q.unschedulable, key)
}

// Pop waits for a Pod in the active queue and takes it; the Pod is in flight until Done or
// Requeue. It fails once the queue is closed or ctx ends.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, error) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.cond.Broadcast()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 {
		if q.closed {
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.cond.Wait()
	}
	p := q.active.pop()
	q.cycle++
	p.Cycle = q.cycle
	p.Attempts++
	q.inFlight[p.Info.Key] = &flight{latest: p.Info}
	return p, nil
}

// Done ends a Pod's flight: it was assumed onto a Node and leaves the queue.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, key)
}

// Requeue puts back a Pod whose attempt failed, with its latest object: into the
// unschedulable set when no Node fitted (unschedulable), or when a move request or an update
// came during the attempt and for other failures, into the backoff queue. A Pod deleted in
// the meantime, or already queued again, is left alone. It returns false when the Pod was
// not requeued.
func (q *Queue) Requeue(p *QueuedPod, unschedulable bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := p.Info.Key
	f, flying := q.inFlight[key]
	delete(q.inFlight, key)
	if flying {
		if f.deleted {
			return false
		}
		p.Info = f.latest
	}
	if _, ok := q.active.get(key); ok {
		return false
	}
	if _, ok := q.backoff.get(key); ok {
		return false
	}
	if _, ok := q.unschedulable[key]; ok {
		return false
	}
	now := q.opts.Now()
	p.Timestamp = now
	if unschedulable && q.moveCycle < p.Cycle && !(flying && f.updated) {
		p.unschedulableSince = now
		q.unschedulable[key] = p
		return true
	}
	q.backoff.add(p)
	return true
}

// MoveAllToActiveOrBackoff gives every unschedulable Pod another attempt: something changed
// that may make it fit. Pods still in their backoff wait it out in the backoff queue.
func (q *Queue) MoveAllToActiveOrBackoff() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for key, p := range q.unschedulable {
		delete(q.unschedulable, key)
		q.activateOrBackoffLocked(p)
	}
	q.moveCycle = q.cycle
}

func (q *Queue) activateOrBackoffLocked(p *QueuedPod) {
	if q.opts.Now().Before(q.backoffExpiry(p)) {
		q.backoff.add(p)
		return
	}
	q.active.add(p)
	q.cond.Signal()
}

// Flush moves the Pods whose backoff is over to the active queue, and those unschedulable
// for MaxUnschedulable back through the backoff queue. Run calls it every FlushInterval.
func (q *Queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	for p := q.backoff.peek(); p != nil && !now.Before(q.backoffExpiry(p)); p = q.backoff.peek() {
		q.backoff.pop()
		q.active.add(p)
		q.cond.Signal()
	}
	for key, p := range q.unschedulable {
		if now.Sub(p.unschedulableSince) >= q.opts.MaxUnschedulable {
			delete(q.unschedulable, key)
			q.activateOrBackoffLocked(p)
		}
	}
}

// Run flushes the queue every FlushInterval until ctx ends, then closes it.
func (q *Queue) Run(ctx context.Context) {
	t := time.NewTicker(q.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			q.Flush()
		case <-ctx.Done():
			q.Close()
			return
		}
	}
}

// Close wakes every Pop, which then fails with ErrClosed.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Len returns the number of Pods in each part of the queue.
func (q *Queue) Len() Lengths {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Lengths{Active: q.active.Len(), Backoff: q.backoff.Len(), Unschedulable: len(q.unschedulable), InFlight: len(q.inFlight)}
}

// Where says where the queue holds the Pod with key: "active", "backoff", "unschedulable",
// "inFlight" or "" (nowhere).
func (q *Queue) Where(key string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.inFlight[key] != nil:
		return "inFlight"
	case q.unschedulable[key] != nil:
		return "unschedulable"
	}
	if _, ok := q.active.get(key); ok {
		return "active"
	}
	if _, ok := q.backoff.get(key); ok {
		return "backoff"
	}
	return ""
}
