package validation

import (
	"fmt"
	"math"
	"sort"

	"google.golang.org/protobuf/types/known/timestamppb"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	k8smeta "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// NameFunc checks a name, or a generateName prefix when prefix is true, and returns what is
// wrong with it (apimachinery's ValidateNameFunc).
type NameFunc = apivalidation.ValidateNameFunc

// Name rules, as Kubernetes applies them per kind.
var (
	// NameIsDNSSubdomain is the rule of most kinds (Pod, ConfigMap, Deployment, Node, ...).
	NameIsDNSSubdomain NameFunc = apivalidation.NameIsDNSSubdomain
	// NameIsDNSLabel is the rule of Namespaces.
	NameIsDNSLabel NameFunc = apivalidation.NameIsDNSLabel
	// NameIsDNS1035Label is the rule of Services (a DNS label that starts with a letter).
	NameIsDNS1035Label NameFunc = apivalidation.NameIsDNS1035Label
)

// Kubernetes' messages that apimachinery does not export.
const (
	isNegativeErrorMsg    = apivalidation.IsNegativeErrorMsg
	isNotPositiveErrorMsg = "must be greater than zero"
	fieldImmutableMsg     = apivalidation.FieldImmutableErrorMsg
	immutableWhenSetMsg   = "field is immutable when `immutable` is set"
)

var metadataPath = field.NewPath("metadata")

// ObjectMeta validates the metadata of an object being created: name (or generateName) by
// nameFn, namespace required for namespaced kinds and forbidden otherwise, labels,
// annotations (syntax and 256 KiB total), ownerReferences and finalizers.
func ObjectMeta(m *metav1.ObjectMeta, namespaced bool, nameFn NameFunc, fldPath *field.Path) field.ErrorList {
	return sortErrs(apivalidation.ValidateObjectMeta(toK8sMeta(m), namespaced, nameFn, fldPath))
}

// ObjectMetaUpdate validates the metadata of an object being updated: labels, annotations,
// ownerReferences and finalizers as on create, and name, namespace, uid, creationTimestamp,
// deletionTimestamp and deletionGracePeriodSeconds unchanged; generation may not decrease and no
// finalizer may be added once deletion started.
//
// Unlike Kubernetes' function it does not require metadata.resourceVersion: whether an update
// without one is unconditional or refused is the registry's decision, taken before validation.
func ObjectMetaUpdate(newMeta, oldMeta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	errs := apivalidation.ValidateObjectMetaUpdate(toK8sMeta(newMeta), toK8sMeta(oldMeta), fldPath)
	rv := fldPath.Child("resourceVersion").String()
	out := errs[:0]
	for _, e := range errs {
		if e.Field != rv {
			out = append(out, e)
		}
	}
	return sortErrs(out)
}

// toK8sMeta converts Berth's ObjectMeta to apimachinery's, for apimachinery's validators.
func toK8sMeta(m *metav1.ObjectMeta) *k8smeta.ObjectMeta {
	if m == nil {
		return &k8smeta.ObjectMeta{}
	}
	out := &k8smeta.ObjectMeta{
		Name:                       m.Name,
		GenerateName:               m.GenerateName,
		Namespace:                  m.Namespace,
		UID:                        types.UID(m.Uid),
		ResourceVersion:            m.ResourceVersion,
		Generation:                 m.Generation,
		DeletionGracePeriodSeconds: m.DeletionGracePeriodSeconds,
		Labels:                     m.Labels,
		Annotations:                m.Annotations,
		Finalizers:                 m.Finalizers,
	}
	if m.CreationTimestamp != nil {
		out.CreationTimestamp = toK8sTime(m.CreationTimestamp)
	}
	if m.DeletionTimestamp != nil {
		t := toK8sTime(m.DeletionTimestamp)
		out.DeletionTimestamp = &t
	}
	for _, r := range m.OwnerReferences {
		out.OwnerReferences = append(out.OwnerReferences, k8smeta.OwnerReference{
			APIVersion:         r.GetApiVersion(),
			Kind:               r.GetKind(),
			Name:               r.GetName(),
			UID:                types.UID(r.GetUid()),
			Controller:         r.Controller,
			BlockOwnerDeletion: r.BlockOwnerDeletion,
		})
	}
	return out
}

func toK8sTime(ts *timestamppb.Timestamp) k8smeta.Time {
	return k8smeta.NewTime(ts.AsTime())
}

// toK8sSelector converts Berth's LabelSelector to apimachinery's.
func toK8sSelector(s *metav1.LabelSelector) *k8smeta.LabelSelector {
	if s == nil {
		return nil
	}
	out := &k8smeta.LabelSelector{MatchLabels: s.MatchLabels}
	for _, r := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, k8smeta.LabelSelectorRequirement{
			Key:      r.GetKey(),
			Operator: k8smeta.LabelSelectorOperator(r.GetOperator()),
			Values:   r.GetValues(),
		})
	}
	return out
}

// LabelSelector validates a label selector: keys, values and operators.
func LabelSelector(s *metav1.LabelSelector, fldPath *field.Path) field.ErrorList {
	return metavalidation.ValidateLabelSelector(toK8sSelector(s), metavalidation.LabelSelectorValidationOptions{}, fldPath)
}

// selectorMatches reports whether a selector selects a set of labels; a selector that does not
// convert never matches.
func selectorMatches(s *metav1.LabelSelector, set map[string]string) (labels.Selector, bool) {
	sel, err := k8smeta.LabelSelectorAsSelector(toK8sSelector(s))
	if err != nil {
		return nil, false
	}
	return sel, sel.Matches(labels.Set(set))
}

// Labels validates label keys and values.
func Labels(l map[string]string, fldPath *field.Path) field.ErrorList {
	return sortErrs(metavalidation.ValidateLabels(l, fldPath))
}

// Annotations validates annotation keys and their total size.
func Annotations(a map[string]string, fldPath *field.Path) field.ErrorList {
	return sortErrs(apivalidation.ValidateAnnotations(a, fldPath))
}

// dnsLabel reports value, if it is not a DNS-1123 label, as Invalid.
func dnsLabel(value string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

// dnsSubdomain reports value, if it is not a DNS-1123 subdomain, as Invalid.
func dnsSubdomain(value string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(value) {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

// qualifiedName reports value, if it is not a qualified name ("prefix/name"), as Invalid.
func qualifiedName(value string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(value) {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

// nameRef reports a reference to another object's name, if it does not pass nameFn, as Invalid.
func nameRef(value string, nameFn NameFunc, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range nameFn(value, false) {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

func nonNegative(value int64, fldPath *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(value, fldPath)
}

func positive(value int64, fldPath *field.Path) field.ErrorList {
	if value <= 0 {
		return field.ErrorList{field.Invalid(fldPath, value, isNotPositiveErrorMsg)}
	}
	return nil
}

// int64Range reports a value outside [lo, hi] as Invalid.
func int64Range(value, lo, hi int64, fldPath *field.Path) field.ErrorList {
	if value < lo || value > hi {
		return field.ErrorList{field.Invalid(fldPath, value, fmt.Sprintf("must be between %d and %d, inclusive", lo, hi))}
	}
	return nil
}

const maxInt32 = math.MaxInt32

// sortedKeys returns a map's keys in order, so that errors come out in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// sortErrs orders errors from map iteration by field, then message, for stable output.
func sortErrs(errs field.ErrorList) field.ErrorList {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Field != errs[j].Field {
			return errs[i].Field < errs[j].Field
		}
		return errs[i].Error() < errs[j].Error()
	})
	return errs
}
