package podworker

import (
	"context"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/agent/prober"
	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/status"
	"github.com/berth-dev/berth/agent/volume"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// worker runs one Pod. Its goroutine is the only one that acts on the Pod's containers;
// update, remove and poke only hand it news.
type worker struct {
	m   *Manager
	uid string

	mu         sync.Mutex
	pod        *corev1.Pod // latest version
	removed    bool        // gone from the apiserver
	cancelSync context.CancelFunc
	started    bool // goroutine started (guarded by m.mu)

	wake chan struct{}

	// Owned by the goroutine.
	epoch      uint64                    // cache epoch that reflects this worker's last change
	waiting    map[string]status.Waiting // why containers do not run, by name
	startErrs  map[string]startErr       // containers whose start failed, by ID
	crash      *backoff                  // CrashLoopBackOff, by container name and spec hash
	images     *backoff                  // ImagePullBackOff, by image
	backoffFor map[string]time.Time      // crash a BackOff event was recorded for, by key
	probes     map[string]*containerProbes
	vols       volume.Volumes
	volsAt     time.Time
	errDelay   time.Duration // back-off of failing syncs
	terminal   bool          // the Pod finished: nothing runs again
	failReason string        // why the agent failed the Pod (DeadlineExceeded)
	failMsg    string
	lastStatus *corev1.PodStatus
}

// startErr is a container the runtime created but could not start.
type startErr struct {
	msg string
	at  time.Time
}

func newWorker(m *Manager, uid string) *worker {
	return &worker{
		m: m, uid: uid,
		wake:       make(chan struct{}, 1),
		waiting:    map[string]status.Waiting{},
		startErrs:  map[string]startErr{},
		crash:      newBackoff(initialBackoff, maxBackoff),
		images:     newBackoff(initialBackoff, maxBackoff),
		backoffFor: map[string]time.Time{},
		probes:     map[string]*containerProbes{},
	}
}

// update hands over the Pod's latest version.
func (w *worker) update(pod *corev1.Pod) {
	w.mu.Lock()
	w.pod = pod
	if pod.GetMetadata().GetDeletionTimestamp() != nil && w.cancelSync != nil {
		w.cancelSync() // stop starting things: the Pod is going
	}
	w.mu.Unlock()
	w.poke()
}

// remove tells the worker its Pod is gone.
func (w *worker) remove() {
	w.mu.Lock()
	w.removed = true
	if w.cancelSync != nil {
		w.cancelSync()
	}
	w.mu.Unlock()
	w.poke()
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run syncs the Pod whenever woken, and at the latest when the last sync asked to be
// requeued, until the Pod is torn down or ctx ends.
func (w *worker) run(ctx context.Context) {
	defer w.stopProbes()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		if ctx.Err() != nil {
			return
		}
		requeue, done := w.sync(ctx)
		if done {
			return
		}
		timer.Reset(requeue)
	}
}

// sync makes the runtime match the Pod once. It returns when to sync again, or done once the
// Pod is torn down.
func (w *worker) sync(ctx context.Context) (requeue time.Duration, done bool) {
	w.mu.Lock()
	pod, removed := w.pod, w.removed
	w.mu.Unlock()
	if pod == nil {
		return w.m.cfg.ResyncPeriod, false
	}
	if removed || pod.GetMetadata().GetDeletionTimestamp() != nil {
		if err := w.terminate(ctx, pod, !removed); err != nil {
			if ctx.Err() == nil {
				w.m.log.Warn("tear down pod", "pod", podName(pod), "err", err)
			}
			return w.failed(), false
		}
		w.m.done(w, !removed)
		return 0, true
	}

	sctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	w.cancelSync = cancel
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.cancelSync = nil
		w.mu.Unlock()
		cancel()
	}()
	requeue, err := w.syncPod(sctx, pod)
	if err != nil {
		if sctx.Err() == nil {
			w.m.log.Warn("sync pod", "pod", podName(pod), "err", err)
		}
		return w.failed(), false
	}
	w.errDelay = 0
	return min(requeue, w.m.cfg.ResyncPeriod), false
}

// failed grows the back-off of failing syncs (0.5 s doubling to 30 s) and returns it.
func (w *worker) failed() time.Duration {
	w.errDelay = min(max(2*w.errDelay, 500*time.Millisecond), 30*time.Second)
	return w.errDelay
}

// changed records a change this worker made to the runtime.
func (w *worker) changed() { w.epoch = w.m.cache.bump() }

// record records an Event about the Pod.
func (w *worker) record(pod *corev1.Pod, eventType, reason, format string, args ...any) {
	w.m.cfg.Recorder.Eventf(pod, eventType, reason, format, args...)
}

// report computes the Pod's status and hands it over when it changed.
func (w *worker) report(ctx context.Context, pod *corev1.Pod, rec podRecord, sandbox *runtime.Sandbox, terminal bool) *corev1.PodStatus {
	old := w.lastStatus
	if old == nil {
		old = pod.GetStatus()
	} else {
		old = proto.Clone(old).(*corev1.PodStatus)
		// Conditions others own (PodScheduled, DisruptionTarget, ...) come from the Pod.
		var own []*corev1.PodCondition
		for _, c := range old.GetConditions() {
			if agentCondition(c.GetType()) {
				own = append(own, c)
			}
		}
		for _, c := range pod.GetStatus().GetConditions() {
			if !agentCondition(c.GetType()) {
				own = append(own, c)
			}
		}
		old.Conditions = own
		if p := pod.GetStatus().GetPhase(); p == status.PodSucceeded || p == status.PodFailed {
			old.Phase = p
		}
	}
	st := status.Compute(status.Input{
		Pod: pod, Old: old, Sandbox: sandbox, Containers: w.normalized(rec.Containers),
		Waiting: w.waiting, Probed: w.probed(), HostIP: w.m.cfg.HostIP,
		RuntimeName: w.m.runtimeName(ctx), Terminal: terminal,
		Reason: w.failReason, Message: w.failMsg, Now: time.Now(),
	})
	if !proto.Equal(st, w.lastStatus) {
		w.lastStatus = st
		w.m.cfg.Sink.SetStatus(pod, st)
	}
	return st
}

