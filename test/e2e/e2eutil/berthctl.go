package e2eutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// CommandTimeout bounds every berthctl run that Berthctl waits for.
const CommandTimeout = 60 * time.Second

// Berthctl runs the berthctl binary against one server.
type Berthctl struct {
	// Bin is the berthctl binary, Server the apiserver's gRPC address (passed as --server).
	Bin, Server string
	// Env is added to the test's environment.
	Env []string
}

// Result is what a finished berthctl run left.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

func (c *Berthctl) args(args []string) []string {
	return append([]string{"--server", c.Server}, args...)
}

// Run runs berthctl with args and returns its stdout; the test fails unless it exits 0.
func (c *Berthctl) Run(t testing.TB, args ...string) string {
	t.Helper()
	return c.RunStdin(t, "", args...)
}

// RunStdin is Run with stdin as the standard input (for `apply -f -`).
func (c *Berthctl) RunStdin(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	r := c.Exec(t, stdin, args...)
	if r.ExitCode != 0 {
		t.Fatalf("berthctl %s: exit status %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Exec runs berthctl with args and stdin, and returns what it left whatever its exit status,
// for tests that expect it to fail. The test fails only if berthctl cannot be run or takes
// longer than CommandTimeout.
func (c *Berthctl) Exec(t testing.TB, stdin string, args ...string) Result {
	t.Helper()
	r, err := c.exec(stdin, args)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (c *Berthctl) exec(stdin string, args []string) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bin, c.args(args)...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: cmd.ProcessState.ExitCode()}
	if ctx.Err() != nil {
		return r, fmt.Errorf("berthctl %s: still running after %v\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), CommandTimeout, r.Stdout, r.Stderr)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return r, fmt.Errorf("run berthctl %s: %w", strings.Join(args, " "), err)
	}
	return r, nil
}

// Start starts berthctl with args in the background, for commands that run until stopped
// (`get pods -w`); see Process.WaitForOutput. It is killed when the test ends.
func (c *Berthctl) Start(t testing.TB, args ...string) *Process {
	t.Helper()
	return StartProcess(t, c.Bin, c.args(args), ProcessOptions{Env: c.Env})
}
