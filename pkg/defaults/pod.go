package defaults

import (
	"regexp"
	"strings"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/api/resource"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Pod applies PodSpec's defaults and what Kubernetes adds for Pods only (not for templates):
// enableServiceLinks true, a container's requests default to its limits for every resource it
// limits without requesting, and with hostNetwork each container port's hostPort to its
// containerPort.
func Pod(p *corev1.Pod) {
	if p.Spec == nil {
		p.Spec = &corev1.PodSpec{}
	}
	spec := p.Spec
	for _, c := range allContainers(spec) {
		requestsFromLimits(c)
		if spec.HostNetwork {
			for _, port := range c.Ports {
				if port != nil && port.HostPort == 0 {
					port.HostPort = port.ContainerPort
				}
			}
		}
	}
	if spec.EnableServiceLinks == nil {
		spec.EnableServiceLinks = proto.Bool(true)
	}
	PodSpec(spec)
}

// PodTemplateSpec applies PodSpec's defaults to a controller's Pod template.
func PodTemplateSpec(t *corev1.PodTemplateSpec) {
	if t.Spec == nil {
		t.Spec = &corev1.PodSpec{}
	}
	PodSpec(t.Spec)
}

// PodSpec defaults restartPolicy to Always, dnsPolicy to ClusterFirst, securityContext to {},
// terminationGracePeriodSeconds to 30 and schedulerName to default-scheduler, keeps the
// deprecated serviceAccount equal to serviceAccountName (as Kubernetes' conversion does), then
// defaults every container and volume.
func PodSpec(spec *corev1.PodSpec) {
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = spec.ServiceAccount
	}
	spec.ServiceAccount = spec.ServiceAccountName
	if spec.DnsPolicy == "" {
		spec.DnsPolicy = "ClusterFirst"
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = "Always"
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = proto.Int64(DefaultTerminationGracePeriodSeconds)
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = DefaultSchedulerName
	}
	for _, c := range allContainers(spec) {
		Container(c)
	}
	for _, v := range spec.Volumes {
		if v != nil {
			Volume(v)
		}
	}
}

// Container defaults imagePullPolicy (Always for a ":latest" or untagged image, IfNotPresent
// otherwise), terminationMessagePath and terminationMessagePolicy, an empty resources, every
// port's protocol, the probes and lifecycle handlers, the apiVersion of env fieldRefs, and rewrites resource
// quantities in canonical form rounded up to milli-units.
func Container(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		if imageTag(c.Image) == "latest" {
			c.ImagePullPolicy = "Always"
		} else {
			c.ImagePullPolicy = "IfNotPresent"
		}
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = DefaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = "File"
	}
	if c.Resources == nil {
		// Kubernetes' resources is a struct, not a pointer: absent and {} are the same object,
		// and clients (kubectl rollout undo) send {}. Always present, templates compare and
		// hash the same whichever way they were written.
		c.Resources = &corev1.ResourceRequirements{}
	}
	for _, p := range c.Ports {
		if p != nil && p.Protocol == "" {
			p.Protocol = "TCP"
		}
	}
	for _, e := range c.Env {
		if f := e.GetValueFrom().GetFieldRef(); f != nil && f.ApiVersion == "" {
			f.ApiVersion = "v1"
		}
		if r := e.GetValueFrom().GetResourceFieldRef(); r != nil {
			r.Divisor = canonicalQuantity(r.Divisor)
		}
	}
	if c.Resources != nil {
		resourceList(c.Resources.Limits)
		resourceList(c.Resources.Requests)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil {
			Probe(p)
		}
	}
	if lc := c.Lifecycle; lc != nil {
		for _, h := range []*corev1.LifecycleHandler{lc.PostStart, lc.PreStop} {
			if h.GetHttpGet() != nil {
				httpGet(h.HttpGet)
			}
		}
	}
}

// Probe defaults timeoutSeconds to 1, periodSeconds to 10, successThreshold to 1,
// failureThreshold to 3, an httpGet's path to "/" and scheme to HTTP and a grpc service to "".
func Probe(p *corev1.Probe) {
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if p.HttpGet != nil {
		httpGet(p.HttpGet)
	}
	if p.Grpc != nil && p.Grpc.Service == nil {
		p.Grpc.Service = proto.String("")
	}
}

