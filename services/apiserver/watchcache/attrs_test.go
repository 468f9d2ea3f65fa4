package watchcache

import (
	"testing"

	"k8s.io/apimachinery/pkg/fields"
)

func TestFieldsSelect(t *testing.T) {
	pod := fields.Set{"metadata.name": "web-1", "metadata.namespace": "shop", "spec.nodeName": "n1", "status.phase": "Running"}
	for _, tc := range []struct {
		set      fields.Set
		selector string
		want     bool
	}{
		{pod, "spec.nodeName=n1", true},
		{pod, "spec.nodeName!=n1", false},
		{pod, "spec.nodeName=", false},
		{pod, "status.phase=Running,metadata.name=web-1", true},
		{pod, "status.phase=Pending", false},
		{pod, "spec.unknown=x", false},
		{pod, "spec.unknown!=x", true},
		{fields.Set{"spec.nodeName": ""}, "spec.nodeName=", true},
		{nil, "metadata.name=x", false},
		{nil, "metadata.name!=x", true},
	} {
		sel, err := fields.ParseSelector(tc.selector)
		if err != nil {
			t.Fatal(err)
		}
		a := NewAttrs("", nil, tc.set)
		if got := (Predicate{Field: sel}).Matches(a); got != tc.want {
			t.Errorf("%v matches %q: %v, want %v", tc.set, tc.selector, got, tc.want)
		}
		// The same answers as the map Kubernetes' selectors are written against.
		if got := sel.Matches(tc.set); got != tc.want {
			t.Errorf("fields.Set %v matches %q: %v, want %v", tc.set, tc.selector, got, tc.want)
		}
	}
}

func TestFieldsCompact(t *testing.T) {
	a := NewAttrs("ns", nil, fields.Set{"b": "2", "a": "1", "c": ""})
	b := NewAttrs("ns", nil, fields.Set{"c": "", "a": "1", "b": "2"})
	c := NewAttrs("ns", nil, fields.Set{"c": "x", "a": "1", "b": "2"})
	if !a.Fields.Equal(b.Fields) || a.Fields.Equal(c.Fields) {
		t.Errorf("Equal: a=b %v (want true), a=c %v (want false)", a.Fields.Equal(b.Fields), a.Fields.Equal(c.Fields))
	}
	if &a.Fields.names[0] != &c.Fields.names[0] {
		t.Error("objects with the same field names do not share one list of them")
	}
	if got := a.Fields.Set(); len(got) != 3 || got["a"] != "1" || got["b"] != "2" || !got.Has("c") {
		t.Errorf("Set() = %v", got)
	}
	if !sameAttrs(a, b) || sameAttrs(a, c) || sameAttrs(a, NewAttrs("other", nil, fields.Set{"b": "2", "a": "1", "c": ""})) {
		t.Error("sameAttrs does not tell the fields and namespaces apart")
	}
}
