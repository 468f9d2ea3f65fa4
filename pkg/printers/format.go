package printers

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// age is kubectl's translateTimestampSince: how long ago ts was, as "5m", "3h2m", "2d";
// "<unknown>" when there is no time.
func age(ts *timestamppb.Timestamp, now time.Time) string {
	if ts == nil || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(ts.AsTime()))
}

// orNone returns s, or "<none>" when it is empty.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// containersImages is the CONTAINERS and IMAGES cells of a workload's -o wide row.
func containersImages(t *corev1.PodTemplateSpec) (string, string) {
	var names, images []string
	for _, c := range t.GetSpec().GetContainers() {
		names = append(names, c.GetName())
		images = append(images, c.GetImage())
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

// formatSelector is kubectl's rendering of a label selector: "app=web,tier in (a,b)",
// "<none>" when it selects everything or nothing.
func formatSelector(s *metav1.LabelSelector) string {
	if s == nil {
		return "<none>"
	}
	ks := &kmetav1.LabelSelector{MatchLabels: s.GetMatchLabels()}
	for _, e := range s.GetMatchExpressions() {
		ks.MatchExpressions = append(ks.MatchExpressions, kmetav1.LabelSelectorRequirement{
			Key: e.GetKey(), Operator: kmetav1.LabelSelectorOperator(e.GetOperator()), Values: e.GetValues(),
		})
	}
	return kmetav1.FormatLabelSelector(ks)
}

// intOrString renders an IntOrString held in a google.protobuf.Value.
func intOrString(v *structpb.Value) string {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return strconv.FormatFloat(k.NumberValue, 'f', -1, 64)
	case *structpb.Value_StringValue:
		return k.StringValue
	}
	return ""
}

// timestamp converts a time for age.
func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// SelectorString is a label selector in the form -l takes ("app=web,tier in (a,b)"), ""
// when it is nil or empty.
func SelectorString(s *metav1.LabelSelector) string {
	if f := formatSelector(s); f != "<none>" {
		return f
	}
	return ""
}

// LabelsString is a label map as an equality selector ("app=web,tier=db"), "" when empty.
func LabelsString(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return formatLabels(m)
}
