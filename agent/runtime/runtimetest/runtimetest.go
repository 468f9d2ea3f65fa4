package runtimetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
)

// Config describes the runtime under test.
type Config struct {
	// New returns a runtime acting as node; the suite asks for two nodes, to check that each
	// lists only its own objects. Required.
	New func(t *testing.T, node string) runtime.Runtime
	// Image is an image present on the node, whose containers can run the commands echo,
	// true, false and cat. Required.
	Image string
	// MissingImage is an image that is neither present nor pullable. Required.
	MissingImage string
	// Program returns the command, args and environment of a container that writes lines to
	// stdout, one each, then exits with exitCode, or, when exitCode < 0, runs until stopped
	// (and stops at once on SIGTERM). Required.
	Program func(lines []string, exitCode int) (command, args, env []string)
	// Timeout bounds each wait; default one minute.
	Timeout time.Duration
}

// suite is one run of the conformance tests.
type suite struct {
	cfg  Config
	node string
	rt   runtime.Runtime
}

// Run runs the conformance suite. Its subtests run in parallel; whatever they create is
// removed when Run's test ends.
func Run(t *testing.T, cfg Config) {
	if cfg.New == nil || cfg.Image == "" || cfg.MissingImage == "" || cfg.Program == nil {
		t.Fatal("runtimetest: Config needs New, Image, MissingImage and Program")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	s := &suite{cfg: cfg, node: "rtest-" + randHex(4)}
	s.rt = s.newRuntime(t, s.node)
	t.Run("group", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			fn   func(*testing.T)
		}{
			{"Info", s.testInfo},
			{"Images", s.testImages},
			{"SandboxLifecycle", s.testSandboxLifecycle},
			{"ContainerLifecycle", s.testContainerLifecycle},
			{"ExitReasons", s.testExitReasons},
			{"Logs", s.testLogs},
			{"LogsFollow", s.testLogsFollow},
			{"Exec", s.testExec},
			{"NotFound", s.testNotFound},
			{"NodeScope", s.testNodeScope},
			{"StopSandboxStopsContainers", s.testStopSandbox},
			{"RemoveSandboxRemovesContainers", s.testRemoveSandbox},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t)
			})
		}
	})
}

// newRuntime returns a runtime for node whose objects are removed when t ends.
func (s *suite) newRuntime(t *testing.T, node string) runtime.Runtime {
	rt := s.cfg.New(t, node)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.Timeout)
		defer cancel()
		sbs, err := rt.ListSandboxes(ctx)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, sb := range sbs {
			if err := rt.RemoveSandbox(ctx, sb.ID); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		cs, err := rt.ListContainers(ctx)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, c := range cs {
			if err := rt.RemoveContainer(ctx, c.ID); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return rt
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ctx is a context bounded by the suite's timeout.
func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// pod is a new Pod reference.
func (s *suite) pod(name string) runtime.PodRef {
	return runtime.PodRef{UID: "uid-" + randHex(8), Namespace: "rtest", Name: name}
}

// sandbox runs a sandbox for a new Pod on rt.
func (s *suite) sandbox(t *testing.T, rt runtime.Runtime, name string) runtime.Sandbox {
	t.Helper()
	sb, err := rt.RunSandbox(s.ctx(t), runtime.SandboxConfig{Pod: s.pod(name), Hostname: name})
	if err != nil {
		t.Fatalf("RunSandbox: %v", err)
	}
	return sb
}

// create creates a container of the Program in sb.
func (s *suite) create(t *testing.T, rt runtime.Runtime, sb runtime.Sandbox, name string, lines []string, exitCode int) string {
	t.Helper()
	cmd, args, env := s.cfg.Program(lines, exitCode)
	id, err := rt.CreateContainer(s.ctx(t), sb.ID, runtime.ContainerConfig{
		Pod: sb.Pod, Name: name, Image: s.cfg.Image, Command: cmd, Args: args, Env: env,
	})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", name, err)
	}
	return id
}

// start creates and starts a container of the Program in sb.
func (s *suite) start(t *testing.T, rt runtime.Runtime, sb runtime.Sandbox, name string, lines []string, exitCode int) string {
	t.Helper()
	id := s.create(t, rt, sb, name, lines, exitCode)
	if err := rt.StartContainer(s.ctx(t), id); err != nil {
		t.Fatalf("StartContainer %s: %v", name, err)
	}
	return id
}

// wait polls the container's status until it is in state.
func (s *suite) wait(t *testing.T, rt runtime.Runtime, id string, state runtime.ContainerState) runtime.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(s.cfg.Timeout)
	for {
		st, err := rt.ContainerStatus(s.ctx(t), id)
		if err != nil {
			t.Fatalf("ContainerStatus: %v", err)
		}
		if st.State == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s after %s, want %s", st.Name, st.State, s.cfg.Timeout, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasLabels checks that got holds every label of want.
func hasLabels(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: label %s = %q, want %q (labels %v)", what, k, got[k], v, got)
		}
	}
}

