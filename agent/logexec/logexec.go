package logexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Locator finds a Pod bound to this agent (or to one of its hollow Nodes) and the runtime that
// runs it.
type Locator interface {
	// Pod returns the Pod namespace/name and its runtime, or false when no Node served here
	// has it.
	Pod(namespace, name string) (*corev1.Pod, runtime.Runtime, bool)
}

// LocatorFunc adapts a function to a Locator.
type LocatorFunc func(namespace, name string) (*corev1.Pod, runtime.Runtime, bool)

// Pod implements Locator.
func (f LocatorFunc) Pod(namespace, name string) (*corev1.Pod, runtime.Runtime, bool) {
	return f(namespace, name)
}

// Server serves Log and Exec of PodService for the Pods a Locator finds.
type Server struct {
	corev1.UnimplementedPodServiceServer
	locate Locator
	log    *slog.Logger
}

var _ corev1.PodServiceServer = (*Server)(nil)

// New returns a Server over l; log may be nil.
func New(l Locator, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{locate: l, log: log}
}

// Register registers the Server on g as PodService.
func (s *Server) Register(g *grpc.Server) { corev1.RegisterPodServiceServer(g, s) }

var podsGR = schema.GroupResource{Resource: "pods"}

// container finds the runtime container of namespace/name's container: its latest run, or
// with previous the run before it.
func (s *Server) container(ctx context.Context, namespace, name, container string, previous bool) (runtime.Runtime, runtime.ContainerStatus, error) {
	pod, rt, ok := s.locate.Pod(namespace, name)
	if !ok {
		return nil, runtime.ContainerStatus{}, kerrors.NewNotFound(podsGR, name)
	}
	all, err := rt.ListContainers(ctx)
	if err != nil {
		return nil, runtime.ContainerStatus{}, kerrors.NewServiceUnavailable(fmt.Sprintf("list containers: %v", err))
	}
	uid := pod.GetMetadata().GetUid()
	var runs []runtime.ContainerStatus
	for _, c := range all {
		if c.Pod.UID == uid && c.Name == container {
			runs = append(runs, c)
		}
	}
	// Newest first: by attempt, then by creation for runs of the same attempt.
	sort.Slice(runs, func(i, j int) bool {
		if a, b := attempt(runs[i]), attempt(runs[j]); a != b {
			return a > b
		}
		return runs[i].CreatedAt.After(runs[j].CreatedAt)
	})
	if previous {
		if len(runs) < 2 {
			return nil, runtime.ContainerStatus{}, kerrors.NewBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", container, name))
		}
		return rt, runs[1], nil
	}
	if len(runs) == 0 {
		return nil, runtime.ContainerStatus{}, kerrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: %s", container, name, waitingReason(pod, container)))
	}
	return rt, runs[0], nil
}

// waitingReason is the reason the Pod's status gives for a container that has not started.
func waitingReason(pod *corev1.Pod, container string) string {
	st := pod.GetStatus()
	for _, cs := range append(append([]*corev1.ContainerStatus{}, st.GetInitContainerStatuses()...), st.GetContainerStatuses()...) {
		if cs.GetName() == container {
			if w := cs.GetState().GetWaiting(); w != nil && w.GetReason() != "" {
				return w.GetReason()
			}
		}
	}
	return "ContainerCreating"
}

// Log streams a container's log.
func (s *Server) Log(req *corev1.PodLogRequest, stream grpc.ServerStreamingServer[corev1.PodLogChunk]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	rt, c, err := s.container(ctx, req.GetNamespace(), req.GetName(), req.GetContainer(), req.GetPrevious())
	if err != nil {
		return err
	}
	opts := runtime.LogOptions{Follow: req.GetFollow(), TailLines: -1, Timestamps: req.GetTimestamps()}
	if req.TailLines != nil {
		opts.TailLines = req.GetTailLines()
	}
	switch {
	case req.SinceSeconds != nil:
		opts.Since = time.Now().Add(-time.Duration(req.GetSinceSeconds()) * time.Second)
	case req.SinceTime != nil:
		opts.Since = req.GetSinceTime().AsTime()
	}
	w := &chunkWriter{send: stream.Send, limit: -1, cancel: cancel}
	if req.LimitBytes != nil {
		w.limit = req.GetLimitBytes()
	}
	err = rt.Logs(ctx, c.ID, opts, w, w)
	switch {
	case w.err != nil:
		return w.err
	case w.full, stream.Context().Err() != nil:
		return nil
	case err != nil && errors.Is(err, context.Canceled):
		return nil
	case err != nil:
		return fmt.Errorf("logs of container %s: %w", req.GetContainer(), err)
	}
	return nil
}

// chunkWriter sends what is written as PodLogChunks, one at a time, up to limit bytes (< 0:
// no limit), then cancels the log.
type chunkWriter struct {
	mu     sync.Mutex
	send   func(*corev1.PodLogChunk) error
	limit  int64
	cancel context.CancelFunc
	full   bool
	err    error
}

