package watchcache

import (
	"errors"
	"runtime"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

func TestEncodedOncePerChangeAndType(t *testing.T) {
	e := &Event{Type: Modified, Rev: 7}
	calls := 0
	encode := func(b string) func() ([]byte, error) {
		return func() ([]byte, error) { calls++; return []byte(b), nil }
	}
	// A thousand watchers receive the same change as MODIFIED while they hold it: one encoding.
	var held [][]byte
	for i := 0; i < 1000; i++ {
		got, err := WatchEvent{Type: Modified, src: e}.Encoded(encode("m"))
		if err != nil || string(got) != "m" {
			t.Fatalf("watcher %d got %q, %v", i, got, err)
		}
		held = append(held, got)
	}
	// Watchers whose selector the change leaves see it as DELETED: their own encoding.
	if got, _ := (WatchEvent{Type: Deleted, src: e}).Encoded(encode("d")); string(got) != "d" {
		t.Fatalf("deleted view: %q", got)
	}
	if calls != 2 {
		t.Errorf("encoded %d times, want 2 (one per type seen)", calls)
	}
	runtime.KeepAlive(held)
	// Initial and bookmark events have no source: encoded every time.
	WatchEvent{Type: Added}.Encoded(encode("a"))
	WatchEvent{Type: Added}.Encoded(encode("a"))
	if calls != 4 {
		t.Errorf("events without a source encoded %d times in all, want 4", calls)
	}
	// A failed encoding is not remembered.
	e2 := &Event{Type: Added}
	if _, err := (WatchEvent{Type: Added, src: e2}).Encoded(func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
		t.Fatal("error lost")
	}
	if got, _ := (WatchEvent{Type: Added, src: e2}).Encoded(encode("ok")); string(got) != "ok" {
		t.Errorf("after a failure: %q", got)
	}
}

// The ring does not keep what no watcher holds: an encoding and a decoded state are made
// again once nothing refers to them.
func TestEventHoldsNothingWeakCopiesOf(t *testing.T) {
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": "a"}}}
	raw, err := proto.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	decodes := 0
	decode := func(kv storage.KV) (scheme.Object, error) {
		decodes++
		p := &corev1.Pod{}
		if err := proto.Unmarshal(kv.Value, p); err != nil {
			return nil, err
		}
		p.Metadata.ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
		return p, nil
	}
	e := &Event{Type: Deleted, Key: "/registry/core/pods/ns/p", Rev: 9, raw: raw, prevRaw: raw}
	for _, tc := range []struct {
		name string
		load func(func(storage.KV) (scheme.Object, error)) (*objRef, error)
	}{
		{"object", e.object},
		{"previous state", e.prevWithRev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			decodes = 0
			r1, err := tc.load(decode)
			if err != nil {
				t.Fatal(err)
			}
			if rv := r1.obj.GetMetadata().GetResourceVersion(); rv != "9" {
				t.Errorf("resourceVersion %q, want the event's 9", rv)
			}
			if r2, _ := tc.load(decode); r2 != r1 || decodes != 1 {
				t.Errorf("held: decoded %d times, same ref %v; want once, shared", decodes, r2 == r1)
			}
			runtime.KeepAlive(r1)
			runtime.GC()
			runtime.GC()
			if _, err := tc.load(decode); err != nil || decodes != 2 {
				t.Errorf("after nothing held it: decoded %d times in all (%v), want 2: the event kept it", decodes, err)
			}
		})
	}
	calls := 0
	enc := func() ([]byte, error) { calls++; return make([]byte, 512), nil }
	b, _ := e.encoded(Deleted, enc)
	runtime.KeepAlive(b)
	runtime.GC()
	runtime.GC()
	if _, _ = e.encoded(Deleted, enc); calls != 2 {
		t.Errorf("encoded %d times, want 2: the event kept the bytes nobody held", calls)
	}
}
