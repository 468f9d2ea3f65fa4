package fake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"

	"github.com/berth-dev/berth/agent/runtime"
)

// DefaultSubnet is where sandboxes get their IPs unless Config.Subnet says otherwise.
var DefaultSubnet = netip.MustParsePrefix("10.244.0.0/16")

// Config configures a fake Runtime. The zero value works.
type Config struct {
	// NodeName labels every sandbox and container, as the Docker runtime's do.
	NodeName string
	// Subnet is the range of sandbox IPs (its first and last addresses are never given);
	// default DefaultSubnet. Hollow Nodes in one process may each get their own (SubnetFor).
	Subnet netip.Prefix
	// Info is what Info reports; zero fields get defaults (4 CPUs, 16 GiB, linux, ...).
	Info runtime.NodeInfo
	// Behavior decides how a container behaves; default EnvBehavior.
	Behavior func(runtime.ContainerConfig) Behavior
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Behavior is how a simulated container behaves once started.
type Behavior struct {
	// Exits makes the container exit on its own with ExitCode after RunFor; else it runs
	// until stopped.
	Exits    bool
	ExitCode int
	RunFor   time.Duration
	// OOMKilled makes the container's own exit an OOM kill (exit code 137).
	OOMKilled bool
	// StopExitCode is the exit code when StopContainer stops it (the app handled SIGTERM).
	StopExitCode int
	// Logs are written to stdout at start, one line each.
	Logs []string
	// StartError makes StartContainer fail with this message.
	StartError string
}

// Environment variables EnvBehavior reads.
const (
	EnvExitCode   = "BERTH_FAKE_EXIT_CODE"
	EnvRunFor     = "BERTH_FAKE_RUN_FOR"
	EnvOOM        = "BERTH_FAKE_OOM"
	EnvLogs       = "BERTH_FAKE_LOGS"
	EnvStartError = "BERTH_FAKE_START_ERROR"
)

// Runtime is the fake runtime. It is safe for concurrent use.
type Runtime struct {
	cfg Config

	mu         sync.Mutex
	sandboxes  map[string]*sandbox
	containers map[string]*container
	nextIP     uint32   // offset in the subnet of the next never-used IP
	freeIPs    []uint32 // offsets given back by removed sandboxes
	failImages map[string]string
	down       bool
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns a fake runtime.
func New(cfg Config) *Runtime {
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = DefaultSubnet
	}
	cfg.Subnet = cfg.Subnet.Masked()
	if cfg.Behavior == nil {
		cfg.Behavior = EnvBehavior
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Runtime{cfg: cfg, nextIP: 2}
}

// SubnetFor is a /24 for the i-th of many hollow Nodes (10.128.0.0/24, 10.128.1.0/24, ...),
// so that their Pod IPs do not repeat across Nodes; it is valid for i < 32768.
func SubnetFor(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(128 + i/256), byte(i % 256), 0}), 24)
}

// FailImage makes image missing and its pulls fail with message (empty: a default one).
func (r *Runtime) FailImage(image, message string) {
	if message == "" {
		message = fmt.Sprintf("pull access denied for %s, repository does not exist or may require authorization", image)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failImages == nil {
		r.failImages = map[string]string{}
	}
	r.failImages[image] = message
}

// SetUnavailable makes every call fail with runtime.ErrUnavailable (down) or work again.
func (r *Runtime) SetUnavailable(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// check fails when the runtime is set unavailable. Called with r.mu held.
func (r *Runtime) check(op string) error {
	if r.down {
		return fmt.Errorf("%s: %w: the fake runtime is set unavailable", op, runtime.ErrUnavailable)
	}
	return nil
}

// Info reports Config.Info with defaults.
func (r *Runtime) Info(ctx context.Context) (runtime.NodeInfo, error) {
	r.mu.Lock()
	err := r.check("info")
	r.mu.Unlock()
	if err != nil {
		return runtime.NodeInfo{}, err
	}
	info := r.cfg.Info
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	if info.CPUs == 0 {
		info.CPUs = 4
	}
	if info.MemoryBytes == 0 {
		info.MemoryBytes = 16 << 30
	}
	def(&info.KernelVersion, "fake")
	def(&info.OSImage, "Berth fake runtime")
	def(&info.OS, "linux")
	def(&info.Arch, goruntime.GOARCH)
	def(&info.RuntimeVersion, "fake://1.0.0")
	if info.MachineID == "" {
		sum := sha256.Sum256([]byte("berth-fake/" + r.cfg.NodeName))
		info.MachineID = hex.EncodeToString(sum[:16])
	}
	return info, nil
}

// EnsureImage succeeds with a made-up ID for every image but those FailImage named, those of
// a registry under .invalid and invalid references (runtime.ErrImagePull, as Docker's).
func (r *Runtime) EnsureImage(ctx context.Context, image, pull string) (string, error) {
	switch pull {
	case "", "Always", "IfNotPresent", "Never":
	default:
		return "", fmt.Errorf("image %q: unknown pull policy %q (Always, IfNotPresent or Never)", image, pull)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check("image " + image); err != nil {
		return "", err
	}
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return "", fmt.Errorf("image %q: %w: invalid image name: %w", image, runtime.ErrImagePull, err)
	}
	if msg, failing := r.failing(image); failing {
		if pull == "Never" {
			return "", fmt.Errorf("image %q is not present with pull policy of Never: %w", image, runtime.ErrNotFound)
		}
		return "", fmt.Errorf("pull image %q: %w: %s", image, runtime.ErrImagePull, msg)
	}
	return imageID(image), nil
}

// failing tells whether image is missing, and why its pull fails. Called with r.mu held.
func (r *Runtime) failing(image string) (string, bool) {
	if msg, ok := r.failImages[image]; ok {
		return msg, true
	}
	if host, _, ok := strings.Cut(image, "/"); ok && strings.ContainsAny(host, ".:") {
		h := host
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			h = h[:i]
		}
		if h == "invalid" || strings.HasSuffix(h, ".invalid") {
			return fmt.Sprintf("Get \"https://%s/v2/\": dial tcp: lookup %s: no such host", host, h), true
		}
	}
	return "", false
}

// imageID is the made-up ID of an image.
func imageID(image string) string {
	sum := sha256.Sum256([]byte(image))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newID is a random 64-hex-digit ID, as Docker's.
func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// notFound is the error of an unknown sandbox or container.
func notFound(what, id string) error {
	return fmt.Errorf("%s %s: %w", what, id, runtime.ErrNotFound)
}

// errNotRunning is the error of an exec in a container that does not run.
var errNotRunning = errors.New("the container is not running")
