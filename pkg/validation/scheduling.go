package validation

import (
	"fmt"
	"strings"

	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// taintEffects are the effects of taints and tolerations.
var taintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

func tolerations(ts []*corev1.Toleration, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		p := fldPath.Index(i)
		if t.GetKey() != "" {
			errs = append(errs, metavalidation.ValidateLabelName(t.GetKey(), p.Child("key"))...)
		}
		// An empty key with operator Exists matches every taint.
		if t.GetKey() == "" && t.GetOperator() != "Exists" {
			errs = append(errs, field.Invalid(p.Child("operator"), t.GetOperator(), "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.GetEffect() != "NoExecute" {
			errs = append(errs, field.Invalid(p.Child("effect"), t.GetEffect(), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.GetOperator() {
		case "Equal", "":
			if ms := validation.IsValidLabelValue(t.GetValue()); len(ms) > 0 {
				errs = append(errs, field.Invalid(p.Child("operator"), t.GetValue(), strings.Join(ms, ";")))
			}
		case "Exists":
			if t.GetValue() != "" {
				errs = append(errs, field.Invalid(p.Child("operator"), t.GetValue(), "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("operator"), t.GetOperator(), []string{"Equal", "Exists"}))
		}
		if t.GetEffect() != "" {
			errs = append(errs, oneOf(t.GetEffect(), p.Child("effect"), taintEffects...)...)
		}
	}
	return errs
}

// affinity validates node affinity; inter-Pod affinity is refused in unsupported.go.
func affinity(a *corev1.Affinity, fldPath *field.Path) field.ErrorList {
	na := a.GetNodeAffinity()
	if na == nil {
		return nil
	}
	var errs field.ErrorList
	p := fldPath.Child("nodeAffinity")
	if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
		rp := p.Child("requiredDuringSchedulingIgnoredDuringExecution")
		if len(req.NodeSelectorTerms) == 0 {
			errs = append(errs, field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
		}
		for i, term := range req.NodeSelectorTerms {
			errs = append(errs, nodeSelectorTerm(term, rp.Child("nodeSelectorTerms").Index(i))...)
		}
	}
	for i, pref := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		pp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
		if w := pref.GetWeight(); w < 1 || w > 100 {
			errs = append(errs, field.Invalid(pp.Child("weight"), w, "must be in the range 1-100"))
		}
		errs = append(errs, nodeSelectorTerm(pref.GetPreference(), pp.Child("preference"))...)
	}
	return errs
}

func nodeSelectorTerm(term *corev1.NodeSelectorTerm, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, req := range term.GetMatchExpressions() {
		errs = append(errs, nodeSelectorRequirement(req, fldPath.Child("matchExpressions").Index(i))...)
	}
	for i, req := range term.GetMatchFields() {
		errs = append(errs, nodeFieldSelectorRequirement(req, fldPath.Child("matchFields").Index(i))...)
	}
	return errs
}

// nodeSelectorRequirement checks the operator (In, NotIn, Exists, DoesNotExist, Gt, Lt), the
// number of values it takes, the key and the values.
func nodeSelectorRequirement(req *corev1.NodeSelectorRequirement, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	values := req.GetValues()
	switch req.GetOperator() {
	case "In", "NotIn":
		if len(values) == 0 {
			errs = append(errs, field.Required(fldPath.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case "Exists", "DoesNotExist":
		if len(values) > 0 {
			errs = append(errs, field.Forbidden(fldPath.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case "Gt", "Lt":
		if len(values) != 1 {
			errs = append(errs, field.Required(fldPath.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		}
	default:
		errs = append(errs, field.Invalid(fldPath.Child("operator"), req.GetOperator(), "not a valid selector operator"))
	}
	errs = append(errs, metavalidation.ValidateLabelName(req.GetKey(), fldPath.Child("key"))...)
	for i, v := range values {
		errs = append(errs, msgs(validation.IsValidLabelValue(v), fldPath.Child("values").Index(i), v)...)
	}
	return errs
}

// nodeFieldSelectorRequirement: the only node field a selector may use is metadata.name.
func nodeFieldSelectorRequirement(req *corev1.NodeSelectorRequirement, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch req.GetOperator() {
	case "In", "NotIn":
		if len(req.GetValues()) != 1 {
			errs = append(errs, field.Required(fldPath.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	default:
		errs = append(errs, field.Invalid(fldPath.Child("operator"), req.GetOperator(), "not a valid selector operator"))
	}
	if req.GetKey() != "metadata.name" {
		errs = append(errs, field.Invalid(fldPath.Child("key"), req.GetKey(), "not a valid field selector key"))
		return errs
	}
	for i, v := range req.GetValues() {
		errs = append(errs, nameRef(v, NameIsDNSSubdomain, fldPath.Child("values").Index(i))...)
	}
	return errs
}

func topologySpreadConstraints(cs []*corev1.TopologySpreadConstraint, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range cs {
		p := fldPath.Index(i)
		if c.GetMaxSkew() <= 0 {
			errs = append(errs, field.Invalid(p.Child("maxSkew"), c.GetMaxSkew(), isNotPositiveErrorMsg))
		}
		if c.GetTopologyKey() == "" {
			errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
		} else {
			errs = append(errs, qualifiedName(c.GetTopologyKey(), p.Child("topologyKey"))...)
		}
		errs = append(errs, oneOf(c.GetWhenUnsatisfiable(), p.Child("whenUnsatisfiable"), "DoNotSchedule", "ScheduleAnyway")...)
		key := fmt.Sprintf("{%v, %v}", c.GetTopologyKey(), c.GetWhenUnsatisfiable())
		if seen[key] {
			errs = append(errs, field.Duplicate(p.Child("{topologyKey, whenUnsatisfiable}"), key))
		}
		seen[key] = true
		if c.MinDomains != nil {
			if *c.MinDomains <= 0 {
				errs = append(errs, field.Invalid(p.Child("minDomains"), *c.MinDomains, isNotPositiveErrorMsg))
			}
			if c.GetWhenUnsatisfiable() != "DoNotSchedule" {
				errs = append(errs, field.Invalid(p.Child("minDomains"), *c.MinDomains, fmt.Sprintf("can only use minDomains if whenUnsatisfiable=DoNotSchedule, not %s", c.GetWhenUnsatisfiable())))
			}
		}
		errs = append(errs, LabelSelector(c.GetLabelSelector(), p.Child("labelSelector"))...)
	}
	return errs
}
