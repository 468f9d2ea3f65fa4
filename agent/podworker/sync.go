package podworker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/status"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// keepAttempts is how many attempts of each container are kept (the current one and the
// previous one, for lastState and logs --previous).
const keepAttempts = 2

// view is the runtime's state of the Pod, sorted for the sync.
type view struct {
	rec     podRecord
	sandbox *runtime.Sandbox
	// latest is the newest attempt of each container, any sandbox; current the newest in
	// the current sandbox.
	latest, current map[string]runtime.ContainerStatus
	nextAttempt     map[string]int
}

func (w *worker) view(rec podRecord) *view {
	v := &view{rec: rec, latest: map[string]runtime.ContainerStatus{}, current: map[string]runtime.ContainerStatus{}, nextAttempt: map[string]int{}}
	for i := range rec.Sandboxes {
		s := &rec.Sandboxes[i]
		if s.State == runtime.SandboxReady && (v.sandbox == nil || s.CreatedAt.After(v.sandbox.CreatedAt)) {
			v.sandbox = s
		}
	}
	newer := func(a, b runtime.ContainerStatus) bool {
		if a.Attempt != b.Attempt {
			return a.Attempt > b.Attempt
		}
		return a.CreatedAt.After(b.CreatedAt)
	}
	for _, c := range w.normalized(rec.Containers) {
		if l, ok := v.latest[c.Name]; !ok || newer(c, l) {
			v.latest[c.Name] = c
		}
		if v.sandbox != nil && (c.SandboxID == v.sandbox.ID || c.SandboxID == "") {
			if cur, ok := v.current[c.Name]; !ok || newer(c, cur) {
				v.current[c.Name] = c
			}
		}
		if c.Attempt+1 > v.nextAttempt[c.Name] {
			v.nextAttempt[c.Name] = c.Attempt + 1
		}
	}
	return v
}

// carryAttempts makes the next attempt of a container that ran before (the Pod's status has
// a containerID for it) but is gone from the runtime, removed behind the agent's back
// (`docker rm -f`), follow the restartCount the Pod last reported, as the kubelet recovers it
// from the container's log directory: a container removed out of band counts as a restart.
func (v *view) carryAttempts(pod *corev1.Pod) {
	st := pod.GetStatus()
	for _, list := range [][]*corev1.ContainerStatus{st.GetInitContainerStatuses(), st.GetContainerStatuses()} {
		for _, cs := range list {
			if cs.GetContainerId() == "" {
				continue
			}
			if next := int(cs.GetRestartCount()) + 1; next > v.nextAttempt[cs.GetName()] {
				v.nextAttempt[cs.GetName()] = next
			}
		}
	}
}

