package fake

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/runtime/runtimetest"
)

// program is the fake's side of runtimetest.Config.Program: the behaviour in the environment.
func program(lines []string, exitCode int) (command, args, env []string) {
	if len(lines) > 0 {
		env = append(env, EnvLogs+"="+strings.Join(lines, "\n"))
	}
	if exitCode >= 0 {
		env = append(env, EnvExitCode+"="+strconv.Itoa(exitCode))
	}
	return []string{"/app"}, nil, env
}

func TestConformance(t *testing.T) {
	runtimetest.Run(t, runtimetest.Config{
		New:          func(t *testing.T, node string) runtime.Runtime { return New(Config{NodeName: node}) },
		Image:        "berth-shell:latest",
		MissingImage: "registry.invalid/berth/missing:1",
		Program:      program,
		Timeout:      10 * time.Second,
	})
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// pod runs a sandbox and creates a container with env in it.
func pod(t *testing.T, r *Runtime, env ...string) (runtime.Sandbox, string) {
	t.Helper()
	ctx := context.Background()
	sb, err := r.RunSandbox(ctx, runtime.SandboxConfig{Pod: runtime.PodRef{UID: "u", Namespace: "ns", Name: "p"}, Hostname: "p"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := r.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: sb.Pod, Name: "c", Image: "img", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	return sb, id
}

func TestBehaviorFromEnv(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		env       []string
		after     time.Duration // how long after the start the status is read
		state     runtime.ContainerState
		code      int
		reason    string
		startErr  string
		finishAt  time.Duration // FinishedAt - start, when exited
		wantLines []string
	}{
		{name: "runs until stopped", after: time.Hour, state: runtime.ContainerRunning},
		{name: "exits at once", env: []string{EnvExitCode + "=0"}, state: runtime.ContainerExited, reason: "Completed"},
		{name: "fails at once", env: []string{EnvExitCode + "=2"}, state: runtime.ContainerExited, code: 2, reason: "Error"},
		{name: "still running", env: []string{EnvRunFor + "=10s", EnvExitCode + "=1"}, after: 9 * time.Second, state: runtime.ContainerRunning},
		{name: "exits after a while", env: []string{EnvRunFor + "=10s", EnvExitCode + "=1"}, after: 11 * time.Second,
			state: runtime.ContainerExited, code: 1, reason: "Error", finishAt: 10 * time.Second},
		{name: "OOM", env: []string{EnvOOM + "=true", EnvRunFor + "=1s"}, after: time.Minute,
			state: runtime.ContainerExited, code: 137, reason: "OOMKilled", finishAt: time.Second},
		{name: "start error", env: []string{EnvStartError + "=exec: \"nope\": not found"}, state: runtime.ContainerCreated,
			code: 128, startErr: `exec: "nope": not found`},
		{name: "bad values are ignored", env: []string{EnvExitCode + "=x", EnvRunFor + "=-1s", EnvOOM + "=maybe"}, after: time.Hour, state: runtime.ContainerRunning},
		{name: "logs", env: []string{EnvLogs + "=a\nb\n"}, state: runtime.ContainerRunning, wantLines: []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{now: t0}
			r := New(Config{NodeName: "n", Now: clk.Now})
			_, id := pod(t, r, tc.env...)
			err := r.StartContainer(context.Background(), id)
			if tc.startErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.startErr) {
					t.Fatalf("StartContainer = %v, want %q", err, tc.startErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			clk.Add(tc.after)
			st, err := r.ContainerStatus(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tc.state || st.ExitCode != tc.code || st.Reason != tc.reason {
				t.Errorf("status = %s %d %q, want %s %d %q", st.State, st.ExitCode, st.Reason, tc.state, tc.code, tc.reason)
			}
			if tc.startErr != "" && st.Message != tc.startErr {
				t.Errorf("message = %q, want %q", st.Message, tc.startErr)
			}
			if tc.state == runtime.ContainerExited && !st.FinishedAt.Equal(t0.Add(tc.finishAt)) {
				t.Errorf("FinishedAt = %v, want %v", st.FinishedAt, t0.Add(tc.finishAt))
			}
			var out strings.Builder
			if err := r.Logs(context.Background(), id, runtime.LogOptions{TailLines: -1}, &out, nil); err != nil {
				t.Fatal(err)
			}
			if want := strings.Join(tc.wantLines, "\n"); strings.TrimSuffix(out.String(), "\n") != want {
				t.Errorf("logs = %q, want %q", out.String(), want)
			}
		})
	}
}

func TestLogsFollowUntilTimedExit(t *testing.T) {
	r := New(Config{NodeName: "n"})
	_, id := pod(t, r, EnvRunFor+"=200ms", EnvLogs+"=x")
	if err := r.StartContainer(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Logs(ctx, id, runtime.LogOptions{Follow: true, TailLines: -1}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || ctx.Err() != nil {
		t.Errorf("follow returned after %s, want about 200ms (the container's run)", d)
	}
	if out.String() != "x\n" {
		t.Errorf("logs = %q", out.String())
	}
}

func TestIPs(t *testing.T) {
	ctx := context.Background()
	r := New(Config{NodeName: "n", Subnet: netip.MustParsePrefix("10.1.2.0/29")})
	var ids []string
	var ips []string
	for i := range 5 { // 10.1.2.2 - 10.1.2.6: the network, gateway and broadcast addresses are never given
		sb, err := r.RunSandbox(ctx, runtime.SandboxConfig{Pod: runtime.PodRef{UID: fmt.Sprint(i)}})
		if err != nil {
			t.Fatalf("sandbox %d: %v", i, err)
		}
		ids, ips = append(ids, sb.ID), append(ips, sb.IP)
	}
	if want := "10.1.2.2 10.1.2.3 10.1.2.4 10.1.2.5 10.1.2.6"; strings.Join(ips, " ") != want {
		t.Errorf("IPs = %v, want %s", ips, want)
	}
	if _, err := r.RunSandbox(ctx, runtime.SandboxConfig{}); err == nil || !strings.Contains(err.Error(), "no free IP") {
		t.Errorf("RunSandbox in a full subnet = %v, want no free IP", err)
	}
	if err := r.StopSandbox(ctx, ids[1], 0); err != nil { // a stopped sandbox gives its IP back
		t.Fatal(err)
	}
	sb, err := r.RunSandbox(ctx, runtime.SandboxConfig{})
	if err != nil || sb.IP != "10.1.2.3" {
		t.Errorf("RunSandbox after a stop = %+v, %v; want IP 10.1.2.3 again", sb, err)
	}
	if err := r.RemoveSandbox(ctx, ids[1]); err != nil { // and removing it gives nothing back twice
		t.Fatal(err)
	}
	if _, err := r.RunSandbox(ctx, runtime.SandboxConfig{}); err == nil {
		t.Error("an IP was given out twice")
	}
}

func TestSubnetFor(t *testing.T) {
	for i, want := range map[int]string{0: "10.128.0.0/24", 1: "10.128.1.0/24", 256: "10.129.0.0/24", 32767: "10.255.255.0/24"} {
		if got := SubnetFor(i).String(); got != want {
			t.Errorf("SubnetFor(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestImages(t *testing.T) {
	ctx := context.Background()
	r := New(Config{})
	r.FailImage("private/app:1", "denied")
	for _, tc := range []struct {
		image, pull string
		want        error
	}{
		{"anything:1", "Never", nil},
		{"anything:1", "Always", nil},
		{"private/app:1", "Never", runtime.ErrNotFound},
		{"private/app:1", "IfNotPresent", runtime.ErrImagePull},
		{"registry.invalid/app:1", "Always", runtime.ErrImagePull},
		{"registry.invalid:5000/app:1", "Never", runtime.ErrNotFound},
		{"localhost:5000/app:1", "Always", nil},
	} {
		id, err := r.EnsureImage(ctx, tc.image, tc.pull)
		if !errors.Is(err, tc.want) || (tc.want == nil && !strings.HasPrefix(id, "sha256:")) {
			t.Errorf("EnsureImage(%s, %s) = %q, %v; want %v", tc.image, tc.pull, id, err, tc.want)
		}
	}
	if _, err := r.EnsureImage(ctx, "private/app:1", "Always"); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Errorf("EnsureImage of a failing image = %v, want its message", err)
	}
}

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	r := New(Config{})
	sb, id := pod(t, r)
	r.SetUnavailable(true)
	errs := []error{
		r.StartContainer(ctx, id), r.StopSandbox(ctx, sb.ID, 0), r.RemoveContainer(ctx, id),
	}
	_, err := r.ListContainers(ctx)
	errs = append(errs, err)
	_, err = r.Info(ctx)
	errs = append(errs, err)
	for i, err := range errs {
		if !errors.Is(err, runtime.ErrUnavailable) {
			t.Errorf("call %d while unavailable = %v, want ErrUnavailable", i, err)
		}
	}
	r.SetUnavailable(false)
	if err := r.StartContainer(ctx, id); err != nil {
		t.Errorf("StartContainer once available again: %v", err)
	}
}

func TestExecBuiltins(t *testing.T) {
	ctx := context.Background()
	r := New(Config{NodeName: "n"})
	_, id := pod(t, r, "A=1")
	if err := r.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmd  []string
		out  string
		code int
	}{
		{[]string{"echo", "a", "b"}, "a b\n", 0},
		{[]string{"true"}, "", 0},
		{[]string{"false"}, "", 1},
		{[]string{"hostname"}, "p\n", 0},
		{[]string{"env"}, "A=1\n", 0},
		{[]string{"/bin/anything", "else"}, "", 0},
	} {
		out, _, code, err := r.ExecSync(ctx, id, tc.cmd, time.Second)
		if err != nil || string(out) != tc.out || code != tc.code {
			t.Errorf("ExecSync %v = %q, %d, %v; want %q, %d", tc.cmd, out, code, err, tc.out, tc.code)
		}
	}
	if _, err := r.Exec(ctx, id, runtime.ExecOptions{}); err == nil {
		t.Error("Exec without a command succeeded")
	}
}

func TestStartTwice(t *testing.T) {
	ctx := context.Background()
	r := New(Config{})
	_, id := pod(t, r)
	if err := r.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := r.StartContainer(ctx, id); err == nil {
		t.Error("starting a running container succeeded")
	}
}

// TestNoGoroutinePerContainer checks that running containers cost no goroutine.
func TestNoGoroutinePerContainer(t *testing.T) {
	ctx := context.Background()
	before := goruntime.NumGoroutine()
	r := New(Config{NodeName: "n"})
	for i := range 200 {
		sb, err := r.RunSandbox(ctx, runtime.SandboxConfig{Pod: runtime.PodRef{UID: fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		id, err := r.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: sb.Pod, Name: "c", Image: "i", Env: []string{EnvRunFor + "=1h"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if after := goruntime.NumGoroutine(); after > before+2 {
		t.Errorf("%d goroutines for 200 running containers (had %d)", after, before)
	}
}

// BenchmarkHollowNode measures a fake runtime with 30 running Pods, as a hollow Node carries.
func BenchmarkHollowNode(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	var ms0, ms1 goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&ms0)
	keep := make([]*Runtime, 0, b.N)
	for i := range b.N {
		r := New(Config{NodeName: fmt.Sprint("hollow-", i), Subnet: SubnetFor(i % 32768)})
		for p := range 30 {
			sb, _ := r.RunSandbox(ctx, runtime.SandboxConfig{Pod: runtime.PodRef{UID: fmt.Sprint(p), Namespace: "default", Name: fmt.Sprint("pod-", p)}})
			id, _ := r.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Pod: sb.Pod, Name: "app", Image: "berth-testapp:latest"})
			_ = r.StartContainer(ctx, id)
		}
		keep = append(keep, r)
	}
	goruntime.GC()
	goruntime.ReadMemStats(&ms1)
	b.ReportMetric(float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/float64(b.N), "heap-bytes/node")
	goruntime.KeepAlive(keep)
}

// FuzzEnvBehavior: any environment gives a behaviour without panicking, never a negative run.
func FuzzEnvBehavior(f *testing.F) {
	for _, seed := range []string{
		EnvExitCode + "=3", EnvRunFor + "=1m", EnvRunFor + "=-5s", EnvOOM + "=1", EnvLogs + "=a\nb",
		EnvStartError + "=boom", "=", "NOEQUALS", EnvExitCode + "=99999999999999999999",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, kv string) {
		b := EnvBehavior(runtime.ContainerConfig{Env: []string{kv}})
		if b.RunFor < 0 {
			t.Errorf("EnvBehavior(%q).RunFor = %s", kv, b.RunFor)
		}
	})
}

// FuzzEnsureImage: any image name and policy gives an ID or one of the documented errors.
func FuzzEnsureImage(f *testing.F) {
	for _, seed := range [][2]string{
		{"busybox", "Always"}, {"registry.invalid/a:1", "IfNotPresent"}, {"x.invalid:1/y", "Never"},
		{"invalid/", ""}, {":", "Sometimes"}, {"/", "Never"}, {"a.invalid:/b", "Always"},
	} {
		f.Add(seed[0], seed[1])
	}
	r := New(Config{})
	f.Fuzz(func(t *testing.T, image, pull string) {
		id, err := r.EnsureImage(context.Background(), image, pull)
		switch {
		case err == nil:
			if !strings.HasPrefix(id, "sha256:") {
				t.Errorf("EnsureImage(%q, %q) = %q", image, pull, id)
			}
		case errors.Is(err, runtime.ErrNotFound):
			if pull != "Never" {
				t.Errorf("EnsureImage(%q, %q) = %v: not found without Never", image, pull, err)
			}
		case errors.Is(err, runtime.ErrImagePull):
		default:
			if pull == "" || pull == "Always" || pull == "IfNotPresent" || pull == "Never" {
				t.Errorf("EnsureImage(%q, %q) = %v", image, pull, err)
			}
		}
	})
}
