package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/workqueue"
)

// Result is what a successful reconcile asks of the runner.
type Result struct {
	// RequeueAfter, when positive, reconciles the key again after this delay.
	RequeueAfter time.Duration
}

// ReconcileFunc makes the world match the desired state of one key (see the package doc for
// the contract).
type ReconcileFunc func(ctx context.Context, key string) (Result, error)

// terminalError is an error no retry can fix.
type terminalError struct{ err error }

func (e *terminalError) Error() string { return "terminal error: " + e.err.Error() }
func (e *terminalError) Unwrap() error { return e.err }

// Terminal wraps err so that the runner does not retry the key (nil stays nil).
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &terminalError{err: err}
}

// IsTerminal reports whether err, or an error it wraps, came from Terminal.
func IsTerminal(err error) bool {
	var t *terminalError
	return errors.As(err, &t)
}

// Options configure a controller.
type Options struct {
	// Workers is how many keys are reconciled at once (1 when 0).
	Workers int
	// Logger is the base of each reconcile's logger; none when nil.
	Logger *slog.Logger
	// Metrics receives the controller's metrics; a private, unexported set when nil.
	Metrics *Metrics
	// RateLimiter backs off failing keys; workqueue.DefaultRateLimiter() when nil.
	RateLimiter workqueue.RateLimiter
}

// KeysFunc maps an object an informer saw to the keys to reconcile; nil or empty for none.
type KeysFunc func(obj scheme.Object) []string

// OwnKey is the KeysFunc of a controller that reconciles the objects it watches.
func OwnKey(obj scheme.Object) []string { return []string{informer.KeyOf(obj)} }

// NoKeys is the KeysFunc of an informer a controller only waits for: its cache is read, and
// handlers of the controller's own (informer.Informer.AddHandler) decide what to enqueue.
func NoKeys(scheme.Object) []string { return nil }

// ControllerOf returns a KeysFunc giving the key of an object's controlling owner
// (ownerReference with controller: true) when that owner is of the given kind, such as the
// ReplicaSet of a Pod.
func ControllerOf(kind string) KeysFunc {
	return func(obj scheme.Object) []string {
		md := obj.GetMetadata()
		for _, ref := range md.GetOwnerReferences() {
			if ref.GetController() && ref.GetKind() == kind {
				return []string{scheme.Key(md.GetNamespace(), ref.GetName())}
			}
		}
		return nil
	}
}

// Controller feeds keys from informers through a work queue to a reconcile function.
type Controller struct {
	name      string
	reconcile ReconcileFunc
	queue     *workqueue.Queue
	workers   int
	log       *slog.Logger
	metrics   *Metrics

	mu        sync.Mutex
	informers []*informer.Informer
	running   atomic.Bool
}

// New returns a controller named name (used in logs and metrics; unique within a Metrics)
// that reconciles keys with reconcile.
func New(name string, reconcile ReconcileFunc, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := opts.Metrics
	if m == nil {
		m = NewMetrics()
	}
	c := &Controller{
		name: name, reconcile: reconcile, workers: opts.Workers,
		queue:   workqueue.New(opts.RateLimiter),
		log:     log.With("controller", name),
		metrics: m,
	}
	m.add(name, c.queue)
	return c
}

// Name is the controller's name.
func (c *Controller) Name() string { return c.name }

// Enqueue asks for key to be reconciled.
func (c *Controller) Enqueue(key string) { c.queue.Add(key) }

// EnqueueAfter asks for key to be reconciled after d.
func (c *Controller) EnqueueAfter(key string, d time.Duration) { c.queue.AddAfter(key, d) }

// Watch enqueues keys(obj) for every object inf adds, updates (old and new) or deletes, and
// makes Run wait for inf's cache. A nil keys is OwnKey. Call it before Run.
func (c *Controller) Watch(inf *informer.Informer, keys KeysFunc) {
	if keys == nil {
		keys = OwnKey
	}
	add := func(obj scheme.Object) {
		for _, k := range keys(obj) {
			c.queue.Add(k)
		}
	}
	c.mu.Lock()
	c.informers = append(c.informers, inf)
	c.mu.Unlock()
	inf.AddHandler(informer.HandlerFuncs{
		AddFunc:    add,
		UpdateFunc: func(old, obj scheme.Object) { add(old); add(obj) },
		DeleteFunc: add,
	})
}

// Run waits for the watched informers to sync (someone else runs them, usually a Factory),
// then reconciles with the configured number of workers until ctx ends. It returns once every
// worker has finished its reconcile: nil when ctx ended, an error if the controller was already
// running. A controller runs once: its queue is shut down when Run returns.
func (c *Controller) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("controller %s is already running", c.name)
	}
	defer c.metrics.remove(c.name)
	defer c.queue.ShutDown()
	c.mu.Lock()
	infs := c.informers
	c.mu.Unlock()
	c.log.Info("waiting for caches to sync", "informers", len(infs))
	if !informer.WaitForSync(ctx, infs...) {
		return nil
	}
	c.log.Info("starting workers", "workers", c.workers)
	var wg sync.WaitGroup
	for range c.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	c.log.Info("stopped")
	return nil
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	c.reconcileKey(ctx, key)
	return true
}

// reconcileKey runs one reconcile and acts on its outcome.
func (c *Controller) reconcileKey(ctx context.Context, key string) {
	log := c.log.With("key", key, "reconcileID", uuid.NewString())
	start := time.Now()
	res, err := c.safeReconcile(WithLogger(ctx, log), key)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return // shutting down: the key is dropped with the queue, and re-listed at the next start
	}
	var result string
	switch {
	case err == nil && res.RequeueAfter > 0:
		result = ResultRequeue
		c.queue.Forget(key)
		c.queue.AddAfter(key, res.RequeueAfter)
		log.Debug("reconciled, requeued", "after", res.RequeueAfter, "duration", elapsed)
	case err == nil:
		result = ResultSuccess
		c.queue.Forget(key)
		log.Debug("reconciled", "duration", elapsed)
	case IsTerminal(err):
		result = ResultTerminal
		c.queue.Forget(key)
		log.Error("reconcile failed, not retrying", "err", err, "duration", elapsed)
	default:
		result = ResultError
		retries := c.queue.NumRequeues(key)
		c.queue.AddRateLimited(key)
		level := slog.LevelError
		if kerrors.IsConflict(err) {
			level = slog.LevelInfo // optimistic concurrency at work: re-read and retry
		}
		log.Log(ctx, level, "reconcile failed, retrying", "err", err, "retries", retries, "duration", elapsed)
	}
	c.metrics.observe(c.name, result, elapsed.Seconds())
}

// safeReconcile calls reconcile, turning a panic into an error.
func (c *Controller) safeReconcile(ctx context.Context, key string) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			LoggerFrom(ctx).Error("reconcile panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("reconcile panicked: %v", r)
		}
	}()
	return c.reconcile(ctx, key)
}
