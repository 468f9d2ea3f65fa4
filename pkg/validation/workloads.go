package validation

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	k8smeta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

const selectorMismatchMsg = "`selector` does not match template `labels`"

// ReplicationController validates a ReplicationController being created: a non-empty selector
// that matches the template's labels, replicas >= 0 and a template whose restartPolicy is
// Always.
func ReplicationController(rc *corev1.ReplicationController) field.ErrorList {
	errs := ObjectMeta(rc.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, rcSpec(rc.GetSpec(), specPath)...)
}

// ReplicationControllerUpdate validates a ReplicationController update (its selector may
// change, unlike a ReplicaSet's).
func ReplicationControllerUpdate(newRC, oldRC *corev1.ReplicationController) field.ErrorList {
	errs := ObjectMetaUpdate(newRC.GetMetadata(), oldRC.GetMetadata(), metadataPath)
	return append(errs, rcSpec(newRC.GetSpec(), specPath)...)
}

func rcSpec(spec *corev1.ReplicationControllerSpec, fldPath *field.Path) field.ErrorList {
	if spec == nil {
		spec = &corev1.ReplicationControllerSpec{}
	}
	errs := nonNegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))
	if len(spec.Selector) == 0 {
		errs = append(errs, field.Required(fldPath.Child("selector"), ""))
	} else {
		errs = append(errs, Labels(spec.Selector, fldPath.Child("selector"))...)
	}
	errs = append(errs, nonNegative(int64(spec.GetReplicas()), fldPath.Child("replicas"))...)
	tp := fldPath.Child("template")
	if spec.Template == nil {
		return append(errs, field.Required(tp, ""))
	}
	tl := spec.Template.GetMetadata().GetLabels()
	if len(spec.Selector) > 0 && !labels.SelectorFromSet(spec.Selector).Matches(labels.Set(tl)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), tl, selectorMismatchMsg))
	}
	errs = append(errs, PodTemplateSpec(spec.Template, tp)...)
	errs = append(errs, restartAlways(spec.Template, tp)...)
	if ts := spec.Template.GetSpec(); ts != nil && ts.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tp.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"))
	}
	return errs
}

// restartAlways: Pods of replicated workloads must restart.
func restartAlways(t *corev1.PodTemplateSpec, tp *field.Path) field.ErrorList {
	if rp := t.GetSpec().GetRestartPolicy(); rp != "Always" && rp != "" {
		return field.ErrorList{field.NotSupported(tp.Child("spec", "restartPolicy"), rp, []string{"Always"})}
	}
	return nil
}

// ReplicaSet validates a ReplicaSet being created: a non-empty selector that matches the
// template's labels, replicas and minReadySeconds >= 0, restartPolicy Always.
func ReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	errs := ObjectMeta(rs.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, replicaSetSpec(rs.GetSpec(), specPath)...)
}

// ReplicaSetUpdate validates a ReplicaSet update; its selector is immutable.
func ReplicaSetUpdate(newRS, oldRS *appsv1.ReplicaSet) field.ErrorList {
	errs := ObjectMetaUpdate(newRS.GetMetadata(), oldRS.GetMetadata(), metadataPath)
	errs = append(errs, replicaSetSpec(newRS.GetSpec(), specPath)...)
	return append(errs, immutableSelector(newRS.GetSpec().GetSelector(), oldRS.GetSpec().GetSelector(), specPath.Child("selector"))...)
}

func replicaSetSpec(spec *appsv1.ReplicaSetSpec, fldPath *field.Path) field.ErrorList {
	errs := nonNegative(int64(spec.GetReplicas()), fldPath.Child("replicas"))
	errs = append(errs, nonNegative(int64(spec.GetMinReadySeconds()), fldPath.Child("minReadySeconds"))...)
	return append(errs, selectedTemplate(spec.GetSelector(), spec.GetTemplate(), fldPath)...)
}

// Deployment validates a Deployment being created: selector and template as for a ReplicaSet,
// a RollingUpdate or Recreate strategy with valid maxSurge/maxUnavailable (not both 0,
// maxUnavailable at most 100%), revisionHistoryLimit >= 0 and progressDeadlineSeconds greater
// than minReadySeconds.
func Deployment(d *appsv1.Deployment) field.ErrorList {
	errs := ObjectMeta(d.GetMetadata(), true, NameIsDNSSubdomain, metadataPath)
	return append(errs, deploymentSpec(d.GetSpec(), specPath)...)
}

// DeploymentUpdate validates a Deployment update; its selector is immutable.
func DeploymentUpdate(newD, oldD *appsv1.Deployment) field.ErrorList {
	errs := ObjectMetaUpdate(newD.GetMetadata(), oldD.GetMetadata(), metadataPath)
	errs = append(errs, deploymentSpec(newD.GetSpec(), specPath)...)
	return append(errs, immutableSelector(newD.GetSpec().GetSelector(), oldD.GetSpec().GetSelector(), specPath.Child("selector"))...)
}

