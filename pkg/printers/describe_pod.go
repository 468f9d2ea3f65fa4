package printers

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

func init() {
	describers["Pod"] = func(d *describer, obj scheme.Object, _ Related) { d.pod(obj.(*corev1.Pod)) }
}

func (d *describer) pod(p *corev1.Pod) {
	md, spec, st := p.GetMetadata(), p.GetSpec(), p.GetStatus()
	d.line(0, "Name:\t%s", md.GetName())
	d.line(0, "Namespace:\t%s", md.GetNamespace())
	if spec.Priority != nil {
		d.line(0, "Priority:\t%d", spec.GetPriority())
	}
	if spec.GetPriorityClassName() != "" {
		d.line(0, "Priority Class Name:\t%s", spec.GetPriorityClassName())
	}
	if spec.GetServiceAccountName() != "" {
		d.line(0, "Service Account:\t%s", spec.GetServiceAccountName())
	}
	if spec.GetNodeName() == "" {
		d.line(0, "Node:\t<none>")
	} else {
		d.line(0, "Node:\t%s/%s", spec.GetNodeName(), st.GetHostIp())
	}
	if st.GetStartTime() != nil {
		d.line(0, "Start Time:\t%s", date(st.GetStartTime()))
	}
	d.labels(0, "Labels", md.GetLabels())
	d.annotations(md.GetAnnotations())
	if md.GetDeletionTimestamp() != nil && st.GetPhase() != "Failed" && st.GetPhase() != "Succeeded" {
		d.line(0, "Status:\tTerminating (lasts %s)", age(md.GetDeletionTimestamp(), d.now))
		d.line(0, "Termination Grace Period:\t%ds", md.GetDeletionGracePeriodSeconds())
	} else {
		d.line(0, "Status:\t%s", st.GetPhase())
	}
	if st.GetReason() != "" {
		d.line(0, "Reason:\t%s", st.GetReason())
	}
	if st.GetMessage() != "" {
		d.line(0, "Message:\t%s", st.GetMessage())
	}
	d.line(0, "IP:\t%s", st.GetPodIp())
	if len(st.GetPodIps()) == 0 {
		d.line(0, "IPs:\t<none>")
	} else {
		d.line(0, "IPs:")
		for _, ip := range st.GetPodIps() {
			d.line(1, "IP:\t%s", ip.GetIp())
		}
	}
	d.controlledBy(md)
	if st.GetNominatedNodeName() != "" {
		d.line(0, "NominatedNodeName:\t%s", st.GetNominatedNodeName())
	}
	if len(spec.GetInitContainers()) > 0 {
		d.containers("Init Containers", "", spec.GetInitContainers(), st.GetInitContainerStatuses())
	}
	d.containers("Containers", "", spec.GetContainers(), st.GetContainerStatuses())
	if len(st.GetConditions()) > 0 {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus")
		for _, c := range st.GetConditions() {
			d.line(1, "%s \t%s ", c.GetType(), c.GetStatus())
		}
	}
	d.volumes("", spec.GetVolumes())
	qos := st.GetQosClass()
	if qos == "" {
		qos = QOSClass(spec)
	}
	d.line(0, "QoS Class:\t%s", qos)
	d.labels(0, "Node-Selectors", spec.GetNodeSelector())
	d.tolerations("", spec.GetTolerations())
}

// podTemplate writes a workload's "Pod Template:" section.
func (d *describer) podTemplate(t *corev1.PodTemplateSpec) {
	d.line(0, "Pod Template:")
	if t == nil {
		d.line(1, "<unset>")
		return
	}
	d.labels(1, "Labels", t.GetMetadata().GetLabels())
	if len(t.GetMetadata().GetAnnotations()) > 0 {
		d.pairs(1, "Annotations", t.GetMetadata().GetAnnotations(), ": ", nil)
	}
	spec := t.GetSpec()
	if spec.GetServiceAccountName() != "" {
		d.line(1, "Service Account:\t%s", spec.GetServiceAccountName())
	}
	if len(spec.GetInitContainers()) > 0 {
		d.containers("Init Containers", "  ", spec.GetInitContainers(), nil)
	}
	d.containers("Containers", "  ", spec.GetContainers(), nil)
	d.volumes("  ", spec.GetVolumes())
	if len(spec.GetNodeSelector()) > 0 {
		d.labels(1, "Node-Selectors", spec.GetNodeSelector())
	}
	if len(spec.GetTolerations()) > 0 {
		d.tolerations("  ", spec.GetTolerations())
	}
}

