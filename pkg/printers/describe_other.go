package printers

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func init() {
	describers["Deployment"] = func(d *describer, o scheme.Object, rel Related) { d.deployment(o.(*appsv1.Deployment), rel) }
	describers["ReplicaSet"] = func(d *describer, o scheme.Object, rel Related) {
		rs := o.(*appsv1.ReplicaSet)
		d.replicated(rs.GetMetadata(), formatSelector(rs.GetSpec().GetSelector()), replicas(rs.GetSpec()), rs.GetStatus().GetReplicas(), rs.GetSpec().GetTemplate(), rel)
		d.conditions(len(rs.GetStatus().GetConditions()), func(add func(typ, status, reason string)) {
			for _, c := range rs.GetStatus().GetConditions() {
				add(c.GetType(), c.GetStatus(), c.GetReason())
			}
		})
	}
	describers["ReplicationController"] = func(d *describer, o scheme.Object, rel Related) {
		rc := o.(*corev1.ReplicationController)
		d.replicated(rc.GetMetadata(), formatLabels(rc.GetSpec().GetSelector()), replicas(rc.GetSpec()), rc.GetStatus().GetReplicas(), rc.GetSpec().GetTemplate(), rel)
		d.conditions(len(rc.GetStatus().GetConditions()), func(add func(typ, status, reason string)) {
			for _, c := range rc.GetStatus().GetConditions() {
				add(c.GetType(), c.GetStatus(), c.GetReason())
			}
		})
	}
	describers["Service"] = func(d *describer, o scheme.Object, rel Related) { d.service(o.(*corev1.Service), rel.Endpoints) }
	describers["Node"] = func(d *describer, o scheme.Object, rel Related) { d.node(o.(*corev1.Node), rel.Pods) }
	describers["Namespace"] = func(d *describer, o scheme.Object, _ Related) {
		ns := o.(*corev1.Namespace)
		d.line(0, "Name:\t%s", ns.GetMetadata().GetName())
		d.labels(0, "Labels", ns.GetMetadata().GetLabels())
		d.annotations(ns.GetMetadata().GetAnnotations())
		d.line(0, "Status:\t%s", ns.GetStatus().GetPhase())
		d.line(0, "")
		d.line(0, "No resource quota.")
		d.line(0, "")
		d.line(0, "No LimitRange resource.")
	}
	describers["ConfigMap"] = func(d *describer, o scheme.Object, _ Related) { d.configMap(o.(*corev1.ConfigMap)) }
	describers["Secret"] = func(d *describer, o scheme.Object, _ Related) { d.secret(o.(*corev1.Secret)) }
	describers["Endpoints"] = func(d *describer, o scheme.Object, _ Related) { d.endpoints(o.(*corev1.Endpoints)) }
	describers["Lease"] = func(d *describer, o scheme.Object, _ Related) {
		l := o.(*coordinationv1.Lease)
		d.objectMeta(l.GetMetadata(), true)
		s := l.GetSpec()
		d.line(0, "Holder Identity:\t%s", orNone(s.GetHolderIdentity()))
		d.line(0, "Lease Duration Seconds:\t%d", s.GetLeaseDurationSeconds())
		d.line(0, "Acquire Time:\t%s", date(s.GetAcquireTime()))
		d.line(0, "Renew Time:\t%s", date(s.GetRenewTime()))
		d.line(0, "Lease Transitions:\t%d", s.GetLeaseTransitions())
	}
	describers["Event"] = func(d *describer, o scheme.Object, _ Related) {
		e := o.(*corev1.Event)
		d.objectMeta(e.GetMetadata(), true)
		io := e.GetInvolvedObject()
		d.line(0, "Involved Object:")
		d.line(1, "Kind:\t%s", io.GetKind())
		d.line(1, "Name:\t%s", io.GetName())
		d.line(1, "Namespace:\t%s", io.GetNamespace())
		if io.GetFieldPath() != "" {
			d.line(1, "Field Path:\t%s", io.GetFieldPath())
		}
		d.line(0, "Type:\t%s", e.GetType())
		d.line(0, "Reason:\t%s", e.GetReason())
		d.line(0, "Message:\t%s", strings.TrimSpace(e.GetMessage()))
		d.line(0, "Source:\t%s", eventSource(e))
		d.line(0, "Count:\t%d", max(e.GetCount(), 1))
		d.line(0, "First Timestamp:\t%s", date(e.GetFirstTimestamp()))
		d.line(0, "Last Timestamp:\t%s", date(e.GetLastTimestamp()))
	}
}

