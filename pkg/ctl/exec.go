package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"google.golang.org/grpc"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// ExitCodeError is returned by exec when the remote command exits non-zero; Run exits with
// its code, as kubectl does.
type ExitCodeError struct{ Code int }

func (e *ExitCodeError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.Code)
}

func newExec(g *globals) *cobra.Command {
	var (
		container  string
		stdin, tty bool
	)
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [args...]",
		Short: "Run a command in a container of a pod",
		Example: "  berthctl exec web -- date\n" +
			"  berthctl exec -it web -c app -- sh\n" +
			"  echo hello | berthctl exec -i web -- cat",
		Args: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			switch {
			case len(args) == 0:
				return usagef("expected a pod name and a command")
			case dash < 0 && len(args) > 1:
				return usagef("put the command after --: berthctl exec %s -- %s", args[0], args[1])
			case dash != 1:
				return usagef("expected exactly one pod name before --, then the command")
			case len(args) < 2:
				return usagef("you must specify at least one command for the container")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := podName(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if container, err = g.pickContainer(ctx, g.namespace, name, container); err != nil {
				return err
			}
			start := &corev1.ExecStart{Namespace: g.namespace, Name: name, Container: container, Command: args[1:], Stdin: stdin, Tty: tty}
			return g.exec(ctx, start)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&container, "container", "c", "", "run the command in this container")
	f.BoolVarP(&stdin, "stdin", "i", false, "pass stdin to the command")
	f.BoolVarP(&tty, "tty", "t", false, "give the command a terminal")
	return cmd
}

// exec runs one exec session: stdin (and terminal resizes) up, output down, then the exit code.
func (g *globals) exec(ctx context.Context, start *corev1.ExecStart) error {
	// A terminal needs a terminal at this end too: put it in raw mode for the session.
	var fd int
	if start.Tty {
		f, ok := g.In.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			fmt.Fprintln(g.ErrOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
			start.Tty = false
		} else {
			fd = int(f.Fd())
			if w, h, err := term.GetSize(fd); err == nil {
				start.Size = &corev1.TerminalSize{Width: uint32(w), Height: uint32(h)}
			}
			if start.Stdin {
				old, err := term.MakeRaw(fd)
				if err != nil {
					return fmt.Errorf("set the terminal to raw mode: %w", err)
				}
				defer func() { _ = term.Restore(fd, old) }()
			}
		}
	}
	c, err := g.client(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := corev1.NewPodServiceClient(c.Conn()).Exec(ctx)
	if err != nil {
		return err
	}
	s := &execSender{stream: stream}
	if err := s.send(&corev1.ExecRequest{Request: &corev1.ExecRequest_Start{Start: start}}); err != nil {
		_, rerr := stream.Recv() // the real error
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
		return err
	}
	if start.Stdin {
		go s.copyStdin(g.In)
	} else {
		_ = s.closeSend()
	}
	if start.Tty {
		stop := watchResize(fd, func(w, h int) {
			_ = s.send(&corev1.ExecRequest{Request: &corev1.ExecRequest_Resize{Resize: &corev1.TerminalSize{Width: uint32(w), Height: uint32(h)}}})
		})
		defer stop()
	}
	code := -1
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch r := msg.GetResponse().(type) {
		case *corev1.ExecResponse_Stdout:
			_, _ = g.Out.Write(r.Stdout)
		case *corev1.ExecResponse_Stderr:
			_, _ = g.ErrOut.Write(r.Stderr)
		case *corev1.ExecResponse_ExitCode:
			code = int(r.ExitCode)
		}
	}
	switch {
	case code == 0:
		return nil
	case code < 0:
		return errors.New("the exec session ended without an exit code")
	}
	return &ExitCodeError{Code: code}
}

// execSender serializes the sends of an exec stream (stdin and resizes come from two
// goroutines; gRPC allows one sender at a time).
type execSender struct {
	mu     sync.Mutex
	stream grpc.BidiStreamingClient[corev1.ExecRequest, corev1.ExecResponse]
	closed bool
}

func (s *execSender) send(m *corev1.ExecRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return io.EOF
	}
	return s.stream.Send(m)
}

func (s *execSender) closeSend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.stream.CloseSend()
}

// copyStdin sends in as the command's stdin, then its end.
func (s *execSender) copyStdin(in io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if s.send(&corev1.ExecRequest{Request: &corev1.ExecRequest_Stdin{Stdin: append([]byte(nil), buf[:n]...)}}) != nil {
				return
			}
		}
		if err != nil {
			_ = s.send(&corev1.ExecRequest{Request: &corev1.ExecRequest_CloseStdin{CloseStdin: true}})
			_ = s.closeSend()
			return
		}
	}
}
