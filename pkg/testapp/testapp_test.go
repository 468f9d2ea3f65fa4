package testapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{name: "defaults", env: nil, want: Config{HTTPAddr: ":8080"}},
		{name: "ports", env: map[string]string{"PORT": "9000", "UDP_PORT": "5353"},
			want: Config{HTTPAddr: ":9000", UDPAddr: ":5353"}},
		{name: "any free port", env: map[string]string{"PORT": "0"}, want: Config{HTTPAddr: ":0"}},
		{name: "shutdown delay", env: map[string]string{"SHUTDOWN_DELAY": "1.5s"},
			want: Config{HTTPAddr: ":8080", ShutdownDelay: 1500 * time.Millisecond}},
		{name: "port not a number", env: map[string]string{"PORT": "http"}, wantErr: `PORT: "http" is not a port number`},
		{name: "port too big", env: map[string]string{"PORT": "65536"}, wantErr: `PORT: "65536" is not a port number`},
		{name: "negative udp port", env: map[string]string{"UDP_PORT": "-1"}, wantErr: `UDP_PORT: "-1" is not a port number`},
		{name: "bad delay", env: map[string]string{"SHUTDOWN_DELAY": "soon"}, wantErr: "SHUTDOWN_DELAY: time: invalid duration"},
		{name: "negative delay", env: map[string]string{"SHUTDOWN_DELAY": "-1s"}, wantErr: `SHUTDOWN_DELAY: "-1s" is negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] }, "", nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ConfigFromEnv() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromEnv() error = %v", err)
			}
			if got.HTTPAddr != tt.want.HTTPAddr || got.UDPAddr != tt.want.UDPAddr || got.ShutdownDelay != tt.want.ShutdownDelay {
				t.Errorf("ConfigFromEnv() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseExitCode(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "", want: 0},
		{in: "0", want: 0},
		{in: "3", want: 3},
		{in: "255", want: 255},
		{in: "256", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "two", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseExitCode(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseExitCode(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a Server serving in the background on 127.0.0.1.
type running struct {
	srv     *Server
	url     string
	logs    *syncBuffer
	signals chan os.Signal
	done    chan result
}

type result struct {
	code int
	err  error
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	cfg.HTTPAddr = "127.0.0.1:0"
	logs := &syncBuffer{}
	srv, err := Listen(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("Listen() error = %v", err)
	}
	r := &running{srv: srv, url: "http://" + srv.HTTPAddr().String(), logs: logs,
		signals: make(chan os.Signal, 1), done: make(chan result, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		code, err := srv.Serve(ctx, r.signals)
		r.done <- result{code, err}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop within 10s of its context being cancelled")
		}
	})
	return r
}

// wait returns what Serve returned, failing the test if it takes more than 10s.
func (r *running) wait(t *testing.T) result {
	t.Helper()
	select {
	case res := <-r.done:
		r.done <- res // let the cleanup see it too
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s")
		return result{}
	}
}

func do(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, string(body)
}

func TestInfo(t *testing.T) {
	r := start(t, Config{Hostname: "pod-a", Environ: []string{"GREETING=hello=world", "EMPTY="}})
	code, body := do(t, http.MethodGet, r.url+"/some/path?x=1")
	if code != http.StatusOK {
		t.Fatalf("GET /some/path = %d, want 200; body %s", code, body)
	}
	var info Info
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("GET / body is not JSON: %v\n%s", err, body)
	}
	if info.Hostname != "pod-a" {
		t.Errorf("hostname = %q, want pod-a", info.Hostname)
	}
	if info.Path != "/some/path" || info.Method != http.MethodGet {
		t.Errorf("method, path = %q, %q; want GET, /some/path", info.Method, info.Path)
	}
	if !strings.HasPrefix(info.RemoteAddr, "127.0.0.1:") {
		t.Errorf("remoteAddr = %q, want 127.0.0.1:port", info.RemoteAddr)
	}
	if got, ok := info.Env["GREETING"]; !ok || got != "hello=world" {
		t.Errorf("env[GREETING] = %q, %v; want hello=world", got, ok)
	}
	if got, ok := info.Env["EMPTY"]; !ok || got != "" {
		t.Errorf("env[EMPTY] = %q, %v; want present and empty", got, ok)
	}
	if info.PodIP != "" {
		if ip := net.ParseIP(info.PodIP); ip == nil || ip.To4() == nil || ip.IsLoopback() {
			t.Errorf("podIP = %q, want a non-loopback IPv4 address", info.PodIP)
		}
	}
	if want := "msg=request method=GET path=/some/path"; !strings.Contains(r.logs.String(), want) {
		t.Errorf("logs do not contain %q:\n%s", want, r.logs.String())
	}
}

func TestHealthz(t *testing.T) {
	r := start(t, Config{})
	steps := []struct {
		method, path string
		wantCode     int
		wantBody     string
	}{
		{http.MethodGet, "/healthz", http.StatusOK, "ok\n"},
		{http.MethodPut, "/healthz", http.StatusMethodNotAllowed, ""},
		{http.MethodGet, "/healthz", http.StatusOK, "ok\n"},
		{http.MethodPost, "/fail", http.StatusOK, "/healthz now answers 500\n"},
		{http.MethodGet, "/healthz", http.StatusInternalServerError, "failing\n"},
		{http.MethodPost, "/fail", http.StatusOK, "/healthz now answers 500\n"},
		{http.MethodGet, "/healthz", http.StatusInternalServerError, "failing\n"},
		{http.MethodPost, "/recover", http.StatusOK, "/healthz now answers 200\n"},
		{http.MethodGet, "/healthz", http.StatusOK, "ok\n"},
	}
	for i, s := range steps {
		code, body := do(t, s.method, r.url+s.path)
		if code != s.wantCode || (s.wantBody != "" && body != s.wantBody) {
			t.Fatalf("step %d: %s %s = %d %q, want %d %q", i, s.method, s.path, code, body, s.wantCode, s.wantBody)
		}
	}
	if want := "path=/healthz remote=127.0.0.1"; !strings.Contains(r.logs.String(), want) {
		t.Errorf("logs do not contain %q:\n%s", want, r.logs.String())
	}
	if want := "status=500"; !strings.Contains(r.logs.String(), want) {
		t.Errorf("logs do not contain %q:\n%s", want, r.logs.String())
	}
}

func TestExit(t *testing.T) {
	r := start(t, Config{})
	for _, bad := range []string{"256", "x", "-3"} {
		if code, body := do(t, http.MethodPost, r.url+"/exit?code="+bad); code != http.StatusBadRequest {
			t.Errorf("POST /exit?code=%s = %d %q, want 400", bad, code, body)
		}
	}
	select {
	case res := <-r.done:
		t.Fatalf("server stopped after a bad exit code: %+v", res)
	default:
	}
	code, body := do(t, http.MethodPost, r.url+"/exit?code=7")
	if code != http.StatusOK || body != "exiting with code 7\n" {
		t.Fatalf("POST /exit?code=7 = %d %q, want 200 \"exiting with code 7\\n\"", code, body)
	}
	if res := r.wait(t); res.code != 7 || res.err != nil {
		t.Fatalf("Serve() = %d, %v; want 7, nil", res.code, res.err)
	}
	if _, err := http.Get(r.url + "/healthz"); err == nil {
		t.Error("server still answers after exiting")
	}
}

func TestSignal(t *testing.T) {
	tests := []struct {
		name  string
		sig   os.Signal
		delay time.Duration
		want  string
	}{
		{name: "SIGTERM", sig: syscall.SIGTERM, want: `msg="received SIGTERM"`},
		{name: "SIGINT", sig: syscall.SIGINT, want: `msg="received SIGINT"`},
		{name: "SIGTERM with shutdown delay", sig: syscall.SIGTERM, delay: 300 * time.Millisecond, want: `msg="received SIGTERM"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, Config{ShutdownDelay: tt.delay})
			sent := time.Now()
			r.signals <- tt.sig
			if tt.delay > 0 {
				// Still serving during the delay.
				time.Sleep(tt.delay / 3)
				if code, _ := do(t, http.MethodGet, r.url+"/healthz"); code != http.StatusOK {
					t.Errorf("GET /healthz during the shutdown delay = %d, want 200", code)
				}
			}
			res := r.wait(t)
			if res.code != 0 || res.err != nil {
				t.Fatalf("Serve() = %d, %v; want 0, nil", res.code, res.err)
			}
			if took := time.Since(sent); took < tt.delay {
				t.Errorf("Serve returned %v after the signal, before the %v delay", took, tt.delay)
			}
			if !strings.Contains(r.logs.String(), tt.want) {
				t.Errorf("logs do not contain %q:\n%s", tt.want, r.logs.String())
			}
		})
	}
}

