package podworker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/berth-dev/berth/agent/prober"
	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/status"
	"github.com/berth-dev/berth/agent/volume"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// minGrace is the least time a container gets to stop, as in the kubelet.
const minGrace = 2 * time.Second

// postStartTimeout bounds a postStart hook.
const postStartTimeout = 2 * time.Minute

// start creates and starts a new attempt of c (last is the previous attempt, if any). It
// returns when to look again.
func (w *worker) start(ctx context.Context, pod *corev1.Pod, v *view, c *corev1.Container, last *runtime.ContainerStatus) time.Duration {
	name := c.GetName()
	if left, ok := w.ensureImage(ctx, pod, c); !ok {
		return left
	}
	ec := &envContext{pod: pod, podIP: v.sandbox.IP, hostIP: w.m.cfg.HostIP, node: w.m.nodeInfo(ctx), lookup: w.m.cfg.Lookup}
	env, err := ec.containerEnv(ctx, c)
	if err != nil {
		return w.configError(pod, c, err)
	}
	mounts, err := volume.Mounts(w.vols, c, env.expand)
	if err != nil {
		return w.configError(pod, c, err)
	}
	cfg, err := w.containerConfig(pod, c, env, mounts, v.nextAttempt[name])
	if err != nil {
		return w.configError(pod, c, err)
	}
	id, err := w.m.rt.CreateContainer(ctx, v.sandbox.ID, cfg)
	w.changed()
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		w.waiting[name] = status.Waiting{Reason: status.CreateContainerError, Message: err.Error()}
		w.record(pod, status.Warning, status.EventFailed, "Error: %v", err)
		return w.failed()
	}
	w.record(pod, status.Normal, status.EventCreated, "Created container %s", name)
	if err := w.m.rt.StartContainer(ctx, id); err != nil {
		w.changed()
		if ctx.Err() != nil {
			return 0
		}
		w.startErrs[id] = startErr{msg: err.Error(), at: time.Now()}
		w.waiting[name] = status.Waiting{Reason: status.RunContainerError, Message: err.Error()}
		w.record(pod, status.Warning, status.EventFailed, "Error: %v", err)
		return time.Millisecond // treated as an exit: the restart policy and back-off decide
	}
	w.changed()
	delete(w.waiting, name)
	w.record(pod, status.Normal, status.EventStarted, "Started container %s", name)
	if h := c.GetLifecycle().GetPostStart(); h != nil {
		hctx, cancel := context.WithTimeout(ctx, postStartTimeout)
		_, err := w.m.prober.RunHandler(hctx, h, prober.Target{ContainerID: id, PodIP: v.sandbox.IP, Ports: c.GetPorts()})
		cancel()
		if err != nil && ctx.Err() == nil {
			msg := fmt.Sprintf("PostStartHook failed: %v", err)
			w.record(pod, status.Warning, status.EventFailedPostStart, "%s", msg)
			w.kill(ctx, pod, c, runtime.ContainerStatus{ID: id, Name: name}, podGrace(pod), "FailedPostStartHook")
			w.waiting[name] = status.Waiting{Reason: status.PostStartHookError, Message: msg}
		}
	}
	return 0
}

// configError records an error in what c refers to (CreateContainerConfigError).
func (w *worker) configError(pod *corev1.Pod, c *corev1.Container, err error) time.Duration {
	w.waiting[c.GetName()] = status.Waiting{Reason: status.CreateContainerConfigError, Message: err.Error()}
	w.record(pod, status.Warning, status.EventFailed, "Error: %v", err)
	return w.failed()
}