// owner are the owner labels of a sandbox or container of pod on node.
func owner(pod runtime.PodRef, name, node string) map[string]string {
	return map[string]string{
		runtime.LabelManaged: "true", runtime.LabelPodUID: pod.UID, runtime.LabelPodNamespace: pod.Namespace,
		runtime.LabelPodName: pod.Name, runtime.LabelContainerName: name, runtime.LabelNode: node,
	}
}

func (s *suite) testInfo(t *testing.T) {
	info, err := s.rt.Info(s.ctx(t))
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.CPUs <= 0 || info.MemoryBytes <= 0 || info.OS == "" || info.Arch == "" || info.KernelVersion == "" ||
		info.OSImage == "" || info.MachineID == "" || !strings.Contains(info.RuntimeVersion, "://") {
		t.Errorf("Info = %+v, want every field set and RuntimeVersion as name://version", info)
	}
}

func (s *suite) testImages(t *testing.T) {
	ctx := s.ctx(t)
	id, err := s.rt.EnsureImage(ctx, s.cfg.Image, "IfNotPresent")
	if err != nil || id == "" {
		t.Fatalf("EnsureImage(%s, IfNotPresent) = %q, %v; want its ID", s.cfg.Image, id, err)
	}
	for _, pull := range []string{"Never", ""} {
		if got, err := s.rt.EnsureImage(ctx, s.cfg.Image, pull); err != nil || got != id {
			t.Errorf("EnsureImage(%s, %q) = %q, %v; want %q", s.cfg.Image, pull, got, err, id)
		}
	}
	if _, err := s.rt.EnsureImage(ctx, s.cfg.Image, "Sometimes"); err == nil {
		t.Error("EnsureImage with pull policy Sometimes succeeded")
	}
	if _, err := s.rt.EnsureImage(ctx, "Not/A/Valid:Reference:", "IfNotPresent"); !errors.Is(err, runtime.ErrImagePull) {
		t.Errorf("EnsureImage of an invalid reference = %v, want ErrImagePull", err)
	}
	if _, err := s.rt.EnsureImage(ctx, s.cfg.MissingImage, "Never"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("EnsureImage(missing, Never) = %v, want ErrNotFound", err)
	}
	for _, pull := range []string{"IfNotPresent", "Always"} {
		if _, err := s.rt.EnsureImage(ctx, s.cfg.MissingImage, pull); !errors.Is(err, runtime.ErrImagePull) {
			t.Errorf("EnsureImage(missing, %s) = %v, want ErrImagePull", pull, err)
		} else if !strings.Contains(err.Error(), s.cfg.MissingImage) {
			t.Errorf("EnsureImage(missing, %s) = %v, want the image named", pull, err)
		}
	}
}

