package validation

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var specPath = field.NewPath("spec")

// Pod validates a Pod being created.
func Pod(p *corev1.Pod) field.ErrorList {
	errs := ObjectMeta(p.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, podSpec(p.GetSpec(), specPath, true)...)
}

// PodSpec validates the spec of a Pod or of a Pod template at fldPath.
func PodSpec(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	return podSpec(spec, fldPath, false)
}

// PodTemplateSpec validates a controller's Pod template at fldPath: its labels, annotations and
// spec. Like Kubernetes it reports the template's labels at fldPath.labels.
func PodTemplateSpec(t *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	md := t.GetMetadata()
	if md == nil {
		md = &metav1.ObjectMeta{}
	}
	errs := Labels(md.Labels, fldPath.Child("labels"))
	errs = append(errs, Annotations(md.Annotations, fldPath.Child("annotations"))...)
	return append(errs, podSpec(t.GetSpec(), fldPath.Child("spec"), false)...)
}

// podSpec validates a PodSpec; isPod adds the checks Kubernetes makes on Pods but not on
// templates.
func podSpec(spec *corev1.PodSpec, fldPath *field.Path, isPod bool) field.ErrorList {
	if spec == nil {
		spec = &corev1.PodSpec{}
	}
	var errs field.ErrorList
	vols, verrs := volumes(spec.Volumes, fldPath.Child("volumes"))
	errs = append(errs, verrs...)
	grace := spec.GetTerminationGracePeriodSeconds()
	if spec.TerminationGracePeriodSeconds == nil {
		grace = 30
	}
	errs = append(errs, containers(spec.Containers, vols, grace, fldPath.Child("containers"), isPod)...)
	errs = append(errs, initContainers(spec.InitContainers, spec.Containers, vols, fldPath.Child("initContainers"), isPod)...)
	errs = append(errs, enum(spec.RestartPolicy, fldPath.Child("restartPolicy"), "Always", "OnFailure", "Never")...)
	errs = append(errs, enum(spec.DnsPolicy, fldPath.Child("dnsPolicy"), "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")...)
	errs = append(errs, Labels(spec.NodeSelector, fldPath.Child("nodeSelector"))...)
	errs = append(errs, podSecurityContext(spec.SecurityContext, fldPath.Child("securityContext"))...)
	errs = append(errs, affinity(spec.Affinity, fldPath.Child("affinity"))...)
	errs = append(errs, dnsConfig(spec.DnsConfig, spec.DnsPolicy, fldPath.Child("dnsConfig"))...)
	errs = append(errs, topologySpreadConstraints(spec.TopologySpreadConstraints, fldPath.Child("topologySpreadConstraints"))...)
	if spec.ServiceAccountName != "" {
		errs = append(errs, nameRef(spec.ServiceAccountName, NameIsDNSSubdomain, fldPath.Child("serviceAccountName"))...)
	}
	if spec.NodeName != "" {
		errs = append(errs, nameRef(spec.NodeName, NameIsDNSSubdomain, fldPath.Child("nodeName"))...)
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, int64Range(*spec.ActiveDeadlineSeconds, 1, maxInt32, fldPath.Child("activeDeadlineSeconds"))...)
	}
	if spec.TerminationGracePeriodSeconds != nil {
		errs = append(errs, nonNegative(*spec.TerminationGracePeriodSeconds, fldPath.Child("terminationGracePeriodSeconds"))...)
	}
	if spec.Hostname != "" {
		errs = append(errs, dnsLabel(spec.Hostname, fldPath.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, dnsLabel(spec.Subdomain, fldPath.Child("subdomain"))...)
	}
	errs = append(errs, tolerations(spec.Tolerations, fldPath.Child("tolerations"))...)
	errs = append(errs, hostAliases(spec.HostAliases, fldPath.Child("hostAliases"))...)
	if spec.PriorityClassName != "" {
		errs = append(errs, nameRef(spec.PriorityClassName, NameIsDNSSubdomain, fldPath.Child("priorityClassName"))...)
	}
	if spec.RuntimeClassName != "" {
		errs = append(errs, nameRef(spec.RuntimeClassName, NameIsDNSSubdomain, fldPath.Child("runtimeClassName"))...)
	}
	if spec.PreemptionPolicy != "" {
		errs = append(errs, enum(spec.PreemptionPolicy, fldPath.Child("preemptionPolicy"), "PreemptLowerPriority", "Never")...)
	}
	return append(errs, unsupportedPodSpec(spec, fldPath)...)
}

