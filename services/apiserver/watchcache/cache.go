package watchcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"
	"weak"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

// Defaults of Config.
const (
	DefaultCapacity    = 8192
	DefaultMinCapacity = 100
	DefaultFreshFor    = 75 * time.Second
)

// Errors returned by the cache.
var (
	// ErrExpired: the requested revision is older than the oldest event the cache keeps.
	ErrExpired = errors.New("resource version too old")
	// ErrTooLarge: the cache did not reach the requested revision in time.
	ErrTooLarge = errors.New("resource version too large")
	// ErrClosed: the cache stopped.
	ErrClosed = errors.New("watch cache stopped")
)

// Event types, as Kubernetes names them.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
)

// Predicate selects objects by namespace, labels and fields. The zero Predicate selects all.
type Predicate struct {
	Namespace string
	Label     labels.Selector
	Field     fields.Selector
}

// Matches reports whether objects with these attributes are selected.
func (p Predicate) Matches(a *Attrs) bool {
	if p.Namespace != "" && a.Namespace != p.Namespace {
		return false
	}
	if p.Label != nil && !p.Label.Empty() && !p.Label.Matches(a.Labels) {
		return false
	}
	if p.Field != nil && !p.Field.Empty() && !p.Field.Matches(&a.Fields) {
		return false
	}
	return true
}

// Config configures a Cache.
type Config struct {
	Storage *storage.Storage
	// Prefix is the etcd key prefix of the resource, ending in "/".
	Prefix string
	// Decode turns a stored value into an object with its resourceVersion set.
	Decode func(kv storage.KV) (scheme.Object, error)
	// Attrs extracts an object's selectable attributes.
	Attrs func(scheme.Object) *Attrs
	// Capacity is the most events kept for watchers to resume from (default 8192). The ring
	// holds at least MinCapacity (default 100, at most Capacity) and grows, doubling, while
	// the events it would drop are younger than FreshFor (default 75 s), and shrinks, halving,
	// when its newest quarter is older than that, as Kubernetes sizes its watch caches: a
	// quiet resource keeps a small ring, a busy one the history of the last FreshFor.
	Capacity    int
	MinCapacity int
	FreshFor    time.Duration
	// Now returns the current time (tests may fix it).
	Now func() time.Time
	// StoredOnly keeps the current objects only as stored, decoding them for each read: for a
	// resource written much and read little (Events), which Kubernetes keeps out of its watch
	// cache altogether. Watchers still share each change's decoding while they send it.
	StoredOnly bool
	Logger     *slog.Logger
}

// entry is the current state of one object: decoded (unless StoredOnly), as stored at rev,
// and its attributes.
type entry struct {
	ref   *objRef
	raw   []byte
	rev   int64
	attrs *Attrs
}

// newEntry is the entry of obj, stored as raw at rev.
func (c *Cache) newEntry(obj scheme.Object, raw []byte, rev int64) *entry {
	e := &entry{raw: raw, rev: rev, attrs: c.cfg.Attrs(obj)}
	if !c.cfg.StoredOnly {
		e.ref = &objRef{obj: obj}
	}
	return e
}

// object returns the entry's object, decoding it when the cache keeps it only as stored.
func (c *Cache) object(key string, e *entry) (*objRef, error) {
	if e.ref != nil {
		return e.ref, nil
	}
	obj, err := c.cfg.Decode(storage.KV{Key: key, Value: e.raw, ModRevision: e.rev})
	if err != nil {
		return nil, fmt.Errorf("decode %s again: %w", key, err)
	}
	return &objRef{obj: obj}, nil
}

// Cache is the watch cache of one resource.
type Cache struct {
	cfg Config

	mu    sync.RWMutex
	items map[string]*entry
	rev   int64 // every change up to rev is applied
	ring  []*Event
	head  int   // index of the oldest event in ring
	n     int   // number of events in ring
	floor int64 // watchers must start at or after this revision
	// notify is closed and replaced whenever rev advances.
	notify chan struct{}
	ready  chan struct{}
	closed chan struct{}

	progressMu   sync.Mutex
	watch        *storage.Watch
	lastProgress time.Time
}