func (s *suite) testSandboxLifecycle(t *testing.T) {
	ctx := s.ctx(t)
	pod := s.pod("sandbox")
	before := time.Now().Add(-time.Minute)
	sb, err := s.rt.RunSandbox(ctx, runtime.SandboxConfig{Pod: pod, Hostname: "sandbox", Labels: map[string]string{"test": "yes"}})
	if err != nil {
		t.Fatalf("RunSandbox: %v", err)
	}
	if sb.ID == "" || sb.Pod != pod || sb.State != runtime.SandboxReady || sb.CreatedAt.Before(before) {
		t.Errorf("RunSandbox = %+v, want a Ready sandbox of %v created now", sb, pod)
	}
	ip, err := netip.ParseAddr(sb.IP)
	if err != nil {
		t.Errorf("sandbox IP %q: %v", sb.IP, err)
	}
	want := owner(pod, runtime.SandboxContainerName, s.node)
	want["test"] = "yes"
	hasLabels(t, "sandbox", sb.Labels, want)

	other := s.sandbox(t, s.rt, "other")
	if other.IP == sb.IP || other.ID == sb.ID {
		t.Errorf("two sandboxes share IP %s or ID %s", sb.IP, sb.ID)
	}
	listed := s.listSandbox(t, sb.ID)
	if listed == nil || listed.State != runtime.SandboxReady || listed.IP != ip.String() || listed.Pod != pod ||
		!listed.CreatedAt.Equal(sb.CreatedAt) {
		t.Errorf("ListSandboxes has %+v, want %+v", listed, sb)
	} else {
		hasLabels(t, "listed sandbox", listed.Labels, want)
	}

	for range 2 { // stopping a stopped sandbox is no error
		if err := s.rt.StopSandbox(ctx, sb.ID, 10*time.Second); err != nil {
			t.Fatalf("StopSandbox: %v", err)
		}
	}
	if listed := s.listSandbox(t, sb.ID); listed == nil || listed.State != runtime.SandboxNotReady {
		t.Errorf("stopped sandbox listed as %+v, want NotReady", listed)
	}
	for range 2 { // removing a removed sandbox is no error
		if err := s.rt.RemoveSandbox(ctx, sb.ID); err != nil {
			t.Fatalf("RemoveSandbox: %v", err)
		}
	}
	if listed := s.listSandbox(t, sb.ID); listed != nil {
		t.Errorf("removed sandbox still listed: %+v", listed)
	}
}

// listSandbox finds a sandbox in ListSandboxes.
func (s *suite) listSandbox(t *testing.T, id string) *runtime.Sandbox {
	t.Helper()
	sbs, err := s.rt.ListSandboxes(s.ctx(t))
	if err != nil {
		t.Fatalf("ListSandboxes: %v", err)
	}
	for _, sb := range sbs {
		if sb.ID == id {
			return &sb
		}
	}
	return nil
}

// listContainer finds a container in rt's ListContainers.
func (s *suite) listContainer(t *testing.T, rt runtime.Runtime, id string) *runtime.ContainerStatus {
	t.Helper()
	cs, err := rt.ListContainers(s.ctx(t))
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	for _, c := range cs {
		if c.ID == id {
			return &c
		}
	}
	return nil
}