// Volume makes a volume without a source an emptyDir, defaults the defaultMode of configMap,
// secret and downwardAPI volumes to 0644 and a hostPath's type to "".
func Volume(v *corev1.Volume) {
	if v.HostPath == nil && v.EmptyDir == nil && v.ConfigMap == nil && v.Secret == nil &&
		v.PersistentVolumeClaim == nil && v.DownwardApi == nil {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if v.HostPath != nil && v.HostPath.Type == nil {
		v.HostPath.Type = proto.String("")
	}
	if v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil {
		v.EmptyDir.SizeLimit = proto.String(canonicalQuantity(*v.EmptyDir.SizeLimit))
	}
	if v.ConfigMap != nil && v.ConfigMap.DefaultMode == nil {
		v.ConfigMap.DefaultMode = proto.Int32(DefaultVolumeMode)
	}
	if v.Secret != nil && v.Secret.DefaultMode == nil {
		v.Secret.DefaultMode = proto.Int32(DefaultVolumeMode)
	}
	if d := v.DownwardApi; d != nil {
		if d.DefaultMode == nil {
			d.DefaultMode = proto.Int32(DefaultVolumeMode)
		}
		for _, it := range d.Items {
			if f := it.GetFieldRef(); f != nil && f.ApiVersion == "" {
				f.ApiVersion = "v1"
			}
		}
	}
}

func httpGet(h *corev1.HTTPGetAction) {
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = "HTTP"
	}
}

// allContainers returns the init containers then the app containers, skipping nil entries.
func allContainers(spec *corev1.PodSpec) []*corev1.Container {
	cs := make([]*corev1.Container, 0, len(spec.InitContainers)+len(spec.Containers))
	for _, c := range spec.InitContainers {
		if c != nil {
			cs = append(cs, c)
		}
	}
	for _, c := range spec.Containers {
		if c != nil {
			cs = append(cs, c)
		}
	}
	return cs
}

// requestsFromLimits sets the request of every resource the container limits but does not
// request to the limit.
func requestsFromLimits(c *corev1.Container) {
	if c.Resources == nil || len(c.Resources.Limits) == 0 {
		return
	}
	if c.Resources.Requests == nil {
		c.Resources.Requests = make(map[string]string, len(c.Resources.Limits))
	}
	for k, v := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[k]; !ok {
			c.Resources.Requests[k] = v
		}
	}
}

// resourceList rewrites every parsable quantity rounded up to milli-units in canonical form, as
// kube-apiserver stores it. Unparsable values are left for validation to reject.
func resourceList(rl map[string]string) {
	for k, v := range rl {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			continue
		}
		q.RoundUp(resource.Milli)
		rl[k] = q.String()
	}
}

// canonicalQuantity returns the canonical form of a parsable quantity and s itself otherwise.
func canonicalQuantity(s string) string {
	if s == "" {
		return s
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return s
	}
	return q.String()
}

// imageRef matches a container image reference: [domain/]path[:tag][@digest]. The path must be
// lower case; the domain is the first component when it holds a '.' or ':', is "localhost" or
// has upper-case letters (the rules of Docker's reference parser).
var (
	imagePathRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	imageTagRE  = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	digestRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$`)
	domainRE    = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$`)
)

// imageTag returns the tag of an image reference as Kubernetes' pull-policy defaulting sees it:
// "latest" when the reference has neither tag nor digest, "" when it has only a digest or does
// not parse.
func imageTag(image string) string {
	name, digest, hasDigest := strings.Cut(image, "@")
	if hasDigest && !digestRE.MatchString(digest) {
		return ""
	}
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
		if !imageTagRE.MatchString(tag) {
			return ""
		}
	}
	path := name
	if first, rest, ok := strings.Cut(name, "/"); ok &&
		(strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first) {
		if !domainRE.MatchString(first) {
			return ""
		}
		path = rest
	}
	if len(name) > 255 || !imagePathRE.MatchString(path) {
		return ""
	}
	if tag == "" && !hasDigest {
		return "latest"
	}
	return tag
}
