package validation

import (
	"fmt"
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// maxClientIPAffinitySeconds is the longest ClientIP session affinity (one day).
const maxClientIPAffinitySeconds = 86400

// Service validates a Service being created.
func Service(s *corev1.Service) field.ErrorList {
	errs := ObjectMeta(s.GetMetadata(), true, NameIsDNS1035Label, metadataPath)
	return append(errs, serviceSpec(s.GetSpec(), specPath)...)
}

// ServiceUpdate validates a Service update: the new Service as on create, metadata
// immutability, and a clusterIP that does not change once set (a secondary clusterIP may be
// added or, with ipFamilyPolicy SingleStack, released).
func ServiceUpdate(newSvc, oldSvc *corev1.Service) field.ErrorList {
	errs := ObjectMetaUpdate(newSvc.GetMetadata(), oldSvc.GetMetadata(), metadataPath)
	errs = append(errs, serviceSpec(newSvc.GetSpec(), specPath)...)
	return append(errs, clusterIPsUpdate(newSvc.GetSpec(), oldSvc.GetSpec(), specPath)...)
}

func serviceSpec(spec *corev1.ServiceSpec, fldPath *field.Path) field.ErrorList {
	if spec == nil {
		spec = &corev1.ServiceSpec{}
	}
	var errs field.ErrorList
	ips := clusterIPs(spec)
	headless := len(ips) > 0 && ips[0] == "None"
	if len(spec.Ports) == 0 && !headless && spec.Type != "ExternalName" {
		errs = append(errs, field.Required(fldPath.Child("ports"), ""))
	}
	switch spec.Type {
	case "LoadBalancer", "NodePort":
		if headless {
			errs = append(errs, field.Invalid(fldPath.Child("clusterIPs").Index(0), "None", fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
		}
	case "ExternalName":
		if spec.ClusterIp != "" {
			errs = append(errs, field.Forbidden(fldPath.Child("clusterIP"), "may not be set for ExternalName services"))
		}
		if len(spec.ClusterIps) > 0 {
			errs = append(errs, field.Forbidden(fldPath.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if cname := strings.TrimSuffix(spec.ExternalName, "."); cname != "" {
			errs = append(errs, dnsSubdomain(cname, fldPath.Child("externalName"))...)
		} else {
			errs = append(errs, field.Required(fldPath.Child("externalName"), ""))
		}
	}
	names := map[string]bool{}
	portKeys := map[string]bool{}
	nodePortKeys := map[string]bool{}
	for i, sp := range spec.Ports {
		p := fldPath.Child("ports").Index(i)
		errs = append(errs, servicePort(sp, len(spec.Ports) > 1, names, p)...)
		if spec.Type == "ClusterIP" && sp.GetNodePort() != 0 {
			errs = append(errs, field.Forbidden(p.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
		}
		if np := sp.GetNodePort(); np != 0 {
			key := fmt.Sprintf("%d/%s", np, sp.GetProtocol())
			if nodePortKeys[key] {
				errs = append(errs, field.Duplicate(p.Child("nodePort"), np))
			}
			nodePortKeys[key] = true
		}
		key := fmt.Sprintf("%d/%s", sp.GetPort(), sp.GetProtocol())
		if portKeys[key] {
			errs = append(errs, field.Duplicate(p, key))
		}
		portKeys[key] = true
	}
	errs = append(errs, Labels(spec.Selector, fldPath.Child("selector"))...)
	errs = append(errs, enum(spec.SessionAffinity, fldPath.Child("sessionAffinity"), "ClientIP", "None")...)
	switch spec.SessionAffinity {
	case "ClientIP":
		errs = append(errs, clientIPAffinity(spec.SessionAffinityConfig, fldPath.Child("sessionAffinityConfig"))...)
	case "None":
		if spec.SessionAffinityConfig != nil {
			errs = append(errs, field.Forbidden(fldPath.Child("sessionAffinityConfig"), "must not be set when session affinity is None"))
		}
	}
	if spec.Type != "ExternalName" {
		errs = append(errs, clusterIPFields(spec, fldPath)...)
	}
	for i, ip := range spec.ExternalIps {
		errs = append(errs, nonSpecialIP(ip, fldPath.Child("externalIPs").Index(i))...)
	}
	errs = append(errs, enum(spec.Type, fldPath.Child("type"), "ClusterIP", "ExternalName", "LoadBalancer", "NodePort")...)
	if spec.LoadBalancerIp != "" {
		errs = append(errs, validation.IsValidIP(fldPath.Child("loadBalancerIP"), spec.LoadBalancerIp)...)
	}
	errs = append(errs, trafficPolicies(spec, fldPath)...)
	if spec.Type == "LoadBalancer" {
		if spec.AllocateLoadBalancerNodePorts == nil {
			errs = append(errs, field.Required(fldPath.Child("allocateLoadBalancerNodePorts"), ""))
		}
	} else if spec.AllocateLoadBalancerNodePorts != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	return errs
}

// clusterIPs returns a Service's cluster IPs, from clusterIPs or, if the list is empty, clusterIP.
func clusterIPs(spec *corev1.ServiceSpec) []string {
	if len(spec.GetClusterIps()) > 0 {
		return spec.ClusterIps
	}
	if spec.GetClusterIp() != "" {
		return []string{spec.ClusterIp}
	}
	return nil
}

func servicePort(sp *corev1.ServicePort, requireName bool, names map[string]bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch name := sp.GetName(); {
	case name == "" && requireName:
		errs = append(errs, field.Required(fldPath.Child("name"), ""))
	case name != "":
		errs = append(errs, dnsLabel(name, fldPath.Child("name"))...)
		if names[name] {
			errs = append(errs, field.Duplicate(fldPath.Child("name"), name))
		}
		names[name] = true
	}
	errs = append(errs, msgs(validation.IsValidPortNum(int(sp.GetPort())), fldPath.Child("port"), sp.GetPort())...)
	errs = append(errs, enum(sp.GetProtocol(), fldPath.Child("protocol"), protocols...)...)
	errs = append(errs, portNumOrName(sp.GetTargetPort(), fldPath.Child("targetPort"))...)
	if sp.GetNodePort() != 0 {
		errs = append(errs, msgs(validation.IsValidPortNum(int(sp.GetNodePort())), fldPath.Child("nodePort"), sp.GetNodePort())...)
	}
	if sp.AppProtocol != nil {
		errs = append(errs, qualifiedName(*sp.AppProtocol, fldPath.Child("appProtocol"))...)
	}
	return errs
}

func clientIPAffinity(c *corev1.SessionAffinityConfig, fldPath *field.Path) field.ErrorList {
	const detail = "when session affinity type is ClientIP"
	switch {
	case c == nil:
		return field.ErrorList{field.Required(fldPath, detail)}
	case c.ClientIp == nil:
		return field.ErrorList{field.Required(fldPath.Child("clientIP"), detail)}
	case c.ClientIp.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(fldPath.Child("clientIP", "timeoutSeconds"), detail)}
	}
	if t := *c.ClientIp.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
		return field.ErrorList{field.Invalid(fldPath.Child("clientIP", "timeoutSeconds"), t, fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds))}
	}
	return nil
}

// clusterIPFields checks clusterIP(s) ("" to be allocated, "None" for a headless Service, or
// IPs, at most one per family), ipFamilies and ipFamilyPolicy.
func clusterIPFields(spec *corev1.ServiceSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	ipsPath := fldPath.Child("clusterIPs")
	if spec.ClusterIp != "" {
		if len(spec.ClusterIps) == 0 {
			errs = append(errs, field.Required(ipsPath, ""))
		} else if spec.ClusterIps[0] != spec.ClusterIp {
			errs = append(errs, field.Invalid(ipsPath, spec.ClusterIps, "first value must match `clusterIP`"))
		}
	} else if len(spec.ClusterIps) != 0 {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIps, "must be empty when `clusterIP` is not specified"))
	}
	seen := map[string]bool{}
	for i, f := range spec.IpFamilies {
		p := fldPath.Child("ipFamilies").Index(i)
		errs = append(errs, oneOf(f, p, "IPv4", "IPv6")...)
		if seen[f] {
			errs = append(errs, field.Duplicate(p, f))
		}
		seen[f] = true
	}
	if spec.IpFamilyPolicy != nil {
		errs = append(errs, oneOf(*spec.IpFamilyPolicy, fldPath.Child("ipFamilyPolicy"), "PreferDualStack", "RequireDualStack", "SingleStack")...)
	}
	invalid := false
	for i, ip := range spec.ClusterIps {
		if i == 0 && ip == "None" {
			if len(spec.ClusterIps) > 1 {
				invalid = true
				errs = append(errs, field.Invalid(ipsPath, spec.ClusterIps, "'None' must be the first and only value"))
			}
			continue
		}
		if ipErrs := validation.IsValidIP(ipsPath.Index(i), ip); len(ipErrs) > 0 {
			invalid = true
			errs = append(errs, ipErrs...)
		}
	}
	if len(spec.ClusterIps) > 2 {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIps, "may only hold up to 2 values"))
		return errs
	}
	if invalid {
		return errs
	}
	if len(spec.ClusterIps) == 2 && isIPv6(spec.ClusterIps[0]) == isIPv6(spec.ClusterIps[1]) {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIps, "may specify no more than one IP for each IP family"))
	}
	if len(spec.ClusterIps) > 0 && spec.ClusterIps[0] != "None" {
		for i, ip := range spec.ClusterIps {
			if i >= len(spec.IpFamilies) {
				break
			}
			if want := spec.IpFamilies[i]; (want == "IPv4" && isIPv6(ip)) || (want == "IPv6" && !isIPv6(ip)) {
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%d]`", want, i)))
			}
		}
	}
	return errs
}

func isIPv6(ip string) bool {
	p := net.ParseIP(ip)
	return p != nil && p.To4() == nil
}

// trafficPolicies checks externalTrafficPolicy (only, and then required, on externally
// reachable Services), healthCheckNodePort (only for LoadBalancers with policy Local; its
// allocation is the apiserver's) and internalTrafficPolicy.
func trafficPolicies(spec *corev1.ServiceSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	external := spec.Type == "LoadBalancer" || spec.Type == "NodePort" || (spec.Type == "ClusterIP" && len(spec.ExternalIps) > 0)
	if !external {
		if spec.ExternalTrafficPolicy != "" {
			errs = append(errs, field.Invalid(fldPath.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
		}
	} else {
		errs = append(errs, enum(spec.ExternalTrafficPolicy, fldPath.Child("externalTrafficPolicy"), "Cluster", "Local")...)
	}
	if hc := spec.HealthCheckNodePort; hc != 0 {
		if spec.Type != "LoadBalancer" || spec.ExternalTrafficPolicy != "Local" {
			errs = append(errs, field.Invalid(fldPath.Child("healthCheckNodePort"), hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		} else {
			errs = append(errs, msgs(validation.IsValidPortNum(int(hc)), fldPath.Child("healthCheckNodePort"), hc)...)
		}
	}
	p := fldPath.Child("internalTrafficPolicy")
	if spec.InternalTrafficPolicy == nil {
		switch spec.Type {
		case "ClusterIP", "NodePort", "LoadBalancer":
			errs = append(errs, field.Required(p, ""))
		}
	} else {
		errs = append(errs, oneOf(*spec.InternalTrafficPolicy, p, "Cluster", "Local")...)
	}
	return errs
}

// clusterIPsUpdate: the primary cluster IP may not change once set, except to or from an
// ExternalName Service; the secondary may be added, or released with policy SingleStack.
func clusterIPsUpdate(n, o *corev1.ServiceSpec, fldPath *field.Path) field.ErrorList {
	if n.GetType() == "ExternalName" || o.GetType() == "ExternalName" {
		return nil
	}
	newIPs, oldIPs := clusterIPs(n), clusterIPs(o)
	newHeadless := len(newIPs) > 0 && newIPs[0] == "None"
	oldHeadless := len(oldIPs) > 0 && oldIPs[0] == "None"
	if newHeadless && oldHeadless {
		return nil
	}
	p := fldPath.Child("clusterIPs")
	var errs field.ErrorList
	switch {
	case len(oldIPs) == len(newIPs):
		for i, ip := range oldIPs {
			if ip != newIPs[i] {
				errs = append(errs, field.Invalid(p.Index(i), newIPs, "may not change once set"))
			}
		}
	case len(oldIPs) > len(newIPs):
		if len(newIPs) == 0 {
			errs = append(errs, field.Invalid(p.Index(0), newIPs, "primary clusterIP can not be unset"))
		} else if newIPs[0] != oldIPs[0] {
			errs = append(errs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
		}
		if len(newIPs) == 1 && n.GetIpFamilyPolicy() != "SingleStack" {
			errs = append(errs, field.Invalid(p.Index(0), newIPs, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"))
		}
	default:
		if len(oldIPs) > 0 && newIPs[0] != oldIPs[0] {
			errs = append(errs, field.Invalid(p.Index(0), newIPs, "may not change once set"))
		}
	}
	return errs
}

// nonSpecialIP requires an IP that is not unspecified, loopback or link-local.
func nonSpecialIP(addr string, fldPath *field.Path) field.ErrorList {
	ip := net.ParseIP(addr)
	if ip == nil {
		return validation.IsValidIP(fldPath, addr)
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(fldPath, addr, fmt.Sprintf("may not be unspecified (%v)", addr)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(fldPath, addr, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(fldPath, addr, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(fldPath, addr, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

// Endpoints validates Endpoints being created.
func Endpoints(e *corev1.Endpoints) field.ErrorList {
	errs := ObjectMeta(e.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, endpointSubsets(e.GetSubsets(), field.NewPath("subsets"))...)
}

// EndpointsUpdate validates an Endpoints update.
func EndpointsUpdate(newEp, oldEp *corev1.Endpoints) field.ErrorList {
	errs := ObjectMetaUpdate(newEp.GetMetadata(), oldEp.GetMetadata(), metadataPath)
	return append(errs, endpointSubsets(newEp.GetSubsets(), field.NewPath("subsets"))...)
}

func endpointSubsets(subsets []*corev1.EndpointSubset, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ss := range subsets {
		p := fldPath.Index(i)
		if len(ss.GetAddresses()) == 0 && len(ss.GetNotReadyAddresses()) == 0 {
			errs = append(errs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j, a := range ss.GetAddresses() {
			errs = append(errs, endpointAddress(a, p.Child("addresses").Index(j))...)
		}
		for j, a := range ss.GetNotReadyAddresses() {
			errs = append(errs, endpointAddress(a, p.Child("notReadyAddresses").Index(j))...)
		}
		names := map[string]bool{}
		for j, port := range ss.GetPorts() {
			pp := p.Child("ports").Index(j)
			switch name := port.GetName(); {
			case name == "" && len(ss.GetPorts()) > 1:
				errs = append(errs, field.Required(pp.Child("name"), ""))
			case name != "":
				errs = append(errs, dnsLabel(name, pp.Child("name"))...)
				if names[name] {
					errs = append(errs, field.Duplicate(pp.Child("name"), name))
				}
				names[name] = true
			}
			errs = append(errs, msgs(validation.IsValidPortNum(int(port.GetPort())), pp.Child("port"), port.GetPort())...)
			errs = append(errs, enum(port.GetProtocol(), pp.Child("protocol"), protocols...)...)
			if port.AppProtocol != nil {
				errs = append(errs, qualifiedName(*port.AppProtocol, pp.Child("appProtocol"))...)
			}
		}
	}
	return errs
}

func endpointAddress(a *corev1.EndpointAddress, fldPath *field.Path) field.ErrorList {
	errs := nonSpecialIP(a.GetIp(), fldPath.Child("ip"))
	if a.GetHostname() != "" {
		errs = append(errs, dnsLabel(a.GetHostname(), fldPath.Child("hostname"))...)
	}
	if a.NodeName != nil {
		errs = append(errs, nameRef(*a.NodeName, NameIsDNSSubdomain, fldPath.Child("nodeName"))...)
	}
	return errs
}