func (s *suite) testContainerLifecycle(t *testing.T) {
	ctx := s.ctx(t)
	sb := s.sandbox(t, s.rt, "lifecycle")
	cmd, args, env := s.cfg.Program([]string{"hello"}, -1)
	labels := map[string]string{runtime.LabelSpecHash: "abc123", "test": "yes"}
	id, err := s.rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{
		Pod: sb.Pod, Name: "app", Attempt: 2, Image: s.cfg.Image, Command: cmd, Args: args, Env: env,
		Labels: maps.Clone(labels),
	})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	want := owner(sb.Pod, "app", s.node)
	maps.Copy(want, labels)
	want[runtime.LabelAttempt] = "2"

	st, err := s.rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatalf("ContainerStatus: %v", err)
	}
	if st.ID != id || st.SandboxID != sb.ID || st.Pod != sb.Pod || st.Name != "app" || st.Attempt != 2 ||
		st.Image != s.cfg.Image || st.State != runtime.ContainerCreated || st.CreatedAt.IsZero() ||
		!st.StartedAt.IsZero() || !st.FinishedAt.IsZero() {
		t.Errorf("created container: %+v", st)
	}
	hasLabels(t, "container", st.Labels, want)
	if l := s.listContainer(t, s.rt, id); l == nil || l.State != runtime.ContainerCreated || l.Name != "app" {
		t.Errorf("ListContainers has %+v, want the created container", l)
	} else {
		hasLabels(t, "listed container", l.Labels, want)
	}
	if l := s.listContainer(t, s.rt, sb.ID); l != nil {
		t.Errorf("ListContainers lists the sandbox: %+v", l)
	}

	if err := s.rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	st = s.wait(t, s.rt, id, runtime.ContainerRunning)
	if st.StartedAt.IsZero() || !st.FinishedAt.IsZero() || st.ImageID == "" {
		t.Errorf("running container: %+v, want StartedAt and ImageID set", st)
	}
	if l := s.listContainer(t, s.rt, id); l == nil || l.State != runtime.ContainerRunning || !l.StartedAt.Equal(st.StartedAt) {
		t.Errorf("ListContainers has %+v, want it running since %v", l, st.StartedAt)
	}

	for range 2 { // stopping a stopped container is no error
		if err := s.rt.StopContainer(ctx, id, 10*time.Second); err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
	}
	st, err = s.rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatalf("ContainerStatus: %v", err)
	}
	if st.State != runtime.ContainerExited || st.FinishedAt.Before(st.StartedAt) || st.StartedAt.IsZero() ||
		(st.ExitCode == 0) != (st.Reason == "Completed") {
		t.Errorf("stopped container: %+v, want Exited with FinishedAt and a reason that fits the exit code", st)
	}

	for range 2 { // removing a removed container is no error
		if err := s.rt.RemoveContainer(ctx, id); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
	}
	if _, err := s.rt.ContainerStatus(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("ContainerStatus of a removed container = %v, want ErrNotFound", err)
	}
	if l := s.listContainer(t, s.rt, id); l != nil {
		t.Errorf("removed container still listed: %+v", l)
	}
}

func (s *suite) testExitReasons(t *testing.T) {
	sb := s.sandbox(t, s.rt, "exits")
	for _, tc := range []struct {
		code   int
		reason string
	}{
		{0, "Completed"},
		{3, "Error"},
	} {
		id := s.start(t, s.rt, sb, "exit"+string(rune('0'+tc.code)), nil, tc.code)
		st := s.wait(t, s.rt, id, runtime.ContainerExited)
		if st.ExitCode != tc.code || st.Reason != tc.reason || st.FinishedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
			t.Errorf("container exiting with %d: %+v, want exit code %d, reason %s, FinishedAt", tc.code, st, tc.code, tc.reason)
		}
	}
}