// ensureImage makes c's image present per its imagePullPolicy, with the kubelet's pull
// back-off. It returns false (and when to try again) while the image is not there.
func (w *worker) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (time.Duration, bool) {
	image, policy := c.GetImage(), c.GetImagePullPolicy()
	if policy == "" {
		policy = "IfNotPresent"
	}
	name := c.GetName()
	if policy != "Always" {
		if _, err := w.m.rt.EnsureImage(ctx, image, "Never"); err == nil {
			w.record(pod, status.Normal, status.EventPulled, "Container image %q already present on machine", image)
			return 0, true
		} else if !errors.Is(err, runtime.ErrNotFound) {
			return w.imageError(pod, c, err)
		}
		if policy == "Never" {
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", image)
			w.waiting[name] = status.Waiting{Reason: status.ErrImageNeverPull, Message: msg}
			w.record(pod, status.Warning, status.EventFailed, "Error: %s", msg)
			return w.m.cfg.ResyncPeriod, false
		}
	}
	key := image
	if in, left := w.images.InBackoffSinceUpdate(key, time.Now()); in {
		prev := w.waiting[name].Message
		if w.waiting[name].Reason == status.ImagePullBackOff {
			prev = strings.TrimPrefix(prev, fmt.Sprintf("Back-off pulling image %q: ErrImagePull: ", image))
		}
		w.waiting[name] = status.Waiting{Reason: status.ImagePullBackOff, Message: fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", image, prev)}
		w.record(pod, status.Normal, status.EventBackOff, "Back-off pulling image %q", image)
		return left, false
	}
	w.record(pod, status.Normal, status.EventPulling, "Pulling image %q", image)
	start := time.Now()
	_, err := w.m.rt.EnsureImage(ctx, image, policy)
	if err != nil {
		if policy == "Always" && errors.Is(err, runtime.ErrImagePull) {
			// No registry answers: a local copy of the image does (Berth builds its images
			// locally; a ":latest" tag defaults to Always).
			if _, lerr := w.m.rt.EnsureImage(ctx, image, "Never"); lerr == nil {
				w.record(pod, status.Normal, status.EventPulled, "Container image %q already present on machine (pull failed: %v)", image, err)
				return 0, true
			}
		}
		return w.imageError(pod, c, err)
	}
	w.images.Reset(key)
	w.record(pod, status.Normal, status.EventPulled, "Successfully pulled image %q in %s", image, time.Since(start).Round(time.Millisecond))
	return 0, true
}

func (w *worker) imageError(pod *corev1.Pod, c *corev1.Container, err error) (time.Duration, bool) {
	if errors.Is(err, runtime.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return w.failed(), false
	}
	image := c.GetImage()
	w.images.Next(image, time.Now(), time.Now())
	w.waiting[c.GetName()] = status.Waiting{Reason: status.ErrImagePull, Message: err.Error()}
	w.record(pod, status.Warning, status.EventFailed, "Failed to pull image %q: %v", image, err)
	w.record(pod, status.Warning, status.EventFailed, "Error: %s", status.ErrImagePull)
	_, left := w.images.InBackoffSinceUpdate(image, time.Now())
	return left, false
}

// kill stops a running container of the worker's Pod: its probes end, then stopContainer.
func (w *worker) kill(ctx context.Context, pod *corev1.Pod, c *corev1.Container, cs runtime.ContainerStatus, grace time.Duration, why string) {
	if p := w.probes[cs.Name]; p != nil && p.id == cs.ID {
		p.stop()
		delete(w.probes, cs.Name)
	}
	w.stopContainer(ctx, pod, c, cs, w.lastStatus.GetPodIp(), grace, why)
	w.changed()
}

// stopContainer runs c's preStop hook (c may be nil for a container no longer in the spec),
// then sends the stop signal, and SIGKILL when the grace period (at least minGrace) runs out.
// It touches no state of the worker, so that a teardown stops all containers at once.
func (w *worker) stopContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, cs runtime.ContainerStatus, podIP string, grace time.Duration, why string) {
	w.record(pod, status.Normal, status.EventKilling, "%s", why)
	deadline := time.Now().Add(grace)
	if h := c.GetLifecycle().GetPreStop(); h != nil {
		hctx, cancel := context.WithDeadline(ctx, deadline)
		_, err := w.m.prober.RunHandler(hctx, h, prober.Target{ContainerID: cs.ID, PodIP: podIP, Ports: c.GetPorts()})
		cancel()
		if err != nil && ctx.Err() == nil {
			w.record(pod, status.Warning, status.EventFailedPreStop, "PreStopHook failed: %v", err)
		}
	}
	timeout := max(time.Until(deadline), minGrace)
	if err := w.m.rt.StopContainer(ctx, cs.ID, timeout); err != nil && !errors.Is(err, runtime.ErrNotFound) && ctx.Err() == nil {
		w.m.log.Warn("stop container", "pod", podName(pod), "container", cs.Name, "err", err)
	}
}