func agentCondition(t string) bool {
	switch t {
	case status.Initialized, status.Ready, status.ContainersReady:
		return true
	}
	return false
}

// normalized turns containers whose start failed into exited ones (exit code 128 unless the
// runtime gave one, reason ContainerCannotRun), so that restart policy and status treat them
// as the kubelet does.
func (w *worker) normalized(cs []runtime.ContainerStatus) []runtime.ContainerStatus {
	out := make([]runtime.ContainerStatus, len(cs))
	copy(out, cs)
	for i := range out {
		c := &out[i]
		if c.State != runtime.ContainerCreated {
			continue
		}
		se, failed := w.startErrs[c.ID]
		if !failed && c.ExitCode == 0 && c.Message == "" {
			continue // created, about to be started
		}
		c.State = runtime.ContainerExited
		if c.ExitCode == 0 {
			c.ExitCode = 128
		}
		c.Reason = status.ContainerCannotRun
		if failed {
			if c.Message == "" {
				c.Message = se.msg
			}
			if c.FinishedAt.IsZero() {
				c.FinishedAt = se.at
			}
		}
		if c.FinishedAt.IsZero() {
			c.FinishedAt = c.CreatedAt
		}
	}
	return out
}

// containerProbes are the probe workers of one running container.
type containerProbes struct {
	id                           string
	startedAt                    time.Time
	startup, liveness, readiness *prober.Worker
}

func (p *containerProbes) stop() {
	for _, pw := range []*prober.Worker{p.startup, p.liveness, p.readiness} {
		if pw != nil {
			pw.Stop()
		}
	}
}

// started reports whether the container passed its startup probe (or has none).
func (p *containerProbes) started() bool {
	return p.startup == nil || p.startup.Result() == prober.Success
}

// ensureProbes runs the probe workers of a running container: the startup probe first, then
// liveness and readiness once it succeeded.
func (w *worker) ensureProbes(pod *corev1.Pod, c *corev1.Container, cs runtime.ContainerStatus, podIP string) {
	if c.GetStartupProbe() == nil && c.GetLivenessProbe() == nil && c.GetReadinessProbe() == nil {
		return
	}
	p := w.probes[c.GetName()]
	if p != nil && p.id != cs.ID {
		p.stop()
		p = nil
	}
	target := prober.Target{ContainerID: cs.ID, PodIP: podIP, Ports: c.GetPorts()}
	start := func(kind prober.Kind, probe *corev1.Probe) *prober.Worker {
		return w.m.prober.Start(prober.WorkerConfig{
			Kind: kind, Probe: probe, Target: target, StartedAt: cs.StartedAt,
			OnResult: func(u prober.Update) {
				if u.Attempt == prober.Failure {
					w.record(pod, status.Warning, status.EventUnhealthy, "%s probe failed: %s", u.Kind, u.Output)
				}
				if u.Changed {
					w.poke()
				}
			},
		})
	}
	if p == nil {
		p = &containerProbes{id: cs.ID, startedAt: cs.StartedAt}
		w.probes[c.GetName()] = p
		if c.GetStartupProbe() != nil {
			p.startup = start(prober.Startup, c.GetStartupProbe())
		}
	}
	if p.started() {
		if c.GetLivenessProbe() != nil && p.liveness == nil {
			p.liveness = start(prober.Liveness, c.GetLivenessProbe())
		}
		if c.GetReadinessProbe() != nil && p.readiness == nil {
			p.readiness = start(prober.Readiness, c.GetReadinessProbe())
		}
	}
}

// dropProbes stops the probes of containers not in running (by name → container ID).
func (w *worker) dropProbes(running map[string]string) {
	for name, p := range w.probes {
		if running[name] != p.id {
			p.stop()
			delete(w.probes, name)
		}
	}
}

func (w *worker) stopProbes() { w.dropProbes(nil) }

// probed is what the probes say, for the status.
func (w *worker) probed() map[string]status.Probed {
	out := map[string]status.Probed{}
	for name, p := range w.probes {
		out[name] = status.Probed{
			Started: p.started(),
			Ready:   p.readiness == nil || p.readiness.Result() == prober.Success,
		}
	}
	return out
}

// probeFailed says whether the running container's liveness or startup probe failed.
func (w *worker) probeFailed(name, id string) (prober.Kind, bool) {
	p := w.probes[name]
	if p == nil || p.id != id {
		return "", false
	}
	if p.startup != nil && p.startup.Result() == prober.Failure {
		return prober.Startup, true
	}
	if p.liveness != nil && p.liveness.Result() == prober.Failure {
		return prober.Liveness, true
	}
	return "", false
}

func podName(pod *corev1.Pod) string {
	return pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
}
