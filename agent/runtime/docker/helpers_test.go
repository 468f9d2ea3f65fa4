package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/agent/runtime"
)

// The images `make images` builds, which the integration tests run.
const (
	pauseImage   = "berth-pause:latest"
	shellImage   = "berth-shell:latest"
	testappImage = "berth-testapp:latest"
)

// testNetwork is the Pods' network of this test process, removed when the tests end.
var testNetwork = "berth-rtest-" + randHex(4)

func TestMain(m *testing.M) {
	code := m.Run()
	if cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation()); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := cli.NetworkRemove(ctx, testNetwork); err != nil && !cerrdefs.IsNotFound(err) && !client.IsErrConnectionFailed(err) {
			fmt.Fprintf(os.Stderr, "removing network %s: %v\n", testNetwork, err)
		}
		cancel()
		cli.Close()
	}
	os.Exit(code)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// inCI tells whether the tests run under CI, where a missing Docker is a failure.
func inCI() bool {
	switch os.Getenv("CI") {
	case "", "0", "false", "FALSE":
		return false
	}
	return true
}

var (
	dockerOnce sync.Once
	dockerErr  error
)

// dockerProblem says why the integration tests cannot run (no Engine, no images), or nil.
func dockerProblem() error {
	dockerOnce.Do(func() {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			dockerErr = err
			return
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := cli.Ping(ctx); err != nil {
			dockerErr = fmt.Errorf("no Docker Engine reachable: %w", err)
			return
		}
		for _, img := range []string{pauseImage, shellImage, testappImage} {
			if _, err := cli.ImageInspect(ctx, img); err != nil {
				dockerErr = fmt.Errorf("image %s is missing (run make images): %w", img, err)
				return
			}
		}
	})
	return dockerErr
}

// requireDocker skips t (fails it under CI) when no Docker Engine with the images is reachable.
func requireDocker(t testing.TB) {
	t.Helper()
	if err := dockerProblem(); err != nil {
		if inCI() {
			t.Fatalf("Docker integration test under CI: %v", err)
		}
		t.Skipf("skipping the Docker integration test: %v", err)
	}
}

// newRuntime returns a Runtime on the test network for a node of its own (named after node),
// whose objects are removed when t ends.
func newRuntime(t *testing.T, node string, tweak ...func(*Options)) *Runtime {
	t.Helper()
	requireDocker(t)
	opts := Options{NodeName: node + "-" + randHex(3), Network: testNetwork, StateDir: t.TempDir()}
	for _, f := range tweak {
		f(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", runtime.LabelNode+"="+opts.NodeName))})
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, c := range list {
			if err := r.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
				t.Errorf("cleanup: %v", err)
			}
		}
		r.Close()
	})
	return r
}

// ctx is a context for one test, bounded.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// shellProgram is the conformance suite's Program on berth-shell.
func shellProgram(lines []string, exitCode int) (command, args, env []string) {
	script := `for l in "$@"; do echo "$l"; done; `
	if exitCode >= 0 {
		script += fmt.Sprintf("exit %d", exitCode)
	} else {
		script += `trap "exit 0" TERM; sleep 3600 & wait`
	}
	return []string{"sh", "-c", script, "sh"}, lines, nil
}

// sleeper is the command of a berth-shell container that runs until SIGTERM.
var sleeper = []string{"sh", "-c", `trap "exit 0" TERM; sleep 3600 & wait`}

// newPod is a new Pod reference for a test.
func newPod(name string) runtime.PodRef {
	return runtime.PodRef{UID: "uid-" + randHex(8), Namespace: "rtest", Name: name}
}

// run runs a sandbox with cfg (the Pod made up when cfg.Pod is empty).
func run(t *testing.T, r *Runtime, cfg runtime.SandboxConfig) runtime.Sandbox {
	t.Helper()
	if cfg.Pod.UID == "" {
		cfg.Pod = newPod(strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	}
	sb, err := r.RunSandbox(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("RunSandbox: %v", err)
	}
	return sb
}

// start creates and starts a container of cfg in sb (Pod and Image filled in when empty).
func start(t *testing.T, r *Runtime, sb runtime.Sandbox, cfg runtime.ContainerConfig) string {
	t.Helper()
	cfg.Pod = sb.Pod
	if cfg.Image == "" {
		cfg.Image = shellImage
	}
	id, err := r.CreateContainer(testCtx(t), sb.ID, cfg)
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", cfg.Name, err)
	}
	if err := r.StartContainer(testCtx(t), id); err != nil {
		t.Fatalf("StartContainer %s: %v", cfg.Name, err)
	}
	return id
}

// exec runs cmd in a container and returns its stdout, failing t on an error or non-zero exit.
func exec(t *testing.T, r *Runtime, id string, cmd ...string) string {
	t.Helper()
	stdout, stderr, code, err := r.ExecSync(testCtx(t), id, cmd, 30*time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exec %q = %d, %v; stderr %q", cmd, code, err, stderr)
	}
	return string(stdout)
}

// waitExited waits until the container has exited.
func waitExited(t *testing.T, r *Runtime, id string, timeout time.Duration) runtime.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := r.ContainerStatus(testCtx(t), id)
		if err != nil {
			t.Fatalf("ContainerStatus: %v", err)
		}
		if st.State == runtime.ContainerExited {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %s after %s", st.Name, st.State, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logs returns a container's whole log, stdout and stderr apart.
func logs(t *testing.T, r *Runtime, id string) (string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	if err := r.Logs(testCtx(t), id, runtime.LogOptions{TailLines: -1}, &stdout, &stderr); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	return stdout.String(), stderr.String()
}

// mustRead returns a file's content.
func mustRead(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exists tells whether a file exists.
func exists(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}
