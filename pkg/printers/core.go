package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

func init() {
	handlers["Service"] = tableHandler{
		columns: []column{{name: "NAME"}, {name: "TYPE"}, {name: "CLUSTER-IP"}, {name: "EXTERNAL-IP"}, {name: "PORT(S)"}, {name: "AGE"}, {name: "SELECTOR", wide: true}},
		row:     serviceRow,
	}
	handlers["Node"] = tableHandler{
		columns: []column{
			{name: "NAME"}, {name: "STATUS"}, {name: "ROLES"}, {name: "AGE"}, {name: "VERSION"},
			{name: "INTERNAL-IP", wide: true}, {name: "EXTERNAL-IP", wide: true}, {name: "OS-IMAGE", wide: true},
			{name: "KERNEL-VERSION", wide: true}, {name: "CONTAINER-RUNTIME", wide: true},
		},
		row: nodeRow,
	}
	handlers["Namespace"] = tableHandler{
		columns: []column{{name: "NAME"}, {name: "STATUS"}, {name: "AGE"}},
		row: func(obj scheme.Object, now time.Time) []string {
			ns := obj.(*corev1.Namespace)
			return []string{ns.GetMetadata().GetName(), ns.GetStatus().GetPhase(), age(ns.GetMetadata().GetCreationTimestamp(), now)}
		},
	}
	handlers["ConfigMap"] = tableHandler{
		columns: []column{{name: "NAME"}, {name: "DATA"}, {name: "AGE"}},
		row: func(obj scheme.Object, now time.Time) []string {
			cm := obj.(*corev1.ConfigMap)
			n := len(cm.GetData()) + len(cm.GetBinaryData())
			return []string{cm.GetMetadata().GetName(), strconv.Itoa(n), age(cm.GetMetadata().GetCreationTimestamp(), now)}
		},
	}
	handlers["Secret"] = tableHandler{
		columns: []column{{name: "NAME"}, {name: "TYPE"}, {name: "DATA"}, {name: "AGE"}},
		row: func(obj scheme.Object, now time.Time) []string {
			s := obj.(*corev1.Secret)
			return []string{s.GetMetadata().GetName(), s.GetType(), strconv.Itoa(len(s.GetData())), age(s.GetMetadata().GetCreationTimestamp(), now)}
		},
	}
	handlers["Endpoints"] = tableHandler{
		columns: []column{{name: "NAME"}, {name: "ENDPOINTS"}, {name: "AGE"}},
		row: func(obj scheme.Object, now time.Time) []string {
			ep := obj.(*corev1.Endpoints)
			return []string{ep.GetMetadata().GetName(), formatEndpoints(ep), age(ep.GetMetadata().GetCreationTimestamp(), now)}
		},
	}
	handlers["Event"] = tableHandler{
		columns: []column{
			{name: "LAST SEEN"}, {name: "TYPE"}, {name: "REASON"}, {name: "OBJECT"},
			{name: "SUBOBJECT", wide: true}, {name: "SOURCE", wide: true}, {name: "MESSAGE"},
			{name: "FIRST SEEN", wide: true}, {name: "COUNT", wide: true}, {name: "NAME", wide: true},
		},
		row: eventRow,
	}
	handlers["Lease"] = tableHandler{
		columns: []column{{name: "NAME"}, {name: "HOLDER"}, {name: "AGE"}},
		row: func(obj scheme.Object, now time.Time) []string {
			l := obj.(*coordinationv1.Lease)
			return []string{l.GetMetadata().GetName(), l.GetSpec().GetHolderIdentity(), age(l.GetMetadata().GetCreationTimestamp(), now)}
		},
	}
}

func serviceRow(obj scheme.Object, now time.Time) []string {
	svc := obj.(*corev1.Service)
	spec := svc.GetSpec()
	clusterIP := spec.GetClusterIp()
	if ips := spec.GetClusterIps(); len(ips) > 0 {
		clusterIP = ips[0]
	}
	ports := servicePorts(spec.GetPorts())
	return []string{
		svc.GetMetadata().GetName(), spec.GetType(), orNone(clusterIP), serviceExternalIP(svc, false),
		orNone(ports), age(svc.GetMetadata().GetCreationTimestamp(), now), formatLabels(spec.GetSelector()),
	}
}

// servicePorts is the PORT(S) cell: "80/TCP,30080:8080/TCP" (port:nodePort/protocol).
func servicePorts(ports []*corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		if p.GetNodePort() > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.GetPort(), p.GetNodePort(), p.GetProtocol())
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.GetPort(), p.GetProtocol())
		}
	}
	return strings.Join(pieces, ",")
}

