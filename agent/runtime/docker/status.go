package docker

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"io"
	"os"
	"strconv"

	"github.com/docker/docker/api/types/container"

	"github.com/berth-dev/berth/agent/runtime"
)

// maxTerminationMessage is how much of a termination message is kept, as in Kubernetes.
const maxTerminationMessage = 4096

// cachedStatus is a container's status as last inspected, valid while Docker reports the
// container in the same state: nothing in a status changes without a state change (Berth
// never restarts a container in place).
type cachedStatus struct {
	state  container.ContainerState
	status runtime.ContainerStatus
}

// cached returns the cached status of id if Docker still reports it in state.
func (r *Runtime) cached(id string, state container.ContainerState) (runtime.ContainerStatus, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.statuses[id]
	if !ok || c.state != state {
		return runtime.ContainerStatus{}, false
	}
	return c.status, true
}

// status is what the runtime reports of an inspected container.
//
// A container whose start failed stays Created in Docker, with an exit code (127 for a
// command not found) and the error; it is reported so, with the error as the message.
func (r *Runtime) status(ctx context.Context, c container.InspectResponse) runtime.ContainerStatus {
	labels := c.Config.Labels
	attempt, _ := strconv.Atoi(labels[runtime.LabelAttempt])
	s := runtime.ContainerStatus{
		ID:        c.ID,
		SandboxID: labels[LabelSandboxID],
		Pod:       podRef(labels),
		Name:      labels[runtime.LabelContainerName],
		Attempt:   attempt,
		Image:     c.Config.Image,
		ImageID:   r.imageRef(ctx, c.Image),
		ExitCode:  c.State.ExitCode,
		Message:   c.State.Error,
		CreatedAt: parseTime(c.Created),
		StartedAt: parseTime(c.State.StartedAt),
		Labels:    labels,
	}
	switch c.State.Status {
	case container.StateCreated:
		s.State = runtime.ContainerCreated
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		s.State = runtime.ContainerRunning
	case container.StateExited, container.StateDead:
		s.State = runtime.ContainerExited
		s.FinishedAt = parseTime(c.State.FinishedAt)
		if s.FinishedAt.Before(s.StartedAt) {
			// Docker stamps the start once the process runs; a quick one may have exited by then.
			s.FinishedAt = s.StartedAt
		}
		switch {
		case c.State.OOMKilled:
			s.Reason = "OOMKilled"
		case c.State.ExitCode == 0:
			s.Reason = "Completed"
		default:
			s.Reason = "Error"
		}
		if msg := terminationMessage(labels[LabelTerminationLog]); msg != "" {
			s.Message = msg
		}
	default:
		s.State = runtime.ContainerUnknown
	}
	return s
}

// terminationMessage reads up to maxTerminationMessage bytes of a termination log file.
func terminationMessage(file string) string {
	if file == "" {
		return ""
	}
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, maxTerminationMessage))
	return string(b)
}

// imageRef is the imageID a container status reports for the image id ("sha256:..."):
// "docker-pullable://" and the image's first repository digest when it came from a registry,
// else id itself.
func (r *Runtime) imageRef(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	r.mu.Lock()
	ref, ok := r.imageRefs[id]
	r.mu.Unlock()
	if ok {
		return ref
	}
	img, err := r.cli.ImageInspect(ctx, id)
	if err != nil {
		return id // the image is gone (or the daemon): report what is known, cache nothing
	}
	ref = id
	if len(img.RepoDigests) > 0 {
		ref = "docker-pullable://" + img.RepoDigests[0]
	}
	r.mu.Lock()
	r.imageRefs[id] = ref
	r.mu.Unlock()
	return ref
}

// specHash identifies cfg when the caller did not label it with its own hash: an FNV-64a of
// everything but the attempt and the labels.
func specHash(cfg runtime.ContainerConfig) string {
	cfg.Attempt, cfg.Labels = 0, nil
	b, _ := json.Marshal(cfg)
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 16)
}

// isSandbox tells whether labels are a sandbox's.
func isSandbox(labels map[string]string) bool {
	return labels[runtime.LabelContainerName] == runtime.SandboxContainerName
}
