package informer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// DefaultPageSize is how many objects an informer asks for per page of its list.
const DefaultPageSize = 500

const (
	// minWatchTimeout is the shortest a watch is asked to last; each asks for a random time
	// between it and twice it, so a fleet of informers does not re-watch all at once.
	minWatchTimeout = 5 * time.Minute
	// Failed lists and watches are retried at once, then after baseBackoff doubling up to
	// maxBackoff, with up to 10% jitter.
	baseBackoff = 100 * time.Millisecond
	maxBackoff  = 30 * time.Second
	// healthyWatch is how long a watch must last, when it delivered nothing, to count as
	// progress that resets the backoff.
	healthyWatch = 10 * time.Second
)

// errRelist makes the informer list again: the watch said something it cannot resume from.
var errRelist = errors.New("unexpected watch event")

// Options configure an informer.
type Options struct {
	// Namespace limits the informer to one namespace; "" watches all. It is ignored for
	// cluster-scoped resources.
	Namespace string
	// LabelSelector and FieldSelector limit the objects the informer sees.
	LabelSelector, FieldSelector string
	// PageSize is the number of objects per page of a list (DefaultPageSize when 0). A
	// negative PageSize lists in one call, which the apiserver serves from its watch cache
	// rather than etcd: cheaper for an informer with a selector that matches few objects of
	// many (an agent's Pods).
	PageSize int64
	// Logger receives the informer's logs (relists, failures); none when nil.
	Logger *slog.Logger
}

// Informer keeps a Store of one resource in step with the apiserver and calls its handlers
// on every change. Create it with New or a Factory, add handlers and indexers, then Run it.
type Informer struct {
	res   *scheme.Resource
	rc    *client.ResourceClient
	opts  Options
	log   *slog.Logger
	store *Store

	mu       sync.Mutex // serializes cache changes, handler calls and AddHandler
	handlers []Handler

	running  atomic.Bool
	synced   chan struct{}
	syncOnce sync.Once
	lists    atomic.Int64 // successful lists, for tests

	// Test hooks: the timeout asked of each watch, and a call before each watch starts.
	watchTimeout func() time.Duration
	beforeWatch  func(ctx context.Context)
}

// New returns an informer of resource r through c. Informers of namespaced resources have
// the namespace index.
func New(c *client.Client, r *scheme.Resource, opts Options) *Informer {
	if !r.Namespaced {
		opts.Namespace = ""
	}
	if opts.PageSize == 0 {
		opts.PageSize = DefaultPageSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	i := &Informer{
		res: r, rc: c.Resource(r), opts: opts, store: NewStore(),
		log:    log.With("informer", r.GroupResource()),
		synced: make(chan struct{}),
		watchTimeout: func() time.Duration {
			return minWatchTimeout + rand.N(minWatchTimeout)
		},
	}
	if r.Namespaced {
		i.store.AddIndexer(IndexNamespace, NamespaceIndex)
	}
	return i
}

// Resource is the resource this informer watches.
func (i *Informer) Resource() *scheme.Resource { return i.res }

// Store is the informer's cache.
func (i *Informer) Store() *Store { return i.store }

// AddIndexer adds an index to the cache (see Store.AddIndexer); it may be called at any time.
func (i *Informer) AddIndexer(name string, fn IndexFunc) { i.store.AddIndexer(name, fn) }

// AddHandler registers h. Objects already in the cache are passed to h.OnAdd first, so a
// handler added late sees the same as one added before Run.
func (i *Informer) AddHandler(h Handler) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, obj := range i.store.List() {
		h.OnAdd(obj)
	}
	i.handlers = append(i.handlers, h)
}

// HasSynced reports whether the first list is in the cache (and its adds were handled).
func (i *Informer) HasSynced() bool {
	select {
	case <-i.synced:
		return true
	default:
		return false
	}
}

// Synced is closed once HasSynced is true.
func (i *Informer) Synced() <-chan struct{} { return i.synced }