// serviceExternalIP is the EXTERNAL-IP cell, by kubectl's rules per Service type.
func serviceExternalIP(svc *corev1.Service, wide bool) string {
	spec := svc.GetSpec()
	switch spec.GetType() {
	case "ClusterIP", "NodePort", "":
		if len(spec.GetExternalIps()) > 0 {
			return strings.Join(spec.GetExternalIps(), ",")
		}
		return "<none>"
	case "LoadBalancer":
		var ingress []string
		for _, in := range svc.GetStatus().GetLoadBalancer().GetIngress() {
			if in.GetIp() != "" {
				ingress = append(ingress, in.GetIp())
			} else if in.GetHostname() != "" {
				ingress = append(ingress, in.GetHostname())
			}
		}
		lb := strings.Join(ingress, ",")
		if !wide && len(lb) > 16 {
			lb = lb[:13] + "..."
		}
		if len(spec.GetExternalIps()) > 0 {
			var all []string
			if lb != "" {
				all = append(all, strings.Split(lb, ",")...)
			}
			return strings.Join(append(all, spec.GetExternalIps()...), ",")
		}
		if lb != "" {
			return lb
		}
		return "<pending>"
	case "ExternalName":
		return spec.GetExternalName()
	}
	return "<unknown>"
}

func nodeRow(obj scheme.Object, now time.Time) []string {
	n := obj.(*corev1.Node)
	var status []string
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			if c.GetStatus() == "True" {
				status = append(status, "Ready")
			} else {
				status = append(status, "NotReady")
			}
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.GetSpec().GetUnschedulable() {
		status = append(status, "SchedulingDisabled")
	}
	info := n.GetStatus().GetNodeInfo()
	return []string{
		n.GetMetadata().GetName(), strings.Join(status, ","), orNone(strings.Join(nodeRoles(n.GetMetadata().GetLabels()), ",")),
		age(n.GetMetadata().GetCreationTimestamp(), now), info.GetKubeletVersion(),
		orNone(nodeAddress(n, "InternalIP")), orNone(nodeAddress(n, "ExternalIP")),
		orUnknown(info.GetOsImage()), orUnknown(info.GetKernelVersion()), orUnknown(info.GetContainerRuntimeVersion()),
	}
}

// nodeRoles are the roles kubectl reads from node-role.kubernetes.io/<role> labels and the
// kubernetes.io/role label, sorted.
func nodeRoles(labels map[string]string) []string {
	roles := map[string]bool{}
	for k, v := range labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles[r] = true
			}
		case k == "kubernetes.io/role" && v != "":
			roles[v] = true
		}
	}
	out := make([]string, 0, len(roles))
	for r := range roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func nodeAddress(n *corev1.Node, typ string) string {
	for _, a := range n.GetStatus().GetAddresses() {
		if a.GetType() == typ {
			return a.GetAddress()
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// formatEndpoints is the ENDPOINTS cell: the first three ip:port pairs, then "+ N more...".
func formatEndpoints(ep *corev1.Endpoints) string {
	const show = 3
	var list []string
	count := 0
	add := func(s string) {
		count++
		if len(list) < show {
			list = append(list, s)
		}
	}
	for _, ss := range ep.GetSubsets() {
		if len(ss.GetPorts()) == 0 {
			for _, a := range ss.GetAddresses() {
				add(a.GetIp())
			}
			continue
		}
		for _, p := range ss.GetPorts() {
			for _, a := range ss.GetAddresses() {
				add(net.JoinHostPort(a.GetIp(), strconv.Itoa(int(p.GetPort()))))
			}
		}
	}
	if len(list) == 0 {
		return "<none>"
	}
	s := strings.Join(list, ",")
	if count > show {
		s = fmt.Sprintf("%s + %d more...", s, count-show)
	}
	return s
}

func eventRow(obj scheme.Object, now time.Time) []string {
	e := obj.(*corev1.Event)
	first := age(e.GetFirstTimestamp(), now)
	if e.GetFirstTimestamp() == nil {
		first = age(e.GetEventTime(), now)
	}
	last := age(e.GetLastTimestamp(), now)
	if e.GetLastTimestamp() == nil {
		last = first
	}
	count := e.GetCount()
	if count == 0 {
		count = 1
	}
	io := e.GetInvolvedObject()
	target := strings.ToLower(io.GetKind())
	if io.GetName() != "" {
		target += "/" + io.GetName()
	}
	return []string{
		last, e.GetType(), e.GetReason(), target, io.GetFieldPath(),
		eventSource(e), strings.TrimSpace(e.GetMessage()), first, strconv.Itoa(int(count)), e.GetMetadata().GetName(),
	}
}

// eventSource is "component, host" of the component that reported the event.
func eventSource(e *corev1.Event) string {
	component := e.GetSource().GetComponent()
	if component == "" {
		component = e.GetReportingComponent()
	}
	host := e.GetSource().GetHost()
	if host == "" {
		host = e.GetReportingInstance()
	}
	switch {
	case component == "":
		return ""
	case host == "":
		return component
	}
	return component + ", " + host
}
