package pause

import (
	"bufio"
	"context"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRunExitsOnTerminationSignals(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			signals := make(chan os.Signal, 2)
			done := make(chan int, 1)
			go func() { done <- Run(context.Background(), signals, Options{Reap: true}) }()

			signals <- syscall.SIGCHLD // not a reason to stop
			select {
			case code := <-done:
				t.Fatalf("Run returned %d on SIGCHLD, want it to keep waiting", code)
			case <-time.After(100 * time.Millisecond):
			}
			signals <- sig
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("Run() = %d on %v, want 0", code, sig)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Run did not return within 5s of %v", sig)
			}
		})
	}
}

func TestRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Run(ctx, make(chan os.Signal), Options{}) }()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("Run() = %d, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of its context being cancelled")
	}
}

// reaped records what Run reaps.
type reaped struct {
	mu     sync.Mutex
	status map[int]syscall.WaitStatus
}

func (r *reaped) add(pid int, status syscall.WaitStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status[pid] = status
}

// waitFor waits until pid has been reaped and returns its status.
func (r *reaped) waitFor(t *testing.T, pid int) syscall.WaitStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		st, ok := r.status[pid]
		r.mu.Unlock()
		if ok {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d was not reaped within 10s", pid)
	return 0
}

// runReaper runs Run with real SIGCHLD delivery until the test ends.
func runReaper(t *testing.T) *reaped {
	t.Helper()
	r := &reaped{status: map[int]syscall.WaitStatus{}}
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, Signals...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, signals, Options{Reap: true, OnReap: r.add})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		signal.Stop(signals)
	})
	return r
}

// spawn starts /bin/sh -c script without os/exec (which would wait for it itself) and
// returns its pid and its standard output.
func spawn(t *testing.T, script string) (int, *bufio.Reader) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pr.Close() })
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{
		Files: []uintptr{0, pw.Fd(), 2},
	})
	_ = pw.Close()
	if err != nil {
		t.Fatalf("start /bin/sh: %v", err)
	}
	return pid, bufio.NewReader(pr)
}

func TestReapsExitedChild(t *testing.T) {
	r := runReaper(t)
	pid, _ := spawn(t, "exit 3")
	st := r.waitFor(t, pid)
	if !st.Exited() || st.ExitStatus() != 3 {
		t.Errorf("child status = %#x, want exited with 3", st)
	}
}

// TestReapsOrphans makes the test process a child subreaper, which is to orphans what PID 1
// is, and checks that a grandchild orphaned by its parent is reaped when it exits.
func TestReapsOrphans(t *testing.T) {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Skipf("cannot become a child subreaper: %v", errno)
	}
	r := runReaper(t)
	pid, out := spawn(t, "sleep 0.2 & echo $!; exit 0")
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("read the orphan's pid: %v", err)
	}
	orphan, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("orphan pid %q: %v", line, err)
	}
	r.waitFor(t, pid)
	if st := r.waitFor(t, orphan); !st.Exited() || st.ExitStatus() != 0 {
		t.Errorf("orphan status = %#x, want exited with 0", st)
	}
}

func TestReapWithoutChildrenReturns(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		Reap(nil)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Reap blocked with no exited children")
	}
}
