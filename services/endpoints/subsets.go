package endpoints

import (
	"net"

	"google.golang.org/protobuf/types/known/structpb"
	kv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Values Kubernetes' endpoints controller uses.
const (
	// ClusterIPNone is the clusterIP of a headless Service.
	ClusterIPNone = "None"
	// MaxCapacity is how many addresses one Endpoints holds at most; beyond it the controller
	// truncates the subsets and marks the object with AnnotationOverCapacity.
	MaxCapacity = 1000
	// LabelHeadless marks the Endpoints of a Service without a cluster IP.
	LabelHeadless = kv1.IsHeadlessService
	// AnnotationLastChangeTriggerTime is when the change that caused the last write happened.
	AnnotationLastChangeTriggerTime = kv1.EndpointsLastChangeTriggerTime
	// AnnotationOverCapacity is "truncated" when the Endpoints were cut down to MaxCapacity.
	AnnotationOverCapacity = kv1.EndpointsOverCapacity
	// AnnotationLeader marks the Endpoints old leader elections used; never deleted.
	AnnotationLeader = "control-plane.alpha.kubernetes.io/leader"
)

// desired is the Endpoints content a Service's Pods call for.
type desired struct {
	subsets         []kv1.EndpointSubset
	ready, notReady int
}

// desiredSubsets computes the subsets of svc's Endpoints from the Pods its selector matches,
// as Kubernetes' endpoints controller does: one address per Pod and port, grouped and sorted
// by repackSubsets. The subsets use Kubernetes' own types so that they sort exactly as
// Kubernetes sorts them.
func desiredSubsets(svc *corev1.Service, pods []*corev1.Pod) desired {
	spec := svc.GetSpec()
	var d desired
	var subsets []kv1.EndpointSubset
	for _, pod := range pods {
		if !podInEndpoints(pod, spec.GetPublishNotReadyAddresses()) {
			continue
		}
		addr, ok := podAddress(svc, pod)
		if !ok {
			continue // no IP of the Service's family
		}
		if shouldSetHostname(pod, svc) {
			addr.Hostname = pod.GetSpec().GetHostname()
		}
		ready := spec.GetPublishNotReadyAddresses() || podReady(pod)
		if len(spec.GetPorts()) == 0 {
			// A headless Service may have no ports: its Pods are listed without any.
			if spec.GetClusterIp() == ClusterIPNone {
				subsets = append(subsets, subset(addr, nil, ready))
				d.count(ready)
			}
			continue
		}
		for _, sp := range spec.GetPorts() {
			port, ok := findPort(pod, sp)
			if !ok {
				continue // the Pod lacks the named port: left out of this port's subset
			}
			ep := &kv1.EndpointPort{Name: sp.GetName(), Port: port, Protocol: kv1.Protocol(sp.GetProtocol()), AppProtocol: sp.AppProtocol}
			subsets = append(subsets, subset(addr, ep, ready))
			d.count(ready)
		}
	}
	d.subsets = repackSubsets(subsets)
	return d
}

func (d *desired) count(ready bool) {
	if ready {
		d.ready++
	} else {
		d.notReady++
	}
}

// subset is a subset of one address and at most one port.
func subset(addr kv1.EndpointAddress, port *kv1.EndpointPort, ready bool) kv1.EndpointSubset {
	ports := []kv1.EndpointPort{}
	if port != nil {
		ports = append(ports, *port)
	}
	if ready {
		return kv1.EndpointSubset{Addresses: []kv1.EndpointAddress{addr}, Ports: ports}
	}
	return kv1.EndpointSubset{NotReadyAddresses: []kv1.EndpointAddress{addr}, Ports: ports}
}

// podInEndpoints tells whether a Pod is listed at all: it must have an IP and not have
// finished (phase Succeeded or Failed), and, unless includeTerminating, not be terminating.
func podInEndpoints(pod *corev1.Pod, includeTerminating bool) bool {
	switch pod.GetStatus().GetPhase() {
	case "Succeeded", "Failed":
		return false
	}
	if pod.GetStatus().GetPodIp() == "" && len(pod.GetStatus().GetPodIps()) == 0 {
		return false
	}
	return includeTerminating || pod.GetMetadata().GetDeletionTimestamp() == nil
}

// podReady tells whether the Pod's Ready condition is True.
func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// shouldSetHostname tells whether the Pod's address carries its hostname: when it sets one
// and names the Service as its subdomain.
func shouldSetHostname(pod *corev1.Pod, svc *corev1.Service) bool {
	return pod.GetSpec().GetHostname() != "" &&
		pod.GetSpec().GetSubdomain() == svc.GetMetadata().GetName() &&
		pod.GetMetadata().GetNamespace() == svc.GetMetadata().GetNamespace()
}

// podAddress is the Pod's address in the Service's IP family: the Service's first
// ipFamilies entry, else its clusterIP's family, else (headless) the family of the Pod's IP.
func podAddress(svc *corev1.Service, pod *corev1.Pod) (kv1.EndpointAddress, bool) {
	spec, st := svc.GetSpec(), pod.GetStatus()
	var v6 bool
	switch {
	case len(spec.GetIpFamilies()) > 0:
		v6 = spec.GetIpFamilies()[0] == string(kv1.IPv6Protocol)
	case spec.GetClusterIp() != "" && spec.GetClusterIp() != ClusterIPNone:
		v6 = isIPv6(spec.GetClusterIp())
	default:
		v6 = isIPv6(st.GetPodIp())
	}
	ips := make([]string, 0, len(st.GetPodIps())+1)
	for _, ip := range st.GetPodIps() {
		ips = append(ips, ip.GetIp())
	}
	if len(ips) == 0 {
		ips = append(ips, st.GetPodIp())
	}
	md := pod.GetMetadata()
	for _, ip := range ips {
		if ip == "" || isIPv6(ip) != v6 {
			continue
		}
		addr := kv1.EndpointAddress{
			IP: ip,
			TargetRef: &kv1.ObjectReference{
				Kind: "Pod", Namespace: md.GetNamespace(), Name: md.GetName(), UID: types.UID(md.GetUid()),
			},
		}
		if n := pod.GetSpec().GetNodeName(); n != "" {
			addr.NodeName = &n
		}
		return addr, true
	}
	return kv1.EndpointAddress{}, false
}

func isIPv6(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.To4() == nil
}

// findPort resolves a Service port's targetPort on a Pod: a number as it is, a name through
// the Pod's containers' (and sidecars') ports of the same name and protocol.
func findPort(pod *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	var name string
	switch v := sp.GetTargetPort().GetKind().(type) {
	case *structpb.Value_NumberValue:
		if v.NumberValue > 0 {
			return int32(v.NumberValue), true
		}
	case *structpb.Value_StringValue:
		name = v.StringValue
	}
	if name == "" { // not defaulted: the targetPort is the port
		return sp.GetPort(), sp.GetPort() > 0
	}
	proto := orTCP(sp.GetProtocol())
	match := func(cs []*corev1.Container, sidecarsOnly bool) (int32, bool) {
		for _, c := range cs {
			if sidecarsOnly && c.GetRestartPolicy() != "Always" {
				continue
			}
			for _, p := range c.GetPorts() {
				if p.GetName() == name && orTCP(p.GetProtocol()) == proto {
					return p.GetContainerPort(), true
				}
			}
		}
		return 0, false
	}
	if port, ok := match(pod.GetSpec().GetContainers(), false); ok {
		return port, true
	}
	return match(pod.GetSpec().GetInitContainers(), true)
}

func orTCP(protocol string) string {
	if protocol == "" {
		return "TCP"
	}
	return protocol
}
