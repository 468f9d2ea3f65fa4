// Package status computes a Pod's status from what the runtime reports and what the Pod worker
// knows, as the kubelet does, and names the Events the agent records about Pods.
//
// Compute is a pure function of its Input: the phase (Pending, Running, Succeeded, Failed,
// by the kubelet's rules, and never back from Succeeded or Failed), the conditions
// PodScheduled, Initialized, ContainersReady and Ready (a condition keeps its
// lastTransitionTime while its status does not change), podIP(s), hostIP(s), startTime,
// qosClass, and one ContainerStatus per init and app container: state waiting (with the
// reason the worker gives: ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
// CreateContainerConfigError, CreateContainerError, RunContainerError; else ContainerCreating
// or PodInitializing), running or terminated (Completed, Error, OOMKilled, with exit code and
// times), lastState, ready, started, restartCount, image, imageID and containerID
// ("docker://<id>").
package status
