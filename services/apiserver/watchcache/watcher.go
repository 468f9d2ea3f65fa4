package watchcache

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

// WatchEvent is what a watcher receives.
type WatchEvent struct {
	Type   string
	Object scheme.Object
	// Rev is the revision of the change (for a bookmark, the revision the watcher reached).
	Rev int64

	src *Event  // the cache event it comes from; nil for initial and bookmark events
	ref *objRef // holds Object's ref, so that the event shares it while this is in flight
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
	w := &Watcher{c: c, pred: p, cursor: rev}
	if rev == 0 {
		w.cursor = c.rev
	} else if rev < c.floor {
		floor := c.floor
		c.mu.RUnlock()
		return nil, fmt.Errorf("%w: %d (the oldest kept is %d)", ErrExpired, rev, floor)
	}
	if !initial {
		c.mu.RUnlock()
		return w, nil
	}
	keys := make([]string, 0, len(c.items))
	for k, e := range c.items {
		if p.Matches(e.attrs) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	entries := make([]*entry, len(keys))
	for i, k := range keys {
		entries[i] = c.items[k]
	}
	cur := c.rev
	c.mu.RUnlock()
	w.initial = make([]WatchEvent, 0, len(keys))
	for i, e := range entries {
		r, err := c.object(keys[i], e)
		if err != nil {
			return nil, err
		}
		w.initial = append(w.initial, WatchEvent{Type: Added, Object: r.obj, Rev: cur, ref: r})
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
// The events are taken under the cache's lock, and converted (decoded where need be) after it.
func (w *Watcher) collect() ([]WatchEvent, <-chan struct{}, error) {
	c := w.c
	c.mu.RLock()
	if w.cursor < c.floor {
		c.mu.RUnlock()
		return nil, nil, fmt.Errorf("%w: %d (the oldest kept is %d)", ErrExpired, w.cursor, c.floor)
	}
	capacity := len(c.ring)
	// The ring is sorted by revision: find the first event after the cursor.
	i := sort.Search(c.n, func(i int) bool { return c.ring[(c.head+i)%capacity].Rev > w.cursor })
	var evs []*Event
	if i < c.n {
		evs = make([]*Event, 0, c.n-i)
	}
	for ; i < c.n; i++ {
		evs = append(evs, c.ring[(c.head+i)%capacity])
	}
	w.cursor = c.rev
	notify := c.notify
	c.mu.RUnlock()
	var out []WatchEvent
	for _, e := range evs {
		ev, ok, err := w.convert(e)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out = append(out, ev)
		}
	}
	return out, notify, nil
}

// convert turns a cache event into what this watcher sees: a change that moves an object into
// or out of the watcher's selection is an Added or a Deleted.
func (w *Watcher) convert(e *Event) (WatchEvent, bool, error) {
	cur := w.pred.Matches(e.attrs)
	typ := e.Type
	if typ == Modified {
		prev := e.prevAttrs != nil && w.pred.Matches(e.prevAttrs)
		switch {
		case cur && prev:
		case cur:
			typ = Added
		case prev:
			return w.event(e, Deleted, e.prevWithRev)
		default:
			return WatchEvent{}, false, nil
		}
	}
	if !cur {
		return WatchEvent{}, false, nil
	}
	return w.event(e, typ, e.object)
}

// event is e as a watcher sees it, as type typ, with the object load returns.
func (w *Watcher) event(e *Event, typ string, load func(func(storage.KV) (scheme.Object, error)) (*objRef, error)) (WatchEvent, bool, error) {
	r, err := load(w.c.cfg.Decode)
	if err != nil {
		return WatchEvent{}, false, fmt.Errorf("decode %s at revision %d again: %w", e.Key, e.Rev, err)
	}
	return WatchEvent{Type: typ, Object: r.obj, Rev: e.Rev, src: e, ref: r}, true, nil
}