// enum reports an empty value as Required and one outside valid as NotSupported.
func enum(value string, fldPath *field.Path, valid ...string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	for _, v := range valid {
		if value == v {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, value, valid)}
}

func podSecurityContext(sc *corev1.PodSecurityContext, fldPath *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.RunAsUser != nil {
		errs = append(errs, msgs(validation.IsValidUserID(*sc.RunAsUser), fldPath.Child("runAsUser"), *sc.RunAsUser)...)
	}
	if sc.RunAsGroup != nil {
		errs = append(errs, msgs(validation.IsValidGroupID(*sc.RunAsGroup), fldPath.Child("runAsGroup"), *sc.RunAsGroup)...)
	}
	if sc.FsGroup != nil {
		errs = append(errs, msgs(validation.IsValidGroupID(*sc.FsGroup), fldPath.Child("fsGroup"), *sc.FsGroup)...)
	}
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, msgs(validation.IsValidGroupID(g), fldPath.Child("supplementalGroups").Index(i), g)...)
	}
	errs = append(errs, sysctls(sc.Sysctls, fldPath.Child("sysctls"))...)
	return errs
}

// msgs turns the messages of an apimachinery check into Invalid errors.
func msgs(ms []string, fldPath *field.Path, value any) field.ErrorList {
	var errs field.ErrorList
	for _, m := range ms {
		errs = append(errs, field.Invalid(fldPath, value, m))
	}
	return errs
}

const (
	sysctlSegmentFmt = `[a-z0-9]([-_a-z0-9]*[a-z0-9])?`
	sysctlFmt        = `(` + sysctlSegmentFmt + `[\./])*` + sysctlSegmentFmt
	sysctlMaxLength  = 253
)

var sysctlRE = regexp.MustCompile("^" + sysctlFmt + "$")

func sysctls(ss []*corev1.Sysctl, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, s := range ss {
		p := fldPath.Index(i).Child("name")
		name := s.GetName()
		switch {
		case name == "":
			errs = append(errs, field.Required(p, ""))
		case len(name) > sysctlMaxLength || !sysctlRE.MatchString(name):
			errs = append(errs, field.Invalid(p, name, fmt.Sprintf("must have at most %d characters and match regex %s", sysctlMaxLength, sysctlFmt)))
		case seen[name]:
			errs = append(errs, field.Duplicate(p, name))
		}
		seen[name] = true
	}
	return errs
}

const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
)

func dnsConfig(c *corev1.PodDNSConfig, policy string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if policy == "None" {
		if c == nil {
			return field.ErrorList{field.Required(fldPath, "must provide `dnsConfig` when `dnsPolicy` is None")}
		}
		if len(c.Nameservers) == 0 {
			errs = append(errs, field.Required(fldPath.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
		}
	}
	if c == nil {
		return errs
	}
	if len(c.Nameservers) > maxDNSNameservers {
		errs = append(errs, field.Invalid(fldPath.Child("nameservers"), strings.Join(c.Nameservers, " "), fmt.Sprintf("must not have more than %d nameservers", maxDNSNameservers)))
	}
	for i, ns := range c.Nameservers {
		errs = append(errs, validation.IsValidIP(fldPath.Child("nameservers").Index(i), ns)...)
	}
	if len(c.Searches) > maxDNSSearchPaths {
		errs = append(errs, field.Invalid(fldPath.Child("searches"), strings.Join(c.Searches, " "), fmt.Sprintf("must not have more than %d search paths", maxDNSSearchPaths)))
	}
	if n := len(strings.Join(c.Searches, " ")); n > maxDNSSearchListChars {
		errs = append(errs, field.Invalid(fldPath.Child("searches"), strings.Join(c.Searches, " "), fmt.Sprintf("must not have more than %d characters (including spaces) in the search list", maxDNSSearchListChars)))
	}
	for i, s := range c.Searches {
		// A search path may be fully qualified, with a trailing dot.
		errs = append(errs, dnsSubdomain(strings.TrimSuffix(s, "."), fldPath.Child("searches").Index(i))...)
	}
	for i, o := range c.Options {
		if o.GetName() == "" {
			errs = append(errs, field.Required(fldPath.Child("options").Index(i), "must not be empty"))
		}
	}
	return errs
}

func hostAliases(has []*corev1.HostAlias, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ha := range has {
		p := fldPath.Index(i)
		errs = append(errs, validation.IsValidIP(p.Child("ip"), ha.GetIp())...)
		for j, h := range ha.GetHostnames() {
			errs = append(errs, dnsSubdomain(h, p.Child("hostnames").Index(j))...)
		}
	}
	return errs
}
