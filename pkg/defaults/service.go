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
		used := map[int32]bool{}
		for _, p := range ns.Ports {
			if p.GetNodePort() != 0 {
				used[p.GetNodePort()] = true
			}
		}
		byName := map[string]int32{}
		for _, p := range os.Ports {
			if p != nil {
				byName[p.Name] = p.NodePort
			}
		}
		for _, p := range ns.Ports {
			if p == nil || p.NodePort != 0 {
				continue
			}
			if old := byName[p.Name]; old != 0 && !used[old] {
				p.NodePort = old
				used[old] = true
			}
		}
	}
	if ns.HealthCheckNodePort == 0 && needsHealthCheckNodePort(ns) && needsHealthCheckNodePort(os) {
		ns.HealthCheckNodePort = os.HealthCheckNodePort
	}
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
