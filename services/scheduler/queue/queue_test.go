package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newQueue() (*Queue, *clock) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	return New(Options{Now: c.Now}), c
}

func pod(name string, priority int32) *framework.PodInfo {
	p := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Uid: "uid-" + name},
		Spec:     &corev1.PodSpec{Priority: &priority, Containers: []*corev1.Container{{Name: "c"}}},
	}
	return framework.NewPodInfo(p)
}

func pop(t *testing.T, q *Queue) *QueuedPod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: %v", err)
	}
	return p
}

func TestOrder(t *testing.T) {
	q, c := newQueue()
	q.Add(pod("low-old", 0))
	c.step(time.Second)
	q.Add(pod("high", 100))
	c.step(time.Second)
	q.Add(pod("low-new", 0))
	q.Add(pod("negative", -5))
	var got []string
	for range 4 {
		got = append(got, pop(t, q).Info.Pod.Metadata.Name)
	}
	if fmt.Sprint(got) != "[high low-old low-new negative]" {
		t.Errorf("order %v, want by priority, then age", got)
	}
}

func TestBackoffDoubles(t *testing.T) {
	q, c := newQueue()
	q.Add(pod("p", 0))
	var waits []time.Duration
	for range 6 {
		p := pop(t, q)
		q.Requeue(p, false)
		if w := q.Where("default/p"); w != "backoff" {
			t.Fatalf("after a failed attempt the pod is in %q, want backoff", w)
		}
		var waited time.Duration
		for q.Where("default/p") == "backoff" {
			c.step(100 * time.Millisecond)
			waited += 100 * time.Millisecond
			q.Flush()
		}
		waits = append(waits, waited)
	}
	if fmt.Sprint(waits) != "[1s 2s 4s 8s 10s 10s]" {
		t.Errorf("backoffs %v, want 1s doubling to 10s", waits)
	}
}

func TestUnschedulable(t *testing.T) {
	q, c := newQueue()
	q.Add(pod("p", 0))
	p := pop(t, q)
	if !q.Requeue(p, true) || q.Where("default/p") != "unschedulable" {
		t.Fatalf("unschedulable pod is in %q", q.Where("default/p"))
	}
	// A move request: the Pod goes back, through the backoff queue while its backoff lasts.
	q.MoveAllToActiveOrBackoff()
	if w := q.Where("default/p"); w != "backoff" {
		t.Fatalf("after a move request within the backoff: %q, want backoff", w)
	}
	c.step(time.Second)
	q.Flush()
	if w := q.Where("default/p"); w != "active" {
		t.Fatalf("after the backoff: %q, want active", w)
	}
	p = pop(t, q)
	q.Requeue(p, true)
	c.step(time.Minute)
	q.MoveAllToActiveOrBackoff()
	if w := q.Where("default/p"); w != "active" {
		t.Fatalf("after a move request past the backoff: %q, want active", w)
	}

	// Left alone, an unschedulable Pod is retried after a minute.
	p = pop(t, q)
	q.Requeue(p, true)
	c.step(59 * time.Second)
	q.Flush()
	if w := q.Where("default/p"); w != "unschedulable" {
		t.Fatalf("after 59s: %q, want unschedulable", w)
	}
	c.step(time.Second)
	q.Flush()
	if w := q.Where("default/p"); w != "active" {
		t.Fatalf("after 60s: %q, want active", w)
	}
}

// A move request during an attempt sends the Pod to the backoff queue, not the
// unschedulable set: the change may be what it needs.
func TestMoveDuringFlight(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	p := pop(t, q)
	q.MoveAllToActiveOrBackoff()
	q.Requeue(p, true)
	if w := q.Where("default/p"); w != "backoff" {
		t.Fatalf("%q, want backoff", w)
	}
}

func TestUpdates(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	p := pop(t, q)
	q.Requeue(p, true)

	// A status-only update (the scheduler's own condition) leaves it where it is.
	upd := pod("p", 0)
	upd.Pod.Status = &corev1.PodStatus{Conditions: []*corev1.PodCondition{{Type: "PodScheduled", Status: "False"}}}
	q.Update(framework.NewPodInfo(upd.Pod))
	if w := q.Where("default/p"); w != "unschedulable" {
		t.Fatalf("after a status update: %q, want unschedulable", w)
	}
	// A spec change gives it another attempt.
	upd = pod("p", 0)
	upd.Pod.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	q.Update(upd)
	if w := q.Where("default/p"); w == "unschedulable" || w == "" {
		t.Fatalf("after a spec update: %q, want active or backoff", w)
	}

	// An update while in flight is what the requeue keeps.
	q2, _ := newQueue()
	q2.Add(pod("p", 0))
	p = pop(t, q2)
	upd = pod("p", 7)
	q2.Update(upd)
	q2.Requeue(p, true)
	if w := q2.Where("default/p"); w != "backoff" {
		t.Fatalf("a pod updated in flight went to %q, want backoff", w)
	}
	if p.Info != upd {
		t.Error("the requeued pod is not the latest version")
	}
}

func TestDelete(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("a", 0))
	q.Add(pod("b", 0))
	q.Delete("default/a")
	if q.Where("default/a") != "" {
		t.Fatal("deleted pod still queued")
	}
	p := pop(t, q)
	q.Delete("default/b") // while in flight
	if q.Requeue(p, false) || q.Where("default/b") != "" {
		t.Fatal("a pod deleted in flight was requeued")
	}
	if l := q.Len(); l != (Lengths{}) {
		t.Errorf("lengths %+v, want all zero", l)
	}
}

func TestDoneAndRequeueAfter(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	p := pop(t, q)
	if l := q.Len(); l.InFlight != 1 {
		t.Fatalf("lengths %+v, want one in flight", l)
	}
	q.Done("default/p")
	// A binding that fails later puts the Pod back.
	if !q.Requeue(p, false) || q.Where("default/p") != "backoff" {
		t.Fatalf("requeue after Done: %q", q.Where("default/p"))
	}
	// Requeueing a Pod queued already does nothing.
	if q.Requeue(p, false) {
		t.Error("requeued twice")
	}
}

func TestPopBlocksUntilAddOrClose(t *testing.T) {
	q, _ := newQueue()
	got := make(chan string, 1)
	go func() {
		p, err := q.Pop(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- p.Info.Key
	}()
	time.Sleep(20 * time.Millisecond)
	q.Add(pod("late", 0))
	if k := <-got; k != "default/late" {
		t.Fatalf("Pop returned %q", k)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := q.Pop(ctx); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Pop after cancel: %v", err)
	}
	go func() { _, err := q.Pop(context.Background()); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	q.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop after Close: %v", err)
	}
}

func TestAddExisting(t *testing.T) {
	q, _ := newQueue()
	q.Add(pod("p", 0))
	q.Add(pod("p", 5)) // a re-list: an update, not a second entry
	if l := q.Len(); l.Active != 1 {
		t.Fatalf("lengths %+v", l)
	}
	if p := pop(t, q); p.Info.Priority != 5 {
		t.Errorf("priority %d, want the latest 5", p.Info.Priority)
	}
}