func (d *describer) deployment(dep *appsv1.Deployment, rel Related) {
	md, spec, st := dep.GetMetadata(), dep.GetSpec(), dep.GetStatus()
	d.objectMeta(md, true)
	d.line(0, "Selector:\t%s", formatSelector(spec.GetSelector()))
	d.line(0, "Replicas:\t%d desired | %d updated | %d total | %d available | %d unavailable",
		replicas(spec), st.GetUpdatedReplicas(), st.GetReplicas(), st.GetAvailableReplicas(), st.GetUnavailableReplicas())
	strategy := spec.GetStrategy().GetType()
	if strategy == "" {
		strategy = "RollingUpdate"
	}
	d.line(0, "StrategyType:\t%s", strategy)
	d.line(0, "MinReadySeconds:\t%d", spec.GetMinReadySeconds())
	if ru := spec.GetStrategy().GetRollingUpdate(); ru != nil || strategy == "RollingUpdate" {
		unavailable, surge := intOrString(ru.GetMaxUnavailable()), intOrString(ru.GetMaxSurge())
		if unavailable == "" {
			unavailable = "25%"
		}
		if surge == "" {
			surge = "25%"
		}
		d.line(0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge", unavailable, surge)
	}
	d.podTemplate(spec.GetTemplate())
	d.conditions(len(st.GetConditions()), func(add func(typ, status, reason string)) {
		for _, c := range st.GetConditions() {
			add(c.GetType(), c.GetStatus(), c.GetReason())
		}
	})
	var newRS string
	var old []string
	for _, rs := range newestFirst(rel.ReplicaSets) {
		s := fmt.Sprintf("%s (%d/%d replicas created)", rs.GetMetadata().GetName(), rs.GetStatus().GetReplicas(), replicas(rs.GetSpec()))
		if newRS == "" && sameTemplate(rs.GetSpec().GetTemplate(), spec.GetTemplate()) {
			newRS = s
		} else if rs.GetStatus().GetReplicas() > 0 || replicas(rs.GetSpec()) > 0 {
			old = append(old, s)
		}
	}
	d.line(0, "OldReplicaSets:\t%s", orNone(strings.Join(old, ", ")))
	d.line(0, "NewReplicaSet:\t%s", orNone(newRS))
}

// newestFirst orders ReplicaSets by creation, newest first.
func newestFirst(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := append([]*appsv1.ReplicaSet(nil), rss...)
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].GetMetadata().GetCreationTimestamp().AsTime().After(out[j].GetMetadata().GetCreationTimestamp().AsTime())
	})
	return out
}

// sameTemplate tells whether a ReplicaSet's template is the Deployment's, ignoring the
// pod-template-hash label the controller adds.
func sameTemplate(rs, dep *corev1.PodTemplateSpec) bool {
	return rs.GetMetadata().GetLabels()["pod-template-hash"] != "" &&
		proto.Equal(rs.GetSpec(), dep.GetSpec()) &&
		withoutHash(rs.GetMetadata().GetLabels()) == formatLabels(dep.GetMetadata().GetLabels())
}

func withoutHash(m map[string]string) string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		if k != "pod-template-hash" {
			c[k] = v
		}
	}
	return formatLabels(c)
}

