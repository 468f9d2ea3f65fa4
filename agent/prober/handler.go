package prober

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// RunHandler runs a lifecycle hook (postStart or preStop) until it ends or ctx does: an exec
// hook must exit 0, an httpGet hook must answer 200–399, a sleep hook sleeps. It returns the
// hook's output, and an error saying why the hook failed.
func (pr *Prober) RunHandler(ctx context.Context, h *corev1.LifecycleHandler, t Target) (string, error) {
	switch {
	case h.GetExec() != nil:
		if pr.exec == nil {
			return "", errors.New("exec hooks are not available")
		}
		var timeout time.Duration
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		cmd := h.GetExec().GetCommand()
		stdout, stderr, code, err := pr.exec.ExecSync(ctx, t.ContainerID, cmd, timeout)
		out := string(stdout) + string(stderr)
		if err != nil {
			return out, fmt.Errorf("exec %q: %w", strings.Join(cmd, " "), err)
		}
		if code != 0 {
			return out, fmt.Errorf("command %q exited with %d: %s", strings.Join(cmd, " "), code, out)
		}
		return out, nil
	case h.GetHttpGet() != nil:
		req, err := pr.httpRequest(ctx, h.GetHttpGet(), t)
		if err != nil {
			return "", err
		}
		resp, err := pr.client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return string(body), fmt.Errorf("HTTP lifecycle hook (%s) for Container in Pod failed with statuscode: %d", req.URL.Path, resp.StatusCode)
		}
		return string(body), nil
	case h.GetSleep() != nil:
		t := time.NewTimer(time.Duration(h.GetSleep().GetSeconds()) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
			return "", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	case h.GetTcpSocket() != nil:
		return "", errors.New("tcpSocket lifecycle hooks are not supported")
	default:
		return "", errors.New("lifecycle hook has no handler")
	}
}
