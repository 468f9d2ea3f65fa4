package e2eutil

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Default timeouts of a Server.
const (
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 30 * time.Second
)

// ServerOptions tune StartServer. The zero value runs `bin/berth server` with embedded etcd in
// a fresh data directory on free ports.
type ServerOptions struct {
	// Role is the berth subcommand: "server" (default) or "apiserver". --grpc-addr and
	// --http-addr are always passed; --data-dir only to "server".
	Role string
	// Args are more flags, e.g. {"--etcd-endpoints", endpoint}.
	Args []string
	// DataDir is the data directory; empty means a new one under t.TempDir().
	DataDir string
	// GRPCAddr and HTTPAddr are the listen addresses; empty means free ports on 127.0.0.1.
	GRPCAddr, HTTPAddr string
	// Env is added to the test's environment.
	Env []string
	// Binary is the berth binary; empty means Binary(t, "berth").
	Binary string
	// ReadyTimeout bounds the wait for /readyz (default DefaultReadyTimeout); StopTimeout
	// bounds the wait for the exit after SIGTERM (default DefaultStopTimeout).
	ReadyTimeout, StopTimeout time.Duration
}

// Server is a running berth process.
type Server struct {
	// GRPCAddr is the gRPC API's address (host:port), HTTPAddr that of /healthz, /readyz and
	// /metrics, DataDir the data directory (empty for roles without one).
	GRPCAddr, HTTPAddr, DataDir string

	opts ServerOptions
	proc *Process
	logs []string // the output of the runs before the current one
}

// StartServer starts berth as opts say and waits until GET /readyz answers 200. The test
// fails, with the server's log, if it does not become ready within the ready timeout. When
// the test ends a server still running is stopped with SIGTERM, and the test fails if it does
// not exit cleanly; the server's log is printed if the test failed.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	if opts.Binary == "" {
		opts.Binary = Binary(t, "berth")
	}
	if opts.Role == "" {
		opts.Role = "server"
	}
	if opts.DataDir == "" && opts.Role == "server" {
		opts.DataDir = filepath.Join(t.TempDir(), "data")
	}
	s, err := startServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.Running() {
			s.Stop(t)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", s.name(), tail(s.Logs(), 300))
		}
	})
	return s
}

// startServer starts the server, picking free ports for addresses left empty, and retries
// with other ports when one it picked was taken in the meantime.
func startServer(opts ServerOptions) (*Server, error) {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	pickPorts := opts.GRPCAddr == "" || opts.HTTPAddr == ""
	var errs []error
	for attempt := 0; attempt < 3; attempt++ {
		s := &Server{GRPCAddr: opts.GRPCAddr, HTTPAddr: opts.HTTPAddr, DataDir: opts.DataDir, opts: opts}
		var err error
		if s.GRPCAddr == "" {
			if s.GRPCAddr, err = freeAddr(); err != nil {
				return nil, err
			}
		}
		if s.HTTPAddr == "" {
			if s.HTTPAddr, err = freeAddr(); err != nil {
				return nil, err
			}
		}
		err = s.start()
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if !pickPorts || !strings.Contains(s.Logs(), "address already in use") {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (s *Server) args() []string {
	args := []string{s.opts.Role}
	if s.DataDir != "" {
		args = append(args, "--data-dir", s.DataDir)
	}
	args = append(args, "--grpc-addr", s.GRPCAddr, "--http-addr", s.HTTPAddr)
	return append(args, s.opts.Args...)
}

func (s *Server) name() string { return "berth " + s.opts.Role }

// start runs the process and waits until it is ready; on failure the process is killed.
func (s *Server) start() error {
	p, err := startProcess(s.opts.Binary, s.args(), ProcessOptions{Env: s.opts.Env, Combined: true})
	if err != nil {
		return err
	}
	s.proc = p
	if err := s.waitReady(); err != nil {
		p.kill()
		return fmt.Errorf("%w; log:\n%s", err, tail(s.Logs(), 100))
	}
	return nil
}

func (s *Server) waitReady() error {
	url := "http://" + s.HTTPAddr + "/readyz"
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(s.opts.ReadyTimeout)
	last := "no answer yet"
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			cancel()
			return fmt.Errorf("GET %s: %w", url, err)
		}
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-s.proc.Done():
			return fmt.Errorf("%s exited (%v) before it was ready", s.name(), s.proc.err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v: GET %s: %s", s.name(), s.opts.ReadyTimeout, url, last)
		}
	}
}

// Running reports whether the server process is running.
func (s *Server) Running() bool {
	select {
	case <-s.proc.Done():
		return false
	default:
		return true
	}
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.proc.Pid() }

// Logs is everything the server has written to stdout and stderr, over all its runs.
func (s *Server) Logs() string {
	all := append([]string(nil), s.logs...)
	if s.proc != nil {
		all = append(all, s.proc.Stdout())
	}
	return strings.Join(all, "\n--- restarted ---\n")
}

// Stop sends SIGTERM and waits for the server to exit. The test fails if it is not a clean
// shutdown: an exit status other than 0, or still running after the stop timeout (it is then
// killed).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.proc.Done():
		if s.proc.err != nil {
			t.Errorf("%s did not exit cleanly on SIGTERM: %v", s.name(), s.proc.err)
		}
	case <-time.After(s.opts.StopTimeout):
		s.proc.kill()
		t.Errorf("%s still running %v after SIGTERM; killed it", s.name(), s.opts.StopTimeout)
	}
}

// Kill kills the server with SIGKILL, as `kill -9` does, and waits for it to be gone.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if err := s.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.proc.Done()
}

// Restart starts a stopped or killed server again with the same flags, data directory and
// addresses, and waits until it is ready.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if s.Running() {
		t.Fatalf("%s: Restart of a server that is still running: Stop or Kill it first", s.name())
	}
	s.logs = append(s.logs, s.proc.Stdout())
	if err := s.start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
}

// Berthctl is a berthctl that talks to this server.
func (s *Server) Berthctl(t testing.TB) *Berthctl {
	t.Helper()
	return &Berthctl{Bin: Binary(t, "berthctl"), Server: s.GRPCAddr}
}
