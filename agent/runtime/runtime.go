package runtime

import (
	"context"
	"errors"
	"io"
	"time"
)

// Owner labels every runtime object carries.
const (
	LabelManaged       = "io.berth.managed"        // "true" on everything Berth creates
	LabelPodUID        = "io.berth.pod.uid"        // the Pod's metadata.uid
	LabelPodNamespace  = "io.berth.pod.namespace"  // the Pod's namespace
	LabelPodName       = "io.berth.pod.name"       // the Pod's name
	LabelContainerName = "io.berth.container.name" // the container's name in the Pod spec; "POD" for the sandbox
	LabelNode          = "io.berth.node"           // the Node the agent runs as
	LabelAttempt       = "io.berth.container.attempt"
	LabelSpecHash      = "io.berth.container.hash" // hash of the container spec, to see it changed
)

// SandboxContainerName is the container name of a Pod's sandbox in LabelContainerName.
const SandboxContainerName = "POD"

// Errors a Runtime returns; test with errors.Is.
var (
	// ErrNotFound: no such sandbox, container or image.
	ErrNotFound = errors.New("not found")
	// ErrImagePull: the image is missing and cannot be pulled.
	ErrImagePull = errors.New("image pull failed")
	// ErrUnavailable: the runtime cannot be reached right now; retry later.
	ErrUnavailable = errors.New("runtime unavailable")
)

// PodRef names the Pod a runtime object belongs to.
type PodRef struct {
	UID, Namespace, Name string
}

// DNSConfig is what a sandbox's /etc/resolv.conf says.
type DNSConfig struct {
	Nameservers, Searches, Options []string
}

// HostAlias is an extra /etc/hosts entry.
type HostAlias struct {
	IP        string
	Hostnames []string
}

// SandboxConfig describes a Pod sandbox.
type SandboxConfig struct {
	Pod      PodRef
	Hostname string
	// ShareProcessNamespace puts every container in the sandbox's PID namespace.
	ShareProcessNamespace bool
	DNS                   *DNSConfig
	HostAliases           []HostAlias
	// Labels are added to the owner labels.
	Labels map[string]string
}

// SandboxState is Ready while the sandbox runs.
type SandboxState string

// Sandbox states.
const (
	SandboxReady    SandboxState = "Ready"
	SandboxNotReady SandboxState = "NotReady"
)

// Sandbox is a running or stopped Pod sandbox.
type Sandbox struct {
	ID        string
	Pod       PodRef
	State     SandboxState
	IP        string
	CreatedAt time.Time
	Labels    map[string]string
}

// Mount binds a host path into a container.
type Mount struct {
	HostPath, ContainerPath string
	ReadOnly                bool
}

// Resources are a container's limits as the runtime applies them.
type Resources struct {
	// CPUMillis is the CPU limit in millicores (0: none); CPUSharesMillis the request.
	CPUMillis, CPURequestMillis int64
	// MemoryBytes is the memory limit (0: none).
	MemoryBytes int64
}

// ContainerConfig describes one container of a Pod.
type ContainerConfig struct {
	Pod  PodRef
	Name string
	// Attempt counts restarts of this container (0 for the first run).
	Attempt    int
	Image      string
	Command    []string
	Args       []string
	Env        []string // "NAME=value"
	WorkingDir string
	Mounts     []Mount
	Resources  Resources
	// User is "uid[:gid]" or empty for the image's.
	User                       string
	Privileged, ReadOnlyRootfs bool
	CapAdd, CapDrop            []string
	Stdin, StdinOnce, TTY      bool
	StopSignal                 string
	TerminationMessagePath     string
	Labels                     map[string]string
}

// ContainerState is a container's lifecycle state.
type ContainerState string

// Container states.
const (
	ContainerCreated ContainerState = "Created"
	ContainerRunning ContainerState = "Running"
	ContainerExited  ContainerState = "Exited"
	ContainerUnknown ContainerState = "Unknown"
)

// ContainerStatus is what the runtime knows of a container.
type ContainerStatus struct {
	ID        string
	SandboxID string
	Pod       PodRef
	Name      string
	Attempt   int
	Image     string
	ImageID   string
	State     ContainerState
	ExitCode  int
	// Reason is OOMKilled, Error or Completed for an exited container.
	Reason    string
	Message   string
	CreatedAt time.Time
	StartedAt time.Time
	// FinishedAt is zero while the container has not exited.
	FinishedAt time.Time
	Labels     map[string]string
}

// NodeInfo describes the machine the runtime runs on.
type NodeInfo struct {
	CPUs           int
	MemoryBytes    int64
	KernelVersion  string
	OSImage        string
	OS, Arch       string
	RuntimeVersion string // "docker://28.2.2"
	MachineID      string
}

// LogOptions select what Logs streams.
type LogOptions struct {
	Follow     bool
	TailLines  int64 // < 0: all
	Timestamps bool
	Since      time.Time
}

// ExecOptions describe an exec session.
type ExecOptions struct {
	Cmd    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer // unused with TTY
	TTY    bool
	// Resize delivers terminal size changes when TTY is set.
	Resize <-chan TerminalSize
}

// TerminalSize is a TTY's size.
type TerminalSize struct {
	Width, Height uint16
}

// Runtime runs Pod sandboxes and containers. Every method takes a context and is safe for
// concurrent use.
type Runtime interface {
	// Info describes the node.
	Info(ctx context.Context) (NodeInfo, error)
	// EnsureImage makes image present: with pull "Always" it pulls; "IfNotPresent" pulls only
	// when missing; "Never" fails with ErrNotFound when missing. It returns the image ID.
	// A pull that cannot succeed returns an error wrapping ErrImagePull with the reason.
	EnsureImage(ctx context.Context, image, pull string) (imageID string, err error)

	RunSandbox(ctx context.Context, cfg SandboxConfig) (Sandbox, error)
	StopSandbox(ctx context.Context, id string, timeout time.Duration) error
	RemoveSandbox(ctx context.Context, id string) error
	// ListSandboxes lists every sandbox Berth made on this node.
	ListSandboxes(ctx context.Context) ([]Sandbox, error)

	// CreateContainer creates a container joined to the sandbox's namespaces.
	CreateContainer(ctx context.Context, sandboxID string, cfg ContainerConfig) (id string, err error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends the stop signal, waits up to timeout, then kills.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers lists every container Berth made on this node (not sandboxes).
	ListContainers(ctx context.Context) ([]ContainerStatus, error)
	ContainerStatus(ctx context.Context, id string) (ContainerStatus, error)

	// ExecSync runs a command in a container and returns its output and exit code.
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (stdout, stderr []byte, exitCode int, err error)
	// Exec runs an interactive command; it returns the exit code.
	Exec(ctx context.Context, id string, opts ExecOptions) (exitCode int, err error)
	// Logs writes a container's output until it ends (or, with Follow, until ctx ends).
	Logs(ctx context.Context, id string, opts LogOptions, stdout, stderr io.Writer) error
}