func TestUDPEcho(t *testing.T) {
	r := start(t, Config{UDPAddr: "127.0.0.1:0"})
	conn, err := net.Dial("udp", r.srv.UDPAddr().String())
	if err != nil {
		t.Fatalf("dial udp: %v", err)
	}
	defer func() { _ = conn.Close() }()
	for _, msg := range []string{"hello", "", strings.Repeat("x", 1400)} {
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatalf("write udp: %v", err)
		}
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read echo of %d bytes: %v", len(msg), err)
		}
		if got := string(buf[:n]); got != msg {
			t.Errorf("echo = %q, want %q", got, msg)
		}
	}
	if !strings.Contains(r.logs.String(), "msg=\"udp echo\"") {
		t.Errorf("logs do not mention the UDP echo:\n%s", r.logs.String())
	}
}

func TestUDPRequest(t *testing.T) {
	r := start(t, Config{UDPAddr: "127.0.0.1:0"})
	ctx := context.Background()
	got, err := UDPRequest(ctx, r.srv.UDPAddr().String(), "ping", 5*time.Second)
	if err != nil || got != "ping" {
		t.Fatalf("UDPRequest() = %q, %v; want \"ping\", nil", got, err)
	}

	// A socket that never answers: the request times out.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	began := time.Now()
	if got, err := UDPRequest(ctx, silent.LocalAddr().String(), "ping", 200*time.Millisecond); err == nil {
		t.Fatalf("UDPRequest() to a silent socket = %q, want a timeout error", got)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("UDPRequest() took %v to time out after 200ms", took)
	}
}

