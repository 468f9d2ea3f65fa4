package selector

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestParse(t *testing.T) {
	web := map[string]string{"app": "web", "tier": "front"}
	for _, tc := range []struct {
		name    string
		sel     *metav1.LabelSelector
		labels  map[string]string
		matches bool
		wantErr bool
	}{
		{name: "nil selects nothing", sel: nil, labels: web, matches: false},
		{name: "empty selects everything", sel: &metav1.LabelSelector{}, labels: web, matches: true},
		{name: "matchLabels", sel: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, labels: web, matches: true},
		{name: "matchLabels mismatch", sel: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, labels: web, matches: false},
		{name: "In", sel: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"front", "back"}}}}, labels: web, matches: true},
		{name: "NotIn", sel: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "tier", Operator: "NotIn", Values: []string{"front"}}}}, labels: web, matches: false},
		{name: "Exists", sel: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "app", Operator: "Exists"}}}, labels: web, matches: true},
		{name: "DoesNotExist", sel: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "app", Operator: "DoesNotExist"}}}, labels: web, matches: false},
		{name: "bad operator", sel: &metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.sel)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse: err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := s.Matches(labels.Set(tc.labels)); got != tc.matches {
				t.Errorf("%s matches %v = %v, want %v", s, tc.labels, got, tc.matches)
			}
		})
	}
}

func TestRoundTripAndString(t *testing.T) {
	s := &metav1.LabelSelector{
		MatchLabels:      map[string]string{"app": "web"},
		MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"a", "b"}}},
	}
	if back := FromK8s(ToK8s(s)); !proto.Equal(back, s) {
		t.Errorf("round trip: got %v, want %v", back, s)
	}
	if got, want := String(s), "app=web,tier in (a,b)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if FromK8s(nil) != nil || ToK8s(nil) != nil {
		t.Error("nil must stay nil")
	}
	if !FromSet(nil).Empty() || !FromSet(map[string]string{"a": "b"}).Matches(labels.Set{"a": "b", "c": "d"}) {
		t.Error("FromSet: empty map selects everything; a map selects supersets")
	}
}