var errLimit = errors.New("limitBytes reached")

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.full {
		return 0, errLimit
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	if w.limit >= 0 && int64(len(p)) >= w.limit {
		p = p[:w.limit]
		w.full = true
	}
	if len(p) > 0 {
		if err := w.send(&corev1.PodLogChunk{Data: append([]byte(nil), p...)}); err != nil {
			w.err = err
			w.cancel()
			return 0, err
		}
	}
	if w.limit >= 0 {
		w.limit -= int64(len(p))
	}
	if w.full {
		w.cancel()
		return len(p), errLimit
	}
	return n, nil
}

// Exec runs a command in a running container, relaying stdin and resizes from the client and
// stdout, stderr and the exit code to it.
func (s *Server) Exec(stream grpc.BidiStreamingServer[corev1.ExecRequest, corev1.ExecResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return kerrors.NewBadRequest("the first message of an exec session must be its start")
	}
	if len(start.GetCommand()) == 0 {
		return kerrors.NewBadRequest("you must specify at least 1 command")
	}
	rt, c, err := s.container(ctx, start.GetNamespace(), start.GetName(), start.GetContainer(), false)
	if err != nil {
		return err
	}
	if c.State != runtime.ContainerRunning {
		return kerrors.NewBadRequest(fmt.Sprintf("container %s in pod %s is not running", start.GetContainer(), start.GetName()))
	}

	out := &sender{send: stream.Send}
	opts := runtime.ExecOptions{
		Cmd: start.GetCommand(),
		Stdout: writerFunc(func(p []byte) error {
			return out.msg(&corev1.ExecResponse{Response: &corev1.ExecResponse_Stdout{Stdout: p}})
		}),
		Stderr: writerFunc(func(p []byte) error {
			return out.msg(&corev1.ExecResponse{Response: &corev1.ExecResponse_Stderr{Stderr: p}})
		}),
		TTY: start.GetTty(),
	}
	resize := make(chan runtime.TerminalSize, 4)
	if start.GetTty() {
		opts.Resize = resize
		if sz := start.GetSize(); sz != nil {
			resize <- runtime.TerminalSize{Width: uint16(sz.GetWidth()), Height: uint16(sz.GetHeight())}
		}
	}
	var stdin *io.PipeWriter
	if start.GetStdin() {
		var r *io.PipeReader
		r, stdin = io.Pipe()
		opts.Stdin = r
		defer r.Close()
	}
	go s.pump(ctx, stream, stdin, resize)

	code, err := rt.Exec(ctx, c.ID, opts)
	if err != nil {
		if stream.Context().Err() != nil {
			return nil
		}
		return fmt.Errorf("exec in container %s: %w", start.GetContainer(), err)
	}
	if out.err != nil {
		return out.err
	}
	return out.msg(&corev1.ExecResponse{Response: &corev1.ExecResponse_ExitCode{ExitCode: int32(code)}})
}

// pump feeds the client's stdin and resizes to the command until the client closes its side.
func (s *Server) pump(ctx context.Context, stream grpc.BidiStreamingServer[corev1.ExecRequest, corev1.ExecResponse], stdin *io.PipeWriter, resize chan runtime.TerminalSize) {
	closeStdin := func() {
		if stdin != nil {
			_ = stdin.Close()
			stdin = nil
		}
	}
	defer closeStdin()
	for {
		msg, err := stream.Recv()
		if err != nil {
			return // io.EOF: the client closed its side; else the call ended
		}
		switch r := msg.GetRequest().(type) {
		case *corev1.ExecRequest_Stdin:
			if stdin != nil {
				if _, err := stdin.Write(r.Stdin); err != nil {
					stdin = nil // the command closed its stdin
				}
			}
		case *corev1.ExecRequest_CloseStdin:
			closeStdin()
		case *corev1.ExecRequest_Resize:
			sz := runtime.TerminalSize{Width: uint16(r.Resize.GetWidth()), Height: uint16(r.Resize.GetHeight())}
			select {
			case resize <- sz:
			case <-ctx.Done():
				return
			default: // the runtime is behind: the next resize supersedes this one
			}
		}
	}
}

// sender serializes the messages of a stream (gRPC allows one sender at a time) and keeps the
// first error.
type sender struct {
	mu   sync.Mutex
	send func(*corev1.ExecResponse) error
	err  error
}

func (s *sender) msg(m *corev1.ExecResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.err = s.send(m)
	return s.err
}

// writerFunc is an io.Writer that hands a copy of each write to a function.
type writerFunc func(p []byte) error

func (f writerFunc) Write(p []byte) (int, error) {
	if err := f(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// attempt is a container run's attempt number as its labels say, for runtimes that report it
// only there.
func attempt(c runtime.ContainerStatus) int {
	if c.Attempt != 0 {
		return c.Attempt
	}
	n, _ := strconv.Atoi(c.Labels[runtime.LabelAttempt])
	return n
}
