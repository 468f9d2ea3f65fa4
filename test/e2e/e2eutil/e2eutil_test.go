package e2eutil

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInCI(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"", false}, {"0", false}, {"false", false}, {"FALSE", false},
		{"1", true}, {"true", true}, {"yes", true},
	}
	for _, tt := range tests {
		t.Setenv("CI", tt.value)
		if got := InCI(); got != tt.want {
			t.Errorf("InCI() with CI=%q = %v, want %v", tt.value, got, tt.want)
		}
	}
}

// recordingTB is a testing.TB whose Errorf, Fatalf and Skip are recorded instead of acting on
// the test; Fatalf and Skip end the goroutine, as the real ones do.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	fatal    string
	skipped  string
	finished chan struct{}
}

func newRecordingTB(t *testing.T) *recordingTB {
	return &recordingTB{TB: t, finished: make(chan struct{})}
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f with r in a goroutine of its own, so that Fatalf and Skip can end it.
func (r *recordingTB) run(f func(testing.TB)) {
	go func() {
		defer close(r.finished)
		f(r)
	}()
	<-r.finished
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		ci                      string
		wantSkipped, wantFailed bool
	}{
		{ci: "", wantSkipped: true},
		{ci: "1", wantFailed: true},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := newRecordingTB(t)
			r.run(func(tb testing.TB) { Unavailable(tb, "no %s here", "docker") })
			if (r.skipped != "") != tt.wantSkipped || (r.fatal != "") != tt.wantFailed {
				t.Fatalf("Unavailable: skipped %q, failed %q; want skipped %v, failed %v",
					r.skipped, r.fatal, tt.wantSkipped, tt.wantFailed)
			}
			if msg := r.skipped + r.fatal; !strings.Contains(msg, "no docker here") {
				t.Errorf("message %q does not carry the reason", msg)
			}
		})
	}
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("BERTH_BIN_DIR", t.TempDir())
	r := newRecordingTB(t)
	r.run(func(tb testing.TB) { Binary(tb, "berth") })
	if !strings.Contains(r.skipped, "berth is not built: run 'make build'") {
		t.Fatalf("Binary of a missing binary: skipped %q, failed %q; want a skip saying to run make build", r.skipped, r.fatal)
	}
}

func TestRepoRoot(t *testing.T) {
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "test", "e2e", "e2eutil", "doc.go")); err != nil {
		t.Fatalf("RepoRoot() = %s, which does not hold this package: %v", root, err)
	}
}

func TestFreeAddr(t *testing.T) {
	a, b := FreeAddr(t), FreeAddr(t)
	if a == b {
		t.Errorf("FreeAddr() twice = %s, want two addresses", a)
	}
	ln, err := net.Listen("tcp", a)
	if err != nil {
		t.Fatalf("FreeAddr() = %s, which cannot be bound: %v", a, err)
	}
	_ = ln.Close()
}

func fakeServerOptions(args ...string) ServerOptions {
	return ServerOptions{Binary: os.Args[0], Env: []string{"E2EUTIL_FAKE=server"}, Args: args}
}

func TestServerLifecycle(t *testing.T) {
	s := StartServer(t, fakeServerOptions())
	if !s.Running() {
		t.Fatal("server not running after StartServer")
	}
	resp, err := http.Get("http://" + s.HTTPAddr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz after StartServer: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	conn, err := net.Dial("tcp", s.GRPCAddr)
	if err != nil {
		t.Fatalf("dial the gRPC address: %v", err)
	}
	_ = conn.Close()

	grpcAddr, pid := s.GRPCAddr, s.Pid()
	s.Kill(t)
	if s.Running() {
		t.Fatal("server running after Kill")
	}
	s.Restart(t)
	if s.GRPCAddr != grpcAddr || s.Pid() == pid {
		t.Errorf("after Restart: addr %s pid %d, want the same addr %s and a new process", s.GRPCAddr, s.Pid(), grpcAddr)
	}
	starts, err := os.ReadFile(filepath.Join(s.DataDir, "starts"))
	if err != nil || strings.Count(string(starts), "started") != 2 {
		t.Errorf("data dir after a restart: %q, %v; want two starts in the same data dir", starts, err)
	}
	s.Stop(t)
	if s.Running() {
		t.Fatal("server running after Stop")
	}
	logs := s.Logs()
	for _, want := range []string{"fake server: listening", "--- restarted ---", "fake server: received SIGTERM"} {
		if !strings.Contains(logs, want) {
			t.Errorf("Logs() lacks %q:\n%s", want, logs)
		}
	}
}

func TestStartServerFailures(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr []string
	}{
		{name: "exits at once", args: []string{"--fail-start"},
			wantErr: []string{"exited (exit status 3) before it was ready", "fake server: failing as asked"}},
		{name: "never ready", args: []string{"--not-ready"},
			wantErr: []string{"not ready within 500ms", "503 Service Unavailable", "fake server: listening"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fakeServerOptions(tt.args...)
			opts.ReadyTimeout = 500 * time.Millisecond
			opts.DataDir = t.TempDir()
			s, err := startServer(opts)
			if err == nil {
				s.proc.kill()
				t.Fatal("startServer() succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("startServer() error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestStopReportsUncleanShutdown(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "exit status", args: []string{"--term-exit=3"}, wantErr: "did not exit cleanly on SIGTERM: exit status 3"},
		{name: "ignores SIGTERM", args: []string{"--ignore-term"}, wantErr: "still running 300ms after SIGTERM; killed it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fakeServerOptions(tt.args...)
			opts.StopTimeout = 300 * time.Millisecond
			opts.DataDir = t.TempDir()
			s, err := startServer(opts)
			if err != nil {
				t.Fatal(err)
			}
			r := newRecordingTB(t)
			r.run(s.Stop)
			if s.Running() {
				s.proc.kill()
				t.Fatal("server still running after Stop")
			}
			if len(r.errors) != 1 || !strings.Contains(r.errors[0], tt.wantErr) {
				t.Errorf("Stop reported %q, want one error containing %q", r.errors, tt.wantErr)
			}
		})
	}
}

func TestBerthctl(t *testing.T) {
	ctl := &Berthctl{Bin: os.Args[0], Server: "127.0.0.1:6443", Env: []string{"E2EUTIL_FAKE=ctl"}}

	if out := ctl.Run(t, "get", "pods"); !strings.Contains(out, `args: ["--server" "127.0.0.1:6443" "get" "pods"]`) {
		t.Errorf("Run() stdout = %q, want the arguments with --server first", out)
	}
	if out := ctl.RunStdin(t, "kind: Pod\n", "apply", "-f", "-"); !strings.Contains(out, `stdin: "kind: Pod\n"`) {
		t.Errorf("RunStdin() stdout = %q, want the input echoed", out)
	}
	r := ctl.Exec(t, "", "fail")
	if r.ExitCode != 4 || strings.TrimSpace(r.Stderr) != "boom" {
		t.Errorf("Exec() of a failing command = %+v, want exit 4 and stderr boom", r)
	}
	p := ctl.Start(t, "get", "pods", "watch")
	p.WaitForOutput(t, "line2", 10*time.Second)
	if !strings.Contains(p.Stdout(), "line1\nline2\n") {
		t.Errorf("Start() stdout = %q, want both lines", p.Stdout())
	}
}

func TestStartEtcd(t *testing.T) {
	endpoint := StartEtcd(t)
	resp, err := http.Get(endpoint + "/health")
	if err != nil {
		t.Fatalf("GET /health of the etcd StartEtcd started: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s/health = %s, want 200", endpoint, resp.Status)
	}
}
