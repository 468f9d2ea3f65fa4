package defaults

import (
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Service defaults the type to ClusterIP, sessionAffinity to None (and a ClientIP affinity's
// timeout to 10800 s), every port's protocol to TCP and targetPort to its port,
// internalTrafficPolicy to Cluster, externalTrafficPolicy to Cluster for externally reachable
// Services and allocateLoadBalancerNodePorts to true for LoadBalancers. Like kube-apiserver's
// Service strategy it also keeps clusterIP and clusterIPs[0] in step when only one is given.
func Service(s *corev1.Service) {
	if s.Spec == nil {
		s.Spec = &corev1.ServiceSpec{}
	}
	spec := s.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = "None"
	}
	switch spec.SessionAffinity {
	case "None":
		spec.SessionAffinityConfig = nil
	case "ClientIP":
		if spec.GetSessionAffinityConfig().GetClientIp() == nil || spec.SessionAffinityConfig.ClientIp.TimeoutSeconds == nil {
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIp: &corev1.ClientIPConfig{TimeoutSeconds: proto.Int32(DefaultClientIPTimeoutSeconds)},
			}
		}
	}
	if spec.Type == "" {
		spec.Type = "ClusterIP"
	}
	for _, p := range spec.Ports {
		if p == nil {
			continue
		}
		if p.Protocol == "" {
			p.Protocol = "TCP"
		}
		if isZeroIntOrString(p.TargetPort) {
			p.TargetPort = structpb.NewNumberValue(float64(p.Port))
		}
	}
	if externallyAccessible(spec) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = "Cluster"
	}
	if spec.InternalTrafficPolicy == nil {
		switch spec.Type {
		case "ClusterIP", "NodePort", "LoadBalancer":
			spec.InternalTrafficPolicy = proto.String("Cluster")
		}
	}
	if spec.Type == "LoadBalancer" && spec.AllocateLoadBalancerNodePorts == nil {
		spec.AllocateLoadBalancerNodePorts = proto.Bool(true)
	}
	normalizeClusterIPs(spec)
}

// ServiceUpdate carries over from the stored Service what kube-apiserver keeps when an update
// leaves it empty: the allocated clusterIP and clusterIPs (with their ipFamilies and
// ipFamilyPolicy), nodePorts matched by port name, and healthCheckNodePort.
func ServiceUpdate(newSvc, oldSvc *corev1.Service) {
	ns, os := newSvc.GetSpec(), oldSvc.GetSpec()
	if ns == nil || os == nil {
		return
	}
	dropTypeDependentFields(ns, os)
	if ns.Type != "ExternalName" && os.Type != "ExternalName" {
		if ns.ClusterIp == "" && len(ns.ClusterIps) == 0 {
			ns.ClusterIp = os.ClusterIp
			ns.ClusterIps = slices.Clone(os.ClusterIps)
			if len(ns.IpFamilies) == 0 {
				ns.IpFamilies = slices.Clone(os.IpFamilies)
			}
			if ns.IpFamilyPolicy == nil && os.IpFamilyPolicy != nil {
				ns.IpFamilyPolicy = proto.String(*os.IpFamilyPolicy)
			}
		}
		normalizeClusterIPs(ns)
	}
	if needsNodePort(ns) && needsNodePort(os) {
		// As Kubernetes: an old node port the update names explicitly is not patched into
		// another port; ports that shared one (TCP and UDP 53) share it again.
		byName := map[string]int32{}
		held := map[int32]bool{}
		for _, p := range os.Ports {
			if p != nil {
				byName[p.Name] = p.NodePort
				held[p.NodePort] = true
			}
		}
		used := map[int32]bool{}
		for _, p := range ns.Ports {
			if np := p.GetNodePort(); np != 0 && held[np] {
				used[np] = true
			}
		}
		for _, p := range ns.Ports {
			if p == nil || p.NodePort != 0 {
				continue
			}
			if old := byName[p.Name]; old != 0 && !used[old] {
				p.NodePort = old
			}
		}
	}
	if ns.HealthCheckNodePort == 0 && needsHealthCheckNodePort(ns) && needsHealthCheckNodePort(os) {
		ns.HealthCheckNodePort = os.HealthCheckNodePort
	}
}

