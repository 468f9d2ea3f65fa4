package fake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
)

// timestampLayout is how Docker (and Kubernetes) prefix log lines with their time.
const timestampLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Logs writes the container's log lines, stamped with its start time; with Follow it then
// waits until the container exits or ctx ends (which is no error).
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, stdout, stderr io.Writer) error {
	r.mu.Lock()
	if err := r.check("logs"); err != nil {
		r.mu.Unlock()
		return err
	}
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return notFound("container", id)
	}
	r.settle(c, r.cfg.Now())
	var lines []string
	at := c.started
	if !at.IsZero() && (opts.Since.IsZero() || !at.Before(opts.Since)) {
		lines = c.behavior.Logs
	}
	r.mu.Unlock()

	if opts.TailLines >= 0 && int64(len(lines)) > opts.TailLines {
		lines = lines[int64(len(lines))-opts.TailLines:]
	}
	if stdout == nil {
		stdout = io.Discard
	}
	var buf bytes.Buffer
	for _, l := range lines {
		if opts.Timestamps {
			buf.WriteString(at.UTC().Format(timestampLayout))
			buf.WriteByte(' ')
		}
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	if buf.Len() > 0 {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("logs of container %s: %w", id, err)
		}
	}
	if !opts.Follow {
		return nil
	}
	return r.waitExit(ctx, id)
}

// waitExit waits until the container no longer runs or ctx ends.
func (r *Runtime) waitExit(ctx context.Context, id string) error {
	for {
		r.mu.Lock()
		c, ok := r.containers[id]
		if !ok {
			r.mu.Unlock()
			return nil
		}
		now := r.cfg.Now()
		r.settle(c, now)
		if c.state != runtime.ContainerRunning {
			r.mu.Unlock()
			return nil
		}
		if c.exited == nil {
			c.exited = make(chan struct{})
		}
		exited := c.exited
		var wake <-chan time.Time
		var t *time.Timer
		if b := c.behavior; b.Exits {
			t = time.NewTimer(c.started.Add(b.RunFor).Sub(now))
			wake = t.C
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-exited:
		case <-wake:
			continue // its time has come: settle it
		}
		if t != nil {
			t.Stop()
		}
		return nil
	}
}

// ExecSync runs a builtin command (see Exec) and collects its output.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) ([]byte, []byte, int, error) {
	var stdout, stderr bytes.Buffer
	code, err := r.Exec(ctx, id, runtime.ExecOptions{Cmd: cmd, Stdout: &stdout, Stderr: &stderr})
	return stdout.Bytes(), stderr.Bytes(), code, err
}

// Exec runs a builtin command in a running container: echo, true, false, cat (copies stdin),
// hostname (the sandbox's) and env (the container's); any other command succeeds silently.
func (r *Runtime) Exec(ctx context.Context, id string, opts runtime.ExecOptions) (int, error) {
	r.mu.Lock()
	if err := r.check("exec"); err != nil {
		r.mu.Unlock()
		return -1, err
	}
	c, ok := r.containers[id]
	if !ok {
		r.mu.Unlock()
		return -1, notFound("container", id)
	}
	r.settle(c, r.cfg.Now())
	if c.state != runtime.ContainerRunning {
		r.mu.Unlock()
		return -1, fmt.Errorf("exec in container %s: %w", id, errNotRunning)
	}
	var hostname string
	if s := r.sandboxes[c.sandboxID]; s != nil {
		hostname = s.hostname
	}
	env := c.env()
	r.mu.Unlock()

	if len(opts.Cmd) == 0 {
		return -1, fmt.Errorf("exec in container %s: no command", id)
	}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	var err error
	code := 0
	switch opts.Cmd[0] {
	case "echo":
		_, err = io.WriteString(stdout, strings.Join(opts.Cmd[1:], " ")+"\n")
	case "true":
	case "false":
		code = 1
	case "cat":
		if opts.Stdin != nil {
			_, err = io.Copy(stdout, ctxReader{ctx, opts.Stdin})
		}
	case "hostname":
		_, err = io.WriteString(stdout, hostname+"\n")
	case "env":
		_, err = io.WriteString(stdout, strings.Join(env, "\n")+"\n")
	}
	if ctx.Err() != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, ctx.Err())
	}
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return code, nil
}

// ctxReader stops reading once ctx ends (checked between reads).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
