package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/agent/runtime"
)

// Defaults of Options.
const (
	DefaultNetwork     = "berth"
	DefaultPauseImage  = "berth-pause:latest"
	DefaultPullTimeout = 30 * time.Second
)

// Labels of this package, next to the owner labels of package runtime.
const (
	// LabelSandboxID is on every container: the ID of its sandbox.
	LabelSandboxID = "io.berth.sandbox.id"
	// LabelSharePID is "true" on a sandbox whose containers join its PID namespace.
	LabelSharePID = "io.berth.sandbox.share-pid"
	// LabelTerminationLog is on a container with a termination message path: the host file
	// bind-mounted there, read when the container has exited.
	LabelTerminationLog = "io.berth.container.termination-log"
)

// Options configure a Runtime.
type Options struct {
	// NodeName is the node the agent runs as: it labels every object, and listing only sees
	// objects with this label. Required.
	NodeName string
	// Host is the daemon's address (unix:///var/run/docker.sock, tcp://...); empty uses
	// $DOCKER_HOST and the other variables the docker CLI reads, else the default socket.
	Host string
	// Network is the Docker network of Pods; default DefaultNetwork.
	Network string
	// Subnet is the network's subnet when Berth creates it (CIDR); empty picks a free /16 in
	// private address space.
	Subnet string
	// PauseImage is the sandbox image; default DefaultPauseImage.
	PauseImage string
	// PullTimeout bounds an image pull; default DefaultPullTimeout.
	PullTimeout time.Duration
	// StateDir holds the host files behind termination messages (StateDir/<pod uid>/...);
	// empty leaves termination messages out.
	StateDir string
	// Logger gets the runtime's rare notes (network creation); nil discards them.
	Logger *slog.Logger
}

// Runtime is the Docker Engine runtime. It is safe for concurrent use.
type Runtime struct {
	opts Options
	cli  *client.Client
	log  *slog.Logger

	netMu     sync.Mutex
	networkID string // the Pods' network, once known

	mu             sync.Mutex
	statuses       map[string]cachedStatus // container ID → last inspected status
	imageRefs      map[string]string       // image ID → imageID as statuses report it
	logDriver      string                  // the daemon's default log driver,
	logDriverKnown bool                    // once known
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns a Runtime for the daemon opts names. It does not contact the daemon: a daemon
// that is down now makes calls fail with runtime.ErrUnavailable until it is back.
func New(opts Options) (*Runtime, error) {
	if opts.NodeName == "" {
		return nil, errors.New("docker runtime: a node name is required")
	}
	if opts.Network == "" {
		opts.Network = DefaultNetwork
	}
	if opts.PauseImage == "" {
		opts.PauseImage = DefaultPauseImage
	}
	if opts.PullTimeout <= 0 {
		opts.PullTimeout = DefaultPullTimeout
	}
	if opts.Subnet != "" {
		if _, _, err := net.ParseCIDR(opts.Subnet); err != nil {
			return nil, fmt.Errorf("docker runtime: subnet: %w", err)
		}
	}
	copts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if opts.Host != "" {
		copts = append(copts, client.WithHost(opts.Host))
	}
	cli, err := client.NewClientWithOpts(copts...)
	if err != nil {
		return nil, fmt.Errorf("docker runtime: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runtime{
		opts: opts, cli: cli, log: log,
		statuses:  map[string]cachedStatus{},
		imageRefs: map[string]string{},
	}, nil
}

// Close releases the client's connections.
func (r *Runtime) Close() error {
	return r.cli.Close()
}

// Client is the Docker client the Runtime uses, for tests and benchmarks that compare with
// raw Docker calls.
func (r *Runtime) Client() *client.Client { return r.cli }

// Info describes the node from docker info.
func (r *Runtime) Info(ctx context.Context) (runtime.NodeInfo, error) {
	info, err := r.cli.Info(ctx)
	if err != nil {
		return runtime.NodeInfo{}, wrap(err, "docker info")
	}
	mid := machineID()
	if mid == "" {
		mid = info.ID
	}
	return runtime.NodeInfo{
		CPUs:           info.NCPU,
		MemoryBytes:    info.MemTotal,
		KernelVersion:  info.KernelVersion,
		OSImage:        info.OperatingSystem,
		OS:             info.OSType,
		Arch:           goArch(info.Architecture),
		RuntimeVersion: "docker://" + info.ServerVersion,
		MachineID:      mid,
	}, nil
}

// machineID is the host's machine ID, or "" when it has none.
func machineID() string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(p); err == nil {
			if id := strings.TrimSpace(string(b)); id != "" {
				return id
			}
		}
	}
	return ""
}

// goArch names a machine architecture as Kubernetes does (GOARCH: amd64, arm64, ...) from
// what docker info reports (uname -m: x86_64, aarch64, ...).
func goArch(uname string) string {
	switch uname {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	case "i386", "i686":
		return "386"
	case "armv7l", "armv6l":
		return "arm"
	}
	return uname
}

// wrap adds context to an error of the Docker client, and the runtime's sentinel errors: a
// daemon that cannot be reached is runtime.ErrUnavailable, an unknown object
// runtime.ErrNotFound.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	switch {
	case unavailable(err):
		return fmt.Errorf("%s: %w: %w", what, runtime.ErrUnavailable, err)
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%s: %w: %w", what, runtime.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// unavailable tells whether err means the daemon could not be reached or went away
// mid-request, as opposed to an answer from it.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if client.IsErrConnectionFailed(err) || cerrdefs.IsUnavailable(err) {
		return true
	}
	var uerr *url.Error
	var operr *net.OpError
	switch {
	case errors.As(err, &uerr), errors.As(err, &operr):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ENOENT):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	// The client wraps other transport errors in text only.
	return strings.Contains(err.Error(), "error during connect")
}