// replicated is the body of ReplicaSets and ReplicationControllers.
func (d *describer) replicated(md *metav1.ObjectMeta, selector string, desired, current int32, t *corev1.PodTemplateSpec, rel Related) {
	d.line(0, "Name:\t%s", md.GetName())
	d.line(0, "Namespace:\t%s", md.GetNamespace())
	d.line(0, "Selector:\t%s", selector)
	d.labels(0, "Labels", md.GetLabels())
	d.annotations(md.GetAnnotations())
	d.controlledBy(md)
	d.line(0, "Replicas:\t%d current / %d desired", current, desired)
	phases := map[string]int{}
	for _, p := range rel.Pods {
		phases[p.GetStatus().GetPhase()]++
	}
	d.line(0, "Pods Status:\t%d Running / %d Waiting / %d Succeeded / %d Failed", phases["Running"], phases["Pending"], phases["Succeeded"], phases["Failed"])
	d.podTemplate(t)
}

// conditions writes a Conditions table of Type, Status and Reason when there are any.
func (d *describer) conditions(n int, each func(add func(typ, status, reason string))) {
	if n == 0 {
		return
	}
	d.line(0, "Conditions:")
	d.line(1, "Type\tStatus\tReason")
	d.line(1, "----\t------\t------")
	each(func(typ, status, reason string) { d.line(1, "%s \t%s\t%s", typ, status, reason) })
}

func (d *describer) service(svc *corev1.Service, ep *corev1.Endpoints) {
	md, spec := svc.GetMetadata(), svc.GetSpec()
	d.line(0, "Name:\t%s", md.GetName())
	d.line(0, "Namespace:\t%s", md.GetNamespace())
	d.labels(0, "Labels", md.GetLabels())
	d.annotations(md.GetAnnotations())
	d.line(0, "Selector:\t%s", formatLabels(spec.GetSelector()))
	d.line(0, "Type:\t%s", spec.GetType())
	if spec.IpFamilyPolicy != nil {
		d.line(0, "IP Family Policy:\t%s", spec.GetIpFamilyPolicy())
	}
	if len(spec.GetIpFamilies()) > 0 {
		d.line(0, "IP Families:\t%s", strings.Join(spec.GetIpFamilies(), ","))
	}
	if spec.GetType() != "ExternalName" {
		d.line(0, "IP:\t%s", orNone(spec.GetClusterIp()))
		d.line(0, "IPs:\t%s", orNone(strings.Join(spec.GetClusterIps(), ",")))
	}
	if len(spec.GetExternalIps()) > 0 {
		d.line(0, "External IPs:\t%s", strings.Join(spec.GetExternalIps(), ","))
	}
	if spec.GetLoadBalancerIp() != "" {
		d.line(0, "IP:\t%s", spec.GetLoadBalancerIp())
	}
	if spec.GetType() == "ExternalName" {
		d.line(0, "External Name:\t%s", spec.GetExternalName())
	}
	var ingress []string
	for _, in := range svc.GetStatus().GetLoadBalancer().GetIngress() {
		if in.GetIp() != "" {
			ingress = append(ingress, in.GetIp())
		} else {
			ingress = append(ingress, in.GetHostname())
		}
	}
	if len(ingress) > 0 {
		d.line(0, "LoadBalancer Ingress:\t%s", strings.Join(ingress, ", "))
	}
	for _, p := range spec.GetPorts() {
		name := p.GetName()
		if name == "" {
			name = "<unset>"
		}
		d.line(0, "Port:\t%s\t%d/%s", name, p.GetPort(), p.GetProtocol())
		if tp := intOrString(p.GetTargetPort()); tp != "" {
			d.line(0, "TargetPort:\t%s/%s", tp, p.GetProtocol())
		} else {
			d.line(0, "TargetPort:\t%d/%s", p.GetPort(), p.GetProtocol())
		}
		if p.GetNodePort() != 0 {
			d.line(0, "NodePort:\t%s\t%d/%s", name, p.GetNodePort(), p.GetProtocol())
		}
		d.line(0, "Endpoints:\t%s", portEndpoints(ep, p.GetName()))
	}
	if len(spec.GetPorts()) == 0 {
		d.line(0, "Endpoints:\t%s", portEndpoints(ep, ""))
	}
	affinity := spec.GetSessionAffinity()
	if affinity == "" {
		affinity = "None"
	}
	d.line(0, "Session Affinity:\t%s", affinity)
	if spec.GetExternalTrafficPolicy() != "" {
		d.line(0, "External Traffic Policy:\t%s", spec.GetExternalTrafficPolicy())
	}
	if spec.InternalTrafficPolicy != nil {
		d.line(0, "Internal Traffic Policy:\t%s", spec.GetInternalTrafficPolicy())
	}
}