// dropTypeDependentFields clears, as kube-apiserver's Service strategy does, what an update
// to a type that has no use for it left unchanged from the stored Service (the apiserver then
// releases it): the cluster IPs and IP family fields of a Service turned ExternalName, the
// node ports of one turned ClusterIP or ExternalName when no new one is asked for, a
// healthCheckNodePort no longer needed, allocateLoadBalancerNodePorts off a LoadBalancer,
// externalTrafficPolicy off a Service no longer reachable from outside.
// What the user changed stays, for validation to judge.
func dropTypeDependentFields(ns, os *corev1.ServiceSpec) {
	if os.Type != "ExternalName" && ns.Type == "ExternalName" {
		if ns.ClusterIp == os.ClusterIp && slices.Equal(ns.ClusterIps, os.ClusterIps) {
			ns.ClusterIp, ns.ClusterIps = "", nil
		}
		if slices.Equal(ns.IpFamilies, os.IpFamilies) {
			ns.IpFamilies = nil
		}
		if ns.GetIpFamilyPolicy() == os.GetIpFamilyPolicy() {
			ns.IpFamilyPolicy = nil
		}
	}
	if needsNodePort(os) && !needsNodePort(ns) && sameNodePorts(os, ns) {
		for _, p := range ns.Ports {
			if p != nil {
				p.NodePort = 0
			}
		}
	}
	if needsHealthCheckNodePort(os) && !needsHealthCheckNodePort(ns) && ns.HealthCheckNodePort == os.HealthCheckNodePort {
		ns.HealthCheckNodePort = 0
	}
	if os.Type == "LoadBalancer" && ns.Type != "LoadBalancer" && ns.AllocateLoadBalancerNodePorts != nil &&
		os.AllocateLoadBalancerNodePorts != nil && *ns.AllocateLoadBalancerNodePorts == *os.AllocateLoadBalancerNodePorts {
		ns.AllocateLoadBalancerNodePorts = nil
	}
	if externallyAccessible(os) && !externallyAccessible(ns) && ns.ExternalTrafficPolicy == os.ExternalTrafficPolicy {
		ns.ExternalTrafficPolicy = ""
	}
}

// sameNodePorts reports whether the new spec asks for no node port the old one did not hold.
func sameNodePorts(os, ns *corev1.ServiceSpec) bool {
	held := map[int32]bool{}
	for _, p := range os.Ports {
		held[p.GetNodePort()] = true
	}
	for _, p := range ns.Ports {
		if np := p.GetNodePort(); np != 0 && !held[np] {
			return false
		}
	}
	return true
}

// normalizeClusterIPs makes clusterIP and clusterIPs[0] agree when only one of them is set.
func normalizeClusterIPs(spec *corev1.ServiceSpec) {
	if spec.Type == "ExternalName" {
		return
	}
	switch {
	case spec.ClusterIp != "" && len(spec.ClusterIps) == 0:
		spec.ClusterIps = []string{spec.ClusterIp}
	case spec.ClusterIp == "" && len(spec.ClusterIps) > 0:
		spec.ClusterIp = spec.ClusterIps[0]
	}
}

func externallyAccessible(spec *corev1.ServiceSpec) bool {
	return spec.Type == "LoadBalancer" || spec.Type == "NodePort" ||
		(spec.Type == "ClusterIP" && len(spec.ExternalIps) > 0)
}

func needsNodePort(spec *corev1.ServiceSpec) bool {
	return spec.Type == "NodePort" || spec.Type == "LoadBalancer"
}

func needsHealthCheckNodePort(spec *corev1.ServiceSpec) bool {
	return spec.Type == "LoadBalancer" && spec.ExternalTrafficPolicy == "Local"
}

// isZeroIntOrString tells whether an IntOrString is unset: absent, 0 or "".
func isZeroIntOrString(v *structpb.Value) bool {
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return true
	case *structpb.Value_NumberValue:
		return k.NumberValue == 0
	case *structpb.Value_StringValue:
		return k.StringValue == ""
	}
	return false
}

// isUnset tells whether an IntOrString is absent (missing or JSON null).
func isUnset(v *structpb.Value) bool {
	switch v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return true
	}
	return false
}

func percent(s string) *structpb.Value { return structpb.NewStringValue(s) }