// containers writes a Containers section; space is the extra indentation kubectl uses inside
// a Pod Template.
func (d *describer) containers(title, space string, cs []*corev1.Container, statuses []*corev1.ContainerStatus) {
	byName := map[string]*corev1.ContainerStatus{}
	for _, s := range statuses {
		byName[s.GetName()] = s
	}
	nameIndent := ""
	if space != "" {
		nameIndent = " "
	}
	d.line(0, "%s%s:", space, title)
	for _, c := range cs {
		s, ok := byName[c.GetName()]
		d.line(1, "%s%s:", nameIndent, c.GetName())
		if ok {
			d.line(2, "Container ID:\t%s", s.GetContainerId())
		}
		d.line(2, "Image:\t%s", c.GetImage())
		if ok {
			d.line(2, "Image ID:\t%s", s.GetImageId())
		}
		var ports, hostPorts []string
		for _, p := range c.GetPorts() {
			ports = append(ports, fmt.Sprintf("%d/%s", p.GetContainerPort(), p.GetProtocol()))
			hostPorts = append(hostPorts, fmt.Sprintf("%d/%s", p.GetHostPort(), p.GetProtocol()))
		}
		if len(ports) > 1 {
			d.line(2, "Ports:\t%s", strings.Join(ports, ", "))
			d.line(2, "Host Ports:\t%s", strings.Join(hostPorts, ", "))
		} else {
			d.line(2, "Port:\t%s", orNone(strings.Join(ports, "")))
			d.line(2, "Host Port:\t%s", orNone(strings.Join(hostPorts, "")))
		}
		d.multiline("Command", c.GetCommand())
		d.multiline("Args", c.GetArgs())
		if ok {
			d.state("State", s.GetState())
			if s.GetLastState().GetTerminated() != nil {
				d.state("Last State", s.GetLastState())
			}
			d.line(2, "Ready:\t%s", boolString(s.GetReady()))
			d.line(2, "Restart Count:\t%d", s.GetRestartCount())
		}
		d.resources("Limits", c.GetResources().GetLimits())
		d.resources("Requests", c.GetResources().GetRequests())
		for _, pr := range []struct {
			name  string
			probe *corev1.Probe
		}{{"Liveness", c.GetLivenessProbe()}, {"Readiness", c.GetReadinessProbe()}, {"Startup", c.GetStartupProbe()}} {
			if pr.probe != nil {
				d.line(2, "%s:\t%s", pr.name, describeProbe(pr.probe))
			}
		}
		d.env(c)
		d.mounts(c.GetVolumeMounts())
	}
}

func (d *describer) multiline(title string, vals []string) {
	if len(vals) == 0 {
		return
	}
	d.line(2, "%s:", title)
	for _, v := range vals {
		for _, s := range strings.Split(v, "\n") {
			d.line(3, "%s", s)
		}
	}
}

func (d *describer) state(title string, s *corev1.ContainerState) {
	switch {
	case s.GetRunning() != nil:
		d.line(2, "%s:\tRunning", title)
		d.line(3, "Started:\t%s", date(s.GetRunning().GetStartedAt()))
	case s.GetTerminated() != nil:
		t := s.GetTerminated()
		d.line(2, "%s:\tTerminated", title)
		if t.GetReason() != "" {
			d.line(3, "Reason:\t%s", t.GetReason())
		}
		if t.GetMessage() != "" {
			d.line(3, "Message:\t%s", t.GetMessage())
		}
		d.line(3, "Exit Code:\t%d", t.GetExitCode())
		if t.GetSignal() > 0 {
			d.line(3, "Signal:\t%d", t.GetSignal())
		}
		d.line(3, "Started:\t%s", date(t.GetStartedAt()))
		d.line(3, "Finished:\t%s", date(t.GetFinishedAt()))
	default:
		d.line(2, "%s:\tWaiting", title)
		if r := s.GetWaiting().GetReason(); r != "" {
			d.line(3, "Reason:\t%s", r)
		}
	}
}

func (d *describer) resources(title string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	d.line(2, "%s:", title)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.line(3, "%s:\t%s", k, m[k])
	}
}

