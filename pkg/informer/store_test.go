package informer

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func cm(ns, name, rv string, owners ...string) *corev1.ConfigMap {
	md := &metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv}
	for _, uid := range owners {
		md.OwnerReferences = append(md.OwnerReferences, &metav1.OwnerReference{Kind: "Deployment", Name: "d-" + uid, Uid: uid})
	}
	return &corev1.ConfigMap{Metadata: md}
}

func keys(objs []scheme.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, KeyOf(o))
	}
	slices.Sort(out)
	return out
}

func TestStoreIndexes(t *testing.T) {
	s := NewStore()
	s.AddIndexer(IndexNamespace, NamespaceIndex)
	s.put(cm("a", "one", "1", "u1"))
	s.put(cm("a", "two", "2", "u1", "u2"))
	s.put(cm("b", "one", "3"))
	// An indexer added after objects exist is built over them.
	s.AddIndexer(IndexOwnerUID, OwnerUIDIndex)
	// Adding an existing index name keeps the first.
	s.AddIndexer(IndexOwnerUID, func(scheme.Object) []string { return []string{"wrong"} })

	check := func(step, index, value string, want ...string) {
		t.Helper()
		got, err := s.ByIndex(index, value)
		if err != nil {
			t.Fatalf("%s: ByIndex(%s, %s): %v", step, index, value, err)
		}
		if !slices.Equal(keys(got), want) {
			t.Errorf("%s: ByIndex(%s, %s) = %v, want %v", step, index, value, keys(got), want)
		}
	}
	check("start", IndexNamespace, "a", "a/one", "a/two")
	check("start", IndexNamespace, "b", "b/one")
	check("start", IndexNamespace, "c")
	check("start", IndexOwnerUID, "u1", "a/one", "a/two")
	check("start", IndexOwnerUID, "u2", "a/two")
	check("start", IndexOwnerUID, "wrong")

	// An update moves the object between index values.
	if old, existed := s.put(cm("a", "two", "4", "u2")); !existed || old.GetMetadata().GetResourceVersion() != "2" {
		t.Fatalf("put of an existing key: old %v, existed %v", old, existed)
	}
	check("after update", IndexOwnerUID, "u1", "a/one")
	check("after update", IndexOwnerUID, "u2", "a/two")

	if _, existed := s.remove("a/one"); !existed {
		t.Fatal("remove of an existing key reported nothing removed")
	}
	if _, existed := s.remove("a/one"); existed {
		t.Fatal("second remove reported a removal")
	}
	check("after remove", IndexNamespace, "a", "a/two")
	check("after remove", IndexOwnerUID, "u1")

	if _, err := s.ByIndex("nope", "x"); err == nil {
		t.Error("ByIndex of an unknown index did not fail")
	}
	if got := keys(s.List()); !slices.Equal(got, []string{"a/two", "b/one"}) {
		t.Errorf("List = %v", got)
	}
	if s.Len() != 2 || len(s.Keys()) != 2 {
		t.Errorf("Len %d, Keys %v", s.Len(), s.Keys())
	}
	if o, ok := s.Get("b/one"); !ok || o.GetMetadata().GetResourceVersion() != "3" {
		t.Errorf("Get(b/one) = %v, %v", o, ok)
	}
	// Empty index values are dropped, not kept as empty sets.
	if n := len(s.indices[IndexOwnerUID]); n != 1 {
		t.Errorf("owner index holds %d values, want 1 (u2)", n)
	}
}

func TestKeyOf(t *testing.T) {
	tests := []struct {
		obj  scheme.Object
		want string
	}{
		{cm("default", "x", ""), "default/x"},
		{&corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "default"}}, "default"},
	}
	for _, tt := range tests {
		if got := KeyOf(tt.obj); got != tt.want {
			t.Errorf("KeyOf = %q, want %q", got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	var b backoff
	if d := b.next(); d != 0 {
		t.Errorf("first retry waits %v, want 0", d)
	}
	prev := b.next()
	if prev < baseBackoff || prev > baseBackoff*11/10 {
		t.Errorf("second retry waits %v, want %v plus up to 10%%", prev, baseBackoff)
	}
	for range 100 {
		d := b.next()
		if d < prev && prev < maxBackoff {
			t.Fatalf("backoff shrank from %v to %v", prev, d)
		}
		if d > maxBackoff*11/10 {
			t.Fatalf("backoff %v over the cap", d)
		}
		prev = d
	}
	b.reset()
	if d := b.next(); d != 0 {
		t.Errorf("after reset waits %v, want 0", d)
	}
}
