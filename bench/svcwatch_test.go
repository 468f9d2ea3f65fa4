package main

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/client"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestSvcWatch(t *testing.T) {
	pod := func(name string, ready, terminating bool) *corev1.Pod {
		p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: name}, Status: &corev1.PodStatus{Phase: "Running"}}
		status := "False"
		if ready {
			status = "True"
		}
		p.Status.Conditions = []*corev1.PodCondition{{Type: "Ready", Status: status}}
		if terminating {
			p.Metadata.DeletionTimestamp = timestamppb.Now()
		}
		return p
	}
	eps := func(names ...string) *corev1.Endpoints {
		ss := &corev1.EndpointSubset{}
		for i, n := range names {
			ss.Addresses = append(ss.Addresses, &corev1.EndpointAddress{Ip: fmt.Sprintf("10.244.0.%d", i+1), TargetRef: &corev1.ObjectReference{Name: n}})
		}
		return &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Name: "web"}, Subsets: []*corev1.EndpointSubset{ss}}
	}
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	w := &svcWatch{changed: make(chan struct{}, 1), live: map[string]bool{}, readyAt: map[string]time.Time{},
		ready: map[string]string{}, listedAt: map[string]time.Time{}}
	w.pod(client.Added, pod("a", true, false), at(0))
	w.pod(client.Added, pod("b", true, false), at(0))
	w.endpointsEvent(client.Added, eps("a", "b"), at(5))
	if !w.settled(2) || w.settled(3) {
		t.Fatalf("two ready Pods listed: settled(2) = %v, settled(3) = %v", w.settled(2), w.settled(3))
	}
	before := w.podNames()

	// A new Pod: not ready, then ready twice (the first time counts), then listed.
	w.pod(client.Added, pod("c", false, false), at(10))
	if name, _ := w.newReady(before); name != "" {
		t.Fatalf("newReady = %q before the new Pod is ready", name)
	}
	w.pod(client.Modified, pod("c", true, false), at(20))
	w.pod(client.Modified, pod("c", true, false), at(30))
	if name, when := w.newReady(before); name != "c" || !when.Equal(at(20)) {
		t.Fatalf("newReady = %q at %v, want c at %v", name, when, at(20))
	}
	if !w.endpointsAt("c").IsZero() {
		t.Fatal("c listed before any Endpoints event names it")
	}
	w.endpointsEvent(client.Modified, eps("a", "b", "c"), at(25))
	w.endpointsEvent(client.Modified, eps("a", "b", "c"), at(40))
	if got := w.endpointsAt("c"); !got.Equal(at(25)) {
		t.Errorf("c first listed at %v, want %v", got, at(25))
	}
	if got := len(w.endpoints()); got != 3 {
		t.Errorf("%d ready endpoints, want 3", got)
	}

	// Scale-down: c terminates, leaves the Endpoints, then goes.
	w.pod(client.Modified, pod("c", true, true), at(50))
	w.endpointsEvent(client.Modified, eps("a", "b"), at(55))
	if w.settled(2) {
		t.Fatal("settled while c is terminating")
	}
	w.pod(client.Deleted, pod("c", true, true), at(60))
	if !w.settled(2) {
		t.Fatal("not settled once c is gone")
	}
	select {
	case <-w.changed:
	default:
		t.Error("changed was not signalled")
	}
}

func TestFirstAnswers(t *testing.T) {
	f := &firstAnswers{at: map[string]time.Time{}}
	t0 := time.Unix(1000, 0)
	f.record("a", t0.Add(2*time.Millisecond))
	f.record("a", t0.Add(time.Millisecond)) // answers are recorded out of order
	f.record("a", t0.Add(3*time.Millisecond))
	if got := f.get("a"); !got.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("first answer of a at %v, want the earliest", got)
	}
	if !f.get("b").IsZero() {
		t.Error("b never answered")
	}
}
