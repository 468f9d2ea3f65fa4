package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/berth-dev/berth/agent/runtime"
)

// RunSandbox creates and starts a Pod's pause container on the Pods' network.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	if _, err := r.EnsureImage(ctx, r.opts.PauseImage, "IfNotPresent"); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("sandbox of pod %s/%s: pause image: %w", cfg.Pod.Namespace, cfg.Pod.Name, err)
	}
	config, hostConfig := r.sandboxConfig(cfg)
	hostConfig.NetworkMode = container.NetworkMode(r.opts.Network)
	for attempt := 0; ; attempt++ {
		if _, err := r.network(ctx); err != nil {
			return runtime.Sandbox{}, fmt.Errorf("sandbox of pod %s/%s: %w", cfg.Pod.Namespace, cfg.Pod.Name, err)
		}
		id, err := r.createSandbox(ctx, cfg.Pod, config, hostConfig)
		if err != nil && attempt == 0 && networkGone(err) {
			r.forgetNetwork() // removed behind our back: make it again
			continue
		}
		if err != nil {
			return runtime.Sandbox{}, err
		}
		return r.sandbox(ctx, id)
	}
}

// createSandbox creates and starts a pause container; one that does not start is removed.
func (r *Runtime) createSandbox(ctx context.Context, pod runtime.PodRef, config *container.Config, hostConfig *container.HostConfig) (string, error) {
	resp, err := r.cli.ContainerCreate(ctx, config, hostConfig, nil, nil, sandboxName(pod))
	if err != nil {
		return "", wrap(err, "create sandbox of pod %s/%s", pod.Namespace, pod.Name)
	}
	if err := r.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		err = wrap(err, "start sandbox of pod %s/%s", pod.Namespace, pod.Name)
		if !errors.Is(err, runtime.ErrUnavailable) {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = r.cli.ContainerRemove(rctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			cancel()
		}
		return "", err
	}
	return resp.ID, nil
}

// networkGone tells whether err says the Pods' network does not exist.
func networkGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "network") && strings.Contains(msg, "not found")
}

// sandboxConfig is the pause container of cfg, less its network.
func (r *Runtime) sandboxConfig(cfg runtime.SandboxConfig) (*container.Config, *container.HostConfig) {
	labels := map[string]string{}
	maps.Copy(labels, cfg.Labels)
	maps.Copy(labels, r.ownerLabels(cfg.Pod, runtime.SandboxContainerName))
	if cfg.ShareProcessNamespace {
		labels[LabelSharePID] = "true"
	}
	config := &container.Config{
		Image:    r.opts.PauseImage,
		Hostname: cfg.Hostname,
		Labels:   labels,
	}
	hostConfig := &container.HostConfig{
		// Containers join the sandbox's IPC namespace, which Docker only shares when asked.
		IpcMode: container.IPCModeShareable,
		// The pause container needs next to nothing; the Pod's containers have the limits.
		Resources: container.Resources{CPUShares: 2},
	}
	if d := cfg.DNS; d != nil {
		hostConfig.DNS = d.Nameservers
		hostConfig.DNSSearch = d.Searches
		hostConfig.DNSOptions = d.Options
	}
	for _, a := range cfg.HostAliases {
		for _, h := range a.Hostnames {
			hostConfig.ExtraHosts = append(hostConfig.ExtraHosts, h+":"+a.IP)
		}
	}
	return config, hostConfig
}

// ownerLabels are the labels every object of pod carries.
func (r *Runtime) ownerLabels(pod runtime.PodRef, container string) map[string]string {
	return map[string]string{
		runtime.LabelManaged:       "true",
		runtime.LabelPodUID:        pod.UID,
		runtime.LabelPodNamespace:  pod.Namespace,
		runtime.LabelPodName:       pod.Name,
		runtime.LabelContainerName: container,
		runtime.LabelNode:          r.opts.NodeName,
	}
}

// sandboxName is a Docker name for a sandbox of pod, unique thanks to a random suffix (a Pod
// may get a new sandbox while the old one still exists).
func sandboxName(pod runtime.PodRef) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("berth_POD_%s_%s_%s_%s", pod.Name, pod.Namespace, pod.UID, hex.EncodeToString(b[:]))
}

