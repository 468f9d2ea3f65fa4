package pause

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// Signals are the signals Run acts on; the caller subscribes to them with signal.Notify.
var Signals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD}

// Options tune Run.
type Options struct {
	// Reap makes Run reap exited children on every SIGCHLD. Set it when running as PID 1.
	Reap bool
	// OnReap, when set, is told of every child reaped, with its wait status.
	OnReap func(pid int, status syscall.WaitStatus)
}

// Run waits until ctx is done or SIGTERM or SIGINT arrives on signals, reaping children on
// SIGCHLD when opts.Reap is set. It returns the process's exit code: always 0.
func Run(ctx context.Context, signals <-chan os.Signal, opts Options) int {
	for {
		select {
		case <-ctx.Done():
			return 0
		case sig := <-signals:
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				return 0
			case syscall.SIGCHLD:
				if opts.Reap {
					Reap(opts.OnReap)
				}
			}
		}
	}
}

// Reap collects every child that has exited, without blocking, and tells onReap (if not nil)
// about each. Signals coalesce, so one SIGCHLD may stand for many exits: Reap loops until no
// exited child is left.
func Reap(onReap func(pid int, status syscall.WaitStatus)) {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return // ECHILD: no children at all; 0: children, none exited
		}
		if onReap != nil {
			onReap(pid, status)
		}
	}
}
