package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/strslice"

	"github.com/berth-dev/berth/agent/runtime"
)

// CFS period of CPU limits, and the smallest quota, as the kubelet sets them.
const (
	cpuPeriod   = 100_000 // µs
	minCPUQuota = 1_000   // µs
	minShares   = 2
)

// CreateContainer creates a container of cfg joined to the sandbox's namespaces.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	sb, err := r.sandbox(ctx, sandboxID)
	if err != nil {
		return "", fmt.Errorf("create container %s of pod %s/%s: %w", cfg.Name, cfg.Pod.Namespace, cfg.Pod.Name, err)
	}
	config, hostConfig := r.containerConfig(sb.ID, sb.Labels[LabelSharePID] == "true", cfg)
	if lc, err := r.logConfig(ctx); err == nil {
		hostConfig.LogConfig = lc
	}
	if r.opts.StateDir != "" && cfg.TerminationMessagePath != "" {
		file, err := r.terminationLog(cfg)
		if err != nil {
			return "", fmt.Errorf("create container %s of pod %s/%s: %w", cfg.Name, cfg.Pod.Namespace, cfg.Pod.Name, err)
		}
		config.Labels[LabelTerminationLog] = file
		hostConfig.Mounts = append(hostConfig.Mounts, mount.Mount{Type: mount.TypeBind, Source: file, Target: cfg.TerminationMessagePath})
	}
	name := fmt.Sprintf("berth_%s_%s_%s_%s_%d", cfg.Name, cfg.Pod.Name, cfg.Pod.Namespace, cfg.Pod.UID, cfg.Attempt)
	resp, err := r.cli.ContainerCreate(ctx, config, hostConfig, nil, nil, name)
	if err != nil {
		return "", wrap(err, "create container %s of pod %s/%s", cfg.Name, cfg.Pod.Namespace, cfg.Pod.Name)
	}
	return resp.ID, nil
}

// containerConfig is the Docker configuration of cfg in the sandbox sandboxID.
func (r *Runtime) containerConfig(sandboxID string, sharePID bool, cfg runtime.ContainerConfig) (*container.Config, *container.HostConfig) {
	labels := map[string]string{}
	maps.Copy(labels, cfg.Labels)
	maps.Copy(labels, r.ownerLabels(cfg.Pod, cfg.Name))
	labels[runtime.LabelAttempt] = strconv.Itoa(cfg.Attempt)
	labels[LabelSandboxID] = sandboxID
	if labels[runtime.LabelSpecHash] == "" {
		labels[runtime.LabelSpecHash] = specHash(cfg)
	}
	config := &container.Config{
		Image:       cfg.Image,
		Env:         cfg.Env,
		WorkingDir:  cfg.WorkingDir,
		User:        cfg.User,
		Tty:         cfg.TTY,
		OpenStdin:   cfg.Stdin,
		StdinOnce:   cfg.StdinOnce,
		StopSignal:  cfg.StopSignal,
		Labels:      labels,
		AttachStdin: false,
	}
	// Kubernetes: command replaces ENTRYPOINT and, with it, CMD; args replace CMD. Docker
	// drops the image's CMD whenever the entrypoint is set.
	if len(cfg.Command) > 0 {
		config.Entrypoint = strslice.StrSlice(cfg.Command)
	}
	if len(cfg.Args) > 0 {
		config.Cmd = strslice.StrSlice(cfg.Args)
	}
	join := container.NetworkMode("container:" + sandboxID)
	hostConfig := &container.HostConfig{
		NetworkMode:    join,
		IpcMode:        container.IpcMode(join),
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyDisabled},
		Privileged:     cfg.Privileged,
		ReadonlyRootfs: cfg.ReadOnlyRootfs,
		CapAdd:         strslice.StrSlice(cfg.CapAdd),
		CapDrop:        strslice.StrSlice(cfg.CapDrop),
		Resources:      resources(cfg.Resources),
	}
	if sharePID {
		hostConfig.PidMode = container.PidMode(join)
	}
	for _, m := range cfg.Mounts {
		hostConfig.Mounts = append(hostConfig.Mounts, mount.Mount{
			Type: mount.TypeBind, Source: m.HostPath, Target: m.ContainerPath, ReadOnly: m.ReadOnly,
		})
	}
	return config, hostConfig
}

// resources maps a container's resources to Docker's as the kubelet does: the CPU limit is a
// CFS quota over a 100 ms period, the CPU request CPU shares (1024 per CPU, at least 2), the
// memory limit the memory and memory+swap limits (no swap).
func resources(res runtime.Resources) container.Resources {
	out := container.Resources{CPUShares: max(res.CPURequestMillis*1024/1000, minShares)}
	if res.CPUMillis > 0 {
		out.CPUPeriod = cpuPeriod
		out.CPUQuota = max(res.CPUMillis*cpuPeriod/1000, minCPUQuota)
	}
	if res.MemoryBytes > 0 {
		out.Memory = res.MemoryBytes
		out.MemorySwap = res.MemoryBytes
	}
	return out
}

