package fake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
)

// container is a simulated container.
type container struct {
	id, sandboxID string
	cfg           runtime.ContainerConfig
	behavior      Behavior
	labels        map[string]string
	imageID       string

	state                      runtime.ContainerState
	exitCode                   int
	reason, message            string
	created, started, finished time.Time
	exited                     chan struct{} // closed at exit; made only when someone waits
}

// EnvBehavior reads a container's Behavior from its environment (see the package doc).
func EnvBehavior(cfg runtime.ContainerConfig) Behavior {
	var b Behavior
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case EnvExitCode:
			if n, err := strconv.Atoi(v); err == nil {
				b.Exits, b.ExitCode = true, n
			}
		case EnvRunFor:
			if d, err := time.ParseDuration(v); err == nil && d >= 0 {
				b.Exits, b.RunFor = true, d
			}
		case EnvOOM:
			if ok, _ := strconv.ParseBool(v); ok {
				b.Exits, b.OOMKilled = true, true
			}
		case EnvLogs:
			b.Logs = strings.Split(strings.TrimSuffix(v, "\n"), "\n")
		case EnvStartError:
			b.StartError = v
		}
	}
	return b
}

// CreateContainer records a created container in the sandbox.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("create container"); err != nil {
		return "", err
	}
	if _, ok := r.sandboxes[sandboxID]; !ok {
		return "", fmt.Errorf("create container %s of pod %s/%s: %w", cfg.Name, cfg.Pod.Namespace, cfg.Pod.Name, notFound("sandbox", sandboxID))
	}
	if _, failing := r.failing(cfg.Image); failing {
		return "", fmt.Errorf("create container %s: no such image: %s", cfg.Name, cfg.Image)
	}
	labels := make(map[string]string, len(cfg.Labels)+9)
	maps.Copy(labels, cfg.Labels)
	maps.Copy(labels, r.ownerLabels(cfg.Pod, cfg.Name))
	labels[runtime.LabelAttempt] = strconv.Itoa(cfg.Attempt)
	if labels[runtime.LabelSpecHash] == "" {
		labels[runtime.LabelSpecHash] = imageID(fmt.Sprint(cfg.Image, cfg.Command, cfg.Args, cfg.Env))[7:23]
	}
	cfg.Labels = nil // kept in labels
	c := &container{
		id: newID(), sandboxID: sandboxID, cfg: cfg, behavior: r.cfg.Behavior(cfg), labels: labels,
		imageID: imageID(cfg.Image), state: runtime.ContainerCreated, created: r.cfg.Now(),
	}
	if r.containers == nil {
		r.containers = map[string]*container{}
	}
	r.containers[c.id] = c
	return c.id, nil
}

// StartContainer makes a created container run (or fail to, as its Behavior says).
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("start container"); err != nil {
		return err
	}
	c, ok := r.containers[id]
	if !ok {
		return notFound("container", id)
	}
	if c.state != runtime.ContainerCreated {
		return fmt.Errorf("start container %s: it is %s, not created", id, strings.ToLower(string(c.state)))
	}
	if s := r.sandboxes[c.sandboxID]; s == nil || !s.ready {
		return fmt.Errorf("start container %s: cannot join the namespaces of sandbox %s: it is not running", id, c.sandboxID)
	}
	if msg := c.behavior.StartError; msg != "" {
		c.exitCode, c.message = 128, msg
		return fmt.Errorf("start container %s: %s", id, msg)
	}
	c.state, c.started = runtime.ContainerRunning, r.cfg.Now()
	r.settle(c, c.started)
	return nil
}

// settle applies a running container's own exit if its time has come. Called with r.mu held.
func (r *Runtime) settle(c *container, now time.Time) {
	b := c.behavior
	if c.state != runtime.ContainerRunning || !b.Exits {
		return
	}
	end := c.started.Add(b.RunFor)
	if now.Before(end) {
		return
	}
	code, reason := b.ExitCode, ""
	if b.OOMKilled {
		code, reason = 137, "OOMKilled"
	}
	r.exit(c, end, code, reason)
}

// exit ends a container. Called with r.mu held.
func (r *Runtime) exit(c *container, at time.Time, code int, reason string) {
	if reason == "" {
		reason = "Error"
		if code == 0 {
			reason = "Completed"
		}
	}
	c.state, c.finished, c.exitCode, c.reason = runtime.ContainerExited, at, code, reason
	if c.exited != nil {
		close(c.exited)
	}
}

// stop ends a running container as its app would on the stop signal. Called with r.mu held.
func (r *Runtime) stop(c *container, now time.Time) {
	r.settle(c, now)
	if c.state == runtime.ContainerRunning {
		r.exit(c, now, c.behavior.StopExitCode, "")
	}
}

// StopContainer stops a running container at once (simulated apps heed the signal).
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("stop container"); err != nil {
		return err
	}
	c, ok := r.containers[id]
	if !ok {
		return notFound("container", id)
	}
	r.stop(c, r.cfg.Now())
	return nil
}

// RemoveContainer removes a container, stopping it first; an unknown one is no error.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("remove container"); err != nil {
		return err
	}
	if c, ok := r.containers[id]; ok {
		r.stop(c, r.cfg.Now())
		delete(r.containers, id)
	}
	return nil
}

// ListContainers lists every container.
func (r *Runtime) ListContainers(ctx context.Context) ([]runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("list containers"); err != nil {
		return nil, err
	}
	now := r.cfg.Now()
	out := make([]runtime.ContainerStatus, 0, len(r.containers))
	for _, c := range r.containers {
		r.settle(c, now)
		out = append(out, r.statusOf(c))
	}
	return out, nil
}

// ContainerStatus reports a container.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("container status"); err != nil {
		return runtime.ContainerStatus{}, err
	}
	c, ok := r.containers[id]
	if !ok {
		return runtime.ContainerStatus{}, notFound("container", id)
	}
	r.settle(c, r.cfg.Now())
	return r.statusOf(c), nil
}

// statusOf is what callers see of c. Called with r.mu held.
func (r *Runtime) statusOf(c *container) runtime.ContainerStatus {
	return runtime.ContainerStatus{
		ID: c.id, SandboxID: c.sandboxID, Pod: c.cfg.Pod, Name: c.cfg.Name, Attempt: c.cfg.Attempt,
		Image: c.cfg.Image, ImageID: c.imageID, State: c.state,
		ExitCode: c.exitCode, Reason: c.reason, Message: c.message,
		CreatedAt: c.created, StartedAt: c.started, FinishedAt: c.finished,
		Labels: maps.Clone(c.labels),
	}
}

// env is a copy of c's environment.
func (c *container) env() []string { return slices.Clone(c.cfg.Env) }
