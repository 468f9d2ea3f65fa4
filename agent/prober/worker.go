package prober

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Update reports one probe attempt of a Worker.
type Update struct {
	Kind        Kind
	ContainerID string
	// Attempt is this attempt's result and Output its output.
	Attempt Result
	Output  string
	// Result is the worker's result after this attempt, and Changed whether the attempt
	// changed it.
	Result  Result
	Changed bool
}

// WorkerConfig describes a Worker.
type WorkerConfig struct {
	Kind   Kind
	Probe  *corev1.Probe
	Target Target
	// StartedAt is when the container started: the first probe runs initialDelaySeconds
	// after it (at once when that is past).
	StartedAt time.Time
	// OnResult is called after every attempt, from the worker's goroutine; it must not block.
	OnResult func(Update)
}

// Worker probes one container periodically until stopped.
type Worker struct {
	cfg    WorkerConfig
	prober *Prober
	result atomic.Int32

	cancel   context.CancelFunc
	stopOnce sync.Once
	done     chan struct{}

	// Consecutive attempts with the same result, as the kubelet counts them.
	last Result
	run  int32
}

// Start starts a worker for cfg.
func (pr *Prober) Start(cfg WorkerConfig) *Worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{cfg: cfg, prober: pr, cancel: cancel, done: make(chan struct{})}
	w.result.Store(int32(initialResult(cfg.Kind)))
	go w.loop(ctx)
	return w
}

func initialResult(k Kind) Result {
	switch k {
	case Readiness:
		return Failure
	case Liveness:
		return Success
	default:
		return Unknown
	}
}

// Result is the current result.
func (w *Worker) Result() Result { return Result(w.result.Load()) }

// Stop stops the worker and waits for its goroutine to end (an attempt in flight is
// cancelled). It must not be called from OnResult.
func (w *Worker) Stop() {
	w.stopOnce.Do(w.cancel)
	<-w.done
}

// Done is closed when the worker has stopped, by Stop or on its own (a liveness or startup
// worker that reached its final result).
func (w *Worker) Done() <-chan struct{} { return w.done }

func (w *Worker) loop(ctx context.Context) {
	defer close(w.done)
	period := time.Duration(w.cfg.Probe.GetPeriodSeconds()) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	delay := time.Until(w.cfg.StartedAt.Add(time.Duration(w.cfg.Probe.GetInitialDelaySeconds()) * time.Second))
	if delay < 0 {
		delay = 0
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if !w.probe(ctx) {
			return
		}
		timer.Reset(period)
	}
}

// probe runs one attempt and reports whether the worker goes on.
func (w *Worker) probe(ctx context.Context) bool {
	res, out := w.prober.Probe(ctx, w.cfg.Probe, w.cfg.Target)
	if ctx.Err() != nil {
		return false // stopped mid-attempt: report nothing
	}
	if res == w.last {
		w.run++
	} else {
		w.last, w.run = res, 1
	}
	failureThreshold, successThreshold := w.cfg.Probe.GetFailureThreshold(), w.cfg.Probe.GetSuccessThreshold()
	if failureThreshold <= 0 {
		failureThreshold = 3
	}
	if successThreshold <= 0 {
		successThreshold = 1
	}
	prev := w.Result()
	cur := prev
	if (res == Failure && w.run >= failureThreshold) || (res == Success && w.run >= successThreshold) {
		cur = res
		w.result.Store(int32(cur))
	}
	if w.cfg.OnResult != nil {
		w.cfg.OnResult(Update{
			Kind: w.cfg.Kind, ContainerID: w.cfg.Target.ContainerID,
			Attempt: res, Output: out, Result: cur, Changed: cur != prev,
		})
	}
	switch {
	case (w.cfg.Kind == Liveness || w.cfg.Kind == Startup) && cur == Failure:
		return false // the container is restarted; its successor gets a new worker
	case w.cfg.Kind == Startup && cur == Success:
		return false // started: nothing more to learn
	}
	return true
}