// syncPod drives a Pod that is not being deleted towards its spec.
func (w *worker) syncPod(ctx context.Context, pod *corev1.Pod) (time.Duration, error) {
	rec, err := w.m.cache.get(ctx, w.uid, w.epoch)
	if err != nil {
		return 0, err
	}
	v := w.view(rec)
	v.carryAttempts(pod)
	spec := pod.GetSpec()
	if p := pod.GetStatus().GetPhase(); p == status.PodSucceeded || p == status.PodFailed {
		w.terminal = true // finished before (an agent restarted since): never run again
	}
	if !w.terminal && w.deadlineExceeded(pod) {
		w.failReason, w.failMsg = "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
		w.record(pod, status.Normal, status.EventDeadlineExceeded, "%s", w.failMsg)
		w.terminal = true
	}
	if w.terminal {
		return w.syncFinished(ctx, pod, v)
	}

	// Volumes first: no container starts without all of them.
	if w.vols == nil || time.Since(w.volsAt) >= w.m.cfg.ResyncPeriod {
		vols, err := w.m.volumes.Setup(ctx, pod)
		if err != nil {
			w.mountFailed(pod, err)
			if w.vols == nil {
				w.report(ctx, pod, rec, v.sandbox, false)
				return w.failed(), nil
			}
			// Running containers keep the volumes they have.
		} else {
			w.vols, w.volsAt = vols, time.Now()
			w.clearWaiting(status.ContainerCreating)
		}
	}

	// The sandbox.
	if v.sandbox == nil {
		if !v.rec.empty() && spec.GetRestartPolicy() == "Never" && len(v.latest) > 0 {
			// The sandbox died after containers ran: under Never they do not run again.
			w.record(pod, status.Normal, status.EventSandboxChanged, "Pod sandbox changed, it will be killed and re-created.")
			w.terminal = true
			return w.syncFinished(ctx, pod, v)
		}
		sb, err := w.newSandbox(ctx, pod, v)
		if err != nil {
			w.report(ctx, pod, rec, nil, false)
			return w.failed(), nil
		}
		// Go on with the new sandbox without listing again: the old ones are stopped.
		var sbs []runtime.Sandbox
		for _, s := range rec.Sandboxes {
			s.State = runtime.SandboxNotReady
			sbs = append(sbs, s)
		}
		rec.Sandboxes = append(sbs, sb)
		v = w.view(rec)
		v.sandbox = &rec.Sandboxes[len(rec.Sandboxes)-1]
	}
	requeue := w.m.cfg.ResyncPeriod
	next := func(d time.Duration) {
		if d > 0 && d < requeue {
			requeue = d
		}
	}

	// Init containers, in order, each to completion.
	initialized := true
	for _, c := range spec.GetInitContainers() {
		cur, ok := v.current[c.GetName()]
		if ok && cur.State == runtime.ContainerExited && cur.ExitCode == 0 {
			continue
		}
		initialized = false
		switch {
		case ok && cur.State == runtime.ContainerRunning:
			// Wait for it to finish; the relist wakes us.
		case ok && cur.State == runtime.ContainerExited:
			if spec.GetRestartPolicy() == "Never" {
				w.terminal = true // the Pod failed
				return w.syncFinished(ctx, pod, v)
			}
			next(w.restart(ctx, pod, v, c, cur))
		case ok && cur.State == runtime.ContainerCreated:
			next(w.startCreated(ctx, pod, cur))
		default:
			next(w.start(ctx, pod, v, c, nil))
		}
		break
	}

	// App containers.
	running := map[string]string{}
	if initialized {
		for _, c := range spec.GetContainers() {
			next(w.syncContainer(ctx, pod, v, c, running))
		}
	}
	w.dropProbes(running)
	w.removeExtra(ctx, pod, v)

	rec, err = w.m.cache.get(ctx, w.uid, w.epoch)
	if err != nil {
		return 0, err
	}
	v = w.view(rec)
	st := w.report(ctx, pod, rec, v.sandbox, false)
	if st.GetPhase() == status.PodSucceeded || st.GetPhase() == status.PodFailed {
		w.terminal = true
		return w.syncFinished(ctx, pod, v)
	}
	return requeue, nil
}

// syncContainer handles one app container; running collects the running ones.
func (w *worker) syncContainer(ctx context.Context, pod *corev1.Pod, v *view, c *corev1.Container, running map[string]string) time.Duration {
	name := c.GetName()
	cur, ok := v.current[name]
	switch {
	case ok && cur.State == runtime.ContainerRunning:
		if cur.Labels[runtime.LabelSpecHash] != "" && cur.Labels[runtime.LabelSpecHash] != specHash(c) {
			w.kill(ctx, pod, c, cur, podGrace(pod), fmt.Sprintf("Container %s definition changed, will be restarted", name))
			return time.Millisecond // start the new one on the next pass
		}
		if kind, failed := w.probeFailed(name, cur.ID); failed {
			w.kill(ctx, pod, c, cur, probeGrace(pod, c, kind), fmt.Sprintf("Container %s failed %s probe, will be restarted", name, lower(string(kind))))
			return time.Millisecond
		}
		running[name] = cur.ID
		w.ensureProbes(pod, c, cur, v.sandbox.IP)
		delete(w.waiting, name)
		return 0
	case ok && cur.State == runtime.ContainerExited:
		if !shouldRestart(pod.GetSpec().GetRestartPolicy(), cur.ExitCode) {
			delete(w.waiting, name)
			return 0
		}
		return w.restart(ctx, pod, v, c, cur)
	case ok && cur.State == runtime.ContainerCreated:
		return w.startCreated(ctx, pod, cur)
	case ok: // unknown state: look again soon
		return time.Second
	}
	// Nothing in the current sandbox: a first start, or a restart in a new sandbox.
	if last, ran := v.latest[name]; ran {
		policy := pod.GetSpec().GetRestartPolicy()
		if policy == "OnFailure" && last.State == runtime.ContainerExited && last.ExitCode == 0 {
			return 0 // it completed; a new sandbox does not run it again
		}
		return w.restart(ctx, pod, v, c, last)
	}
	return w.start(ctx, pod, v, c, nil)
}

