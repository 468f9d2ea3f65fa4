package endpoints_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/endpoints"
)

// tWriter sends logs to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// env is an apiserver, a client and the endpoints service under test; the test plays the
// kubelet (Pod IPs and readiness through UpdateStatus).
type env struct {
	t   *testing.T
	c   *client.Client
	ctx context.Context
	ns  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	addr := apiservertest.Start(t)
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	t.Cleanup(func() { cancel(); c.Close() })
	return &env{t: t, c: c, ctx: ctx, ns: "default"}
}

// start runs the endpoints service until the returned stop is called (or the test ends); its
// metrics go to the returned registry.
func (e *env) start(cfg endpoints.Config) (reg *prometheus.Registry, stop func()) {
	e.t.Helper()
	reg = prometheus.NewRegistry()
	cfg.Client, cfg.Metrics = e.c, reg
	cfg.Logger = slog.New(slog.NewTextHandler(tWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- endpoints.Run(ctx, cfg) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("endpoints.Run: %v", err)
		}
	}
	e.t.Cleanup(stop)
	return reg, stop
}

func (e *env) create(obj scheme.Object) scheme.Object {
	e.t.Helper()
	out, err := e.c.Resource(scheme.ForObject(obj)).Create(e.ctx, obj)
	if err != nil {
		e.t.Fatalf("create %T %s: %v", obj, obj.GetMetadata().GetName(), err)
	}
	return out
}

func (e *env) service(name string, selector map[string]string, ports ...*corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: e.ns, Name: name, Labels: map[string]string{"team": "shop"}},
		Spec:     &corev1.ServiceSpec{Selector: selector, Ports: ports},
	}
}

func port(name string, p int32, target *structpb.Value) *corev1.ServicePort {
	return &corev1.ServicePort{Name: name, Port: p, TargetPort: target}
}

// pod creates a Pod bound to node-1 with labels and container ports.
func (e *env) pod(name string, labels map[string]string, ports ...*corev1.ContainerPort) *corev1.Pod {
	e.t.Helper()
	return e.create(&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: e.ns, Name: name, Labels: labels},
		Spec: &corev1.PodSpec{NodeName: "node-1", Containers: []*corev1.Container{
			{Name: "app", Image: "berth-testapp:latest", Ports: ports},
		}},
	}).(*corev1.Pod)
}

// kubelet writes the Pod's status: Running with ip, Ready or not.
func (e *env) kubelet(name, ip string, ready bool) {
	e.t.Helper()
	for {
		obj, err := e.c.Resource(scheme.Pods).Get(e.ctx, e.ns, name)
		if err != nil {
			e.t.Fatal(err)
		}
		p := proto.Clone(obj).(*corev1.Pod)
		if p.Status == nil {
			p.Status = &corev1.PodStatus{}
		}
		status := "False"
		if ready {
			status = "True"
		}
		p.Status.Phase, p.Status.PodIp = "Running", ip
		p.Status.PodIps = []*corev1.PodIP{{Ip: ip}}
		p.Status.Conditions = []*corev1.PodCondition{{Type: "Ready", Status: status, LastTransitionTime: timestamppb.Now()}}
		_, err = e.c.Resource(scheme.Pods).UpdateStatus(e.ctx, p)
		if kerrors.IsConflict(err) {
			continue
		}
		if err != nil {
			e.t.Fatal(err)
		}
		return
	}
}

// endpoints returns the Endpoints name, nil when there are none.
func (e *env) endpoints(name string) *corev1.Endpoints {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Endpoints).Get(e.ctx, e.ns, name)
	if kerrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Endpoints)
}

