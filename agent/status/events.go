package status

import "github.com/berth-dev/berth/pkg/scheme"

// Recorder records Events about objects; *events.Recorder (pkg/events) is one.
type Recorder interface {
	Eventf(obj scheme.Object, eventType, reason, format string, args ...any)
}

// Event types.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

// Event reasons the agent uses, as the kubelet spells them.
const (
	EventPulling             = "Pulling"
	EventPulled              = "Pulled"
	EventCreated             = "Created"
	EventStarted             = "Started"
	EventKilling             = "Killing"
	EventBackOff             = "BackOff"
	EventFailed              = "Failed"
	EventUnhealthy           = "Unhealthy"
	EventFailedMount         = "FailedMount"
	EventFailedSandbox       = "FailedCreatePodSandBox"
	EventSandboxChanged      = "SandboxChanged"
	EventFailedPostStart     = "FailedPostStartHook"
	EventFailedPreStop       = "FailedPreStopHook"
	EventDeadlineExceeded    = "DeadlineExceeded"
	EventExceededGracePeriod = "ExceededGracePeriod"
)

// Waiting reasons of container states.
const (
	ContainerCreating          = "ContainerCreating"
	PodInitializing            = "PodInitializing"
	CrashLoopBackOff           = "CrashLoopBackOff"
	ErrImagePull               = "ErrImagePull"
	ImagePullBackOff           = "ImagePullBackOff"
	ErrImageNeverPull          = "ErrImageNeverPull"
	CreateContainerConfigError = "CreateContainerConfigError"
	CreateContainerError       = "CreateContainerError"
	RunContainerError          = "RunContainerError"
	PostStartHookError         = "PostStartHookError"
)

// Terminated reasons of container states.
const (
	Completed          = "Completed"
	Error              = "Error"
	OOMKilled          = "OOMKilled"
	ContainerCannotRun = "ContainerCannotRun"
)
