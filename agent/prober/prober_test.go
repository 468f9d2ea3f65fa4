package prober

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// execFunc is an Execer from a function: exec probes run commands in a container, which
// these unit tests do not have (the Docker tests of agent/podworker run real ones).
type execFunc func(ctx context.Context, id string, cmd []string) ([]byte, []byte, int, error)

func (f execFunc) ExecSync(ctx context.Context, id string, cmd []string, _ time.Duration) ([]byte, []byte, int, error) {
	return f(ctx, id, cmd)
}

// shell runs "exit N" and "sleep" and echoes anything else.
var shell = execFunc(func(ctx context.Context, _ string, cmd []string) ([]byte, []byte, int, error) {
	switch {
	case len(cmd) == 2 && cmd[0] == "exit":
		n, _ := strconv.Atoi(cmd[1])
		return []byte("out\n"), []byte("err\n"), n, nil
	case len(cmd) == 1 && cmd[0] == "sleep":
		<-ctx.Done()
		return nil, nil, -1, ctx.Err()
	case len(cmd) == 1 && cmd[0] == "broken":
		return nil, nil, -1, errors.New("no such container")
	}
	return []byte(strings.Join(cmd, " ")), nil, 0, nil
})

func num(n int) *structpb.Value    { return structpb.NewNumberValue(float64(n)) }
func str(s string) *structpb.Value { return structpb.NewStringValue(s) }

func TestProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("fine")) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/fail", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://other.invalid/x", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	_, tlsPortStr, _ := net.SplitHostPort(tlsSrv.Listener.Addr().String())
	tlsPort, _ := strconv.Atoi(tlsPortStr)
	closed := closedPort(t)

	target := Target{ContainerID: "c1", PodIP: host, Ports: []*corev1.ContainerPort{
		{Name: "http", ContainerPort: int32(port), Protocol: "TCP"},
		{Name: "dns", ContainerPort: 53, Protocol: "UDP"},
	}}
	httpGet := func(path string, p *structpb.Value) *corev1.Probe {
		return &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: path, Port: p}, TimeoutSeconds: 1}
	}
	tests := []struct {
		name    string
		probe   *corev1.Probe
		target  *Target
		want    Result
		wantOut string
	}{
		{"http 200", httpGet("/ok", num(port)), nil, Success, "fine"},
		{"http by port name", httpGet("/ok", str("http")), nil, Success, "fine"},
		{"http 500", httpGet("/fail", num(port)), nil, Failure, "HTTP probe failed with statuscode: 500"},
		{"http redirect on the same host is followed", httpGet("/moved", num(port)), nil, Failure, "statuscode: 500"},
		{"http redirect elsewhere counts as success", httpGet("/elsewhere", num(port)), nil, Success, ""},
		{"http timeout", httpGet("/slow", num(port)), nil, Failure, "context deadline exceeded"},
		{"http refused", httpGet("/", num(closed)), nil, Failure, "connection refused"},
		{"http unknown port name", httpGet("/ok", str("nope")), nil, Failure, `couldn't find port "nope"`},
		{"http port name of a UDP port", httpGet("/ok", str("dns")), nil, Failure, `couldn't find port "dns"`},
		{"http bad port", httpGet("/ok", num(70000)), nil, Failure, "invalid port number: 70000"},
		{"http no Pod IP", httpGet("/ok", num(port)), &Target{}, Failure, "the Pod has no IP yet"},
		{
			"https skips verification",
			&corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/ok", Port: num(tlsPort), Scheme: "HTTPS"}},
			nil, Success, "fine",
		},
		{"tcp open", &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: str("http")}}, nil, Success, ""},
		{"tcp closed", &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: num(closed), Host: "127.0.0.1"}}, nil, Failure, "connection refused"},
		{"exec exit 0", &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}}, nil, Success, "cat /tmp/healthy"},
		{"exec exit 1 gives the output", &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"exit", "1"}}}, nil, Failure, "out\nerr\n"},
		{"exec timeout", &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"sleep"}}, TimeoutSeconds: 1}, nil, Failure, `command "sleep" timed out`},
		{"exec error", &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"broken"}}}, nil, Failure, "no such container"},
		{"grpc", &corev1.Probe{Grpc: &corev1.GRPCAction{Port: 1}}, nil, Failure, "not supported"},
		{"no handler", &corev1.Probe{}, nil, Failure, "probe has no handler"},
	}
	pr := New(shell)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := target
			if tt.target != nil {
				tg = *tt.target
			}
			got, out := pr.Probe(context.Background(), tt.probe, tg)
			if got != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Errorf("Probe = %v %q, want %v containing %q", got, out, tt.want, tt.wantOut)
			}
		})
	}
}

func TestHTTPProbeHeaders(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r }))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	tests := []struct {
		name          string
		headers       []*corev1.HTTPHeader
		wantUA, wantX string
		wantHost      string
	}{
		{"defaults", nil, UserAgent, "", srv.Listener.Addr().String()},
		{"custom", []*corev1.HTTPHeader{{Name: "User-Agent", Value: "me"}, {Name: "X-Probe", Value: "1"}, {Name: "Host", Value: "example.com"}}, "me", "1", "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/h?q=1", Port: num(port), HttpHeaders: tt.headers}}
			if res, out := New(nil).Probe(context.Background(), p, Target{PodIP: host}); res != Success {
				t.Fatalf("Probe = %v %q", res, out)
			}
			r := <-got
			if r.UserAgent() != tt.wantUA || r.Header.Get("X-Probe") != tt.wantX || r.Host != tt.wantHost || r.URL.RawQuery != "q=1" || r.URL.Path != "/h" {
				t.Errorf("request UA %q X-Probe %q Host %q URL %v", r.UserAgent(), r.Header.Get("X-Probe"), r.Host, r.URL)
			}
		})
	}
}

func TestRunHandler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	tests := []struct {
		name    string
		h       *corev1.LifecycleHandler
		wantErr string
	}{
		{"exec", &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"exit", "0"}}}, ""},
		{"exec fails", &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"exit", "3"}}}, `command "exit 3" exited with 3`},
		{"http", &corev1.LifecycleHandler{HttpGet: &corev1.HTTPGetAction{Path: "/", Port: num(port)}}, ""},
		{"http fails", &corev1.LifecycleHandler{HttpGet: &corev1.HTTPGetAction{Path: "/bad", Port: num(port)}}, "failed with statuscode: 503"},
		{"sleep", &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 0}}, ""},
		{"tcp", &corev1.LifecycleHandler{TcpSocket: &corev1.TCPSocketAction{Port: num(port)}}, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(shell).RunHandler(context.Background(), tt.h, Target{ContainerID: "c", PodIP: host})
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("RunHandler err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := New(shell).RunHandler(ctx, &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 60}}, Target{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a sleep hook outlived its context: %v", err)
	}
}

func TestResolvePort(t *testing.T) {
	ports := []*corev1.ContainerPort{{Name: "web", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090, Protocol: "TCP"}}
	tests := []struct {
		v       *structpb.Value
		want    int
		wantErr bool
	}{
		{num(80), 80, false},
		{str("web"), 8080, false},
		{str("metrics"), 9090, false},
		{str("8081"), 8081, false},
		{str("nope"), 0, true},
		{num(0), 0, true},
		{num(65536), 0, true},
		{nil, 0, true},
		{structpb.NewBoolValue(true), 0, true},
	}
	for _, tt := range tests {
		got, err := ResolvePort(tt.v, ports)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ResolvePort(%v) = %d, %v; want %d (error %v)", tt.v, got, err, tt.want, tt.wantErr)
		}
	}
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
