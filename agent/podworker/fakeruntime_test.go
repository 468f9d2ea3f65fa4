package podworker

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
)

// fakeRuntime is a small runtime.Runtime for the lifecycle tests: containers run their
// command as a script instead of a process.
//
//	["exit", "N"]      exits with N at once
//	["sleep", "D"]     runs D (a time.Duration), then exits 0
//	["ignore-term"]    runs until killed: a stop waits the whole timeout, exit 137
//	["notfound"]       cannot start (exit 127, state Created), like a missing executable
//	anything else      runs until stopped, then exits 0 (it handles SIGTERM)
//
// Images are present when listed in images; pulls always fail.
type fakeRuntime struct {
	mu         sync.Mutex
	node       string
	images     map[string]bool
	sandboxes  map[string]*runtime.Sandbox
	containers map[string]*fakeContainer
	nextID     int
	nextIP     int
	// exec answers ExecSync; nil: exit 0.
	exec func(id string, cmd []string) (int, string)
	// calls counts method calls by name; starts has the start times of each container name.
	calls  map[string]int
	starts map[string][]time.Time
	// unavailable makes every call fail with ErrUnavailable.
	unavailable bool
}

type fakeContainer struct {
	runtime.ContainerStatus
	cmd     []string
	cfg     runtime.ContainerConfig
	stopped []time.Duration // stop timeouts seen (SIGTERMs)
	timer   *time.Timer
}

func newFakeRuntime(node string, images ...string) *fakeRuntime {
	f := &fakeRuntime{
		node: node, images: map[string]bool{}, sandboxes: map[string]*runtime.Sandbox{},
		containers: map[string]*fakeContainer{}, calls: map[string]int{}, starts: map[string][]time.Time{},
	}
	for _, i := range images {
		f.images[i] = true
	}
	return f
}

func (f *fakeRuntime) call(name string) error {
	f.calls[name]++
	if f.unavailable {
		return fmt.Errorf("%s: %w", name, runtime.ErrUnavailable)
	}
	return nil
}

func (f *fakeRuntime) labels(pod runtime.PodRef, name string, extra map[string]string) map[string]string {
	l := map[string]string{
		runtime.LabelManaged: "true", runtime.LabelPodUID: pod.UID, runtime.LabelPodNamespace: pod.Namespace,
		runtime.LabelPodName: pod.Name, runtime.LabelContainerName: name, runtime.LabelNode: f.node,
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

func (f *fakeRuntime) Info(context.Context) (runtime.NodeInfo, error) {
	return runtime.NodeInfo{CPUs: 4, MemoryBytes: 8 << 30, RuntimeVersion: "fake://1.0"}, nil
}

func (f *fakeRuntime) EnsureImage(_ context.Context, image, pull string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("EnsureImage/" + pull); err != nil {
		return "", err
	}
	if pull != "Always" && f.images[image] {
		return "sha256:" + image, nil
	}
	if pull == "Never" {
		return "", fmt.Errorf("image %s: %w", image, runtime.ErrNotFound)
	}
	return "", fmt.Errorf("pull %s: pull access denied, repository does not exist: %w", image, runtime.ErrImagePull)
}

func (f *fakeRuntime) RunSandbox(_ context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("RunSandbox"); err != nil {
		return runtime.Sandbox{}, err
	}
	f.nextID++
	f.nextIP++
	s := &runtime.Sandbox{
		ID: "sb" + strconv.Itoa(f.nextID), Pod: cfg.Pod, State: runtime.SandboxReady,
		IP: "10.88.0." + strconv.Itoa(f.nextIP), CreatedAt: time.Now(), Labels: f.labels(cfg.Pod, runtime.SandboxContainerName, cfg.Labels),
	}
	f.sandboxes[s.ID] = s
	return *s, nil
}

func (f *fakeRuntime) StopSandbox(_ context.Context, id string, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("StopSandbox"); err != nil {
		return err
	}
	s, ok := f.sandboxes[id]
	if !ok {
		return runtime.ErrNotFound
	}
	s.State, s.IP = runtime.SandboxNotReady, ""
	return nil
}

func (f *fakeRuntime) RemoveSandbox(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("RemoveSandbox"); err != nil {
		return err
	}
	if _, ok := f.sandboxes[id]; !ok {
		return runtime.ErrNotFound
	}
	delete(f.sandboxes, id)
	return nil
}

func (f *fakeRuntime) ListSandboxes(context.Context) ([]runtime.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListSandboxes"); err != nil {
		return nil, err
	}
	var out []runtime.Sandbox
	for _, s := range f.sandboxes {
		out = append(out, *s)
	}
	return out, nil
}

func (f *fakeRuntime) CreateContainer(_ context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateContainer"); err != nil {
		return "", err
	}
	if _, ok := f.sandboxes[sandboxID]; !ok {
		return "", fmt.Errorf("sandbox %s: %w", sandboxID, runtime.ErrNotFound)
	}
	f.nextID++
	id := "c" + strconv.Itoa(f.nextID)
	extra := map[string]string{runtime.LabelAttempt: strconv.Itoa(cfg.Attempt)}
	for k, v := range cfg.Labels {
		extra[k] = v
	}
	f.containers[id] = &fakeContainer{
		ContainerStatus: runtime.ContainerStatus{
			ID: id, SandboxID: sandboxID, Pod: cfg.Pod, Name: cfg.Name, Attempt: cfg.Attempt, Image: cfg.Image,
			ImageID: "sha256:" + cfg.Image, State: runtime.ContainerCreated, CreatedAt: time.Now(),
			Labels: f.labels(cfg.Pod, cfg.Name, extra),
		},
		cmd: append(append([]string(nil), cfg.Command...), cfg.Args...), cfg: cfg,
	}
	return id, nil
}