// podGrace is the time the Pod's containers get to stop: the deletion's grace period when the
// Pod is being deleted, else terminationGracePeriodSeconds.
func podGrace(pod *corev1.Pod) time.Duration {
	if g := pod.GetMetadata(); g != nil && g.DeletionGracePeriodSeconds != nil {
		return time.Duration(*g.DeletionGracePeriodSeconds) * time.Second
	}
	if s := pod.GetSpec(); s != nil && s.TerminationGracePeriodSeconds != nil {
		return time.Duration(*s.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

// probeGrace is the grace period of a container killed by a failed probe: the probe's own
// terminationGracePeriodSeconds when set.
func probeGrace(pod *corev1.Pod, c *corev1.Container, kind prober.Kind) time.Duration {
	p := c.GetLivenessProbe()
	if kind == prober.Startup {
		p = c.GetStartupProbe()
	}
	if p != nil && p.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
	}
	return podGrace(pod)
}

// specHash identifies a container's spec; a running container with another hash is restarted.
func specHash(c *corev1.Container) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 16)
}

// containerConfig is the runtime's description of c.
func (w *worker) containerConfig(pod *corev1.Pod, c *corev1.Container, env *environment, mounts []runtime.Mount, attempt int) (runtime.ContainerConfig, error) {
	md := pod.GetMetadata()
	cfg := runtime.ContainerConfig{
		Pod:                    runtime.PodRef{UID: md.GetUid(), Namespace: md.GetNamespace(), Name: md.GetName()},
		Name:                   c.GetName(),
		Attempt:                attempt,
		Image:                  c.GetImage(),
		Env:                    env.list(),
		WorkingDir:             c.GetWorkingDir(),
		Mounts:                 mounts,
		Stdin:                  c.GetStdin(),
		StdinOnce:              c.GetStdinOnce(),
		TTY:                    c.GetTty(),
		TerminationMessagePath: c.GetTerminationMessagePath(),
		Labels:                 map[string]string{runtime.LabelSpecHash: specHash(c)},
	}
	for _, s := range c.GetCommand() {
		cfg.Command = append(cfg.Command, env.expand(s))
	}
	for _, s := range c.GetArgs() {
		cfg.Args = append(cfg.Args, env.expand(s))
	}
	res, err := resources(c.GetResources())
	if err != nil {
		return cfg, err
	}
	cfg.Resources = res
	psc, sc := pod.GetSpec().GetSecurityContext(), c.GetSecurityContext()
	var uid, gid *int64
	if psc != nil {
		uid, gid = psc.RunAsUser, psc.RunAsGroup
	}
	if sc != nil && sc.RunAsUser != nil {
		uid = sc.RunAsUser
	}
	if sc != nil && sc.RunAsGroup != nil {
		gid = sc.RunAsGroup
	}
	switch {
	case uid != nil && gid != nil:
		cfg.User = fmt.Sprintf("%d:%d", *uid, *gid)
	case uid != nil:
		cfg.User = strconv.FormatInt(*uid, 10)
	}
	runAsNonRoot := psc.GetRunAsNonRoot()
	if sc != nil && sc.RunAsNonRoot != nil {
		runAsNonRoot = sc.GetRunAsNonRoot()
	}
	if runAsNonRoot && uid != nil && *uid == 0 {
		return cfg, configErrorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", podName(pod), c.GetName())
	}
	cfg.Privileged = sc.GetPrivileged()
	cfg.ReadOnlyRootfs = sc.GetReadOnlyRootFilesystem()
	cfg.CapAdd = sc.GetCapabilities().GetAdd()
	cfg.CapDrop = sc.GetCapabilities().GetDrop()
	return cfg, nil
}

