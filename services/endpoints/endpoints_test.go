package endpoints_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/testlog"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
	"github.com/berth-dev/berth/services/endpoints"
)

// logged tells whether a line of the service's logs, since it last started, holds every one
// of parts.
func (e *env) logged(parts ...string) bool { return e.log.Contains(parts...) }

// env is an apiserver, a client and the endpoints service under test; the test plays the
// kubelet (Pod IPs and readiness through UpdateStatus).
type env struct {
	t   *testing.T
	c   *client.Client
	ctx context.Context
	ns  string
	log *testlog.LineWriter
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c, ctx := controllertest.Start(t)
	return &env{t: t, c: c, ctx: ctx, ns: "default", log: testlog.Writer(t)}
}

// start runs the endpoints service until the returned stop is called (or the test ends); its
// metrics go to the returned registry.
func (e *env) start(cfg endpoints.Config) (reg *prometheus.Registry, stop func()) {
	e.t.Helper()
	reg = prometheus.NewRegistry()
	cfg.Client, cfg.Metrics = e.c, reg
	e.log.Keep() // logged looks at this run's logs only
	cfg.Logger = e.log.Logger()
	return reg, controllertest.Go(e.t, e.ctx, "endpoints.Run", func(ctx context.Context) error { return endpoints.Run(ctx, cfg) })
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
	if !controllertest.SetRunning(e.ctx, e.t, e.c, e.ns, name, controllertest.Running{Ready: ready, IP: ip}) {
		e.t.Fatalf("pod %s is gone", name)
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
	var ep *corev1.Endpoints
	controllertest.EventuallyNil(e.t, "endpoints "+name, func() error {
		ep = e.endpoints(name)
		if got := render(ep); got != want {
			return fmt.Errorf("\n got %s\nwant %s", got, want)
		}
		return nil
	})
	return ep
}

// render is a compact rendering of Endpoints' subsets, "[ready pods|not-ready pods|ports] ..."
// with pods by name (in the object's order) and ports as name:port, the subsets sorted (their
// order depends on the Pods' random UIDs); "none" when the object does not exist.
func render(ep *corev1.Endpoints) string {
	if ep == nil {
		return "none"
	}
	var out []string
	for _, ss := range ep.GetSubsets() {
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
		out = append(out, fmt.Sprintf("[%s|%s|%s]", names(ss.GetAddresses()), names(ss.GetNotReadyAddresses()), strings.Join(ports, ",")))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
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

// metric sums the samples of the metric name whose labels include labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	samples:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue samples
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func containerPort(name string, p int32) *corev1.ContainerPort {
	return &corev1.ContainerPort{Name: name, ContainerPort: p}
}

func TestNamedTargetPortResolvesPerPod(t *testing.T) {
	e := newEnv(t)
	reg, _ := e.start(endpoints.Config{NoLeaderElection: true})
	web := map[string]string{"app": "web"}
	e.create(e.service("web", web,
		port("http", 80, structpb.NewStringValue("http")),
		port("metrics", 9100, structpb.NewNumberValue(9100))))
	// A Service whose targetPort no Pod's container has: Endpoints without subsets, no retries.
	e.create(e.service("typo", web, port("", 80, structpb.NewStringValue("htp"))))
	e.pod("a", web, containerPort("http", 8080))
	e.pod("b", web, containerPort("http", 9090), containerPort("admin", 7070))
	e.pod("c", web, containerPort("admin", 8080)) // no "http": only under metrics
	e.kubelet("a", "10.244.1.1", true)
	e.kubelet("b", "10.244.1.2", true)
	e.kubelet("c", "10.244.1.3", false)
	ep := e.eventually("web", "[a,b|c|metrics:9100] [a||http:8080] [b||http:9090]")
	for _, ss := range ep.GetSubsets() {
		if ss.GetPorts()[0].GetProtocol() != "TCP" {
			t.Errorf("subset ports %v, want TCP", ss.GetPorts())
		}
	}
	e.eventually("typo", "")
	if n := metric(t, reg, "berth_controller_reconcile_total", map[string]string{"controller": endpoints.Name, "result": "success"}); n == 0 {
		t.Error("no successful reconcile counted")
	}
	if n := metric(t, reg, "berth_controller_reconcile_errors_total", map[string]string{"controller": endpoints.Name}); n != 0 {
		t.Errorf("%v reconciles failed, want none", n)
	}
	if n := metric(t, reg, "berth_controller_queue_delayed", map[string]string{"controller": endpoints.Name}); n != 0 {
		t.Errorf("%v keys wait for a retry, want none", n)
	}
}

func TestPublishNotReadyAddressesAndHostnames(t *testing.T) {
	e := newEnv(t)
	e.start(endpoints.Config{NoLeaderElection: true})
	db := map[string]string{"app": "db"}
	svc := e.service("db", db, port("pg", 5432, structpb.NewNumberValue(5432)))
	svc.Spec.ClusterIp, svc.Spec.PublishNotReadyAddresses = endpoints.ClusterIPNone, true
	e.create(svc)
	for i, name := range []string{"db-0", "db-1"} {
		e.create(&corev1.Pod{
			Metadata: &metav1.ObjectMeta{Namespace: e.ns, Name: name, Labels: db},
			Spec: &corev1.PodSpec{NodeName: "node-1", Hostname: name, Subdomain: "db", Containers: []*corev1.Container{
				{Name: "pg", Image: "berth-testapp:latest"},
			}},
		})
		e.kubelet(name, fmt.Sprintf("10.244.2.%d", i+1), i == 0)
	}
	ep := e.eventually("db", "[db-0,db-1||pg:5432]")
	for _, a := range ep.GetSubsets()[0].GetAddresses() {
		if a.GetHostname() != a.GetTargetRef().GetName() {
			t.Errorf("address %v: hostname %q, want the Pod's", a, a.GetHostname())
		}
	}
	if _, ok := ep.GetMetadata().GetLabels()[endpoints.LabelHeadless]; !ok {
		t.Errorf("labels %v of a headless Service's endpoints lack %s", ep.GetMetadata().GetLabels(), endpoints.LabelHeadless)
	}
	// Terminating Pods stay too when not-ready addresses are published.
	if _, err := e.c.Resource(scheme.Pods).Delete(e.ctx, &metav1.DeleteRequest{Namespace: e.ns, Name: "db-1"}); err != nil {
		t.Fatal(err)
	}
	if e.get("db-1").GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatal("db-1 is not terminating")
	}
	// Turning publishNotReadyAddresses off sorts them again, and leaves out the terminating Pod.
	upd := proto.Clone(e.getService("db")).(*corev1.Service)
	upd.Spec.PublishNotReadyAddresses = false
	if _, err := e.c.Resource(scheme.Services).Update(e.ctx, upd); err != nil {
		t.Fatal(err)
	}
	e.eventually("db", "[db-0||pg:5432]")
}

func (e *env) getService(name string) *corev1.Service {
	e.t.Helper()
	obj, err := e.c.Resource(scheme.Services).Get(e.ctx, e.ns, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return obj.(*corev1.Service)
}

func TestServiceDeletionAndServicesWithoutSelector(t *testing.T) {
	e := newEnv(t)
	e.start(endpoints.Config{NoLeaderElection: true})
	web := map[string]string{"app": "web"}
	// Users write the Endpoints of a Service without a selector.
	e.create(e.service("external", nil, port("", 5432, nil)))
	manual := e.create(&corev1.Endpoints{
		Metadata: &metav1.ObjectMeta{Namespace: e.ns, Name: "external"},
		Subsets: []*corev1.EndpointSubset{{
			Addresses: []*corev1.EndpointAddress{{Ip: "192.0.2.10"}},
			Ports:     []*corev1.EndpointPort{{Port: 5432, Protocol: "TCP"}},
		}},
	})
	e.create(e.service("web", web, port("", 80, structpb.NewNumberValue(8080))))
	e.pod("web-1", web)
	e.kubelet("web-1", "10.244.3.1", true)
	e.eventually("web", "[web-1||:8080]")
	// A Pod whose labels match nothing but the selector-less Service's name changes nothing.
	e.pod("external-1", map[string]string{"app": "external"})
	e.kubelet("external-1", "10.244.3.2", true)

	if _, err := e.c.Resource(scheme.Services).Delete(e.ctx, &metav1.DeleteRequest{Namespace: e.ns, Name: "web"}); err != nil {
		t.Fatal(err)
	}
	e.eventually("web", "none")
	controllertest.Eventually(t, "Service external to be reconciled", func() bool {
		return e.logged("msg=reconciled", "key=default/external")
	})
	if got := e.endpoints("external"); !proto.Equal(got, manual) {
		t.Errorf("the endpoints of a Service without a selector changed:\n got %v\nwant %v", got, manual)
	}
}

// TestRestartConvergesWithoutWriting restarts the service: the new one, elected leader through
// its Lease, writes nothing that is already right and deletes the Endpoints of a Service
// deleted while none ran.
func TestRestartConvergesWithoutWriting(t *testing.T) {
	e := newEnv(t)
	_, stop := e.start(endpoints.Config{NoLeaderElection: true})
	web, api := map[string]string{"app": "web"}, map[string]string{"app": "api"}
	e.create(e.service("web", web, port("http", 80, structpb.NewStringValue("http")), port("admin", 81, structpb.NewNumberValue(7070))))
	e.create(e.service("api", api, port("", 80, structpb.NewNumberValue(8080))))
	for i, name := range []string{"web-1", "web-2", "web-3"} {
		e.pod(name, web, containerPort("http", int32(8080+i)))
		e.kubelet(name, fmt.Sprintf("10.244.4.%d", i+1), i != 1)
	}
	e.pod("api-1", api)
	e.kubelet("api-1", "10.244.4.9", true)
	before := e.eventually("web", "[web-1,web-3|web-2|admin:7070] [web-1||http:8080] [web-3||http:8082] [|web-2|http:8081]")
	e.eventually("api", "[api-1||:8080]")
	stop()

	if _, err := e.c.Resource(scheme.Services).Delete(e.ctx, &metav1.DeleteRequest{Namespace: e.ns, Name: "api"}); err != nil {
		t.Fatal(err)
	}
	e.start(endpoints.Config{})
	e.eventually("api", "none")
	// Once the new controller has reconciled web, its Endpoints are as they were.
	controllertest.Eventually(t, "the restarted controller to reconcile Service web", func() bool {
		return e.logged(`msg=reconciled`, `key=default/web`)
	})
	after := e.endpoints("web")
	if a, b := after.GetMetadata().GetResourceVersion(), before.GetMetadata().GetResourceVersion(); a != b {
		t.Errorf("the restarted controller wrote the endpoints again: resourceVersion %s, was %s", a, b)
	}
	if !proto.Equal(after, before) {
		t.Errorf("endpoints changed:\n got %v\nwant %v", after, before)
	}
	lease, err := e.c.Resource(scheme.Leases).Get(e.ctx, "kube-system", endpoints.LeaseName)
	if err != nil {
		t.Fatalf("lease of the restarted controller: %v", err)
	}
	t.Logf("lease: %v", lease)
}

// TestReadinessReachesEndpointsPromptly flips a Pod's readiness and waits for each change in
// the Endpoints, logging how long each took; the deadline only catches a change that never
// arrives (speed goals live in benchmarks).
func TestReadinessReachesEndpointsPromptly(t *testing.T) {
	e := newEnv(t)
	e.start(endpoints.Config{NoLeaderElection: true})
	web := map[string]string{"app": "web"}
	e.create(e.service("web", web, port("", 80, structpb.NewNumberValue(8080))))
	e.pod("web-1", web)
	e.kubelet("web-1", "10.244.5.1", false)
	e.eventually("web", "[|web-1|:8080]")
	var worst time.Duration
	for i := range 10 {
		ready := i%2 == 0
		want := "[|web-1|:8080]"
		if ready {
			want = "[web-1||:8080]"
		}
		start := time.Now()
		e.kubelet("web-1", "10.244.5.1", ready)
		deadline := start.Add(10 * time.Second)
		for render(e.endpoints("web")) != want {
			if time.Now().After(deadline) {
				t.Fatalf("flip %d: the endpoints did not follow the Pod's readiness (ready=%v) within 10s", i, ready)
			}
			time.Sleep(2 * time.Millisecond)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("slowest of 10 readiness changes reached the endpoints in %s", worst)
}

// TestFailedWriteRecordsAnEvent makes the Endpoints unwritable (a Pod reports a loopback IP,
// which Endpoints refuse) and expects Kubernetes' Warning Event on them, then recovery once
// the Pod's IP is right.
func TestFailedWriteRecordsAnEvent(t *testing.T) {
	e := newEnv(t)
	e.start(endpoints.Config{NoLeaderElection: true})
	web := map[string]string{"app": "web"}
	e.pod("web-1", web)
	e.kubelet("web-1", "127.0.0.1", true)
	e.create(e.service("web", web, port("", 80, structpb.NewNumberValue(8080))))
	deadline := time.Now().Add(20 * time.Second)
	for {
		items, _, err := e.c.Resource(scheme.Events).List(e.ctx, &metav1.ListOptions{Namespace: e.ns})
		if err != nil {
			t.Fatal(err)
		}
		// Create, or update when the Pod informer's cache showed the Pod without its IP first.
		messages := map[string]string{
			"FailedToCreateEndpoint": "Failed to create endpoint for service default/web: ",
			"FailedToUpdateEndpoint": "Failed to update endpoint default/web: ",
		}
		var found *corev1.Event
		for _, obj := range items {
			if ev := obj.(*corev1.Event); messages[ev.GetReason()] != "" {
				found = ev
			}
		}
		if found != nil {
			if found.GetType() != "Warning" || found.GetInvolvedObject().GetKind() != "Endpoints" ||
				found.GetInvolvedObject().GetName() != "web" || found.GetSource().GetComponent() != endpoints.EventComponent ||
				!strings.HasPrefix(found.GetMessage(), messages[found.GetReason()]) {
				t.Errorf("event %v", found)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no FailedToCreateEndpoint or FailedToUpdateEndpoint event")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.kubelet("web-1", "10.244.6.1", true)
	e.eventually("web", "[web-1||:8080]")
}
