package apiserver_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

func event(name, pod, reason string) *corev1.Event {
	return &corev1.Event{
		Metadata:       &metav1.ObjectMeta{Namespace: "default", Name: name},
		InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: pod},
		Reason:         reason, Message: reason + " " + pod, Type: "Normal", Count: 1,
		Source: &corev1.EventSource{Component: "test"},
	}
}

// Events are kept in the watch cache only as stored: every read decodes them again, and must
// see exactly what was written, at its resourceVersion, selectable by its fields.
func TestEventsServedFromStoredValues(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := ctxT(t)
	events := c.Resource(scheme.Events)
	var written []string
	for i := range 3 {
		e, err := events.Create(ctx, event(fmt.Sprintf("web-%d.1", i), fmt.Sprintf("web-%d", i), "Scheduled"))
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, e.GetMetadata().GetResourceVersion())
	}
	runtime.GC() // nothing but the stored values is left of the decoded writes

	// A consistent list: from the cache once it has caught up with etcd.
	items, lm, err := events.List(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil || len(items) != 3 {
		t.Fatalf("list from the cache: %d items, %v; want 3", len(items), err)
	}
	for i, obj := range items {
		e := obj.(*corev1.Event)
		if e.GetMetadata().GetResourceVersion() != written[i] || e.GetInvolvedObject().GetName() != fmt.Sprintf("web-%d", i) || e.GetMessage() != "Scheduled web-"+fmt.Sprint(i) {
			t.Errorf("item %d: rv %s (want %s), involved %s, message %q", i, e.GetMetadata().GetResourceVersion(), written[i], e.GetInvolvedObject().GetName(), e.GetMessage())
		}
	}
	sel, _, err := events.List(ctx, &metav1.ListOptions{Namespace: "default", FieldSelector: "involvedObject.name=web-1,reason=Scheduled"})
	if err != nil || len(sel) != 1 || sel[0].GetMetadata().GetName() != "web-1.1" {
		t.Fatalf("field-selected list: %v, %v; want web-1.1 alone", names(sel), err)
	}
	got, err := corev1.NewEventServiceClient(c.Conn()).Get(ctx, &metav1.GetRequest{Namespace: "default", Name: "web-2.1", ResourceVersion: "0"})
	if err != nil || got.GetMetadata().GetResourceVersion() != written[2] || got.GetMessage() != "Scheduled web-2" {
		t.Fatalf("get from the cache: %v, %v", got, err)
	}

	// A watch from the list's revision sees an update and a deletion with their revisions, and
	// one resumed from the first write replays them all, decoded again after a collection.
	w, err := events.Watch(ctx, &metav1.ListOptions{Namespace: "default", ResourceVersion: lm.GetResourceVersion(), FieldSelector: "involvedObject.name=web-0"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	e0 := items[0].(*corev1.Event)
	e0 = &corev1.Event{Metadata: e0.GetMetadata(), InvolvedObject: e0.GetInvolvedObject(), Reason: "Scheduled", Message: "again", Type: "Normal", Count: 2, Source: e0.GetSource()}
	upd, err := events.Update(ctx, e0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "web-0.1"}); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, w, "MODIFIED web-0.1 again "+upd.GetMetadata().GetResourceVersion())
	ev, err := w.Next()
	if err != nil || ev.Type != "DELETED" || ev.Object.GetMetadata().GetName() != "web-0.1" || ev.Object.(*corev1.Event).GetMessage() != "again" {
		t.Fatalf("deletion: %v %v", ev, err)
	}
	runtime.GC()
	w2, err := events.Watch(ctx, &metav1.ListOptions{Namespace: "default", ResourceVersion: written[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	expectEvents(t, w2,
		"ADDED web-1.1 Scheduled web-1 "+written[1],
		"ADDED web-2.1 Scheduled web-2 "+written[2],
		"MODIFIED web-0.1 again "+upd.GetMetadata().GetResourceVersion())
	if ev, err := w2.Next(); err != nil || ev.Type != "DELETED" || ev.Object.GetMetadata().GetResourceVersion() == upd.GetMetadata().GetResourceVersion() {
		t.Fatalf("replayed deletion: %v %v; want DELETED at the deletion's revision", ev, err)
	}
}

func expectEvents(t *testing.T, w *client.Watcher, want ...string) {
	t.Helper()
	var got []string
	for range want {
		ev, err := w.Next()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		e := ev.Object.(*corev1.Event)
		got = append(got, fmt.Sprintf("%s %s %s %s", ev.Type, e.GetMetadata().GetName(), e.GetMessage(), e.GetMetadata().GetResourceVersion()))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("watch saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func names(objs []scheme.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetMetadata().GetName())
	}
	return out
}