// resources maps a container's cpu and memory to the runtime's limits.
func resources(r *corev1.ResourceRequirements) (runtime.Resources, error) {
	var out runtime.Resources
	parse := func(list map[string]string, name string) (resource.Quantity, bool, error) {
		s, ok := list[name]
		if !ok {
			return resource.Quantity{}, false, nil
		}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return q, false, configErrorf("resources %s %q: %v", name, s, err)
		}
		return q, true, nil
	}
	if q, ok, err := parse(r.GetLimits(), "cpu"); err != nil {
		return out, err
	} else if ok {
		out.CPUMillis = q.MilliValue()
	}
	if q, ok, err := parse(r.GetRequests(), "cpu"); err != nil {
		return out, err
	} else if ok {
		out.CPURequestMillis = q.MilliValue()
	}
	if q, ok, err := parse(r.GetLimits(), "memory"); err != nil {
		return out, err
	} else if ok {
		out.MemoryBytes = q.Value()
	}
	return out, nil
}

// sandboxConfig is the runtime's description of the Pod's sandbox.
func (w *worker) sandboxConfig(pod *corev1.Pod) runtime.SandboxConfig {
	md, spec := pod.GetMetadata(), pod.GetSpec()
	cfg := runtime.SandboxConfig{
		Pod:                   runtime.PodRef{UID: md.GetUid(), Namespace: md.GetNamespace(), Name: md.GetName()},
		Hostname:              hostname(pod),
		ShareProcessNamespace: spec.GetShareProcessNamespace(),
		DNS:                   w.dnsConfig(pod),
	}
	for _, a := range spec.GetHostAliases() {
		cfg.HostAliases = append(cfg.HostAliases, runtime.HostAlias{IP: a.GetIp(), Hostnames: a.GetHostnames()})
	}
	return cfg
}

// hostname is the Pod's hostname: spec.hostname, else the Pod's name cut to 63 characters.
func hostname(pod *corev1.Pod) string {
	h := pod.GetSpec().GetHostname()
	if h == "" {
		h = pod.GetMetadata().GetName()
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// dnsConfig is the Pod's resolv.conf by dnsPolicy: ClusterFirst uses the cluster's DNS (the
// Node's when none is configured), Default the Node's, None only dnsConfig; dnsConfig adds to
// the first two.
func (w *worker) dnsConfig(pod *corev1.Pod) *runtime.DNSConfig {
	spec := pod.GetSpec()
	var cfg *runtime.DNSConfig
	switch spec.GetDnsPolicy() {
	case "Default":
	case "None":
		cfg = &runtime.DNSConfig{}
	default: // ClusterFirst, ClusterFirstWithHostNet
		if len(w.m.cfg.ClusterDNS) > 0 {
			d := w.m.cfg.ClusterDomain
			ns := pod.GetMetadata().GetNamespace()
			cfg = &runtime.DNSConfig{
				Nameservers: append([]string(nil), w.m.cfg.ClusterDNS...),
				Searches:    []string{ns + ".svc." + d, "svc." + d, d},
				Options:     []string{"ndots:5"},
			}
		}
	}
	extra := spec.GetDnsConfig()
	if extra == nil {
		return cfg
	}
	if cfg == nil {
		cfg = &runtime.DNSConfig{}
	}
	cfg.Nameservers = append(cfg.Nameservers, extra.GetNameservers()...)
	cfg.Searches = append(cfg.Searches, extra.GetSearches()...)
	for _, o := range extra.GetOptions() {
		opt := o.GetName()
		if o.Value != nil {
			opt += ":" + o.GetValue()
		}
		replaced := false
		for i, cur := range cfg.Options {
			if strings.SplitN(cur, ":", 2)[0] == o.GetName() {
				cfg.Options[i], replaced = opt, true
			}
		}
		if !replaced {
			cfg.Options = append(cfg.Options, opt)
		}
	}
	return cfg
}

func lower(s string) string { return strings.ToLower(s) }
