package prober

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Result is the outcome of a probe.
type Result int8

// Results.
const (
	Unknown Result = iota
	Success
	Failure
)

// String is the result's name.
func (r Result) String() string {
	switch r {
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	default:
		return "Unknown"
	}
}

// Kind is the kind of a probe.
type Kind string

// Probe kinds, spelled as in the kubelet's Unhealthy events ("Liveness probe failed: ...").
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// UserAgent is the User-Agent of HTTP probes unless the probe sets one.
const UserAgent = "kube-probe/berth"

// maxBody is how much of an HTTP answer a probe reads (its output).
const maxBody = 10 << 10

// Execer runs a command in a container; runtime.Runtime is one.
type Execer interface {
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (stdout, stderr []byte, exitCode int, err error)
}

// Target is the container a probe checks.
type Target struct {
	ContainerID string
	// PodIP is the host of httpGet and tcpSocket probes that name none.
	PodIP string
	// Ports are the container's ports, for probes that name their port.
	Ports []*corev1.ContainerPort
}

// Prober runs probes and lifecycle handlers.
type Prober struct {
	exec   Execer
	client *http.Client
	dialer net.Dialer
}

// New returns a Prober running exec probes through exec.
func New(exec Execer) *Prober {
	tr := &http.Transport{
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes do not verify, as in Kubernetes
		DisableKeepAlives:  true,
		DisableCompression: true,
		Proxy:              nil,
	}
	return &Prober{
		exec: exec,
		client: &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if req.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse // a redirect elsewhere counts as success, as in the kubelet
			}
			return nil
		}},
	}
}

// Probe runs p once against t and returns the result and its output (the command's output,
// the HTTP body, or why it failed).
func (pr *Prober) Probe(ctx context.Context, p *corev1.Probe, t Target) (Result, string) {
	timeout := time.Duration(p.GetTimeoutSeconds()) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.GetExec() != nil:
		return pr.execProbe(ctx, p.GetExec().GetCommand(), t, timeout)
	case p.GetHttpGet() != nil:
		return pr.httpProbe(ctx, p.GetHttpGet(), t)
	case p.GetTcpSocket() != nil:
		return pr.tcpProbe(ctx, p.GetTcpSocket(), t)
	case p.GetGrpc() != nil:
		return Failure, "grpc probes are not supported by Berth"
	default:
		return Failure, "probe has no handler"
	}
}

func (pr *Prober) execProbe(ctx context.Context, cmd []string, t Target, timeout time.Duration) (Result, string) {
	if pr.exec == nil {
		return Failure, "exec probes are not available"
	}
	stdout, stderr, code, err := pr.exec.ExecSync(ctx, t.ContainerID, cmd, timeout)
	out := string(stdout) + string(stderr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return Failure, fmt.Sprintf("command %q timed out", strings.Join(cmd, " "))
		}
		return Failure, fmt.Sprintf("exec %q: %v", strings.Join(cmd, " "), err)
	}
	if code != 0 {
		if out == "" {
			out = fmt.Sprintf("command %q exited with %d", strings.Join(cmd, " "), code)
		}
		return Failure, out
	}
	return Success, out
}

func (pr *Prober) httpProbe(ctx context.Context, h *corev1.HTTPGetAction, t Target) (Result, string) {
	req, err := pr.httpRequest(ctx, h, t)
	if err != nil {
		return Failure, err.Error()
	}
	resp, err := pr.client.Do(req)
	if err != nil {
		return Failure, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return Success, string(body)
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
}

func (pr *Prober) httpRequest(ctx context.Context, h *corev1.HTTPGetAction, t Target) (*http.Request, error) {
	port, err := ResolvePort(h.GetPort(), t.Ports)
	if err != nil {
		return nil, err
	}
	host := h.GetHost()
	if host == "" {
		host = t.PodIP
	}
	if host == "" {
		return nil, errors.New("no host to probe: the Pod has no IP yet")
	}
	scheme := strings.ToLower(h.GetScheme())
	if scheme == "" {
		scheme = "http"
	}
	u, err := url.Parse(h.GetPath())
	if err != nil {
		u = &url.URL{Path: h.GetPath()}
	}
	if u.Path == "" && u.RawQuery == "" {
		u.Path = "/"
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for _, hd := range h.GetHttpHeaders() {
		if strings.EqualFold(hd.GetName(), "Host") {
			req.Host = hd.GetValue()
			continue
		}
		req.Header.Add(hd.GetName(), hd.GetValue())
	}
	if _, set := req.Header["User-Agent"]; !set {
		req.Header.Set("User-Agent", UserAgent)
	}
	if _, set := req.Header["Accept"]; !set {
		req.Header.Set("Accept", "*/*")
	}
	return req, nil
}

func (pr *Prober) tcpProbe(ctx context.Context, s *corev1.TCPSocketAction, t Target) (Result, string) {
	port, err := ResolvePort(s.GetPort(), t.Ports)
	if err != nil {
		return Failure, err.Error()
	}
	host := s.GetHost()
	if host == "" {
		host = t.PodIP
	}
	if host == "" {
		return Failure, "no host to probe: the Pod has no IP yet"
	}
	conn, err := pr.dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return Failure, err.Error()
	}
	_ = conn.Close()
	return Success, ""
}

// ResolvePort turns a probe's port (a number, or the name of one of the container's ports)
// into a port number.
func ResolvePort(v *structpb.Value, ports []*corev1.ContainerPort) (int, error) {
	var port int
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		port = int(k.NumberValue)
	case *structpb.Value_StringValue:
		name := k.StringValue
		found := false
		for _, p := range ports {
			if p.GetName() == name && (p.GetProtocol() == "" || p.GetProtocol() == "TCP") {
				port, found = int(p.GetContainerPort()), true
				break
			}
		}
		if !found {
			if n, err := strconv.Atoi(name); err == nil {
				port, found = n, true
			}
		}
		if !found {
			return 0, fmt.Errorf("couldn't find port %q among the container's ports", name)
		}
	default:
		return 0, errors.New("probe has no port")
	}
	if port <= 0 || port > 65535 {
		return 0, fmt.Errorf("invalid port number: %d", port)
	}
	return port, nil
}