// portEndpoints lists the ready ip:port pairs behind the service port named name.
func portEndpoints(ep *corev1.Endpoints, name string) string {
	var list []string
	for _, ss := range ep.GetSubsets() {
		for _, p := range ss.GetPorts() {
			if p.GetName() != name {
				continue
			}
			for _, a := range ss.GetAddresses() {
				list = append(list, fmt.Sprintf("%s:%d", a.GetIp(), p.GetPort()))
			}
		}
	}
	return strings.Join(list, ",")
}

func (d *describer) node(n *corev1.Node, pods []*corev1.Pod) {
	md, spec, st := n.GetMetadata(), n.GetSpec(), n.GetStatus()
	d.line(0, "Name:\t%s", md.GetName())
	d.line(0, "Roles:\t%s", orNone(strings.Join(nodeRoles(md.GetLabels()), ",")))
	d.labels(0, "Labels", md.GetLabels())
	d.annotations(md.GetAnnotations())
	d.line(0, "CreationTimestamp:\t%s", date(md.GetCreationTimestamp()))
	var taints []string
	for _, t := range spec.GetTaints() {
		s := t.GetKey()
		if t.GetValue() != "" {
			s += "=" + t.GetValue()
		}
		taints = append(taints, s+":"+t.GetEffect())
	}
	d.list(0, "Taints", taints)
	d.line(0, "Unschedulable:\t%t", spec.GetUnschedulable())
	if len(st.GetConditions()) > 0 {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
		d.line(1, "----\t------\t-----------------\t------------------\t------\t-------")
		for _, c := range st.GetConditions() {
			d.line(1, "%s \t%s \t%s \t%s \t%s \t%s", c.GetType(), c.GetStatus(), date(c.GetLastHeartbeatTime()), date(c.GetLastTransitionTime()), c.GetReason(), c.GetMessage())
		}
	}
	d.line(0, "Addresses:")
	for _, a := range st.GetAddresses() {
		d.line(1, "%s:\t%s", a.GetType(), a.GetAddress())
	}
	for _, rl := range []struct {
		title string
		m     map[string]string
	}{{"Capacity", st.GetCapacity()}, {"Allocatable", st.GetAllocatable()}} {
		if len(rl.m) == 0 {
			continue
		}
		d.line(0, "%s:", rl.title)
		keys := make([]string, 0, len(rl.m))
		for k := range rl.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d.line(1, "%s:\t%s", k, rl.m[k])
		}
	}
	if info := st.GetNodeInfo(); info != nil {
		d.line(0, "System Info:")
		d.line(1, "Machine ID:\t%s", info.GetMachineId())
		d.line(1, "System UUID:\t%s", info.GetSystemUuid())
		d.line(1, "Boot ID:\t%s", info.GetBootId())
		d.line(1, "Kernel Version:\t%s", info.GetKernelVersion())
		d.line(1, "OS Image:\t%s", info.GetOsImage())
		d.line(1, "Operating System:\t%s", info.GetOperatingSystem())
		d.line(1, "Architecture:\t%s", info.GetArchitecture())
		d.line(1, "Container Runtime Version:\t%s", info.GetContainerRuntimeVersion())
		d.line(1, "Kubelet Version:\t%s", info.GetKubeletVersion())
	}
	if spec.GetPodCidr() != "" {
		d.line(0, "PodCIDR:\t%s", spec.GetPodCidr())
		d.line(0, "PodCIDRs:\t%s", strings.Join(spec.GetPodCidrs(), ","))
	}
	if pods == nil {
		return
	}
	d.flush()
	d.line(0, "Non-terminated Pods:\t(%d in total)", len(pods))
	d.line(1, "Namespace\tName\tAge")
	d.line(1, "---------\t----\t---")
	for _, p := range pods {
		d.line(1, "%s\t%s\t%s", p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(), age(p.GetMetadata().GetCreationTimestamp(), d.now))
	}
}