// sandbox inspects the sandbox id; ErrNotFound when id is no sandbox of this node.
func (r *Runtime) sandbox(ctx context.Context, id string) (runtime.Sandbox, error) {
	c, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return runtime.Sandbox{}, wrap(err, "inspect sandbox %s", id)
	}
	if c.Config == nil || !r.owned(c.Config.Labels) || !isSandbox(c.Config.Labels) {
		return runtime.Sandbox{}, fmt.Errorf("sandbox %s: %w", id, runtime.ErrNotFound)
	}
	sb := runtime.Sandbox{
		ID:        c.ID,
		Pod:       podRef(c.Config.Labels),
		State:     runtime.SandboxNotReady,
		CreatedAt: parseTime(c.Created),
		Labels:    c.Config.Labels,
	}
	if c.State != nil && c.State.Running {
		sb.State = runtime.SandboxReady
		if c.NetworkSettings != nil {
			if ep := c.NetworkSettings.Networks[r.opts.Network]; ep != nil {
				sb.IP = ep.IPAddress
			}
		}
	}
	return sb, nil
}

// owned tells whether labels are those of an object Berth made for this node.
func (r *Runtime) owned(labels map[string]string) bool {
	return labels[runtime.LabelManaged] == "true" && labels[runtime.LabelNode] == r.opts.NodeName
}

// podRef reads the Pod an object belongs to from its labels.
func podRef(labels map[string]string) runtime.PodRef {
	return runtime.PodRef{
		UID:       labels[runtime.LabelPodUID],
		Namespace: labels[runtime.LabelPodNamespace],
		Name:      labels[runtime.LabelPodName],
	}
}

// StopSandbox stops the sandbox's containers, then the sandbox itself, each with timeout.
func (r *Runtime) StopSandbox(ctx context.Context, id string, timeout time.Duration) error {
	if _, err := r.sandbox(ctx, id); err != nil {
		return err
	}
	members, err := r.list(ctx, filters.Arg("label", LabelSandboxID+"="+id))
	if err != nil {
		return err
	}
	for _, c := range members {
		if c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting {
			if err := r.stop(ctx, c.ID, timeout); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				return fmt.Errorf("stop sandbox %s: %w", id, err)
			}
		}
	}
	return r.stop(ctx, id, timeout)
}

// RemoveSandbox removes the sandbox and whatever containers are left in it. A sandbox that is
// already gone is no error.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	if _, err := r.sandbox(ctx, id); err != nil {
		if errors.Is(err, runtime.ErrNotFound) {
			return nil
		}
		return err
	}
	members, err := r.list(ctx, filters.Arg("label", LabelSandboxID+"="+id))
	if err != nil {
		return err
	}
	for _, c := range members {
		if err := r.RemoveContainer(ctx, c.ID); err != nil {
			return fmt.Errorf("remove sandbox %s: %w", id, err)
		}
	}
	return r.remove(ctx, id)
}

// ListSandboxes lists this node's sandboxes.
func (r *Runtime) ListSandboxes(ctx context.Context) ([]runtime.Sandbox, error) {
	list, err := r.list(ctx, filters.Arg("label", runtime.LabelContainerName+"="+runtime.SandboxContainerName))
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Sandbox, 0, len(list))
	for _, c := range list {
		sb := runtime.Sandbox{
			ID:     c.ID,
			Pod:    podRef(c.Labels),
			State:  runtime.SandboxNotReady,
			Labels: c.Labels,
		}
		s, ok := r.cached(c.ID, c.State)
		if !ok {
			if s, err = r.ContainerStatus(ctx, c.ID); errors.Is(err, runtime.ErrNotFound) {
				continue // removed since the list
			} else if err != nil {
				return nil, err
			}
		}
		sb.CreatedAt = s.CreatedAt
		if c.State == container.StateRunning {
			sb.State = runtime.SandboxReady
			if c.NetworkSettings != nil {
				if ep := c.NetworkSettings.Networks[r.opts.Network]; ep != nil {
					sb.IP = ep.IPAddress
				}
			}
		}
		out = append(out, sb)
	}
	return out, nil
}

// list lists this node's objects (sandboxes and containers) that match extra filters.
func (r *Runtime) list(ctx context.Context, extra ...filters.KeyValuePair) ([]container.Summary, error) {
	args := filters.NewArgs(append(extra,
		filters.Arg("label", runtime.LabelManaged+"=true"),
		filters.Arg("label", runtime.LabelNode+"="+r.opts.NodeName))...)
	list, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return nil, wrap(err, "list containers")
	}
	return list, nil
}

// parseTime parses a timestamp of the Engine API; Docker's zero time is the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
