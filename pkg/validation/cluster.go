package validation

import (
	"fmt"
	"slices"
	"strings"

	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// standardFinalizers are the finalizer names that need no domain.
var standardFinalizers = map[string]bool{"kubernetes": true, "orphan": true, "foregroundDeletion": true}

// Namespace validates a Namespace being created: a DNS-1123 label name and finalizers that are
// standard ("kubernetes") or domain-qualified.
func Namespace(ns *corev1.Namespace) field.ErrorList {
	errs := ObjectMeta(ns.GetMetadata(), false, NameIsDNSLabel, metadataPath)
	return append(errs, namespaceSpec(ns)...)
}

// NamespaceUpdate validates a Namespace update.
func NamespaceUpdate(newNS, oldNS *corev1.Namespace) field.ErrorList {
	errs := ObjectMetaUpdate(newNS.GetMetadata(), oldNS.GetMetadata(), metadataPath)
	return append(errs, namespaceSpec(newNS)...)
}

func namespaceSpec(ns *corev1.Namespace) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "finalizers")
	for _, f := range ns.GetSpec().GetFinalizers() {
		errs = append(errs, qualifiedName(f, p)...)
		if !strings.Contains(f, "/") && !standardFinalizers[f] {
			errs = append(errs, field.Invalid(p, f, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// Node validates a Node being created: name, podCIDR(s), taints (key, value, effect, unique by
// key and effect) and the quantities of capacity and allocatable.
func Node(n *corev1.Node) field.ErrorList {
	errs := ObjectMeta(n.GetMetadata(), false, NameIsDNSSubdomain, metadataPath)
	return append(errs, nodeBody(n)...)
}

// NodeUpdate validates a Node update: podCIDR(s) and providerID may only be set once.
func NodeUpdate(newNode, oldNode *corev1.Node) field.ErrorList {
	errs := ObjectMetaUpdate(newNode.GetMetadata(), oldNode.GetMetadata(), metadataPath)
	errs = append(errs, nodeBody(newNode)...)
	ns, os := newNode.GetSpec(), oldNode.GetSpec()
	if len(os.GetPodCidrs()) > 0 && !slices.Equal(ns.GetPodCidrs(), os.GetPodCidrs()) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	} else if os.GetPodCidr() != "" && ns.GetPodCidr() != os.GetPodCidr() {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if os.GetProviderId() != "" && ns.GetProviderId() != os.GetProviderId() {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

func nodeBody(n *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	spec := n.GetSpec()
	sp := field.NewPath("spec")
	if spec.GetPodCidr() != "" {
		errs = append(errs, validation.IsValidCIDR(sp.Child("podCIDR"), spec.GetPodCidr())...)
		if len(spec.GetPodCidrs()) > 0 && spec.GetPodCidrs()[0] != spec.GetPodCidr() {
			errs = append(errs, field.Invalid(sp.Child("podCIDRs"), spec.GetPodCidrs(), "first value must match `podCIDR`"))
		}
	}
	for i, c := range spec.GetPodCidrs() {
		errs = append(errs, validation.IsValidCIDR(sp.Child("podCIDRs").Index(i), c)...)
	}
	if len(spec.GetPodCidrs()) > 2 {
		errs = append(errs, field.Invalid(sp.Child("podCIDRs"), spec.GetPodCidrs(), "may specify no more than one CIDR for each IP family"))
	}
	errs = append(errs, Taints(spec.GetTaints(), sp.Child("taints"))...)
	st := n.GetStatus()
	for _, k := range sortedKeys(st.GetCapacity()) {
		p := field.NewPath("status", "capacity").Key(k)
		errs = append(errs, nodeResourceName(k, p)...)
		errs = append(errs, ResourceQuantity(k, st.Capacity[k], p)...)
	}
	for _, k := range sortedKeys(st.GetAllocatable()) {
		p := field.NewPath("status", "allocatable").Key(k)
		errs = append(errs, nodeResourceName(k, p)...)
		errs = append(errs, ResourceQuantity(k, st.Allocatable[k], p)...)
	}
	return errs
}

// Taints validates a Node's taints: a label-name key, a label-value value, an effect
// (NoSchedule, PreferNoSchedule, NoExecute) and no two taints with the same key and effect.
func Taints(ts []*corev1.Taint, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, t := range ts {
		p := fldPath.Index(i)
		errs = append(errs, metavalidation.ValidateLabelName(t.GetKey(), p.Child("key"))...)
		if ms := validation.IsValidLabelValue(t.GetValue()); len(ms) > 0 {
			errs = append(errs, field.Invalid(p.Child("value"), t.GetValue(), strings.Join(ms, ";")))
		}
		errs = append(errs, enum(t.GetEffect(), p.Child("effect"), taintEffects...)...)
		key := t.GetEffect() + "\x00" + t.GetKey()
		if seen[key] {
			e := field.Duplicate(p, fmt.Sprintf("%s:%s", t.GetKey(), t.GetEffect()))
			e.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, e)
		}
		seen[key] = true
	}
	return errs
}

// Event length limits, as Kubernetes has them.
const (
	eventReasonMaxLength    = 128
	eventActionMaxLength    = 128
	eventInstanceMaxLength  = 128
	eventMessageMaxLength   = 1024
	eventReportingComponent = "reportingComponent"
)

// Event validates an Event being created: the involved object's namespace matches the Event's,
// and an Event with an eventTime (a "new" Event) names its reporting component and instance,
// action and reason, within Kubernetes' length limits.
func Event(e *corev1.Event) field.ErrorList {
	errs := ObjectMeta(e.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, eventBody(e)...)
}

// EventUpdate validates an Event update: the involved object may not change.
func EventUpdate(newEv, oldEv *corev1.Event) field.ErrorList {
	errs := ObjectMetaUpdate(newEv.GetMetadata(), oldEv.GetMetadata(), metadataPath)
	errs = append(errs, eventBody(newEv)...)
	if !equalMessages(newEv.GetInvolvedObject(), oldEv.GetInvolvedObject()) {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject"), describeRef(newEv.GetInvolvedObject()), fieldImmutableMsg))
	}
	return errs
}

func describeRef(r *corev1.ObjectReference) string {
	return fmt.Sprintf("%s %s/%s", r.GetKind(), r.GetNamespace(), r.GetName())
}

func eventBody(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	ns := e.GetMetadata().GetNamespace()
	io := e.GetInvolvedObject()
	ioNS := field.NewPath("involvedObject", "namespace")
	if e.GetEventTime() == nil {
		if io.GetNamespace() == "" {
			if ns != "" && ns != "default" {
				errs = append(errs, field.Invalid(ioNS, io.GetNamespace(), "does not match event.namespace"))
			}
		} else if ns != io.GetNamespace() {
			errs = append(errs, field.Invalid(ioNS, io.GetNamespace(), "does not match event.namespace"))
		}
		return errs
	}
	if io.GetNamespace() == "" && ns != "default" && ns != "kube-system" {
		errs = append(errs, field.Invalid(ioNS, io.GetNamespace(), "does not match event.namespace"))
	}
	rc := field.NewPath(eventReportingComponent)
	if e.GetReportingComponent() == "" {
		errs = append(errs, field.Required(rc, ""))
	} else {
		errs = append(errs, qualifiedName(e.GetReportingComponent(), rc)...)
	}
	required := func(value, name string, max int) {
		p := field.NewPath(name)
		if value == "" {
			errs = append(errs, field.Required(p, ""))
		}
		if len(value) > max {
			errs = append(errs, field.Invalid(p, "", fmt.Sprintf("can have at most %d characters", max)))
		}
	}
	required(e.GetReportingInstance(), "reportingInstance", eventInstanceMaxLength)
	required(e.GetAction(), "action", eventActionMaxLength)
	required(e.GetReason(), "reason", eventReasonMaxLength)
	if len(e.GetMessage()) > eventMessageMaxLength {
		errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %d characters", eventMessageMaxLength)))
	}
	return errs
}

// Lease validates a Lease being created: leaseDurationSeconds > 0 and leaseTransitions >= 0.
func Lease(l *coordinationv1.Lease) field.ErrorList {
	errs := ObjectMeta(l.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, leaseSpec(l.GetSpec(), specPath)...)
}

// LeaseUpdate validates a Lease update.
func LeaseUpdate(newL, oldL *coordinationv1.Lease) field.ErrorList {
	errs := ObjectMetaUpdate(newL.GetMetadata(), oldL.GetMetadata(), metadataPath)
	return append(errs, leaseSpec(newL.GetSpec(), specPath)...)
}

func leaseSpec(spec *coordinationv1.LeaseSpec, fldPath *field.Path) field.ErrorList {
	if spec == nil {
		return nil
	}
	var errs field.ErrorList
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(fldPath.Child("leaseDurationSeconds"), *spec.LeaseDurationSeconds, "must be greater than 0"))
	}
	if spec.LeaseTransitions != nil && *spec.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(fldPath.Child("leaseTransitions"), *spec.LeaseTransitions, isNegativeErrorMsg))
	}
	return errs
}
