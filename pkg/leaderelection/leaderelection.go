package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Run campaigns for the Lease cfg names and calls cfg.OnStartedLeading each time this
// candidate becomes leader (see the package documentation for the protocol). It returns nil
// once ctx has ended, after OnStartedLeading has returned and the Lease is released, or once
// OnStartedLeading has returned by itself (the Lease released too); it returns an error only
// for an invalid cfg. A leader that loses the Lease campaigns again.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.complete()
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	lease := cfg.Namespace + "/" + cfg.Name
	gauge, err := leaderGauge(cfg.Metrics, lease)
	if err != nil {
		return err
	}
	e := &elector{
		cfg:    cfg,
		leases: cfg.Client.Resource(scheme.Leases),
		log:    cfg.Logger.With("lease", lease, "identity", cfg.Identity),
		gauge:  gauge,
	}
	gauge.Set(0)
	var wg sync.WaitGroup
	if cfg.OnNewLeader != nil {
		e.newLeader = make(chan string, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range e.newLeader {
				cfg.OnNewLeader(id)
			}
		}()
		defer func() { close(e.newLeader); wg.Wait() }()
	}
	for {
		if !e.campaign(ctx) {
			return nil
		}
		if e.lead(ctx) {
			return nil
		}
		t := time.NewTimer(jitter(cfg.RetryPeriod))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// elector is one candidate's state. Only Run's goroutine touches it.
type elector struct {
	cfg    Config
	leases *client.ResourceClient
	log    *slog.Logger
	gauge  prometheus.Gauge

	// observed is the Lease as last read or written, observedAt when its spec last changed
	// as this candidate saw it (on the local clock).
	observed   *coordinationv1.Lease
	observedAt time.Time
	// lastRenew is when the last successful acquire or renewal was sent.
	lastRenew time.Time
	// reported is the holder last passed to OnNewLeader.
	reported  string
	newLeader chan string
	// lastErr is the last failure logged at warning level, to log a streak of one error once.
	lastErr string
}

// campaign tries to acquire the Lease until it succeeds (true) or ctx ends (false).
func (e *elector) campaign(ctx context.Context) bool {
	e.log.Info("attempting to acquire leader lease")
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	wake := make(chan struct{}, 1)
	go e.watch(wctx, wake)
	for {
		actx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
		start := time.Now()
		ok, err := e.tryAcquireOrRenew(actx)
		cancel()
		e.reportLeader()
		if ok {
			e.lastRenew = start
			e.lastErr = ""
			e.gauge.Set(1)
			e.log.Info("successfully acquired lease, became leader")
			e.event("%s became leader", e.cfg.Identity)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if err != nil {
			e.logError("failed to acquire lease", err)
		} else {
			e.lastErr = ""
			e.log.Debug("lease is held by another candidate", "holder", e.observed.GetSpec().GetHolderIdentity())
		}
		wait := jitter(e.cfg.RetryPeriod)
		if now := time.Now(); heldByOther(e.observed.GetSpec(), e.observedAt, now, e.cfg.Identity) {
			// Try again the moment the holder's Lease expires, if no renewal comes first.
			wait = min(wait, expiry(e.observed.GetSpec(), e.observedAt).Sub(now)+time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// lead runs OnStartedLeading and renews the Lease until leadership ends. It returns true when
// Run should return (ctx ended, or OnStartedLeading returned by itself) and false when
// leadership was lost and the candidate should campaign again.
func (e *elector) lead(ctx context.Context) bool {
	leadCtx, cancelLead := context.WithCancel(ctx)
	defer cancelLead()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.cfg.OnStartedLeading(leadCtx)
	}()
	// Renewals go on after ctx ends, until OnStartedLeading has returned.
	bg := context.WithoutCancel(ctx)
	lost := false
	timer := time.NewTimer(e.cfg.RetryPeriod)
	defer timer.Stop()
	for {
		select {
		case <-done:
			cancelLead()
			// After a lost renewal the Lease may still be ours (the apiserver was slow, not
			// gone): releasing it spares the successor the wait. The release carries the
			// resourceVersion we last wrote, so it cannot undo a successor's write.
			e.release(bg)
			e.gauge.Set(0)
			e.log.Info("stopped leading")
			e.event("%s stopped leading", e.cfg.Identity)
			if e.cfg.OnStoppedLeading != nil {
				e.cfg.OnStoppedLeading()
			}
			return !lost
		case <-timer.C:
			if lost {
				continue
			}
			deadline := e.lastRenew.Add(e.cfg.RenewDeadline)
			rctx, cancel := context.WithDeadline(bg, deadline)
			start := time.Now()
			ok, err := e.tryAcquireOrRenew(rctx)
			cancel()
			e.reportLeader()
			switch {
			case ok:
				e.lastRenew = start
				e.lastErr = ""
				timer.Reset(e.cfg.RetryPeriod)
			case err == nil:
				lost = true
				e.log.Warn("lease was taken over by another candidate, stepping down", "holder", e.observed.GetSpec().GetHolderIdentity())
			case !time.Now().Before(deadline):
				lost = true
				e.log.Warn("failed to renew lease within the renew deadline, stepping down", "renewDeadline", e.cfg.RenewDeadline, "err", err)
			default:
				e.logError("failed to renew lease", err)
				timer.Reset(min(e.cfg.RetryPeriod, time.Until(deadline)))
			}
			if lost {
				e.gauge.Set(0)
				cancelLead()
			}
		}
	}
}

// tryAcquireOrRenew writes this candidate into the Lease, creating it if need be. It returns
// true when the Lease is ours, false with a nil error when another candidate holds it
// unexpired, and the error of a failed read or write otherwise (a Conflict when another
// candidate wrote first).
func (e *elector) tryAcquireOrRenew(ctx context.Context) (bool, error) {
	id := e.cfg.Identity
	// The leader renews on top of what it last wrote, without reading first; a Conflict means
	// someone else wrote the Lease since, and the slow path below looks at what they wrote.
	if now := time.Now(); e.observed.GetSpec().GetHolderIdentity() == id && expiry(e.observed.GetSpec(), e.observedAt).After(now) {
		spec, _ := acquireSpec(e.observed.GetSpec(), e.observedAt, now, id, e.cfg.LeaseDuration)
		l := proto.CloneOf(e.observed)
		l.Spec = spec
		got, err := e.leases.Update(ctx, l)
		if err == nil {
			e.observe(got.(*coordinationv1.Lease))
			return true, nil
		}
		if !kerrors.IsConflict(err) && !kerrors.IsNotFound(err) {
			return false, fmt.Errorf("update lease: %w", err)
		}
		e.log.Debug("lease changed since the last renewal, reading it", "err", err)
	}
	obj, err := e.leases.Get(ctx, e.cfg.Namespace, e.cfg.Name)
	if kerrors.IsNotFound(err) {
		spec, _ := acquireSpec(nil, time.Time{}, time.Now(), id, e.cfg.LeaseDuration)
		l := &coordinationv1.Lease{
			Metadata: &metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name},
			Spec:     spec,
		}
		got, err := e.leases.Create(ctx, l)
		if err != nil {
			return false, fmt.Errorf("create lease: %w", err)
		}
		e.observe(got.(*coordinationv1.Lease))
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("get lease: %w", err)
	}
	cur := obj.(*coordinationv1.Lease)
	e.observe(cur)
	spec, ok := acquireSpec(cur.GetSpec(), e.observedAt, time.Now(), id, e.cfg.LeaseDuration)
	if !ok {
		return false, nil
	}
	l := proto.CloneOf(cur)
	l.Spec = spec
	got, err := e.leases.Update(ctx, l)
	if err != nil {
		return false, fmt.Errorf("update lease: %w", err)
	}
	e.observe(got.(*coordinationv1.Lease))
	return true, nil
}

// release gives the Lease up if this candidate holds it, so a successor need not wait for it
// to expire.
func (e *elector) release(ctx context.Context) {
	if e.observed.GetSpec().GetHolderIdentity() != e.cfg.Identity {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
	defer cancel()
	l := proto.CloneOf(e.observed)
	l.Spec = releaseSpec(e.observed.GetSpec(), time.Now())
	got, err := e.leases.Update(ctx, l)
	if err != nil {
		e.log.Warn("failed to release lease", "err", err)
		return
	}
	e.observe(got.(*coordinationv1.Lease))
	e.log.Info("released lease")
}

// observe records the Lease as read or written; its expiry counts from now when its spec
// changed.
func (e *elector) observe(l *coordinationv1.Lease) {
	if e.observed == nil || !proto.Equal(e.observed.GetSpec(), l.GetSpec()) {
		e.observedAt = time.Now()
	}
	e.observed = l
}

// reportLeader passes a change of holder to OnNewLeader and the log.
func (e *elector) reportLeader() {
	holder := e.observed.GetSpec().GetHolderIdentity()
	if holder == e.reported {
		return
	}
	e.reported = holder
	if holder == "" {
		return
	}
	if holder != e.cfg.Identity {
		e.log.Info("new leader elected", "leader", holder)
	}
	if e.newLeader != nil {
		// Keep only the latest identity if the callback lags; Run is the only sender.
		select {
		case <-e.newLeader:
		default:
		}
		e.newLeader <- holder
	}
}

// watch wakes campaign whenever the Lease changes, so that a renewal is seen (and the expiry
// counted) from the moment it happens and a release is taken over at once. Polling every
// RetryPeriod covers the times the watch is down.
func (e *elector) watch(ctx context.Context, wake chan<- struct{}) {
	opts := &metav1.ListOptions{Namespace: e.cfg.Namespace, FieldSelector: "metadata.name=" + e.cfg.Name}
	for ctx.Err() == nil {
		w, err := e.leases.Watch(ctx, opts)
		if err == nil {
			for {
				ev, err := w.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) && ctx.Err() == nil {
						e.log.Debug("lease watch ended", "err", err)
					}
					break
				}
				if ev.Type == client.Bookmark {
					continue
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
			w.Stop()
		} else if ctx.Err() == nil {
			e.log.Debug("cannot watch the lease", "err", err)
		}
		t := time.NewTimer(jitter(e.cfg.RetryPeriod))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// logError logs a failure at warning level the first time in a streak, then at debug level;
// a race lost to another candidate is no failure and stays at debug level.
func (e *elector) logError(msg string, err error) {
	if kerrors.IsConflict(err) || kerrors.IsAlreadyExists(err) {
		e.log.Debug(msg, "err", err)
		return
	}
	if s := err.Error(); s != e.lastErr {
		e.lastErr = s
		e.log.Warn(msg, "err", err)
		return
	}
	e.log.Debug(msg, "err", err)
}

// event records a LeaderElection Event on the Lease.
func (e *elector) event(format string, args ...any) {
	if e.cfg.Recorder == nil {
		return
	}
	l := e.observed
	if l == nil {
		l = &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Namespace: e.cfg.Namespace, Name: e.cfg.Name}}
	}
	e.cfg.Recorder.Eventf(l, events.Normal, "LeaderElection", format, args...)
}

// jitter is d plus up to a fifth of d, so that candidates started together spread out.
func jitter(d time.Duration) time.Duration {
	return d + rand.N(d/5+1)
}
