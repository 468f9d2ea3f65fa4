package e2eutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a program started in the background for a test, its output captured in memory.
type Process struct {
	// Name says what the process is in messages ("berth server", "berthctl get -w").
	Name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer // the same buffer as stdout when the output is combined
	done   chan struct{}
	err    error // what cmd.Wait returned, once done is closed
}

// ProcessOptions tune StartProcess.
type ProcessOptions struct {
	// Env is added to the test's environment.
	Env []string
	// Dir is the working directory; empty means the test's.
	Dir string
	// Stdin, when not nil, is the process's standard input.
	Stdin io.Reader
	// Combined sends stderr to the same buffer as stdout, interleaved as written.
	Combined bool
}

// StartProcess starts bin with args in the background. The process is killed (SIGKILL) when
// the test ends if it is still running, and also if the test binary dies.
func StartProcess(t testing.TB, bin string, args []string, opts ProcessOptions) *Process {
	t.Helper()
	p, err := startProcess(bin, args, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	return p
}

func startProcess(bin string, args []string, opts ProcessOptions) (*Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Dir = opts.Dir
	cmd.Stdin = opts.Stdin
	// If the test binary dies (a panic, a -timeout), take the process with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &Process{
		Name:   strings.Join(append([]string{shortName(bin)}, args...), " "),
		cmd:    cmd,
		stdout: &syncBuffer{},
		done:   make(chan struct{}),
	}
	p.stderr = p.stdout
	if !opts.Combined {
		p.stderr = &syncBuffer{}
	}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.Name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func shortName(bin string) string {
	if i := strings.LastIndexByte(bin, '/'); i >= 0 {
		return bin[i+1:]
	}
	return bin
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stdout is everything the process has written to stdout so far (with stderr when combined).
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr is everything the process has written to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitCode is the exit status of an exited process: -1 when a signal killed it.
func (p *Process) ExitCode() int {
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the process; it is not an error if the process has already exited.
func (p *Process) Signal(sig os.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	return nil
}

// Wait waits up to timeout for the process to exit and returns what exec.Cmd.Wait returned
// (nil for exit status 0); it fails the test if the process is still running.
func (p *Process) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v", p.Name, timeout)
		return nil
	}
}

// WaitForOutput waits up to timeout until the process's stdout contains substr, and fails the
// test with the output so far if it does not.
func (p *Process) WaitForOutput(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Stdout(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q in its output within %v; stdout:\n%s\nstderr:\n%s",
				p.Name, substr, timeout, p.Stdout(), p.Stderr())
		}
		select {
		case <-p.done:
			if !strings.Contains(p.Stdout(), substr) {
				t.Fatalf("%s exited (%v) without writing %q; stdout:\n%s\nstderr:\n%s",
					p.Name, p.err, substr, p.Stdout(), p.Stderr())
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill ends the process with SIGKILL if it is still running, and waits for it.
func (p *Process) kill() {
	_ = p.Signal(syscall.SIGKILL)
	<-p.done
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is a bytes.Buffer that a process writes while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
