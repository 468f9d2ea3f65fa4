package endpoints_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
	"github.com/berth-dev/berth/services/endpoints"
)

// unresolvedEvents are the FailedToResolvePort Events in the test's namespace, by message.
func (e *env) unresolvedEvents() map[string]*corev1.Event {
	e.t.Helper()
	items, _, err := e.c.Resource(scheme.Events).List(e.ctx, &metav1.ListOptions{Namespace: e.ns})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]*corev1.Event{}
	for _, obj := range items {
		if ev := obj.(*corev1.Event); ev.GetReason() == endpoints.ReasonFailedToResolvePort {
			out[ev.GetMessage()] = ev
		}
	}
	return out
}

// waitEvent waits for the FailedToResolvePort Event with message and returns it.
func (e *env) waitEvent(message string) *corev1.Event {
	e.t.Helper()
	var ev *corev1.Event
	controllertest.EventuallyNil(e.t, "a FailedToResolvePort event", func() error {
		evs := e.unresolvedEvents()
		if ev = evs[message]; ev == nil {
			return fmt.Errorf("no event %q; have %v", message, evs)
		}
		return nil
	})
	return ev
}

// setTargetPort changes the targetPort of Service name's first port.
func (e *env) setTargetPort(name, target string) {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Services).Get(e.ctx, e.ns, name)
	if err != nil {
		e.t.Fatal(err)
	}
	svc := proto.Clone(obj).(*corev1.Service)
	svc.Spec.Ports[0].TargetPort = structpb.NewStringValue(target)
	if _, err := e.c.Resource(scheme.Services).Update(e.ctx, svc); err != nil {
		e.t.Fatalf("update service %s: %v", name, err)
	}
}

// TestUnresolvedTargetPortRecordsAnEvent gives a Service a targetPort name no container of
// its Pods has: a Warning Event on the Service names the port and the name, once however
// often the Service is reconciled, and again when the name changes to another wrong one.
func TestUnresolvedTargetPortRecordsAnEvent(t *testing.T) {
	e := newEnv(t)
	e.start(endpoints.Config{NoLeaderElection: true})
	web := map[string]string{"app": "web"}
	e.create(e.service("web", web, port("http", 80, structpb.NewStringValue("http"))))
	e.create(e.service("typo", web, port("http", 80, structpb.NewStringValue("htp"))))
	e.pod("a", web, containerPort("http", 8080))
	e.pod("b", web, containerPort("http", 8080))
	e.kubelet("a", "10.244.1.1", true)
	e.kubelet("b", "10.244.1.2", true)
	e.eventually("web", "[a,b||http:8080]")

	msg := func(name string) string {
		return fmt.Sprintf(`Service port "http" (80/TCP) has targetPort %q, but no container of any selected Pod has a TCP port of that name: the port has no endpoints`, name)
	}
	first := e.waitEvent(msg("htp"))
	if first.GetType() != "Warning" || first.GetInvolvedObject().GetKind() != "Service" ||
		first.GetInvolvedObject().GetName() != "typo" || first.GetSource().GetComponent() != endpoints.EventComponent {
		t.Errorf("event %v", first)
	}
	e.eventually("typo", "")

	// Readiness flips reconcile typo (its selector matches the Pods) as they reconcile web;
	// none of them is a change of what is unresolved.
	for _, ready := range []bool{false, true, false, true} {
		e.kubelet("a", "10.244.1.1", ready)
		want := "[a,b||http:8080]"
		if !ready {
			want = "[b|a|http:8080]"
		}
		e.eventually("web", want)
	}
	// Another wrong name is a new warning. The recorder writes in order, so once it is there
	// any repeat of the first would be too.
	e.setTargetPort("typo", "htp2")
	e.waitEvent(msg("htp2"))
	evs := e.unresolvedEvents()
	if len(evs) != 2 || evs[msg("htp")].GetCount() != 1 || evs[msg("htp2")].GetCount() != 1 {
		for m, ev := range evs {
			t.Logf("count %d: %s", ev.GetCount(), m)
		}
		t.Errorf("%d FailedToResolvePort events, want one of each name, each counted once", len(evs))
	}
	// The right name gives the port its endpoints.
	e.setTargetPort("typo", "http")
	e.eventually("typo", "[a,b||http:8080]")
}
