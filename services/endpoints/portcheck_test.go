package endpoints

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

func TestUnresolvedPorts(t *testing.T) {
	named := structpb.NewStringValue
	terminating := testPod("t", "10.0.0.9", true, "web:8080")
	terminating.Metadata.DeletionTimestamp = timestamppb.Now()
	for _, tc := range []struct {
		name    string
		ports   []*corev1.ServicePort
		publish bool
		pods    []*corev1.Pod
		want    []string // messages
	}{{
		name:  "resolved by one Pod of two",
		ports: []*corev1.ServicePort{svcPort("http", 80, named("web"), "")},
		pods:  []*corev1.Pod{testPod("a", "10.0.0.1", true, "web:8080"), testPod("b", "10.0.0.2", true)},
	}, {
		name:  "a number, or no targetPort, is never unresolved",
		ports: []*corev1.ServicePort{svcPort("a", 80, structpb.NewNumberValue(8080), ""), svcPort("b", 81, nil, "")},
		pods:  []*corev1.Pod{testPod("a", "10.0.0.1", true)},
	}, {
		name:  "no Pod listed: nothing to resolve against",
		ports: []*corev1.ServicePort{svcPort("http", 80, named("nope"), "")},
		pods:  []*corev1.Pod{testPod("no-ip", "", true), terminating},
	}, {
		name:  "a name no Pod has, counted among the listed Pods (not-ready ones too)",
		ports: []*corev1.ServicePort{svcPort("http", 80, named("htp"), ""), svcPort("ok", 81, named("web"), "")},
		pods:  []*corev1.Pod{testPod("a", "10.0.0.1", true, "web:8080"), testPod("b", "10.0.0.2", false, "web:8080"), testPod("no-ip", "", true)},
		want:  []string{`Service port "http" (80/TCP) has targetPort "htp", but no container of any selected Pod has a TCP port of that name: the port has no endpoints`},
	}, {
		name:  "the name with another protocol, on an unnamed port of one Pod",
		ports: []*corev1.ServicePort{svcPort("", 53, named("dns"), "UDP")},
		pods:  []*corev1.Pod{testPod("a", "10.0.0.1", true, "dns:53")},
		want:  []string{`Service port 53/UDP has targetPort "dns", but no container of any selected Pod has a UDP port of that name: the port has no endpoints`},
	}, {
		name:    "publishNotReadyAddresses looks at terminating Pods too",
		ports:   []*corev1.ServicePort{svcPort("http", 80, named("http"), "")},
		publish: true,
		pods:    []*corev1.Pod{terminating},
		want:    []string{`Service port "http" (80/TCP) has targetPort "http", but no container of any selected Pod has a TCP port of that name: the port has no endpoints`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			svc := testService(tc.ports...)
			svc.Spec.PublishNotReadyAddresses = tc.publish
			var got []string
			for _, u := range unresolvedPorts(svc, tc.pods) {
				got = append(got, u.message())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPortWarningsOncePerChange(t *testing.T) {
	named := structpb.NewStringValue
	pods := []*corev1.Pod{testPod("a", "10.0.0.1", true, "web:8080")}
	typo := testService(svcPort("http", 80, named("htp"), ""))
	typo2 := testService(svcPort("http", 80, named("wbe"), ""))
	fixed := testService(svcPort("http", 80, named("web"), ""))
	w := newPortWarnings()
	for i, step := range []struct {
		key  string
		svc  *corev1.Service
		want int // warnings to record
	}{
		{"default/web", typo, 1},
		{"default/web", typo, 0},   // a sync with nothing new
		{"default/other", typo, 1}, // another Service
		{"default/web", typo2, 1},  // another name
		{"default/web", fixed, 0},
		{"default/web", typo, 1}, // broken again
		{"default/web", typo, 0},
	} {
		if got := len(w.fresh(step.key, unresolvedPorts(step.svc, pods))); got != step.want {
			t.Errorf("step %d: %d warnings, want %d", i, got, step.want)
		}
	}
	w.forget("default/web")
	if got := len(w.fresh("default/web", unresolvedPorts(typo, pods))); got != 1 {
		t.Errorf("after forget: %d warnings, want 1", got)
	}
}
