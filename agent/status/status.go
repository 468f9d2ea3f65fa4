package status

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Pod phases.
const (
	PodPending   = "Pending"
	PodRunning   = "Running"
	PodSucceeded = "Succeeded"
	PodFailed    = "Failed"
)

// Pod condition types.
const (
	PodScheduled    = "PodScheduled"
	Initialized     = "Initialized"
	ContainersReady = "ContainersReady"
	Ready           = "Ready"
)

// Condition reasons.
const (
	ContainersNotInitialized = "ContainersNotInitialized"
	ContainersNotReady       = "ContainersNotReady"
	PodCompleted             = "PodCompleted"
)

// Waiting is why a container does not run, as the Pod worker knows it.
type Waiting struct {
	Reason, Message string
}

// Probed is what the probes say of a running container.
type Probed struct {
	// Ready: the readiness probe succeeded. Started: the startup probe succeeded.
	Ready, Started bool
}

// Input is everything Compute needs.
type Input struct {
	Pod *corev1.Pod
	// Old is the status reported before; nil means the Pod's own status.
	Old *corev1.PodStatus
	// Sandbox is the Pod's running sandbox, nil when there is none.
	Sandbox *runtime.Sandbox
	// Containers are the runtime's containers of the Pod, every attempt still there.
	Containers []runtime.ContainerStatus
	// Waiting overrides the state of containers that are not running, by container name.
	Waiting map[string]Waiting
	// Probed holds the probe results of running containers that have probes, by container
	// name; a running container without an entry is ready (started) when it has no readiness
	// (startup) probe, and not yet otherwise.
	Probed map[string]Probed
	// HostIP is the Node's address.
	HostIP string
	// RuntimeName prefixes container IDs ("docker" gives "docker://<id>").
	RuntimeName string
	// Terminal says no container of the Pod will run again (the Pod is being deleted, or has
	// finished): the phase is then Succeeded or Failed.
	Terminal bool
	// Reason and Message, when Reason is set, fail the Pod (DeadlineExceeded, ...).
	Reason, Message string
	// Now is the time of transitions made by this computation.
	Now time.Time
}

// Compute returns the Pod's status.
func Compute(in Input) *corev1.PodStatus {
	pod := in.Pod
	old := in.Old
	if old == nil {
		old = pod.GetStatus()
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	rtName := in.RuntimeName
	if rtName == "" {
		rtName = "docker"
	}
	byName := map[string][]runtime.ContainerStatus{}
	for _, c := range in.Containers {
		byName[c.Name] = append(byName[c.Name], c)
	}
	for _, cs := range byName {
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].Attempt != cs[j].Attempt {
				return cs[i].Attempt > cs[j].Attempt
			}
			return cs[i].CreatedAt.After(cs[j].CreatedAt)
		})
	}
	spec := pod.GetSpec()
	defaultReason := ContainerCreating
	if len(spec.GetInitContainers()) > 0 {
		defaultReason = PodInitializing
	}
	st := &corev1.PodStatus{
		HostIp:   in.HostIP,
		QosClass: old.GetQosClass(),
	}
	if st.QosClass == "" {
		st.QosClass = QOSClass(spec)
	}
	if in.HostIP != "" {
		st.HostIps = []*corev1.HostIP{{Ip: in.HostIP}}
	}
	b := builder{in: in, old: old, byName: byName, rt: rtName, defaultReason: defaultReason}
	for _, c := range spec.GetInitContainers() {
		st.InitContainerStatuses = append(st.InitContainerStatuses, b.container(c, true))
	}
	for _, c := range spec.GetContainers() {
		st.ContainerStatuses = append(st.ContainerStatuses, b.container(c, false))
	}

	st.Phase = phase(spec, st.InitContainerStatuses, st.ContainerStatuses, in.Terminal)
	if in.Reason != "" {
		st.Phase, st.Reason, st.Message = PodFailed, in.Reason, in.Message
	}
	if p := old.GetPhase(); p == PodSucceeded || p == PodFailed {
		st.Phase = p // a finished Pod never runs again
		if st.Reason == "" {
			st.Reason, st.Message = old.GetReason(), old.GetMessage()
		}
	}

	switch {
	case in.Sandbox != nil && in.Sandbox.IP != "":
		st.PodIp = in.Sandbox.IP
	case in.Terminal || st.Phase == PodSucceeded || st.Phase == PodFailed:
		st.PodIp = old.GetPodIp() // a finished Pod keeps the IP it had
	}
	if st.PodIp != "" {
		st.PodIps = []*corev1.PodIP{{Ip: st.PodIp}}
	}
	st.StartTime = old.GetStartTime()
	if st.StartTime == nil {
		st.StartTime = timestamppb.New(now.Truncate(time.Second))
	}
	st.Conditions = conditions(st, old, now)
	return st
}

