package e2eutil

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLabel is set on every container RunContainer starts, so that strays left by a crashed
// test run can be found: docker ps -a --filter label=berth-e2e.
const TestLabel = "berth-e2e"

// Docker runs the docker CLI with args and returns its trimmed stdout; the test fails unless
// it exits 0 within CommandTimeout. Call RequireDocker first.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := DockerErr(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// DockerErr is Docker for commands expected to fail: it returns the error (with stderr)
// instead of failing the test.
func DockerErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(stdout.String()), fmt.Errorf("docker %s: %w: %s",
			strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// RunContainer starts a container in the background (`docker run -d` with args, which end
// with the image and its arguments) and returns its id. It is labelled TestLabel and removed
// when the test ends; its log is printed if the test failed.
func RunContainer(t testing.TB, args ...string) string {
	t.Helper()
	id := Docker(t, append([]string{"run", "-d", "--label", TestLabel + "=" + t.Name()}, args...)...)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := DockerErr("logs", id)
			t.Logf("logs of container %.12s (%s):\n%s", id, strings.Join(args, " "), tail(logs, 100))
		}
		_, _ = DockerErr("rm", "-f", "-v", id)
	})
	return id
}

// ContainerIP is the IP address of a running container on Docker's default bridge network.
func ContainerIP(t testing.TB, id string) string {
	t.Helper()
	return Docker(t, "inspect", "--format", "{{.NetworkSettings.IPAddress}}", id)
}

// WaitContainerExit waits up to timeout for a container to stop and returns its exit code.
func WaitContainerExit(t testing.TB, id string, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		state := Docker(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", id)
		var status string
		var code int
		if _, err := fmt.Sscan(state, &status, &code); err != nil {
			t.Fatalf("container %.12s state %q: %v", id, state, err)
		}
		if status == "exited" || status == "dead" {
			return code
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %.12s still %s after %v", id, status, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
