package e2eutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Kubectl runs the stock kubectl against a server's REST gateway, isolated from the user's
// configuration: no kubeconfig, and a fresh discovery and HTTP cache per Kubectl.
type Kubectl struct {
	// Bin is the kubectl binary; Server the gateway's URL (passed as --server).
	Bin, Server string
	// Env is added to the test's environment (HOME and KUBECONFIG are set by NewKubectl).
	Env []string
}

// NewKubectl returns a kubectl that talks to the gateway at httpAddr (host:port). The test is
// Unavailable when kubectl is not installed; $KUBECTL names another binary than the one in
// PATH.
func NewKubectl(t testing.TB, httpAddr string) *Kubectl {
	t.Helper()
	bin := os.Getenv("KUBECTL")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("kubectl"); err != nil {
			Unavailable(t, "kubectl is not installed: %v", err)
		}
	}
	home := t.TempDir()
	kubeconfig := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &Kubectl{Bin: bin, Server: "http://" + httpAddr, Env: []string{"HOME=" + home, "KUBECONFIG=" + kubeconfig}}
}

// Kubectl is a kubectl that talks to this server's gateway (on HTTPAddr).
func (s *Server) Kubectl(t testing.TB) *Kubectl {
	t.Helper()
	return NewKubectl(t, s.HTTPAddr)
}

func (k *Kubectl) args(args []string) []string {
	return append([]string{"--server", k.Server}, args...)
}

// Run runs kubectl with args and returns its stdout; the test fails unless it exits 0.
func (k *Kubectl) Run(t testing.TB, args ...string) string {
	t.Helper()
	return k.RunStdin(t, "", args...)
}

// RunStdin is Run with stdin as the standard input (for `apply -f -`).
func (k *Kubectl) RunStdin(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	r := k.Exec(t, stdin, args...)
	if r.ExitCode != 0 {
		t.Fatalf("kubectl %s: exit status %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), r.ExitCode, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Exec runs kubectl with args and stdin and returns what it left whatever its exit status,
// for tests that expect it to fail. The test fails only if kubectl cannot be run or takes
// longer than CommandTimeout.
func (k *Kubectl) Exec(t testing.TB, stdin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.Bin, k.args(args)...)
	cmd.Env = append(os.Environ(), k.Env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: cmd.ProcessState.ExitCode()}
	if ctx.Err() != nil {
		t.Fatalf("kubectl %s: still running after %v\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), CommandTimeout, r.Stdout, r.Stderr)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatal(fmt.Errorf("run kubectl %s: %w", strings.Join(args, " "), err))
	}
	return r
}

// Start starts kubectl with args in the background, for commands that run until stopped
// (`get pods -w`); see Process.WaitForOutput. It is killed when the test ends.
func (k *Kubectl) Start(t testing.TB, args ...string) *Process {
	t.Helper()
	return StartProcess(t, k.Bin, k.args(args), ProcessOptions{Env: k.Env})
}
