package endpoints

import (
	kv1 "k8s.io/api/core/v1"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// toProto converts subsets computed with Kubernetes' types to Berth's messages.
func toProto(subsets []kv1.EndpointSubset) []*corev1.EndpointSubset {
	if len(subsets) == 0 {
		return nil
	}
	out := make([]*corev1.EndpointSubset, len(subsets))
	for i, ss := range subsets {
		p := &corev1.EndpointSubset{
			Addresses:         addressesToProto(ss.Addresses),
			NotReadyAddresses: addressesToProto(ss.NotReadyAddresses),
		}
		for _, port := range ss.Ports {
			p.Ports = append(p.Ports, &corev1.EndpointPort{
				Name: port.Name, Port: port.Port, Protocol: string(port.Protocol), AppProtocol: clone(port.AppProtocol),
			})
		}
		out[i] = p
	}
	return out
}

func addressesToProto(as []kv1.EndpointAddress) []*corev1.EndpointAddress {
	if len(as) == 0 {
		return nil
	}
	out := make([]*corev1.EndpointAddress, len(as))
	for i, a := range as {
		p := &corev1.EndpointAddress{Ip: a.IP, Hostname: a.Hostname, NodeName: clone(a.NodeName)}
		if r := a.TargetRef; r != nil {
			p.TargetRef = &corev1.ObjectReference{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Uid: string(r.UID)}
		}
		out[i] = p
	}
	return out
}

// clone copies an optional string, so that no message shares one with another (or with an
// informer's cache).
func clone(s *string) *string {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}
