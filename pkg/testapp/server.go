package testapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// shutdownTimeout bounds how long in-flight HTTP requests may take once the server stops.
const shutdownTimeout = 5 * time.Second

// Server is a listening test app. Create it with Listen, run it with Serve.
type Server struct {
	cfg     Config
	log     *slog.Logger
	httpLn  net.Listener
	udpConn net.PacketConn
	failing atomic.Bool
	exit    chan int // receives the code of the first POST /exit
	handler http.Handler
}

// Listen opens the HTTP listener (and the UDP socket when cfg.UDPAddr is set) so that the
// addresses are known before Serve runs.
func Listen(cfg Config, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	s := &Server{cfg: cfg, log: log, httpLn: ln, exit: make(chan int, 1)}
	if cfg.UDPAddr != "" {
		pc, err := net.ListenPacket("udp", cfg.UDPAddr)
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("listen on udp %s: %w", cfg.UDPAddr, err)
		}
		s.udpConn = pc
	}
	s.handler = s.routes()
	return s, nil
}

// HTTPAddr is the address the HTTP server listens on.
func (s *Server) HTTPAddr() net.Addr { return s.httpLn.Addr() }

// UDPAddr is the address of the UDP echo server, or nil when it is disabled.
func (s *Server) UDPAddr() net.Addr {
	if s.udpConn == nil {
		return nil
	}
	return s.udpConn.LocalAddr()
}

// Handler is the HTTP handler Serve serves, with request logging.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves until ctx is done (exit code 0), a signal arrives on signals (logged as
// "received SIGTERM" and the like; exit code 0 after cfg.ShutdownDelay), or POST /exit asks
// for a code. It then stops the listeners, lets in-flight requests finish, and returns the
// exit code the process should end with.
func (s *Server) Serve(ctx context.Context, signals <-chan os.Signal) (int, error) {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve http: %w", err)
		}
	}()
	if s.udpConn != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.echoUDP(); err != nil {
				errc <- err
			}
		}()
	}
	s.log.Info("listening", "http", s.HTTPAddr().String(), "udp", addrString(s.UDPAddr()))

	code, err := s.wait(ctx, signals, errc)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("shut down http: %w", serr))
	}
	if s.udpConn != nil {
		_ = s.udpConn.Close()
	}
	wg.Wait()
	return code, err
}

// wait blocks until Serve must stop and says with which code.
func (s *Server) wait(ctx context.Context, signals <-chan os.Signal, errc <-chan error) (int, error) {
	select {
	case <-ctx.Done():
		return 0, nil
	case code := <-s.exit:
		s.log.Info("exiting as asked", "code", code)
		return code, nil
	case err := <-errc:
		return 1, err
	case sig := <-signals:
		s.log.Info("received " + signalName(sig))
		if s.cfg.ShutdownDelay > 0 {
			s.log.Info("delaying shutdown", "delay", s.cfg.ShutdownDelay.String())
			select {
			case <-time.After(s.cfg.ShutdownDelay):
			case <-ctx.Done():
			}
		}
		return 0, nil
	}
}

// echoUDP sends every datagram back to where it came from until the socket is closed.
func (s *Server) echoUDP() error {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := s.udpConn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read udp: %w", err)
		}
		s.log.Info("udp echo", "remote", from.String(), "bytes", n)
		if _, err := s.udpConn.WriteTo(buf[:n], from); err != nil {
			s.log.Warn("udp echo failed", "remote", from.String(), "err", err)
		}
	}
}

// signalName names a signal the way the kernel headers do: "SIGTERM", not "terminated".
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return "signal " + strings.ToUpper(sig.String())
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
