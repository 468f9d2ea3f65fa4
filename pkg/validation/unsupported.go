package validation

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// NotSupportedByBerth is the detail of the Forbidden error a field that Berth does not honor yet
// gets.
const NotSupportedByBerth = "not supported by Berth"

// This file is the one place that lists the fields Berth's API has (because they are part of
// Kubernetes' object model) but Berth does not honor yet. Each is refused with
// field.Forbidden(path, NotSupportedByBerth) instead of being accepted and silently ignored.
// When a component learns to honor one, delete its line here (and its test case).
//
//	PodSpec field                          why it is refused
//	-------------------------------------  ------------------------------------------------
//	hostNetwork: true                      the agent always gives a Pod its own network namespace
//	hostPID: true                          the agent always gives a Pod its own PID namespace
//	hostIPC: true                          the agent always gives a Pod its own IPC namespace
//	affinity.podAffinity                   the scheduler has no inter-Pod affinity
//	affinity.podAntiAffinity               the scheduler has no inter-Pod anti-affinity
//	volumes[*].persistentVolumeClaim       there are no PersistentVolumes
//	volumes[*].downwardAPI                 the agent does not project Pod fields as files
//	containers[*].*Probe.grpc              the agent has no gRPC health prober
//	*containers[*].restartPolicy           the agent has no sidecar (restartable init) containers
//
// unsupportedPodSpec is called for Pods and for every Pod template.

// unsupportedPodSpec refuses what a PodSpec sets that Berth does not honor.
func unsupportedPodSpec(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	forbid := func(set bool, p *field.Path) {
		if set {
			errs = append(errs, field.Forbidden(p, NotSupportedByBerth))
		}
	}
	forbid(spec.GetHostNetwork(), fldPath.Child("hostNetwork"))
	forbid(spec.GetHostPid(), fldPath.Child("hostPID"))
	forbid(spec.GetHostIpc(), fldPath.Child("hostIPC"))
	forbid(spec.GetAffinity().GetPodAffinity() != nil, fldPath.Child("affinity", "podAffinity"))
	forbid(spec.GetAffinity().GetPodAntiAffinity() != nil, fldPath.Child("affinity", "podAntiAffinity"))
	for i, v := range spec.GetVolumes() {
		p := fldPath.Child("volumes").Index(i)
		forbid(v.GetPersistentVolumeClaim() != nil, p.Child("persistentVolumeClaim"))
		forbid(v.GetDownwardApi() != nil, p.Child("downwardAPI"))
	}
	for _, group := range []struct {
		name       string
		containers []*corev1.Container
	}{{"initContainers", spec.GetInitContainers()}, {"containers", spec.GetContainers()}} {
		for i, c := range group.containers {
			p := fldPath.Child(group.name).Index(i)
			forbid(c.GetLivenessProbe().GetGrpc() != nil, p.Child("livenessProbe", "grpc"))
			forbid(c.GetReadinessProbe().GetGrpc() != nil, p.Child("readinessProbe", "grpc"))
			forbid(c.GetStartupProbe().GetGrpc() != nil, p.Child("startupProbe", "grpc"))
			forbid(c.RestartPolicy != nil, p.Child("restartPolicy"))
		}
	}
	return errs
}