// New returns a cache; Run fills and maintains it.
func New(cfg Config) *Cache {
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.MinCapacity <= 0 {
		cfg.MinCapacity = DefaultMinCapacity
	}
	cfg.MinCapacity = min(cfg.MinCapacity, cfg.Capacity)
	if cfg.FreshFor <= 0 {
		cfg.FreshFor = DefaultFreshFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Cache{
		cfg:    cfg,
		items:  map[string]*entry{},
		ring:   make([]*Event, cfg.MinCapacity),
		notify: make(chan struct{}),
		ready:  make(chan struct{}),
		closed: make(chan struct{}),
	}
}

// Ready is closed once the cache holds a complete list.
func (c *Cache) Ready() <-chan struct{} { return c.ready }

// Run lists the resource, then follows its etcd watch until ctx ends. When the watch fails it
// re-lists (with backoff), and watchers are told to re-list too.
func (c *Cache) Run(ctx context.Context) {
	defer close(c.closed)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		rev, err := c.relist(ctx)
		if err != nil {
			c.cfg.Logger.Warn("watch cache list failed", "prefix", c.cfg.Prefix, "err", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		err = c.follow(ctx, rev)
		if ctx.Err() == nil {
			c.cfg.Logger.Warn("watch cache watch ended, re-listing", "prefix", c.cfg.Prefix, "err", err)
		}
	}
}

// relist replaces the cache's contents with a fresh list and drops the event history.
func (c *Cache) relist(ctx context.Context) (int64, error) {
	items := map[string]*entry{}
	var rev int64
	from := ""
	for {
		page, err := c.cfg.Storage.List(ctx, c.cfg.Prefix, from, rev, 1000)
		if err != nil {
			return 0, err
		}
		rev = page.Revision
		for _, kv := range page.KVs {
			obj, err := c.cfg.Decode(kv)
			if err != nil {
				c.cfg.Logger.Error("undecodable object in etcd, skipped", "key", kv.Key, "err", err)
				continue
			}
			items[kv.Key] = c.newEntry(obj, kv.Value, kv.ModRevision)
		}
		if !page.More || len(page.KVs) == 0 {
			break
		}
		from = page.KVs[len(page.KVs)-1].Key + "\x00"
	}
	c.mu.Lock()
	c.items = items
	c.rev = rev
	c.floor = rev
	c.head, c.n = 0, 0
	clear(c.ring)
	c.broadcastLocked()
	c.mu.Unlock()
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	return rev, nil
}

func (c *Cache) follow(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := c.cfg.Storage.Watch(wctx, c.cfg.Prefix, rev)
	c.progressMu.Lock()
	c.watch = w
	c.progressMu.Unlock()
	for b := range w.C {
		c.apply(b)
	}
	c.progressMu.Lock()
	c.watch = nil
	c.progressMu.Unlock()
	return w.Err()
}

func (c *Cache) apply(b storage.Batch) {
	// Decode outside the lock; apply the whole batch under one lock so lists and watchers never
	// see a half-applied revision.
	decoded := make([]scheme.Object, len(b.Events))
	for i, se := range b.Events {
		if se.Type != storage.Put {
			continue
		}
		obj, err := c.cfg.Decode(se.KV)
		if err != nil {
			c.cfg.Logger.Error("undecodable object in etcd, skipped", "key", se.KV.Key, "err", err)
			continue
		}
		decoded[i] = obj
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, se := range b.Events {
		old := c.items[se.KV.Key]
		e := &Event{Key: se.KV.Key, Rev: se.KV.ModRevision}
		if old != nil {
			e.prevRaw, e.prevAttrs = old.raw, old.attrs
		}
		switch {
		case se.Type == storage.Put && decoded[i] != nil:
			cur := c.newEntry(decoded[i], se.KV.Value, se.KV.ModRevision)
			e.Type = Modified
			if old == nil {
				e.Type = Added
			} else if sameAttrs(old.attrs, cur.attrs) {
				cur.attrs = old.attrs // one copy for all the states of an object that share them
			}
			ref := cur.ref
			if ref == nil {
				ref = &objRef{obj: decoded[i]} // for the watchers sending it now
			}
			e.raw, e.attrs, e.obj = cur.raw, cur.attrs, weak.Make(ref)
			c.items[se.KV.Key] = cur
		case se.Type == storage.Delete && old != nil:
			// The last state with the deletion's revision, decoded when a watcher asks.
			e.Type, e.raw, e.attrs = Deleted, old.raw, old.attrs
			delete(c.items, se.KV.Key)
		default:
			continue
		}
		c.pushLocked(e)
	}
	if b.Revision > c.rev {
		c.rev = b.Revision
	}
	c.broadcastLocked()
}

func (c *Cache) peek(key string) *entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.items[key]
}

func (c *Cache) pushLocked(e *Event) {
	e.at = c.cfg.Now().UnixNano()
	if c.n == len(c.ring) {
		c.resizeLocked(e.at)
	}
	capacity := len(c.ring)
	if c.n == capacity {
		c.floor = c.ring[c.head].Rev
		c.ring[c.head] = nil
		c.head = (c.head + 1) % capacity
		c.n--
	}
	c.ring[(c.head+c.n)%capacity] = e
	c.n++
}

// resizeLocked doubles the full ring when its oldest event is still fresh, and halves it when
// even its newest quarter is stale (Kubernetes' watchCache.resizeCacheLocked).
func (c *Cache) resizeLocked(now int64) {
	capacity := len(c.ring)
	fresh := c.cfg.FreshFor.Nanoseconds()
	switch {
	case now-c.ring[c.head].at < fresh:
		if n := min(2*capacity, c.cfg.Capacity); n > capacity {
			c.setCapacityLocked(n)
		}
	case now-c.ring[(c.head+c.n-capacity/4)%capacity].at > fresh:
		if n := max(capacity/2, c.cfg.MinCapacity); n < capacity {
			c.setCapacityLocked(n)
		}
	}
}

// setCapacityLocked moves the newest events, as many as fit, into a ring of n.
func (c *Cache) setCapacityLocked(n int) {
	ring := make([]*Event, n)
	keep := min(c.n, n)
	drop := c.n - keep
	if drop > 0 {
		c.floor = c.ring[(c.head+drop-1)%len(c.ring)].Rev
	}
	for i := range keep {
		ring[i] = c.ring[(c.head+drop+i)%len(c.ring)]
	}
	c.ring, c.head, c.n = ring, 0, keep
}

func (c *Cache) broadcastLocked() {
	close(c.notify)
	c.notify = make(chan struct{})
}

// Rev returns the revision up to which the cache is complete.
func (c *Cache) Rev() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// WaitForRev waits until the cache is complete up to rev, asking etcd for progress
// notifications when nothing under the prefix moves; ErrTooLarge after 3 s.
func (c *Cache) WaitForRev(ctx context.Context, rev int64) error {
	deadline := time.NewTimer(3 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		c.mu.RLock()
		cur, notify := c.rev, c.notify
		c.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		c.requestProgress()
		select {
		case <-notify:
		case <-tick.C:
		case <-deadline.C:
			return fmt.Errorf("%w: waited 3s for revision %d, cache is at %d", ErrTooLarge, rev, cur)
		case <-ctx.Done():
			return ctx.Err()
		case <-c.closed:
			return ErrClosed
		}
	}
}

func (c *Cache) requestProgress() {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	if c.watch == nil || time.Since(c.lastProgress) < 10*time.Millisecond {
		return
	}
	c.lastProgress = time.Now()
	if err := c.watch.RequestProgress(); err != nil {
		c.cfg.Logger.Debug("request watch progress", "err", err)
	}
}

// Get returns the cached object at key, or nil.
func (c *Cache) Get(key string) scheme.Object {
	if e := c.peek(key); e != nil {
		r, err := c.object(key, e)
		if err != nil {
			c.cfg.Logger.Error("watch cache", "err", err)
			return nil
		}
		return r.obj
	}
	return nil
}

// List returns the objects under keyPrefix that match p, sorted by key, once the cache is
// complete up to minRev, and the revision the list reflects.
func (c *Cache) List(ctx context.Context, minRev int64, keyPrefix string, p Predicate) ([]scheme.Object, int64, error) {
	if err := c.WaitForRev(ctx, minRev); err != nil {
		return nil, 0, err
	}
	c.mu.RLock()
	keys := make([]string, 0, len(c.items))
	for k, e := range c.items {
		if strings.HasPrefix(k, keyPrefix) && p.Matches(e.attrs) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	entries := make([]*entry, len(keys))
	for i, k := range keys {
		entries[i] = c.items[k]
	}
	rev := c.rev
	c.mu.RUnlock()
	out := make([]scheme.Object, len(keys))
	for i, e := range entries {
		r, err := c.object(keys[i], e)
		if err != nil {
			return nil, 0, err
		}
		out[i] = r.obj
	}
	return out, rev, nil
}

// sameAttrs reports whether two states of an object have the same labels and fields.
func sameAttrs(a, b *Attrs) bool {
	return a.Namespace == b.Namespace && maps.Equal(a.Labels, b.Labels) && a.Fields.Equal(b.Fields)
}

// Len returns the number of cached objects.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}