func TestNoUDPWhenUnset(t *testing.T) {
	r := start(t, Config{})
	if a := r.srv.UDPAddr(); a != nil {
		t.Errorf("UDPAddr() = %v, want nil when UDP_PORT is unset", a)
	}
}

func TestListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	_, err = Listen(Config{HTTPAddr: ln.Addr().String()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) {
		t.Fatalf("Listen() on a used port error = %v, want one naming the address", err)
	}
}

// FuzzHandler sends arbitrary methods, paths and queries through the handler: it must never
// panic, and must answer one of the statuses the app documents.
func FuzzHandler(f *testing.F) {
	for _, seed := range []struct{ method, target string }{
		{"GET", "/"}, {"GET", "/healthz"}, {"POST", "/fail"}, {"POST", "/recover"},
		{"POST", "/exit?code=300"}, {"POST", "/exit?code=%zz"}, {"PUT", "/healthz"}, {"GET", "/../x"},
	} {
		f.Add(seed.method, seed.target)
	}
	srv := &Server{cfg: Config{Environ: []string{"A=b", "noequals"}}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), exit: make(chan int, 1)}
	h := srv.routes()
	f.Fuzz(func(t *testing.T, method, target string) {
		req, err := http.NewRequest(method, "http://app"+target, nil)
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusInternalServerError,
			http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusNotFound:
		default:
			t.Errorf("%s %s = %d, not a status the app answers", method, target, w.Code)
		}
		select {
		case <-srv.exit: // drain so the next exit request can be seen
		default:
		}
	})
}