func deploymentSpec(spec *appsv1.DeploymentSpec, fldPath *field.Path) field.ErrorList {
	if spec == nil {
		spec = &appsv1.DeploymentSpec{}
	}
	errs := nonNegative(int64(spec.GetReplicas()), fldPath.Child("replicas"))
	errs = append(errs, selectedTemplate(spec.Selector, spec.Template, fldPath)...)
	errs = append(errs, deploymentStrategy(spec.Strategy, fldPath.Child("strategy"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if spec.ProgressDeadlineSeconds != nil {
		p := fldPath.Child("progressDeadlineSeconds")
		errs = append(errs, positive(int64(*spec.ProgressDeadlineSeconds), p)...)
		if *spec.ProgressDeadlineSeconds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(p, *spec.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// selectedTemplate validates the selector and Pod template of a ReplicaSet or Deployment.
func selectedTemplate(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	sp := fldPath.Child("selector")
	if sel == nil {
		errs = append(errs, field.Required(sp, ""))
	} else {
		errs = append(errs, LabelSelector(sel, sp)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(sp, formatSelector(sel), "empty selector is invalid for deployment"))
		}
	}
	tp := fldPath.Child("template")
	if t == nil {
		return append(errs, field.Required(tp, ""))
	}
	tl := t.GetMetadata().GetLabels()
	if sel != nil {
		selector, matches := selectorMatches(sel, tl)
		switch {
		case selector == nil:
			errs = append(errs, field.Invalid(sp, formatSelector(sel), "invalid label selector"))
		case !selector.Empty() && !matches:
			errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), tl, selectorMismatchMsg))
		}
	}
	errs = append(errs, PodTemplateSpec(t, tp)...)
	errs = append(errs, restartAlways(t, tp)...)
	if ts := t.GetSpec(); ts != nil && ts.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(tp.Child("spec", "activeDeadlineSeconds"), *ts.ActiveDeadlineSeconds, "must not be specified"))
	}
	return errs
}

func immutableSelector(n, o *metav1.LabelSelector, fldPath *field.Path) field.ErrorList {
	if proto.Equal(n, o) {
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath, formatSelector(n), fieldImmutableMsg)}
}

// formatSelector renders a selector as kubectl does ("app=web,tier in (a,b)").
func formatSelector(s *metav1.LabelSelector) string {
	return k8smeta.FormatLabelSelector(toK8sSelector(s))
}

func deploymentStrategy(s *appsv1.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	switch s.GetType() {
	case "Recreate":
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fldPath.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case "RollingUpdate":
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return rollingUpdate(s.RollingUpdate, fldPath.Child("rollingUpdate"))
	default:
		return enum(s.GetType(), fldPath.Child("type"), "Recreate", "RollingUpdate")
	}
	return nil
}

func rollingUpdate(ru *appsv1.RollingUpdateDeployment, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	mu, muErrs := intOrPercent(ru.MaxUnavailable, fldPath.Child("maxUnavailable"))
	ms, msErrs := intOrPercent(ru.MaxSurge, fldPath.Child("maxSurge"))
	errs = append(errs, muErrs...)
	errs = append(errs, msErrs...)
	if len(muErrs) > 0 || len(msErrs) > 0 {
		return errs
	}
	if intOrPercentValue(mu) == 0 && intOrPercentValue(ms) == 0 {
		errs = append(errs, field.Invalid(fldPath.Child("maxUnavailable"), mu.String(), "may not be 0 when `maxSurge` is 0"))
	}
	if v, isPercent := percentValue(mu); isPercent && v > 100 {
		errs = append(errs, field.Invalid(fldPath.Child("maxUnavailable"), mu.String(), "must not be greater than 100%"))
	}
	return errs
}

// intOrPercent validates a non-negative integer or a percentage ("25%").
func intOrPercent(v *structpb.Value, fldPath *field.Path) (intstr.IntOrString, field.ErrorList) {
	ios, ferr := IntOrString(v, fldPath)
	if ferr != nil {
		ferr.Detail = "must be an integer or percentage (e.g '5%')"
		return ios, field.ErrorList{ferr}
	}
	if ios.Type == intstr.String {
		return ios, msgs(validation.IsValidPercent(ios.StrVal), fldPath, ios.String())
	}
	return ios, nonNegative(int64(ios.IntVal), fldPath)
}

func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || !strings.HasSuffix(v.StrVal, "%") {
		return 0, false
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&v, 100, false)
	return n, err == nil
}

func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}