// StartContainer starts a created container.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	if _, err := r.inspect(ctx, id); err != nil {
		return fmt.Errorf("start container: %w", err)
	}
	if err := r.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return wrap(err, "start container %s", id)
	}
	return nil
}

// StopContainer sends the container's stop signal, waits up to timeout, then kills it. A
// container that is not running is left as it is.
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	if _, err := r.inspect(ctx, id); err != nil {
		return fmt.Errorf("stop container: %w", err)
	}
	return r.stop(ctx, id, timeout)
}

// stop stops a container with Docker's stop: signal, wait, kill.
func (r *Runtime) stop(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(math.Ceil(max(timeout, 0).Seconds()))
	if err := r.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs}); err != nil {
		return wrap(err, "stop container %s", id)
	}
	return nil
}

// RemoveContainer removes a container, killing it if it runs. A container that is already
// gone is no error.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	c, err := r.inspect(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove container: %w", err)
	}
	if err := r.remove(ctx, id); err != nil {
		return err
	}
	if file := c.Config.Labels[LabelTerminationLog]; file != "" && r.opts.StateDir != "" && filepath.Dir(filepath.Dir(filepath.Dir(file))) == filepath.Clean(r.opts.StateDir) {
		_ = os.RemoveAll(filepath.Dir(file))
		_ = os.Remove(filepath.Dir(filepath.Dir(file))) // the Pod's directory, once empty
	}
	return nil
}

// remove force-removes a container and its anonymous volumes; gone already is no error.
func (r *Runtime) remove(ctx context.Context, id string) error {
	err := wrap(r.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}), "remove container %s", id)
	r.mu.Lock()
	delete(r.statuses, id)
	r.mu.Unlock()
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	return err
}

// ListContainers lists this node's containers, sandboxes left out.
func (r *Runtime) ListContainers(ctx context.Context) ([]runtime.ContainerStatus, error) {
	list, err := r.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]runtime.ContainerStatus, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, c := range list {
		seen[c.ID] = true
		if isSandbox(c.Labels) {
			continue
		}
		s, ok := r.cached(c.ID, c.State)
		if !ok {
			s, err = r.ContainerStatus(ctx, c.ID)
			if errors.Is(err, runtime.ErrNotFound) {
				continue // removed since the list
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	r.mu.Lock()
	for id := range r.statuses {
		if !seen[id] {
			delete(r.statuses, id)
		}
	}
	r.mu.Unlock()
	return out, nil
}

// ContainerStatus inspects a container of this node.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.ContainerStatus, error) {
	c, err := r.inspect(ctx, id)
	if err != nil {
		return runtime.ContainerStatus{}, err
	}
	s := r.status(ctx, c)
	r.mu.Lock()
	r.statuses[c.ID] = cachedStatus{state: c.State.Status, status: s}
	r.mu.Unlock()
	return s, nil
}

// inspect inspects a container (or sandbox) of this node; ErrNotFound for any other.
func (r *Runtime) inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	c, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return c, wrap(err, "inspect container %s", id)
	}
	if c.Config == nil || c.State == nil || !r.owned(c.Config.Labels) {
		return c, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	return c, nil
}

// terminationLog creates the host file behind cfg's termination message path (empty, as the
// kubelet does) and returns its path: StateDir/<pod uid>/<name>_<attempt>/termination-log.
func (r *Runtime) terminationLog(cfg runtime.ContainerConfig) (string, error) {
	if cfg.Pod.UID == "" || filepath.Base(cfg.Pod.UID) != cfg.Pod.UID || filepath.Base(cfg.Name) != cfg.Name {
		return "", fmt.Errorf("termination log: bad pod uid %q or container name %q", cfg.Pod.UID, cfg.Name)
	}
	dir := filepath.Join(r.opts.StateDir, cfg.Pod.UID, fmt.Sprintf("%s_%d", cfg.Name, cfg.Attempt))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("termination log: %w", err)
	}
	file := filepath.Join(dir, "termination-log")
	// The container's user may be anyone: the file must be writable by all.
	if err := os.WriteFile(file, nil, 0o666); err != nil {
		return "", fmt.Errorf("termination log: %w", err)
	}
	if err := os.Chmod(file, 0o666); err != nil {
		return "", fmt.Errorf("termination log: %w", err)
	}
	return file, nil
}

// logConfig is the log configuration of new containers: with the daemon's json-file or local
// driver, rotation at 10 MiB and 5 files, as the kubelet rotates; else the daemon's defaults.
func (r *Runtime) logConfig(ctx context.Context) (container.LogConfig, error) {
	r.mu.Lock()
	driver, known := r.logDriver, r.logDriverKnown
	r.mu.Unlock()
	if !known {
		info, err := r.cli.Info(ctx)
		if err != nil {
			return container.LogConfig{}, wrap(err, "docker info")
		}
		driver = info.LoggingDriver
		r.mu.Lock()
		r.logDriver, r.logDriverKnown = driver, true
		r.mu.Unlock()
	}
	switch driver {
	case "json-file", "local":
		return container.LogConfig{Type: driver, Config: map[string]string{"max-size": "10m", "max-file": "5"}}, nil
	}
	return container.LogConfig{}, nil
}
