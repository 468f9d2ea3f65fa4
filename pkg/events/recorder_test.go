package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

func TestRecorderAggregatesRepeats(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, apiservertest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	evs := corev1.NewEventServiceClient(c.Conn())
	rec := events.New(evs, "test-component", "host1", nil)
	go rec.Run(ctx)

	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web", Uid: "u1"}}
	node := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1", Uid: "u2"}}
	for i := 0; i < 3; i++ {
		rec.Eventf(pod, events.Warning, "BackOff", "Back-off restarting failed container %s", "app")
	}
	rec.Eventf(node, events.Normal, "NodeReady", "Node n1 status is now: NodeReady")

	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := evs.List(ctx, &metav1.ListOptions{Namespace: "default", FieldSelector: "involvedObject.name=web,involvedObject.kind=Pod"})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.GetItems()) == 1 && l.GetItems()[0].GetCount() == 3 {
			e := l.GetItems()[0]
			if e.GetType() != "Warning" || e.GetReason() != "BackOff" || e.GetSource().GetComponent() != "test-component" || e.GetInvolvedObject().GetUid() != "u1" {
				t.Errorf("event: %v", e)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want one BackOff event with count 3, have %v", l.GetItems())
		}
		time.Sleep(50 * time.Millisecond)
	}
	l, err := evs.List(ctx, &metav1.ListOptions{FieldSelector: "involvedObject.kind=Node"})
	if err != nil || len(l.GetItems()) != 1 || l.GetItems()[0].GetMetadata().GetNamespace() != "default" {
		t.Fatalf("node event: %v %v", l.GetItems(), err)
	}
}
