package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/pkg/client"
)

// Version is berthctl's version, set at build time with
// -ldflags "-X github.com/berth-dev/berth/pkg/ctl.Version=v1.2.3".
var Version = "v0.0.0-dev"

// DefaultServer is the apiserver address used when neither --server nor BERTH_SERVER is set.
const DefaultServer = "127.0.0.1:6443"

// IOStreams are the command's standard streams.
type IOStreams struct {
	In          io.Reader
	Out, ErrOut io.Writer
}

// globals are the flags every command takes, and the connection they lead to.
type globals struct {
	IOStreams
	server         string
	namespace      string
	requestTimeout time.Duration

	conn *client.Client
}

// Main runs berthctl with os.Args and the process's streams and returns the exit code.
func Main(ctx context.Context) int {
	return Run(ctx, os.Args[1:], IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Getenv("BERTH_SERVER"))
}

// Run runs berthctl with args (without the program name) and returns the exit code: 0 on
// success, 1 after printing an error. server is the default for --server (BERTH_SERVER),
// DefaultServer when empty.
func Run(ctx context.Context, args []string, streams IOStreams, server string) int {
	if server == "" {
		server = DefaultServer
	}
	g := &globals{IOStreams: streams}
	defer g.close()
	cmd := newRoot(g, server)
	cmd.SetArgs(args)
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	c, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var exit *ExitCodeError
	if errors.As(err, &exit) {
		fmt.Fprintln(streams.ErrOut, exit.Error())
		return exit.Code
	}
	var reported *reportedError
	if !errors.As(err, &reported) {
		fmt.Fprint(streams.ErrOut, FormatError(err))
		if isUsageError(err) {
			fmt.Fprintf(streams.ErrOut, "See '%s -h' for help and examples\n", c.CommandPath())
		}
	}
	return 1
}

func newRoot(g *globals, server string) *cobra.Command {
	root := &cobra.Command{
		Use:           "berthctl",
		Short:         "berthctl controls a Berth cluster",
		Long:          "berthctl controls a Berth cluster, as kubectl controls a Kubernetes one.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	f := root.PersistentFlags()
	f.StringVarP(&g.server, "server", "s", server, "the address of the Berth apiserver (gRPC), also from $BERTH_SERVER")
	f.StringVarP(&g.namespace, "namespace", "n", "default", "the namespace scope of this request")
	f.DurationVar(&g.requestTimeout, "request-timeout", 0, "how long to wait for a single server request before giving up (0: no limit)")
	root.AddCommand(
		newApply(g), newCreate(g), newGet(g), newDescribe(g), newDelete(g), newVersion(g),
		newLogs(g), newExec(g), newScale(g), newRollout(g),
	)
	return root
}

// client connects to the apiserver on first use.
func (g *globals) client(ctx context.Context) (*client.Client, error) {
	if g.conn != nil {
		return g.conn, nil
	}
	c, err := client.Dial(ctx, g.server)
	if err != nil {
		return nil, err
	}
	g.conn = c
	return c, nil
}

func (g *globals) close() {
	if g.conn != nil {
		g.conn.Close()
	}
}

// call bounds one unary request by --request-timeout.
func (g *globals) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if g.requestTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, g.requestTimeout)
}

// usageError is a mistake in the command line; Run adds a pointer to -h.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// usagef returns a usage error.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// reportedError is returned by a command that already printed its errors (one per failed
// object, as kubectl does), to make Run exit with 1 without printing more.
type reportedError struct{ n int }

func (e *reportedError) Error() string { return fmt.Sprintf("%d errors", e.n) }

// errorList prints errors as they happen and turns them into the command's result.
type errorList struct {
	w io.Writer
	n int
}

// add prints err, if any, and counts it.
func (l *errorList) add(err error) {
	if err == nil {
		return
	}
	l.n++
	fmt.Fprint(l.w, FormatError(err))
}

// err is nil when no error was added.
func (l *errorList) err() error {
	if l.n == 0 {
		return nil
	}
	return &reportedError{n: l.n}
}