// WaitForSync waits until every informer has synced; false if ctx ended first.
func WaitForSync(ctx context.Context, informers ...*Informer) bool {
	for _, i := range informers {
		select {
		case <-i.Synced():
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// Run lists and watches until ctx ends, retrying failures with backoff; it returns nil then.
// It fails at once if the informer is already running.
func (i *Informer) Run(ctx context.Context) error {
	if !i.running.CompareAndSwap(false, true) {
		return fmt.Errorf("informer of %s is already running", i.res.GroupResource())
	}
	defer i.running.Store(false)
	var bo backoff
	rv := "" // the resourceVersion to watch from; "" means list first
	for {
		if rv == "" {
			var err error
			if rv, err = i.list(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d := bo.next()
				i.log.Warn("list failed", "err", err, "retryIn", d)
				if !sleep(ctx, d) {
					return nil
				}
				continue
			}
		}
		if i.beforeWatch != nil {
			i.beforeWatch(ctx)
		}
		start := time.Now()
		last, progressed, err := i.watch(ctx, rv)
		if ctx.Err() != nil {
			return nil
		}
		if progressed || time.Since(start) >= healthyWatch {
			bo.reset()
		}
		switch {
		case err == nil:
			i.log.Debug("watch ended, resuming", "resourceVersion", last)
			rv = last
		case kerrors.IsResourceExpired(err) || kerrors.IsGone(err) || errors.Is(err, errRelist):
			i.log.Info("watch expired, re-listing", "resourceVersion", last, "err", err)
			rv = ""
		default:
			// Resume where the watch stopped; if the server no longer has that version it
			// says so, and the next round lists again.
			i.log.Warn("watch failed", "resourceVersion", last, "err", err)
			rv = last
		}
		if !sleep(ctx, bo.next()) {
			return nil
		}
	}
}

func (i *Informer) listOptions() *metav1.ListOptions {
	return &metav1.ListOptions{
		Namespace: i.opts.Namespace, LabelSelector: i.opts.LabelSelector, FieldSelector: i.opts.FieldSelector,
	}
}

// list replaces the cache with a fresh list and returns its resourceVersion.
func (i *Informer) list(ctx context.Context) (string, error) {
	opts := i.listOptions()
	opts.Limit = max(i.opts.PageSize, 0)
	items, meta, err := i.rc.ListAll(ctx, opts)
	if kerrors.IsResourceExpired(err) {
		// The snapshot behind the continue token was compacted between pages: list at once.
		opts.Limit = 0
		items, meta, err = i.rc.ListAll(ctx, opts)
	}
	if err != nil {
		return "", fmt.Errorf("list %s: %w", i.res.GroupResource(), err)
	}
	rv := meta.GetResourceVersion()
	if rv == "" {
		return "", fmt.Errorf("list %s: the server returned no resourceVersion", i.res.GroupResource())
	}
	i.replace(items)
	i.lists.Add(1)
	i.syncOnce.Do(func() { close(i.synced) })
	return rv, nil
}

// watch applies the events of one watch from rv until it ends. It returns the last
// resourceVersion seen and whether any event arrived.
func (i *Informer) watch(ctx context.Context, rv string) (last string, progressed bool, err error) {
	opts := i.listOptions()
	opts.ResourceVersion = rv
	opts.AllowWatchBookmarks = true
	opts.TimeoutSeconds = int64(i.watchTimeout().Seconds())
	w, err := i.rc.Watch(ctx, opts)
	if err != nil {
		return rv, false, fmt.Errorf("watch %s: %w", i.res.GroupResource(), err)
	}
	defer w.Stop()
	last = rv
	for {
		ev, err := w.Next()
		if errors.Is(err, io.EOF) {
			return last, progressed, nil
		}
		if err != nil {
			return last, progressed, fmt.Errorf("watch %s: %w", i.res.GroupResource(), err)
		}
		progressed = true
		switch ev.Type {
		case client.Added, client.Modified:
			i.upsert(ev.Object)
		case client.Deleted:
			i.remove(ev.Object)
		case client.Bookmark:
		default:
			return last, progressed, fmt.Errorf("watch %s: %w %q", i.res.GroupResource(), errRelist, ev.Type)
		}
		if v := ev.Object.GetMetadata().GetResourceVersion(); v != "" {
			last = v
		}
	}
}

// replace makes the cache hold exactly items, telling handlers the difference.
func (i *Informer) replace(items []scheme.Object) {
	i.mu.Lock()
	defer i.mu.Unlock()
	seen := make(map[string]struct{}, len(items))
	for _, obj := range items {
		key := KeyOf(obj)
		seen[key] = struct{}{}
		if old, ok := i.store.Get(key); ok && sameVersion(old, obj) {
			continue
		}
		i.putLocked(obj)
	}
	for _, key := range i.store.Keys() {
		if _, ok := seen[key]; ok {
			continue
		}
		if old, ok := i.store.remove(key); ok {
			for _, h := range i.handlers {
				h.OnDelete(old)
			}
		}
	}
}

func (i *Informer) upsert(obj scheme.Object) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.putLocked(obj)
}

func (i *Informer) putLocked(obj scheme.Object) {
	old, existed := i.store.put(obj)
	switch {
	case !existed:
		for _, h := range i.handlers {
			h.OnAdd(obj)
		}
	case !sameVersion(old, obj):
		for _, h := range i.handlers {
			h.OnUpdate(old, obj)
		}
	}
}

func (i *Informer) remove(obj scheme.Object) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, ok := i.store.remove(KeyOf(obj)); !ok {
		return
	}
	for _, h := range i.handlers {
		h.OnDelete(obj)
	}
}

func sameVersion(a, b scheme.Object) bool {
	return a.GetMetadata().GetResourceVersion() == b.GetMetadata().GetResourceVersion()
}

// backoff is the delay before a retry: none the first time, then baseBackoff doubling up to
// maxBackoff, with jitter.
type backoff struct{ failures int }

func (b *backoff) next() time.Duration {
	n := b.failures
	b.failures++
	if n == 0 {
		return 0
	}
	d := maxBackoff
	if n < 20 {
		d = min(maxBackoff, baseBackoff<<(n-1))
	}
	return d + rand.N(d/10+1)
}

func (b *backoff) reset() { b.failures = 0 }

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