func (s *suite) testLogs(t *testing.T) {
	ctx := s.ctx(t)
	sb := s.sandbox(t, s.rt, "logs")
	id := s.start(t, s.rt, sb, "printer", []string{"one", "two", "three"}, 0)
	st := s.wait(t, s.rt, id, runtime.ContainerExited)
	for _, tc := range []struct {
		name string
		opts runtime.LogOptions
		want string
	}{
		{"all", runtime.LogOptions{TailLines: -1}, "one\ntwo\nthree\n"},
		{"tail 2", runtime.LogOptions{TailLines: 2}, "two\nthree\n"},
		{"tail 0", runtime.LogOptions{TailLines: 0}, ""},
		{"tail 10", runtime.LogOptions{TailLines: 10}, "one\ntwo\nthree\n"},
		{"follow an exited container", runtime.LogOptions{TailLines: -1, Follow: true}, "one\ntwo\nthree\n"},
		{"since after the end", runtime.LogOptions{TailLines: -1, Since: st.FinishedAt.Add(time.Hour)}, ""},
		{"since before the start", runtime.LogOptions{TailLines: -1, Since: st.StartedAt.Add(-time.Hour)}, "one\ntwo\nthree\n"},
	} {
		var out syncBuffer
		if err := s.rt.Logs(ctx, id, tc.opts, &out, &out); err != nil {
			t.Errorf("%s: Logs: %v", tc.name, err)
		} else if out.String() != tc.want {
			t.Errorf("%s: Logs = %q, want %q", tc.name, out.String(), tc.want)
		}
	}

	var out syncBuffer
	if err := s.rt.Logs(ctx, id, runtime.LogOptions{TailLines: -1, Timestamps: true}, &out, &out); err != nil {
		t.Fatalf("Logs with timestamps: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("Logs with timestamps = %q, want 3 lines", out.String())
	}
	for i, l := range lines {
		ts, text, _ := strings.Cut(l, " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || text != []string{"one", "two", "three"}[i] {
			t.Errorf("line %q: want an RFC 3339 time and %q (%v)", l, []string{"one", "two", "three"}[i], err)
			continue
		}
		if at.Before(st.StartedAt.Add(-time.Second)) || at.After(st.FinishedAt.Add(time.Second)) {
			t.Errorf("line %q: time not within the container's run %v – %v", l, st.StartedAt, st.FinishedAt)
		}
	}
}

func (s *suite) testLogsFollow(t *testing.T) {
	sb := s.sandbox(t, s.rt, "follow")
	for _, how := range []string{"stop", "cancel"} {
		id := s.start(t, s.rt, sb, "follow-"+how, []string{"ready"}, -1)
		ctx, cancel := context.WithCancel(s.ctx(t))
		var out syncBuffer
		done := make(chan error, 1)
		go func() { done <- s.rt.Logs(ctx, id, runtime.LogOptions{TailLines: -1, Follow: true}, &out, &out) }()
		s.eventually(t, func() bool { return out.String() == "ready\n" }, "followed output %q, want %q", &out, "ready\n")
		select {
		case err := <-done:
			t.Fatalf("%s: Logs with Follow returned while the container runs: %v", how, err)
		case <-time.After(100 * time.Millisecond):
		}
		if how == "stop" {
			if err := s.rt.StopContainer(s.ctx(t), id, 10*time.Second); err != nil {
				t.Fatalf("StopContainer: %v", err)
			}
		} else {
			cancel()
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Logs with Follow = %v, want nil", how, err)
			}
		case <-time.After(s.cfg.Timeout):
			t.Fatalf("%s: Logs with Follow did not return", how)
		}
		cancel()
	}
}