func (d *describer) env(c *corev1.Container) {
	if len(c.GetEnvFrom()) > 0 {
		d.line(2, "Environment Variables from:")
		for _, e := range c.GetEnvFrom() {
			kind, name, optional := "ConfigMap", e.GetConfigMapRef().GetName(), e.GetConfigMapRef().GetOptional()
			if e.GetSecretRef() != nil {
				kind, name, optional = "Secret", e.GetSecretRef().GetName(), e.GetSecretRef().GetOptional()
			}
			prefix := ""
			if e.GetPrefix() != "" {
				prefix = fmt.Sprintf(" with prefix '%s'", e.GetPrefix())
			}
			d.line(3, "%s\t%s%s\tOptional: %t", name, kind, prefix, optional)
		}
	}
	if len(c.GetEnv()) == 0 {
		d.line(2, "Environment:\t<none>")
		return
	}
	d.line(2, "Environment:")
	for _, e := range c.GetEnv() {
		vf := e.GetValueFrom()
		switch {
		case vf == nil:
			for i, s := range strings.Split(e.GetValue(), "\n") {
				if i == 0 {
					d.line(3, "%s:\t%s", e.GetName(), s)
				} else {
					d.line(3, "\t%s", s)
				}
			}
		case vf.GetFieldRef() != nil:
			d.line(3, "%s:\t (%s:%s)", e.GetName(), vf.GetFieldRef().GetApiVersion(), vf.GetFieldRef().GetFieldPath())
		case vf.GetResourceFieldRef() != nil:
			d.line(3, "%s:\t (%s)", e.GetName(), vf.GetResourceFieldRef().GetResource())
		case vf.GetSecretKeyRef() != nil:
			r := vf.GetSecretKeyRef()
			d.line(3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %t", e.GetName(), r.GetKey(), r.GetName(), r.GetOptional())
		case vf.GetConfigMapKeyRef() != nil:
			r := vf.GetConfigMapKeyRef()
			d.line(3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %t", e.GetName(), r.GetKey(), r.GetName(), r.GetOptional())
		}
	}
}

func (d *describer) mounts(ms []*corev1.VolumeMount) {
	if len(ms) == 0 {
		d.line(2, "Mounts:\t<none>")
		return
	}
	d.line(2, "Mounts:")
	sorted := append([]*corev1.VolumeMount(nil), ms...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].GetMountPath() < sorted[j].GetMountPath() })
	for _, m := range sorted {
		flags := []string{"rw"}
		if m.GetReadOnly() {
			flags[0] = "ro"
		}
		if m.GetSubPath() != "" {
			flags = append(flags, fmt.Sprintf("path=%q", m.GetSubPath()))
		}
		d.line(3, "%s from %s (%s)", m.GetMountPath(), m.GetName(), strings.Join(flags, ","))
	}
}

