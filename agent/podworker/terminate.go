package podworker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/status"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// terminate tears the Pod down: every running container gets its preStop hook and the stop
// signal, at once, and the grace period to exit; then the sandbox stops, the final status is
// handed over, containers, sandbox and volumes are removed, and, for a deletion (finish),
// the Sink is told to finish it.
func (w *worker) terminate(ctx context.Context, pod *corev1.Pod, finish bool) error {
	w.stopProbes()
	rec, err := w.m.cache.get(ctx, w.uid, w.epoch)
	if err != nil {
		return err
	}
	grace := podGrace(pod)
	podIP := w.lastStatus.GetPodIp()
	var wg sync.WaitGroup
	for _, c := range rec.Containers {
		if c.State != runtime.ContainerRunning {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stopContainer(ctx, pod, containerSpec(pod, c.Name), c, podIP, grace, "Stopping container "+c.Name)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for _, s := range rec.Sandboxes {
		if s.State == runtime.SandboxReady {
			if err := w.m.rt.StopSandbox(ctx, s.ID, 0); err != nil && !errors.Is(err, runtime.ErrNotFound) {
				return fmt.Errorf("stop sandbox: %w", err)
			}
		}
	}
	w.changed()
	rec, err = w.m.cache.get(ctx, w.uid, w.epoch)
	if err != nil {
		return err
	}
	w.waiting = map[string]status.Waiting{}
	if finish { // a Pod removed from the apiserver has no status to write
		w.report(ctx, pod, rec, nil, true)
	}
	for _, c := range rec.Containers {
		if err := w.m.rt.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return fmt.Errorf("remove container %s: %w", c.Name, err)
		}
	}
	for _, s := range rec.Sandboxes {
		if err := w.m.rt.RemoveSandbox(ctx, s.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return fmt.Errorf("remove sandbox: %w", err)
		}
	}
	w.changed()
	if err := w.m.volumes.Cleanup(w.uid); err != nil {
		return err
	}
	if finish {
		w.m.cfg.Sink.Finish(pod)
	}
	w.m.log.Debug("pod torn down", "pod", podName(pod), "uid", w.uid)
	return nil
}