// eventually polls cond until it holds or the suite's timeout passes.
func (s *suite) eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(s.cfg.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf(format, args...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *suite) testExec(t *testing.T) {
	ctx := s.ctx(t)
	sb := s.sandbox(t, s.rt, "exec")
	id := s.start(t, s.rt, sb, "target", nil, -1)
	s.wait(t, s.rt, id, runtime.ContainerRunning)

	stdout, _, code, err := s.rt.ExecSync(ctx, id, []string{"echo", "hello", "world"}, 30*time.Second)
	if err != nil || code != 0 || string(stdout) != "hello world\n" {
		t.Errorf("ExecSync echo = %q, %d, %v; want \"hello world\\n\", 0", stdout, code, err)
	}
	if _, _, code, err := s.rt.ExecSync(ctx, id, []string{"false"}, 30*time.Second); err != nil || code != 1 {
		t.Errorf("ExecSync false = %d, %v; want exit code 1", code, err)
	}
	var out syncBuffer
	code, err = s.rt.Exec(ctx, id, runtime.ExecOptions{Cmd: []string{"cat"}, Stdin: strings.NewReader("ping\n"), Stdout: &out, Stderr: &out})
	if err != nil || code != 0 || out.String() != "ping\n" {
		t.Errorf("Exec cat = %q, %d, %v; want \"ping\\n\", 0", out.String(), code, err)
	}

	if err := s.rt.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	if _, _, _, err := s.rt.ExecSync(ctx, id, []string{"true"}, 30*time.Second); err == nil {
		t.Error("ExecSync in a stopped container succeeded")
	}
}

func (s *suite) testNotFound(t *testing.T) {
	ctx := s.ctx(t)
	const id = "berth-runtimetest-no-such-object"
	checks := map[string]error{
		"StartContainer": s.rt.StartContainer(ctx, id),
		"StopContainer":  s.rt.StopContainer(ctx, id, time.Second),
		"StopSandbox":    s.rt.StopSandbox(ctx, id, time.Second),
		"Logs":           s.rt.Logs(ctx, id, runtime.LogOptions{TailLines: -1}, nil, nil),
	}
	_, checks["ContainerStatus"] = s.rt.ContainerStatus(ctx, id)
	_, _, _, checks["ExecSync"] = s.rt.ExecSync(ctx, id, []string{"true"}, time.Second)
	_, checks["Exec"] = s.rt.Exec(ctx, id, runtime.ExecOptions{Cmd: []string{"true"}})
	_, checks["CreateContainer"] = s.rt.CreateContainer(ctx, id, runtime.ContainerConfig{Pod: s.pod("none"), Name: "c", Image: s.cfg.Image})
	for _, name := range slices.Sorted(maps.Keys(checks)) {
		if !errors.Is(checks[name], runtime.ErrNotFound) {
			t.Errorf("%s of an unknown object = %v, want ErrNotFound", name, checks[name])
		}
	}
	if err := s.rt.RemoveContainer(ctx, id); err != nil {
		t.Errorf("RemoveContainer of an unknown container = %v, want nil", err)
	}
	if err := s.rt.RemoveSandbox(ctx, id); err != nil {
		t.Errorf("RemoveSandbox of an unknown sandbox = %v, want nil", err)
	}
}

func (s *suite) testNodeScope(t *testing.T) {
	ctx := s.ctx(t)
	other := s.newRuntime(t, s.node+"-other")
	mine := s.sandbox(t, s.rt, "mine")
	myContainer := s.create(t, s.rt, mine, "app", nil, -1)
	theirs := s.sandbox(t, other, "theirs")
	theirContainer := s.create(t, other, theirs, "app", nil, -1)

	if l := s.listContainer(t, other, myContainer); l != nil {
		t.Errorf("another node lists my container: %+v", l)
	}
	if l := s.listContainer(t, s.rt, theirContainer); l != nil {
		t.Errorf("I list another node's container: %+v", l)
	}
	if l := s.listSandbox(t, theirs.ID); l != nil {
		t.Errorf("I list another node's sandbox: %+v", l)
	}
	if _, err := s.rt.ContainerStatus(ctx, theirContainer); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("ContainerStatus of another node's container = %v, want ErrNotFound", err)
	}
	sbs, err := other.ListSandboxes(ctx)
	if err != nil {
		t.Fatalf("ListSandboxes: %v", err)
	}
	if len(sbs) != 1 || sbs[0].ID != theirs.ID || sbs[0].Labels[runtime.LabelNode] != s.node+"-other" {
		t.Errorf("the other node lists %+v, want only its sandbox %s", sbs, theirs.ID)
	}
}

func (s *suite) testStopSandbox(t *testing.T) {
	sb := s.sandbox(t, s.rt, "stop-all")
	id := s.start(t, s.rt, sb, "app", nil, -1)
	s.wait(t, s.rt, id, runtime.ContainerRunning)
	if err := s.rt.StopSandbox(s.ctx(t), sb.ID, 10*time.Second); err != nil {
		t.Fatalf("StopSandbox: %v", err)
	}
	if st, err := s.rt.ContainerStatus(s.ctx(t), id); err != nil || st.State != runtime.ContainerExited {
		t.Errorf("container of a stopped sandbox: %+v, %v; want Exited", st, err)
	}
}

func (s *suite) testRemoveSandbox(t *testing.T) {
	sb := s.sandbox(t, s.rt, "remove-all")
	running := s.start(t, s.rt, sb, "running", nil, -1)
	created := s.create(t, s.rt, sb, "created", nil, 0)
	if err := s.rt.RemoveSandbox(s.ctx(t), sb.ID); err != nil {
		t.Fatalf("RemoveSandbox: %v", err)
	}
	for _, id := range []string{running, created} {
		if _, err := s.rt.ContainerStatus(s.ctx(t), id); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("container of a removed sandbox: %v, want ErrNotFound", err)
		}
	}
}