func (f *fakeRuntime) StartContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("StartContainer"); err != nil {
		return err
	}
	c, ok := f.containers[id]
	if !ok {
		return runtime.ErrNotFound
	}
	if len(c.cmd) > 0 && c.cmd[0] == "notfound" {
		c.ExitCode = 127
		c.Message = `exec: "notfound": executable file not found in $PATH`
		return fmt.Errorf("start container %s: %s", id, c.Message)
	}
	now := time.Now()
	c.State, c.StartedAt = runtime.ContainerRunning, now
	f.starts[c.Name] = append(f.starts[c.Name], now)
	switch {
	case len(c.cmd) == 2 && c.cmd[0] == "exit":
		code, _ := strconv.Atoi(c.cmd[1])
		f.exitLocked(c, code)
	case len(c.cmd) == 2 && c.cmd[0] == "sleep":
		d, _ := time.ParseDuration(c.cmd[1])
		c.timer = time.AfterFunc(d, func() { f.exit(id, 0) })
	}
	return nil
}

// exit makes a running container exit with code.
func (f *fakeRuntime) exit(id string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.containers[id]; ok && c.State == runtime.ContainerRunning {
		f.exitLocked(c, code)
	}
}

func (f *fakeRuntime) exitLocked(c *fakeContainer, code int) {
	c.State, c.ExitCode, c.FinishedAt = runtime.ContainerExited, code, time.Now()
	c.Reason = "Completed"
	if code != 0 {
		c.Reason = "Error"
	}
	if c.timer != nil {
		c.timer.Stop()
	}
}

func (f *fakeRuntime) StopContainer(_ context.Context, id string, timeout time.Duration) error {
	f.mu.Lock()
	if err := f.call("StopContainer"); err != nil {
		f.mu.Unlock()
		return err
	}
	c, ok := f.containers[id]
	if !ok {
		f.mu.Unlock()
		return runtime.ErrNotFound
	}
	if c.State != runtime.ContainerRunning {
		f.mu.Unlock()
		return nil
	}
	c.stopped = append(c.stopped, timeout)
	ignores := len(c.cmd) > 0 && c.cmd[0] == "ignore-term"
	if !ignores {
		f.exitLocked(c, 0)
		f.mu.Unlock()
		return nil
	}
	f.mu.Unlock()
	time.Sleep(timeout)
	f.exit(id, 137)
	return nil
}

func (f *fakeRuntime) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("RemoveContainer"); err != nil {
		return err
	}
	c, ok := f.containers[id]
	if !ok {
		return runtime.ErrNotFound
	}
	if c.State == runtime.ContainerRunning {
		return fmt.Errorf("container %s is running", id)
	}
	delete(f.containers, id)
	return nil
}

func (f *fakeRuntime) ListContainers(context.Context) ([]runtime.ContainerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ListContainers"); err != nil {
		return nil, err
	}
	var out []runtime.ContainerStatus
	for _, c := range f.containers {
		out = append(out, c.ContainerStatus)
	}
	return out, nil
}

func (f *fakeRuntime) ContainerStatus(_ context.Context, id string) (runtime.ContainerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return runtime.ContainerStatus{}, runtime.ErrNotFound
	}
	return c.ContainerStatus, nil
}

func (f *fakeRuntime) ExecSync(_ context.Context, id string, cmd []string, _ time.Duration) ([]byte, []byte, int, error) {
	f.mu.Lock()
	exec := f.exec
	f.mu.Unlock()
	if exec == nil {
		return nil, nil, 0, nil
	}
	code, out := exec(id, cmd)
	return []byte(out), nil, code, nil
}

func (f *fakeRuntime) Exec(context.Context, string, runtime.ExecOptions) (int, error) {
	return 0, fmt.Errorf("exec: not supported by the test runtime")
}

func (f *fakeRuntime) Logs(context.Context, string, runtime.LogOptions, io.Writer, io.Writer) error {
	return nil
}

// byName returns the containers named name, oldest attempt first.
func (f *fakeRuntime) byName(name string) []fakeContainer {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeContainer
	for _, c := range f.containers {
		if c.Name == name {
			out = append(out, *c)
		}
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Attempt < out[i].Attempt {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// killSandboxes makes every sandbox die, as a pause container killed from outside.
func (f *fakeRuntime) killSandboxes() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sandboxes {
		s.State, s.IP = runtime.SandboxNotReady, ""
	}
}

func (f *fakeRuntime) startTimes(name string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.starts[name]...)
}

func (f *fakeRuntime) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[call]
}

func (f *fakeRuntime) counts() (sandboxes, containers int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sandboxes), len(f.containers)
}

var _ runtime.Runtime = (*fakeRuntime)(nil)