// eventually polls until the Endpoints name render as want (see render), and returns them.
func (e *env) eventually(name, want string) *corev1.Endpoints {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ep := e.endpoints(name)
		got := render(ep)
		if got == want {
			return ep
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("endpoints %s:\n got %s\nwant %s", name, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// render is a compact, ordered rendering of Endpoints' subsets:
// "[ready pods|not-ready pods|ports] ..." with pods by name and ports as name:port; "none"
// when the object does not exist.
func render(ep *corev1.Endpoints) string {
	if ep == nil {
		return "none"
	}
	var b strings.Builder
	for i, ss := range ep.GetSubsets() {
		if i > 0 {
			b.WriteByte(' ')
		}
		names := func(as []*corev1.EndpointAddress) string {
			var s []string
			for _, a := range as {
				s = append(s, a.GetTargetRef().GetName())
			}
			return strings.Join(s, ",")
		}
		var ports []string
		for _, p := range ss.GetPorts() {
			ports = append(ports, fmt.Sprintf("%s:%d", p.GetName(), p.GetPort()))
		}
		fmt.Fprintf(&b, "[%s|%s|%s]", names(ss.GetAddresses()), names(ss.GetNotReadyAddresses()), strings.Join(ports, ","))
	}
	return b.String()
}

func TestAddressesFollowReadiness(t *testing.T) {
	e := newEnv(t)
	e.start(endpoints.Config{NoLeaderElection: true})
	web := map[string]string{"app": "web"}
	e.create(e.service("web", web, port("http", 80, structpb.NewNumberValue(8080))))
	for _, name := range []string{"web-1", "web-2", "web-3"} {
		e.pod(name, web)
	}
	e.pod("other", map[string]string{"app": "other"})
	ep := e.eventually("web", "") // no Pod has an IP yet
	if got := ep.GetMetadata().GetLabels()["team"]; got != "shop" {
		t.Errorf("endpoints labels %v, want the Service's", ep.GetMetadata().GetLabels())
	}

	e.kubelet("web-1", "10.244.0.11", false)
	e.kubelet("web-2", "10.244.0.12", false)
	e.kubelet("web-3", "10.244.0.13", false)
	e.kubelet("other", "10.244.0.99", true)
	e.eventually("web", "[|web-1,web-2,web-3|http:8080]")

	start := time.Now()
	e.kubelet("web-1", "10.244.0.11", true)
	e.kubelet("web-3", "10.244.0.13", true)
	ep = e.eventually("web", "[web-1,web-3|web-2|http:8080]")
	t.Logf("readiness reached the endpoints in %s", time.Since(start))

	a := ep.GetSubsets()[0].GetAddresses()[0]
	pod, err := e.c.Resource(scheme.Pods).Get(e.ctx, e.ns, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.GetIp() != "10.244.0.11" || a.GetNodeName() != "node-1" ||
		a.GetTargetRef().GetKind() != "Pod" || a.GetTargetRef().GetNamespace() != e.ns ||
		a.GetTargetRef().GetUid() != pod.GetMetadata().GetUid() {
		t.Errorf("address of web-1 is %v", a)
	}
	if p := ep.GetSubsets()[0].GetPorts()[0]; p.GetProtocol() != "TCP" {
		t.Errorf("port %v, want protocol TCP", p)
	}
	if ep.GetMetadata().GetAnnotations()[endpoints.AnnotationLastChangeTriggerTime] == "" {
		t.Errorf("annotations %v lack %s", ep.GetMetadata().GetAnnotations(), endpoints.AnnotationLastChangeTriggerTime)
	}

	// Not ready again, relabeled, deleted, terminating, finished: each leaves as Kubernetes has it.
	e.kubelet("web-3", "10.244.0.13", false)
	e.eventually("web", "[web-1|web-2,web-3|http:8080]")
	relabel := proto.Clone(e.get("web-2")).(*corev1.Pod)
	relabel.Metadata.Labels = map[string]string{"app": "canary"}
	if _, err := e.c.Resource(scheme.Pods).Update(e.ctx, relabel); err != nil {
		t.Fatal(err)
	}
	e.eventually("web", "[web-1|web-3|http:8080]")
	zero := int64(0)
	if _, err := e.c.Resource(scheme.Pods).Delete(e.ctx, &metav1.DeleteRequest{Namespace: e.ns, Name: "web-3", GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	e.eventually("web", "[web-1||http:8080]")
	e.pod("web-4", web)
	e.kubelet("web-4", "10.244.0.14", true)
	e.eventually("web", "[web-1,web-4||http:8080]")
	// A bound Pod deleted with its grace period stays, terminating, until an agent is done.
	if _, err := e.c.Resource(scheme.Pods).Delete(e.ctx, &metav1.DeleteRequest{Namespace: e.ns, Name: "web-4"}); err != nil {
		t.Fatal(err)
	}
	e.eventually("web", "[web-1||http:8080]")
	failed := proto.Clone(e.get("web-1")).(*corev1.Pod)
	failed.Status.Phase = "Failed"
	if _, err := e.c.Resource(scheme.Pods).UpdateStatus(e.ctx, failed); err != nil {
		t.Fatal(err)
	}
	e.eventually("web", "")
}

func (e *env) get(pod string) *corev1.Pod {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Pods).Get(e.ctx, e.ns, pod)
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}
