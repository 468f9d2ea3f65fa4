package kubejson_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/kubejson"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func storedPod(name, uid, rv, image string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: uid, ResourceVersion: rv},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: image}}},
	}
}

// What is written with a Cache is what is written without, whether the objects are cached or
// not, alone, in lists (without apiVersion and kind, or with them) and in watch events.
func TestCacheWritesTheSame(t *testing.T) {
	pods := []*corev1.Pod{storedPod("a", "u1", "5", "nginx"), storedPod("b", "u2", "6", "redis"), storedPod("c", "", "", "busybox")}
	list := &corev1.PodList{Metadata: &metav1.ListMeta{ResourceVersion: "7"}, Items: pods}
	event := &corev1.PodWatchEvent{Type: "ADDED", Object: pods[0]}
	msgs := []proto.Message{pods[0], list, event, pods[1], list}
	for _, opts := range []kubejson.MarshalOptions{{}, {ItemTypeMeta: true}, {Indent: "  "}} {
		cached := opts
		cached.Cache = kubejson.NewCache(1 << 20)
		for round := range 2 {
			for i, m := range msgs {
				want, err := opts.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				got, err := cached.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Errorf("%+v round %d message %d:\n got %s\nwant %s", opts, round, i, got, want)
				}
			}
			want, err := kubejson.MarshalWatchEvent("MODIFIED", pods[1])
			if err != nil {
				t.Fatal(err)
			}
			got, err := cached.MarshalWatchEvent("MODIFIED", pods[1])
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%+v round %d watch event:\n got %s\nwant %s", opts, round, got, want)
			}
			appended, err := cached.AppendWatchEvent([]byte("before\n"), "MODIFIED", pods[1])
			if err != nil {
				t.Fatal(err)
			}
			if string(appended) != "before\n"+string(want) {
				t.Errorf("%+v round %d appended watch event:\n got %s\nwant before\n%s", opts, round, appended, want)
			}
		}
	}
}

// An object is known by its type, uid and resourceVersion: the same three give the bytes
// written first, whatever the object holds; a new resourceVersion (or none) is written afresh.
func TestCacheKeys(t *testing.T) {
	opts := kubejson.MarshalOptions{Cache: kubejson.NewCache(1 << 20)}
	mustContain := func(m proto.Message, want, not string) {
		t.Helper()
		b, err := opts.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) || (not != "" && strings.Contains(string(b), not)) {
			t.Errorf("%s: want %q, not %q", b, want, not)
		}
	}
	mustContain(storedPod("a", "u1", "5", "nginx"), `"image":"nginx"`, "")
	// The same object, changed under the same resourceVersion (never so when read from
	// storage): the cached bytes come back.
	mustContain(storedPod("a", "u1", "5", "changed"), `"image":"nginx"`, "changed")
	mustContain(storedPod("a", "u1", "6", "changed"), `"image":"changed"`, "nginx")
	mustContain(storedPod("a", "u2", "5", "other"), `"image":"other"`, "nginx")
	// Without a uid or a resourceVersion, nothing is cached.
	mustContain(storedPod("a", "", "5", "one"), `"image":"one"`, "")
	mustContain(storedPod("a", "", "5", "two"), `"image":"two"`, "one")
	mustContain(storedPod("a", "u3", "", "one"), `"image":"one"`, "")
	mustContain(storedPod("a", "u3", "", "two"), `"image":"two"`, "one")
	// Another type with the same uid and resourceVersion is another object.
	mustContain(&corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "a", Uid: "u1", ResourceVersion: "5"}, Data: map[string]string{"k": "v"}}, `"kind":"ConfigMap"`, "image")
}

// A full Cache drops its older generation: objects written long ago are written afresh.
func TestCacheEvicts(t *testing.T) {
	opts := kubejson.MarshalOptions{Cache: kubejson.NewCache(64 << 10)}
	if _, err := opts.Marshal(storedPod("first", "u-first", "1", "nginx")); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if _, err := opts.Marshal(storedPod("p", fmt.Sprintf("u%d", i), "1", "nginx")); err != nil {
			t.Fatal(err)
		}
	}
	b, err := opts.Marshal(storedPod("first", "u-first", "1", "changed"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "changed") {
		t.Errorf("the first object is still cached after 2,000 others: %s", b)
	}
}

func TestCacheConcurrent(t *testing.T) {
	opts := kubejson.MarshalOptions{Cache: kubejson.NewCache(32 << 10)}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				p := storedPod("p", fmt.Sprintf("u%d", (i*7+w)%50), "1", fmt.Sprintf("image-%d", (i*7+w)%50))
				b, err := opts.Marshal(p)
				if err != nil {
					t.Error(err)
					return
				}
				if want := fmt.Sprintf(`"image":"image-%d"`, (i*7+w)%50); !strings.Contains(string(b), want) {
					t.Errorf("%s: want %s", b, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A failed append leaves the buffer as it was.
func TestAppendWatchEventError(t *testing.T) {
	bad := storedPod("a", "u", "1", "nginx")
	bad.Metadata.CreationTimestamp = &timestamppb.Timestamp{Seconds: 1 << 40}
	b, err := kubejson.MarshalOptions{}.AppendWatchEvent([]byte("kept"), "ADDED", bad)
	if err == nil || string(b) != "kept" {
		t.Errorf("AppendWatchEvent = %q, %v; want the buffer unchanged and an error", b, err)
	}
}