type builder struct {
	in            Input
	old           *corev1.PodStatus
	byName        map[string][]runtime.ContainerStatus
	rt            string
	defaultReason string
}

func (b *builder) id(id string) string {
	if id == "" {
		return ""
	}
	return b.rt + "://" + id
}

func (b *builder) imageID(id string) string {
	if strings.HasPrefix(id, "sha256:") {
		return b.rt + "://" + id
	}
	return id
}

func (b *builder) terminated(c runtime.ContainerStatus) *corev1.ContainerState {
	reason := c.Reason
	if reason == "" {
		reason = Completed
		if c.ExitCode != 0 {
			reason = Error
		}
	}
	t := &corev1.ContainerStateTerminated{
		ExitCode:    int32(c.ExitCode),
		Reason:      reason,
		Message:     c.Message,
		ContainerId: b.id(c.ID),
	}
	if !c.StartedAt.IsZero() {
		t.StartedAt = timestamppb.New(c.StartedAt)
	}
	if !c.FinishedAt.IsZero() {
		t.FinishedAt = timestamppb.New(c.FinishedAt)
	}
	return &corev1.ContainerState{Terminated: t}
}

// finished reports whether no container of the Pod runs again.
func (b *builder) finished() bool {
	p := b.old.GetPhase()
	return b.in.Terminal || p == PodSucceeded || p == PodFailed
}

// oldStatus is the container's status as reported before.
func (b *builder) oldStatus(name string, init bool) *corev1.ContainerStatus {
	list := b.old.GetContainerStatuses()
	if init {
		list = b.old.GetInitContainerStatuses()
	}
	for _, o := range list {
		if o.GetName() == name {
			return o
		}
	}
	return nil
}

// container builds one container's status.
func (b *builder) container(spec *corev1.Container, init bool) *corev1.ContainerStatus {
	name := spec.GetName()
	cs := &corev1.ContainerStatus{Name: name, Image: spec.GetImage(), Started: proto.Bool(false)}
	recs := b.byName[name]
	waiting, hasWaiting := b.in.Waiting[name]
	var latest *runtime.ContainerStatus
	if len(recs) > 0 {
		latest = &recs[0]
		cs.RestartCount = int32(latest.Attempt)
		cs.ContainerId = b.id(latest.ID)
		cs.ImageId = b.imageID(latest.ImageID)
	}
	previous := func() *corev1.ContainerState {
		if len(recs) > 1 {
			return b.terminated(recs[1])
		}
		return nil
	}
	switch {
	case latest == nil && b.finished():
		// A finished Pod whose containers are gone keeps what was reported of them.
		if o := b.oldStatus(name, init); o.GetState().GetTerminated() != nil {
			return proto.Clone(o).(*corev1.ContainerStatus)
		}
		cs.State = &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: b.defaultReason}}
	case latest == nil:
		w := Waiting{Reason: b.defaultReason}
		if hasWaiting {
			w = waiting
		}
		cs.State = &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}}
	case latest.State == runtime.ContainerRunning:
		run := &corev1.ContainerStateRunning{}
		if !latest.StartedAt.IsZero() {
			run.StartedAt = timestamppb.New(latest.StartedAt)
		}
		cs.State = &corev1.ContainerState{Running: run}
		cs.LastState = previous()
		p, probed := b.in.Probed[name]
		if !probed {
			// No probe has reported yet: a container without probes is ready and started at
			// once, one with a readiness (startup) probe only once that probe succeeds.
			p = Probed{Ready: spec.GetReadinessProbe() == nil, Started: spec.GetStartupProbe() == nil}
		}
		cs.Started = proto.Bool(p.Started)
		cs.Ready = p.Started && p.Ready && !init
	case latest.State == runtime.ContainerExited:
		if hasWaiting {
			cs.State = &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting.Reason, Message: waiting.Message}}
			cs.LastState = b.terminated(*latest)
		} else {
			cs.State = b.terminated(*latest)
			cs.LastState = previous()
			cs.Ready = init && latest.ExitCode == 0 // a completed init container is ready
		}
	default: // created, not started yet; or unknown
		w := Waiting{Reason: b.defaultReason}
		if latest.State == runtime.ContainerUnknown {
			w = Waiting{Reason: "ContainerStatusUnknown", Message: latest.Message}
		}
		if hasWaiting {
			w = waiting
		}
		cs.State = &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}}
		cs.LastState = previous()
	}
	if cs.LastState == nil {
		// The previous attempt's container is gone: keep what was reported of it.
		if o := b.oldStatus(name, init); o.GetRestartCount() == cs.RestartCount && o.GetLastState().GetTerminated() != nil {
			cs.LastState = proto.Clone(o.GetLastState()).(*corev1.ContainerState)
		}
	}
	if cs.LastState == nil {
		cs.LastState = &corev1.ContainerState{}
	}
	return cs
}