func (d *describer) volumes(space string, vs []*corev1.Volume) {
	if len(vs) == 0 {
		d.line(0, "%sVolumes:\t<none>", space)
		return
	}
	d.line(0, "%sVolumes:", space)
	nameIndent := ""
	if space != "" {
		nameIndent = " "
	}
	for _, v := range vs {
		d.line(1, "%s%s:", nameIndent, v.GetName())
		switch {
		case v.GetHostPath() != nil:
			d.line(2, "Type:\tHostPath (bare host directory volume)")
			d.line(2, "Path:\t%s", v.GetHostPath().GetPath())
			d.line(2, "HostPathType:\t%s", v.GetHostPath().GetType())
		case v.GetEmptyDir() != nil:
			d.line(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
			d.line(2, "Medium:\t%s", v.GetEmptyDir().GetMedium())
			limit := "<unset>"
			if v.GetEmptyDir().SizeLimit != nil {
				limit = v.GetEmptyDir().GetSizeLimit()
			}
			d.line(2, "SizeLimit:\t%s", limit)
		case v.GetConfigMap() != nil:
			d.line(2, "Type:\tConfigMap (a volume populated by a ConfigMap)")
			d.line(2, "Name:\t%s", v.GetConfigMap().GetName())
			d.line(2, "Optional:\t%t", v.GetConfigMap().GetOptional())
		case v.GetSecret() != nil:
			d.line(2, "Type:\tSecret (a volume populated by a Secret)")
			d.line(2, "SecretName:\t%s", v.GetSecret().GetSecretName())
			d.line(2, "Optional:\t%t", v.GetSecret().GetOptional())
		case v.GetPersistentVolumeClaim() != nil:
			d.line(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)")
			d.line(2, "ClaimName:\t%s", v.GetPersistentVolumeClaim().GetClaimName())
			d.line(2, "ReadOnly:\t%t", v.GetPersistentVolumeClaim().GetReadOnly())
		case v.GetDownwardApi() != nil:
			d.line(2, "Type:\tDownwardAPI (a volume populated by information about the pod)")
			d.line(2, "Items:")
			for _, it := range v.GetDownwardApi().GetItems() {
				src := it.GetFieldRef().GetFieldPath()
				if it.GetResourceFieldRef() != nil {
					src = it.GetResourceFieldRef().GetResource()
				}
				d.line(3, "%s -> %s", src, it.GetPath())
			}
		default:
			d.line(2, "<unknown>")
		}
	}
}

func (d *describer) tolerations(space string, ts []*corev1.Toleration) {
	var lines []string
	for _, t := range ts {
		s := t.GetKey()
		if t.GetValue() != "" {
			s += "=" + t.GetValue()
		}
		if t.GetEffect() != "" {
			s += ":" + t.GetEffect()
		}
		if t.GetOperator() != "" {
			s += " op=" + t.GetOperator()
		}
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" for %ds", t.GetTolerationSeconds())
		}
		lines = append(lines, s)
	}
	d.list(0, space+"Tolerations", lines)
}

// describeProbe is a probe in one line: "http-get http://:8080/healthz delay=0s timeout=1s
// period=10s #success=1 #failure=3".
func describeProbe(p *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		p.GetInitialDelaySeconds(), p.GetTimeoutSeconds(), p.GetPeriodSeconds(), p.GetSuccessThreshold(), p.GetFailureThreshold())
	switch {
	case p.GetExec() != nil:
		return fmt.Sprintf("exec %v %s", p.GetExec().GetCommand(), attrs)
	case p.GetHttpGet() != nil:
		h := p.GetHttpGet()
		scheme := strings.ToLower(h.GetScheme())
		if scheme == "" {
			scheme = "http"
		}
		u := url.URL{Scheme: scheme, Host: h.GetHost(), Path: h.GetPath()}
		if port := intOrString(h.GetPort()); port != "" {
			u.Host = net.JoinHostPort(h.GetHost(), port)
		}
		return fmt.Sprintf("http-get %s %s", u.String(), attrs)
	case p.GetTcpSocket() != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", p.GetTcpSocket().GetHost(), intOrString(p.GetTcpSocket().GetPort()), attrs)
	case p.GetGrpc() != nil:
		return fmt.Sprintf("grpc <pod>:%d %s %s", p.GetGrpc().GetPort(), p.GetGrpc().GetService(), attrs)
	}
	return "unknown " + attrs
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// QOSClass is the Pod's quality-of-service class as Kubernetes computes it from requests and
// limits: Guaranteed (every container limits cpu and memory, requests equal to limits),
// BestEffort (no container requests or limits anything), else Burstable.
func QOSClass(spec *corev1.PodSpec) string {
	cs := append(append([]*corev1.Container(nil), spec.GetInitContainers()...), spec.GetContainers()...)
	anySet, guaranteed := false, true
	for _, c := range cs {
		req, lim := c.GetResources().GetRequests(), c.GetResources().GetLimits()
		for _, name := range []string{"cpu", "memory"} {
			r, hasReq := req[name]
			l, hasLim := lim[name]
			if hasReq && !zeroQuantity(r) || hasLim && !zeroQuantity(l) {
				anySet = true
			}
			if !hasLim || (hasReq && !equalQuantity(r, l)) {
				guaranteed = false
			}
		}
	}
	switch {
	case !anySet:
		return "BestEffort"
	case guaranteed && len(cs) > 0:
		return "Guaranteed"
	}
	return "Burstable"
}

func zeroQuantity(s string) bool {
	q, err := resource.ParseQuantity(s)
	return err == nil && q.IsZero()
}

func equalQuantity(a, b string) bool {
	qa, err1 := resource.ParseQuantity(a)
	qb, err2 := resource.ParseQuantity(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return qa.Cmp(qb) == 0
}
