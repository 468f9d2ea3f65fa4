package selector

import (
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// ToK8s converts a selector to apimachinery's type (nil stays nil).
func ToK8s(s *metav1.LabelSelector) *kmetav1.LabelSelector {
	if s == nil {
		return nil
	}
	k := &kmetav1.LabelSelector{MatchLabels: s.GetMatchLabels()}
	for _, e := range s.GetMatchExpressions() {
		k.MatchExpressions = append(k.MatchExpressions, kmetav1.LabelSelectorRequirement{
			Key: e.GetKey(), Operator: kmetav1.LabelSelectorOperator(e.GetOperator()), Values: e.GetValues(),
		})
	}
	return k
}

// FromK8s converts apimachinery's selector to Berth's (nil stays nil).
func FromK8s(k *kmetav1.LabelSelector) *metav1.LabelSelector {
	if k == nil {
		return nil
	}
	s := &metav1.LabelSelector{MatchLabels: k.MatchLabels}
	for _, e := range k.MatchExpressions {
		s.MatchExpressions = append(s.MatchExpressions, &metav1.LabelSelectorRequirement{
			Key: e.Key, Operator: string(e.Operator), Values: e.Values,
		})
	}
	return s
}

// Parse converts a selector as Kubernetes' workload controllers do: nil selects nothing, an
// empty selector everything. It fails on an operator or value apimachinery refuses.
func Parse(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), nil
	}
	return kmetav1.LabelSelectorAsSelector(ToK8s(s))
}

// FromSet is the equality selector of a map (a ReplicationController's or a Service's):
// an empty map selects everything, as labels.SelectorFromSet does.
func FromSet(set map[string]string) labels.Selector {
	return labels.SelectorFromSet(set)
}

// String renders a selector as kubectl prints it ("app=web,tier in (a,b)").
func String(s *metav1.LabelSelector) string {
	return kmetav1.FormatLabelSelector(ToK8s(s))
}
