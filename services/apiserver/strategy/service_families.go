package strategy

import (
	"fmt"
	"net/netip"
	"slices"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// The IP families and policies of Services. Berth's Service range is IPv4 only: a
// single-stack cluster in Kubernetes' terms.
const (
	ipv4             = "IPv4"
	ipv6             = "IPv6"
	singleStack      = "SingleStack"
	requireDualStack = "RequireDualStack"
)

// initIPFamilies fills in ipFamilyPolicy and ipFamilies as kube-apiserver does on a
// single-stack IPv4 cluster, and refuses what such a cluster cannot serve (IPv6, required
// dual-stack). old is nil on create.
func initIPFamilies(svc, old *corev1.Service) error {
	spec := svc.Spec
	if spec.Type == "ExternalName" {
		return nil
	}
	headlessNoSelector := spec.ClusterIp == "None" && len(spec.Selector) == 0
	if spec.IpFamilyPolicy == nil {
		switch {
		case old.GetSpec().GetIpFamilyPolicy() != "":
			spec.IpFamilyPolicy = strPtr(old.Spec.GetIpFamilyPolicy())
		case headlessNoSelector:
			spec.IpFamilyPolicy = strPtr(requireDualStack)
		default:
			spec.IpFamilyPolicy = strPtr(singleStack)
		}
	}
	policy := *spec.IpFamilyPolicy
	policyPath := field.NewPath("spec", "ipFamilyPolicy")
	var errs field.ErrorList
	if old != nil {
		if policy == singleStack {
			// Clear intent to drop the secondary IP and family.
			if slices.Equal(old.GetSpec().GetClusterIps(), spec.ClusterIps) && len(spec.ClusterIps) > 1 {
				spec.ClusterIps = spec.ClusterIps[:1]
			}
			if slices.Equal(old.GetSpec().GetIpFamilies(), spec.IpFamilies) && len(spec.IpFamilies) > 1 {
				spec.IpFamilies = spec.IpFamilies[:1]
			}
		} else {
			if len(spec.ClusterIps) < len(old.GetSpec().GetClusterIps()) {
				errs = append(errs, field.Invalid(policyPath, policy, "must be 'SingleStack' to release the secondary cluster IP"))
			}
			if len(spec.IpFamilies) < len(old.GetSpec().GetIpFamilies()) {
				errs = append(errs, field.Invalid(policyPath, policy, "must be 'SingleStack' to release the secondary IP family"))
			}
		}
	}
	if policy == singleStack {
		if len(spec.ClusterIps) == 2 {
			errs = append(errs, field.Invalid(policyPath, policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
		}
		if len(spec.IpFamilies) == 2 {
			errs = append(errs, field.Invalid(policyPath, policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
		}
	}
	for i, ip := range spec.ClusterIps {
		if ip == "None" {
			break
		}
		if i < len(spec.IpFamilies) {
			continue
		}
		if fam := familyOf(ip); fam != ipv4 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIPs").Index(i), spec.ClusterIps, fmt.Sprintf("%s is not configured on this cluster", fam)))
		} else {
			spec.IpFamilies = append(spec.IpFamilies, fam)
		}
	}
	if len(errs) > 0 {
		return kerrors.NewInvalid(serviceKind, svc.GetMetadata().GetName(), errs)
	}
	if headlessNoSelector {
		// A headless Service without selector may name families the cluster lacks.
		if len(spec.IpFamilies) == 0 {
			spec.IpFamilies = []string{ipv4}
		}
		if len(spec.IpFamilies) < 2 && policy != singleStack {
			if spec.IpFamilies[0] == ipv4 {
				spec.IpFamilies = append(spec.IpFamilies, ipv6)
			} else {
				spec.IpFamilies = append(spec.IpFamilies, ipv4)
			}
		}
		return nil
	}
	if policy == requireDualStack {
		errs = append(errs, field.Invalid(policyPath, policy, "this cluster is not configured for dual-stack services"))
	}
	for i, fam := range spec.IpFamilies {
		if fam != ipv4 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilies").Index(i), fam, "not configured on this cluster"))
		}
	}
	if len(errs) > 0 {
		return kerrors.NewInvalid(serviceKind, svc.GetMetadata().GetName(), errs)
	}
	if len(spec.IpFamilies) == 0 {
		spec.IpFamilies = []string{ipv4}
	}
	return nil
}

func familyOf(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		return ipv6
	}
	return ipv4
}

func strPtr(s string) *string { return &s }