func shouldRestart(policy string, exitCode int) bool {
	switch policy {
	case "Never":
		return false
	case "OnFailure":
		return exitCode != 0
	default:
		return true
	}
}

// restart starts a new attempt of a container that exited, unless it is in back-off.
func (w *worker) restart(ctx context.Context, pod *corev1.Pod, v *view, c *corev1.Container, last runtime.ContainerStatus) time.Duration {
	key := c.GetName() + "_" + specHash(c)
	finished := last.FinishedAt
	if finished.IsZero() {
		finished = time.Now()
	}
	now := time.Now()
	if in, left := w.crash.InBackoffSince(key, finished, now); in {
		delay := w.crash.Delay(key)
		w.waiting[c.GetName()] = status.Waiting{
			Reason: status.CrashLoopBackOff,
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
				delay, c.GetName(), pod.GetMetadata().GetName(), pod.GetMetadata().GetNamespace(), w.uid),
		}
		if !w.backoffFor[key].Equal(finished) {
			w.backoffFor[key] = finished
			w.record(pod, status.Warning, status.EventBackOff, "Back-off restarting failed container %s in pod %s_%s(%s)",
				c.GetName(), pod.GetMetadata().GetName(), pod.GetMetadata().GetNamespace(), w.uid)
		}
		return left
	}
	w.crash.Next(key, finished, now)
	return w.start(ctx, pod, v, c, &last)
}

// startCreated starts a container that was created but not started (by an agent that
// stopped in between).
func (w *worker) startCreated(ctx context.Context, pod *corev1.Pod, cs runtime.ContainerStatus) time.Duration {
	if err := w.m.rt.StartContainer(ctx, cs.ID); err != nil {
		w.startErrs[cs.ID] = startErr{msg: err.Error(), at: time.Now()}
		w.waiting[cs.Name] = status.Waiting{Reason: status.RunContainerError, Message: err.Error()}
		w.record(pod, status.Warning, status.EventFailed, "Error: %v", err)
	} else {
		w.record(pod, status.Normal, status.EventStarted, "Started container %s", cs.Name)
		delete(w.waiting, cs.Name)
	}
	w.changed()
	return time.Millisecond
}

// syncFinished keeps a finished Pod stopped: its containers are killed, its sandbox stopped,
// nothing is removed (logs stay readable) until the Pod is deleted.
func (w *worker) syncFinished(ctx context.Context, pod *corev1.Pod, v *view) (time.Duration, error) {
	w.stopProbes()
	for _, c := range v.rec.Containers {
		if c.State == runtime.ContainerRunning {
			w.kill(ctx, pod, containerSpec(pod, c.Name), c, podGrace(pod), "Stopping container "+c.Name)
		}
	}
	for _, s := range v.rec.Sandboxes {
		if s.State == runtime.SandboxReady {
			if err := w.m.rt.StopSandbox(ctx, s.ID, 0); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				return 0, fmt.Errorf("stop sandbox: %w", err)
			}
			w.changed()
		}
	}
	w.waiting = map[string]status.Waiting{}
	rec, err := w.m.cache.get(ctx, w.uid, w.epoch)
	if err != nil {
		return 0, err
	}
	w.report(ctx, pod, rec, nil, true)
	return w.m.cfg.ResyncPeriod, nil
}

// newSandbox replaces a dead or missing sandbox: the containers of the old one are killed
// (every container restarts in the new one), the old one removed.
func (w *worker) newSandbox(ctx context.Context, pod *corev1.Pod, v *view) (runtime.Sandbox, error) {
	if !v.rec.empty() {
		w.record(pod, status.Normal, status.EventSandboxChanged, "Pod sandbox changed, it will be killed and re-created.")
		w.stopProbes()
		for _, c := range v.rec.Containers {
			if c.State == runtime.ContainerRunning {
				w.kill(ctx, pod, containerSpec(pod, c.Name), c, podGrace(pod), "Stopping container "+c.Name)
			}
		}
		for _, s := range v.rec.Sandboxes {
			if err := w.m.rt.StopSandbox(ctx, s.ID, 0); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				w.m.log.Warn("stop old sandbox", "pod", podName(pod), "sandbox", s.ID, "err", err)
			}
		}
		w.changed()
	}
	sb, err := w.m.rt.RunSandbox(ctx, w.sandboxConfig(pod))
	w.changed()
	if err != nil {
		msg := fmt.Sprintf("Failed to create pod sandbox: %v", err)
		w.record(pod, status.Warning, status.EventFailedSandbox, "%s", msg)
		for _, c := range allContainers(pod) {
			w.waiting[c.GetName()] = status.Waiting{Reason: w.defaultWaiting(pod), Message: msg}
		}
		return sb, err
	}
	w.clearWaiting(status.ContainerCreating)
	w.m.log.Debug("sandbox running", "pod", podName(pod), "sandbox", sb.ID, "ip", sb.IP)
	return sb, nil
}