// phase is the kubelet's getPhase over the container statuses.
func phase(spec *corev1.PodSpec, inits, apps []*corev1.ContainerStatus, terminal bool) string {
	pendingInit, failedInit := 0, 0
	for _, cs := range inits {
		switch {
		case cs.GetState().GetRunning() != nil:
			pendingInit++
		case cs.GetState().GetTerminated() != nil:
			if cs.GetState().GetTerminated().GetExitCode() != 0 {
				failedInit++
			}
		case cs.GetLastState().GetTerminated() != nil:
			if cs.GetLastState().GetTerminated().GetExitCode() != 0 {
				failedInit++
			}
		default:
			pendingInit++
		}
	}
	unknown, running, waiting, stopped, succeeded := 0, 0, 0, 0, 0
	for _, cs := range apps {
		switch {
		case cs.GetState().GetRunning() != nil:
			running++
		case cs.GetState().GetTerminated() != nil:
			stopped++
			if cs.GetState().GetTerminated().GetExitCode() == 0 {
				succeeded++
			}
		case cs.GetState().GetWaiting() != nil:
			if cs.GetLastState().GetTerminated() != nil {
				stopped++
				if cs.GetLastState().GetTerminated().GetExitCode() == 0 {
					succeeded++
				}
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}
	if failedInit > 0 && spec.GetRestartPolicy() == "Never" {
		return PodFailed
	}
	if terminal {
		// Nothing runs again: the containers' exits decide, as the kubelet decides for a Pod
		// it has terminated.
		if running > 0 || stopped == 0 || succeeded < len(apps) || failedInit > 0 {
			return PodFailed
		}
		return PodSucceeded
	}
	switch {
	case pendingInit > 0, waiting > 0:
		return PodPending
	case running > 0 && unknown == 0:
		return PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		switch spec.GetRestartPolicy() {
		case "Never", "OnFailure":
			if stopped == succeeded {
				return PodSucceeded
			}
			if spec.GetRestartPolicy() == "Never" {
				return PodFailed
			}
			return PodRunning
		default:
			return PodRunning
		}
	default:
		return PodPending
	}
}

// conditions computes the agent's conditions and keeps the others (PodScheduled from the
// scheduler, DisruptionTarget, ...) as they were.
func conditions(st, old *corev1.PodStatus, now time.Time) []*corev1.PodCondition {
	ts := timestamppb.New(now.Truncate(time.Second))
	prev := map[string]*corev1.PodCondition{}
	for _, c := range old.GetConditions() {
		prev[c.GetType()] = c
	}
	mk := func(typ string, ok bool, reason, msg string) *corev1.PodCondition {
		status := "False"
		if ok {
			status = "True"
		}
		c := &corev1.PodCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: ts}
		if p := prev[typ]; p != nil && p.GetStatus() == status && p.GetLastTransitionTime() != nil {
			c.LastTransitionTime = p.GetLastTransitionTime()
		}
		return c
	}

	var notInit []string
	for _, cs := range st.GetInitContainerStatuses() {
		if t := cs.GetState().GetTerminated(); t == nil || t.GetExitCode() != 0 {
			notInit = append(notInit, cs.GetName())
		}
	}
	var initCond *corev1.PodCondition
	switch {
	case len(notInit) == 0:
		initCond = mk(Initialized, true, "", "")
	case st.GetPhase() == PodSucceeded:
		initCond = mk(Initialized, true, PodCompleted, "")
	default:
		initCond = mk(Initialized, false, ContainersNotInitialized, fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(notInit, " ")))
	}

	var notReady []string
	for _, cs := range st.GetContainerStatuses() {
		if !cs.GetReady() {
			notReady = append(notReady, cs.GetName())
		}
	}
	var ready, cready *corev1.PodCondition
	switch {
	case st.GetPhase() == PodSucceeded:
		ready, cready = mk(Ready, false, PodCompleted, ""), mk(ContainersReady, false, PodCompleted, "")
	case len(notReady) == 0 && len(st.GetContainerStatuses()) > 0:
		ready, cready = mk(Ready, true, "", ""), mk(ContainersReady, true, "", "")
	default:
		msg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))
		ready, cready = mk(Ready, false, ContainersNotReady, msg), mk(ContainersReady, false, ContainersNotReady, msg)
	}

	sched := prev[PodScheduled]
	if sched == nil {
		sched = mk(PodScheduled, true, "", "")
	} else {
		sched = proto.Clone(sched).(*corev1.PodCondition)
	}
	out := []*corev1.PodCondition{initCond, ready, cready, sched}
	for _, c := range old.GetConditions() {
		switch c.GetType() {
		case Initialized, Ready, ContainersReady, PodScheduled:
		default:
			out = append(out, proto.Clone(c).(*corev1.PodCondition))
		}
	}
	return out
}