func (d *describer) configMap(cm *corev1.ConfigMap) {
	d.line(0, "Name:\t%s", cm.GetMetadata().GetName())
	d.line(0, "Namespace:\t%s", cm.GetMetadata().GetNamespace())
	d.labels(0, "Labels", cm.GetMetadata().GetLabels())
	d.annotations(cm.GetMetadata().GetAnnotations())
	d.flush()
	d.line(0, "")
	d.line(0, "Data")
	d.line(0, "====")
	for _, k := range sortedKeys(cm.GetData()) {
		d.line(0, "%s:", k)
		d.line(0, "----")
		d.line(0, "%s", cm.GetData()[k])
		d.line(0, "")
	}
	d.line(0, "")
	d.line(0, "BinaryData")
	d.line(0, "====")
	for _, k := range sortedKeys(cm.GetBinaryData()) {
		d.line(0, "%s: %d bytes", k, len(cm.GetBinaryData()[k]))
	}
	d.line(0, "")
}

func (d *describer) secret(s *corev1.Secret) {
	d.line(0, "Name:\t%s", s.GetMetadata().GetName())
	d.line(0, "Namespace:\t%s", s.GetMetadata().GetNamespace())
	d.labels(0, "Labels", s.GetMetadata().GetLabels())
	d.annotations(s.GetMetadata().GetAnnotations())
	d.line(0, "")
	d.line(0, "Type:\t%s", s.GetType())
	d.line(0, "")
	d.line(0, "Data")
	d.line(0, "====")
	for _, k := range sortedKeys(s.GetData()) {
		d.line(0, "%s:\t%d bytes", k, len(s.GetData()[k]))
	}
}

func (d *describer) endpoints(ep *corev1.Endpoints) {
	d.line(0, "Name:\t%s", ep.GetMetadata().GetName())
	d.line(0, "Namespace:\t%s", ep.GetMetadata().GetNamespace())
	d.labels(0, "Labels", ep.GetMetadata().GetLabels())
	d.annotations(ep.GetMetadata().GetAnnotations())
	d.line(0, "Subsets:")
	for _, ss := range ep.GetSubsets() {
		var ready, notReady []string
		for _, a := range ss.GetAddresses() {
			ready = append(ready, a.GetIp())
		}
		for _, a := range ss.GetNotReadyAddresses() {
			notReady = append(notReady, a.GetIp())
		}
		d.line(1, "Addresses:\t%s", orNone(strings.Join(ready, ",")))
		d.line(1, "NotReadyAddresses:\t%s", orNone(strings.Join(notReady, ",")))
		if len(ss.GetPorts()) == 0 {
			continue
		}
		d.line(1, "Ports:")
		d.line(2, "Name\tPort\tProtocol")
		d.line(2, "----\t----\t--------")
		for _, p := range ss.GetPorts() {
			name := p.GetName()
			if name == "" {
				name = "<unset>"
			}
			d.line(2, "%s\t%d\t%s", name, p.GetPort(), p.GetProtocol())
		}
		d.line(0, "")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
