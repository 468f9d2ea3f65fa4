package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/berth-dev/berth/agent/runtime"
)

// maxExecSyncOutput is how much of each of stdout and stderr ExecSync keeps.
const maxExecSyncOutput = 1 << 20

// Logs writes a container's log to stdout and stderr (a TTY container's all to stdout). It
// returns at the end of the log or, with Follow, when the container stops; a follow that ctx
// ends returns nil.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, stdout, stderr io.Writer) error {
	c, err := r.inspect(ctx, id)
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	lo := container.LogsOptions{
		ShowStdout: true, ShowStderr: true,
		Follow: opts.Follow, Timestamps: opts.Timestamps, Tail: "all",
	}
	if opts.TailLines >= 0 {
		lo.Tail = strconv.FormatInt(opts.TailLines, 10)
	}
	if !opts.Since.IsZero() {
		lo.Since = fmt.Sprintf("%d.%09d", opts.Since.Unix(), opts.Since.Nanosecond())
	}
	rc, err := r.cli.ContainerLogs(ctx, c.ID, lo)
	if err != nil {
		if opts.Follow && ctx.Err() != nil {
			return nil
		}
		return wrap(err, "logs of container %s", id)
	}
	defer rc.Close()
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if c.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && opts.Follow:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("logs of container %s: %w", id, ctx.Err())
	}
	return wrap(err, "logs of container %s", id)
}

// ExecSync runs cmd in a running container and collects its output (up to 1 MiB of each
// stream) and exit code. A command still running after timeout (if > 0) is an error wrapping
// context.DeadlineExceeded; Docker cannot kill it, so it may go on running.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var stdout, stderr cappedBuffer
	code, err := r.Exec(ctx, id, runtime.ExecOptions{Cmd: cmd, Stdout: &stdout, Stderr: &stderr})
	if err != nil && errors.Is(err, context.DeadlineExceeded) && timeout > 0 {
		err = fmt.Errorf("command %q in container %s timed out after %s: %w", cmd, id, timeout, context.DeadlineExceeded)
	}
	return stdout.b, stderr.b, code, err
}

// Exec runs an interactive command in a running container: opts.Stdin (when set) feeds it
// until EOF, its output goes to opts.Stdout and opts.Stderr (all to Stdout with a TTY), and
// opts.Resize resizes its TTY. It returns the command's exit code once its output ends. Exec
// does not wait for the copy of Stdin to end: a caller whose Stdin never ends closes it.
func (r *Runtime) Exec(ctx context.Context, id string, opts runtime.ExecOptions) (int, error) {
	c, err := r.inspect(ctx, id)
	if err != nil {
		return -1, fmt.Errorf("exec: %w", err)
	}
	if !c.State.Running {
		return -1, fmt.Errorf("exec in container %s: the container is not running", id)
	}
	if len(opts.Cmd) == 0 {
		return -1, fmt.Errorf("exec in container %s: no command", id)
	}
	eo := container.ExecOptions{
		Cmd: opts.Cmd, Tty: opts.TTY,
		AttachStdin: opts.Stdin != nil, AttachStdout: true, AttachStderr: true,
	}
	// A size the caller already has is the terminal's from the start (API 1.42 and later;
	// older daemons get it as a resize right after the start).
	var first *runtime.TerminalSize
	if opts.TTY && opts.Resize != nil {
		select {
		case sz, ok := <-opts.Resize:
			if ok && sz.Width > 0 && sz.Height > 0 {
				first = &sz
				eo.ConsoleSize = &[2]uint{uint(sz.Height), uint(sz.Width)}
			}
		default:
		}
	}
	created, err := r.cli.ContainerExecCreate(ctx, c.ID, eo)
	if err != nil {
		return -1, wrap(err, "exec in container %s", id)
	}
	hj, err := r.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: opts.TTY, ConsoleSize: eo.ConsoleSize})
	if err != nil {
		return -1, wrap(err, "exec in container %s", id)
	}
	if first != nil {
		_ = r.cli.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Width: uint(first.Width), Height: uint(first.Height)})
	}
	defer hj.Close()
	// The hijacked connection outlives the request's context: close it when ctx ends.
	stop := context.AfterFunc(ctx, hj.Close)
	defer stop()

	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(done); wg.Wait() }()
	if opts.TTY && opts.Resize != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				case sz, ok := <-opts.Resize:
					if !ok {
						return
					}
					if sz.Width > 0 && sz.Height > 0 {
						_ = r.cli.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Width: uint(sz.Width), Height: uint(sz.Height)})
					}
				}
			}
		}()
	}
	if opts.Stdin != nil {
		go func() { // not waited for: it ends when Stdin does
			_, _ = io.Copy(hj.Conn, opts.Stdin)
			_ = hj.CloseWrite()
		}()
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if opts.TTY {
		_, err = io.Copy(stdout, hj.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, hj.Reader)
	}
	if ctx.Err() != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, ctx.Err())
	}
	if err != nil {
		return -1, wrap(err, "exec in container %s: output", id)
	}
	return r.execExitCode(ctx, id, created.ID)
}

// execExitCode waits for an exec whose output has ended to be reported as finished.
func (r *Runtime) execExitCode(ctx context.Context, id, execID string) (int, error) {
	delay := time.Millisecond
	for {
		insp, err := r.cli.ContainerExecInspect(ctx, execID)
		if err != nil {
			return -1, wrap(err, "exec in container %s", id)
		}
		if !insp.Running {
			return insp.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("exec in container %s: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// cappedBuffer keeps the first maxExecSyncOutput bytes written to it and drops the rest.
type cappedBuffer struct{ b []byte }

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := maxExecSyncOutput - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