// removeExtra removes attempts beyond keepAttempts, containers no longer in the spec, and
// dead sandboxes without containers.
func (w *worker) removeExtra(ctx context.Context, pod *corev1.Pod, v *view) {
	byName := map[string][]runtime.ContainerStatus{}
	for _, c := range v.rec.Containers {
		byName[c.Name] = append(byName[c.Name], c)
	}
	inSpec := map[string]bool{}
	for _, c := range allContainers(pod) {
		inSpec[c.GetName()] = true
	}
	used := map[string]bool{}
	if v.sandbox != nil {
		used[v.sandbox.ID] = true
	}
	for name, cs := range byName {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Attempt > cs[j].Attempt })
		for i, c := range cs {
			extra := i >= keepAttempts || !inSpec[name]
			if !extra || c.State == runtime.ContainerCreated && i == 0 {
				used[c.SandboxID] = true
				continue
			}
			if c.State == runtime.ContainerRunning {
				w.kill(ctx, pod, nil, c, podGrace(pod), "Stopping container "+c.Name)
			}
			if err := w.m.rt.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				w.m.log.Warn("remove old container", "pod", podName(pod), "container", c.ID, "err", err)
				used[c.SandboxID] = true
				continue
			}
			delete(w.startErrs, c.ID)
			w.changed()
		}
	}
	for _, s := range v.rec.Sandboxes {
		if used[s.ID] || s.State == runtime.SandboxReady {
			continue
		}
		if err := w.m.rt.RemoveSandbox(ctx, s.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			w.m.log.Debug("remove old sandbox", "pod", podName(pod), "sandbox", s.ID, "err", err)
			continue
		}
		w.changed()
	}
}

// mountFailed records why volumes could not be set up.
func (w *worker) mountFailed(pod *corev1.Pod, err error) {
	var msgs []string
	for _, e := range unjoin(err) {
		w.record(pod, status.Warning, status.EventFailedMount, "%v", e)
		msgs = append(msgs, e.Error())
	}
	for _, c := range allContainers(pod) {
		if _, ok := w.waiting[c.GetName()]; !ok || w.waiting[c.GetName()].Reason == status.ContainerCreating || w.waiting[c.GetName()].Reason == status.PodInitializing {
			w.waiting[c.GetName()] = status.Waiting{Reason: w.defaultWaiting(pod), Message: msgs[0]}
		}
	}
}

// clearWaiting drops the waiting states with reason (set while volumes failed).
func (w *worker) clearWaiting(reason string) {
	for name, wt := range w.waiting {
		if wt.Reason == reason || wt.Reason == status.PodInitializing {
			delete(w.waiting, name)
		}
	}
}

func (w *worker) defaultWaiting(pod *corev1.Pod) string {
	if len(pod.GetSpec().GetInitContainers()) > 0 {
		return status.PodInitializing
	}
	return status.ContainerCreating
}

// deadlineExceeded reports whether the Pod ran longer than activeDeadlineSeconds.
func (w *worker) deadlineExceeded(pod *corev1.Pod) bool {
	if pod.GetSpec().ActiveDeadlineSeconds == nil {
		return false
	}
	ads := pod.GetSpec().ActiveDeadlineSeconds
	start := pod.GetStatus().GetStartTime()
	if w.lastStatus.GetStartTime() != nil {
		start = w.lastStatus.GetStartTime()
	}
	if start == nil {
		return false
	}
	return time.Since(start.AsTime()) >= time.Duration(*ads)*time.Second
}

// unjoin splits an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// allContainers lists the init then the app containers.
func allContainers(pod *corev1.Pod) []*corev1.Container {
	return append(append([]*corev1.Container(nil), pod.GetSpec().GetInitContainers()...), pod.GetSpec().GetContainers()...)
}

// containerSpec finds a container of the Pod by name (nil if none).
func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for _, c := range allContainers(pod) {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}
