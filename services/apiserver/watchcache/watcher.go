package watchcache

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/berth-dev/berth/pkg/scheme"
)

// WatchEvent is what a watcher receives.
type WatchEvent struct {
	Type   string
	Object scheme.Object
	// Rev is the revision of the change (for a bookmark, the revision the watcher reached).
	Rev int64

	src *Event // the cache event it comes from; nil for initial and bookmark events
}

// Encoded returns encode's result for this event, computed once for all the watchers that
// receive the same change as the same type: a thousand watchers of one change cost one
// encoding.
func (w WatchEvent) Encoded(encode func() ([]byte, error)) ([]byte, error) {
	if w.src == nil {
		return encode()
	}
	return w.src.encoded(w.Type, encode)
}

// Watcher reads a cache's events after a revision, filtered by a predicate. It is not safe for
// concurrent use; each watch has its own.
type Watcher struct {
	c       *Cache
	pred    Predicate
	cursor  int64
	initial []WatchEvent
}

// Watch starts a watcher at revision rev: it receives every matching change after rev. With
// rev 0 it starts at the cache's current revision, and with initial it first receives the
// current matching objects as Added events. A rev older than what the ring holds gives
// ErrExpired; one newer than the cache waits up to 3 s for it.
func (c *Cache) Watch(ctx context.Context, rev int64, p Predicate, initial bool) (*Watcher, error) {
	if rev > 0 {
		if err := c.WaitForRev(ctx, rev); err != nil {
			return nil, err
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	w := &Watcher{c: c, pred: p, cursor: rev}
	if rev == 0 {
		w.cursor = c.rev
	} else if rev < c.floor {
		return nil, fmt.Errorf("%w: %d (the oldest kept is %d)", ErrExpired, rev, c.floor)
	}
	if initial {
		keys := make([]string, 0, len(c.items))
		for k, e := range c.items {
			if p.Matches(e.attrs) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.initial = append(w.initial, WatchEvent{Type: Added, Object: c.items[k].obj, Rev: c.rev})
		}
	}
	return w, nil
}

// Rev is the revision the watcher has reached: every matching change up to it was delivered.
func (w *Watcher) Rev() int64 { return w.cursor }

// Next returns the next events, waiting up to wait for some (0: until ctx ends). It returns no
// events and no error when wait passed first. ErrExpired means the watcher fell behind the ring.
func (w *Watcher) Next(ctx context.Context, wait time.Duration) ([]WatchEvent, error) {
	if len(w.initial) > 0 {
		evs := w.initial
		w.initial = nil
		return evs, nil
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		evs, notify, err := w.collect()
		if err != nil || len(evs) > 0 {
			return evs, err
		}
		select {
		case <-notify:
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.c.closed:
			return nil, ErrClosed
		}
	}
}

// collect gathers the matching events after the cursor and advances it to the cache's revision.
func (w *Watcher) collect() ([]WatchEvent, <-chan struct{}, error) {
	c := w.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	if w.cursor < c.floor {
		return nil, nil, fmt.Errorf("%w: %d (the oldest kept is %d)", ErrExpired, w.cursor, c.floor)
	}
	capacity := len(c.ring)
	// The ring is sorted by revision: find the first event after the cursor.
	i := sort.Search(c.n, func(i int) bool { return c.ring[(c.head+i)%capacity].Rev > w.cursor })
	var out []WatchEvent
	for ; i < c.n; i++ {
		e := c.ring[(c.head+i)%capacity]
		if ev, ok := w.convert(e); ok {
			out = append(out, ev)
		}
	}
	w.cursor = c.rev
	return out, c.notify, nil
}

// convert turns a cache event into what this watcher sees: a change that moves an object into
// or out of the watcher's selection is an Added or a Deleted.
func (w *Watcher) convert(e *Event) (WatchEvent, bool) {
	cur := w.pred.Matches(e.attrs)
	switch e.Type {
	case Added, Deleted:
		return WatchEvent{Type: e.Type, Object: e.Object, Rev: e.Rev, src: e}, cur
	}
	prev := e.prevAttrs != nil && w.pred.Matches(e.prevAttrs)
	switch {
	case cur && prev:
		return WatchEvent{Type: Modified, Object: e.Object, Rev: e.Rev, src: e}, true
	case cur:
		return WatchEvent{Type: Added, Object: e.Object, Rev: e.Rev, src: e}, true
	case prev:
		return WatchEvent{Type: Deleted, Object: e.prevWithRev(), Rev: e.Rev, src: e}, true
	}
	return WatchEvent{}, false
}
