package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
	"github.com/berth-dev/berth/services/scheduler"
	"github.com/berth-dev/berth/services/scheduler/queue"
)

// env is a real apiserver on embedded etcd and a client of it.
type env struct {
	t   *testing.T
	ctx context.Context
	c   *client.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c, err := client.Dial(ctx, apiservertest.Start(t), client.WithBlock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{t: t, ctx: ctx, c: c}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startScheduler runs a scheduler until the test ends.
func (e *env) startScheduler(cfg scheduler.Config) {
	e.t.Helper()
	cfg.Client = e.c
	if cfg.Logger == nil {
		cfg.Logger = testLogger(e.t)
	}
	if cfg.Queue.InitialBackoff == 0 {
		cfg.Queue = queue.Options{InitialBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, FlushInterval: 50 * time.Millisecond}
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("scheduler: %v", err)
		}
	})
}

func node(name, cpu, mem string, labels map[string]string) *corev1.Node {
	if labels == nil {
		labels = map[string]string{}
	}
	labels["kubernetes.io/hostname"] = name
	res := map[string]string{"cpu": cpu, "memory": mem, "pods": "110"}
	return &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name, Labels: labels},
		Status: &corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}},
		},
	}
}

func pod(name, cpu, mem string) *corev1.Pod {
	req := map[string]string{}
	if cpu != "" {
		req["cpu"] = cpu
	}
	if mem != "" {
		req["memory"] = mem
	}
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{
			Name: "app", Image: "berth-testapp:latest", Resources: &corev1.ResourceRequirements{Requests: req},
		}}},
	}
}

func (e *env) create(objs ...scheme.Object) {
	e.t.Helper()
	for _, o := range objs {
		if _, err := e.c.Resource(scheme.ForObject(o)).Create(e.ctx, o); err != nil {
			e.t.Fatalf("create %s: %v", o.GetMetadata().GetName(), err)
		}
	}
}

func (e *env) getPod(name string) *corev1.Pod {
	e.t.Helper()
	o, err := e.c.Resource(scheme.Pods).Get(e.ctx, "default", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return o.(*corev1.Pod)
}

// eventually polls cond every 20ms until it returns "" or the timeout passes, then fails
// with cond's last answer.
func (e *env) eventually(timeout time.Duration, cond func() string) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) waitBound(timeout time.Duration, names ...string) map[string]string {
	e.t.Helper()
	placed := map[string]string{}
	e.eventually(timeout, func() string {
		for _, n := range names {
			if _, ok := placed[n]; ok {
				continue
			}
			if p := e.getPod(n); p.GetSpec().GetNodeName() != "" {
				placed[n] = p.GetSpec().GetNodeName()
			} else {
				return fmt.Sprintf("pod %s is not bound", n)
			}
		}
		return ""
	})
	return placed
}

func (e *env) events(object string) []*corev1.Event {
	e.t.Helper()
	items, _, err := e.c.Resource(scheme.Events).List(e.ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*corev1.Event
	for _, o := range items {
		if ev := o.(*corev1.Event); ev.GetInvolvedObject().GetName() == object {
			out = append(out, ev)
		}
	}
	return out
}

func condition(p *corev1.Pod, typ string) *corev1.PodCondition {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

func TestSchedulesAndEvents(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	e.startScheduler(scheduler.Config{Metrics: reg})
	e.create(node("n1", "2", "4Gi", nil), node("n2", "2", "4Gi", nil))
	e.create(pod("a", "100m", "100Mi"), pod("b", "100m", "100Mi"))
	placed := e.waitBound(20*time.Second, "a", "b")
	if placed["a"] == placed["b"] {
		t.Errorf("both pods on %s; equal nodes should share the load", placed["a"])
	}
	e.eventually(10*time.Second, func() string {
		evs := e.events("a")
		for _, ev := range evs {
			if ev.GetReason() == "Scheduled" && ev.GetType() == "Normal" {
				if want := "Successfully assigned default/a to " + placed["a"]; ev.GetMessage() != want {
					return fmt.Sprintf("Scheduled event message %q, want %q", ev.GetMessage(), want)
				}
				if ev.GetSource().GetComponent() != "default-scheduler" {
					return fmt.Sprintf("event source %q, want default-scheduler", ev.GetSource().GetComponent())
				}
				return ""
			}
		}
		return fmt.Sprintf("no Scheduled event for a among %d events", len(evs))
	})
	if c := condition(e.getPod("a"), "PodScheduled"); c.GetStatus() != "True" {
		t.Errorf("PodScheduled condition %v, want True", c)
	}
	if n := counter(t, reg, "scheduler_schedule_attempts_total", "scheduled"); n != 2 {
		t.Errorf("scheduled attempts = %v, want 2", n)
	}
}

// counter returns the value of the counter name with the label result.
func counter(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestTooBigStaysPendingUntilNodeAdded(t *testing.T) {
	e := newEnv(t)
	e.startScheduler(scheduler.Config{})
	e.create(
		node("small-1", "1", "2Gi", map[string]string{"disk": "ssd"}),
		node("small-2", "1", "2Gi", map[string]string{"disk": "ssd"}),
		node("zoned", "8", "16Gi", map[string]string{"disk": "hdd"}),
	)
	big := pod("big", "4", "1Gi")
	big.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	e.create(big)
	want := "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu."
	e.eventually(20*time.Second, func() string {
		c := condition(e.getPod("big"), "PodScheduled")
		if c.GetStatus() != "False" || c.GetReason() != "Unschedulable" || c.GetMessage() != want {
			return fmt.Sprintf("PodScheduled = %v, want False Unschedulable %q", c, want)
		}
		return ""
	})
	e.eventually(10*time.Second, func() string {
		for _, ev := range e.events("big") {
			if ev.GetReason() == "FailedScheduling" && ev.GetType() == "Warning" && ev.GetMessage() == want {
				return ""
			}
		}
		return "no FailedScheduling event with " + want
	})
	if n := e.getPod("big").GetSpec().GetNodeName(); n != "" {
		t.Fatalf("the pod too big was bound to %s", n)
	}
	// A Node that fits arrives: the Pod is scheduled there.
	e.create(node("large", "8", "16Gi", map[string]string{"disk": "ssd"}))
	if placed := e.waitBound(20*time.Second, "big"); placed["big"] != "large" {
		t.Errorf("big bound to %s, want large", placed["big"])
	}
}

func TestTwoSchedulers(t *testing.T) {
	e := newEnv(t)
	e.startScheduler(scheduler.Config{})
	e.startScheduler(scheduler.Config{SchedulerName: "other"})
	e.create(node("n1", "4", "8Gi", nil))
	var names []string
	for i := range 5 {
		p := pod(fmt.Sprintf("default-%d", i), "10m", "")
		q := pod(fmt.Sprintf("other-%d", i), "10m", "")
		q.Spec.SchedulerName = "other"
		e.create(p, q)
		names = append(names, p.Metadata.Name, q.Metadata.Name)
	}
	e.waitBound(20*time.Second, names...)
	for _, n := range names {
		var from string
		for _, ev := range e.events(n) {
			if ev.GetReason() == "Scheduled" {
				from = ev.GetSource().GetComponent()
			}
		}
		want := "default-scheduler"
		if strings.HasPrefix(n, "other") {
			want = "other"
		}
		if from != "" && from != want {
			t.Errorf("pod %s scheduled by %s, want %s", n, from, want)
		}
	}
	// A Pod for a scheduler that does not run stays unbound and untouched.
	nobody := pod("nobody", "10m", "")
	nobody.Spec.SchedulerName = "absent"
	e.create(nobody)
	time.Sleep(500 * time.Millisecond)
	if p := e.getPod("nobody"); p.GetSpec().GetNodeName() != "" || condition(p, "PodScheduled") != nil {
		t.Errorf("a pod of an absent scheduler was touched: node %q, conditions %v", p.GetSpec().GetNodeName(), p.GetStatus().GetConditions())
	}
}

func TestNoOvercommitUnderRace(t *testing.T) {
	e := newEnv(t)
	e.startScheduler(scheduler.Config{})
	// 5 Nodes × 10 Pods of 100m fit 50 of the 200 Pods.
	for i := range 5 {
		e.create(node(fmt.Sprintf("n%d", i), "1", "64Gi", nil))
	}
	const pods = 200
	var wg sync.WaitGroup
	errs := make(chan error, pods)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < pods; i += 8 {
				if _, err := e.c.Resource(scheme.Pods).Create(e.ctx, pod(fmt.Sprintf("p%03d", i), "100m", "10Mi")); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	count := func() (map[string]int, int) {
		items, _, err := e.c.Resource(scheme.Pods).List(e.ctx, &metav1.ListOptions{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		bound := 0
		for _, o := range items {
			if n := o.(*corev1.Pod).GetSpec().GetNodeName(); n != "" {
				per[n]++
				bound++
			}
		}
		return per, bound
	}
	e.eventually(30*time.Second, func() string {
		if _, bound := count(); bound != 50 {
			return fmt.Sprintf("%d pods bound, want 50", bound)
		}
		return ""
	})
	time.Sleep(300 * time.Millisecond) // anything still in flight would land now
	per, bound := count()
	for n, c := range per {
		if c > 10 {
			t.Errorf("node %s holds %d pods of 100m on 1 cpu", n, c)
		}
	}
	if bound != 50 {
		t.Errorf("%d pods bound, want 50", bound)
	}
}

func TestBadConfigRefused(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown plugin", "plugins:\n  filter:\n  - name: NodeFoo\n", `plugins.filter[0].name: Unsupported value: "NodeFoo"`},
		{"negative weight", "plugins:\n  score:\n  - name: NodeResourcesFit\n    weight: -2\n", "plugins.score[0].weight: Invalid value: -2: must not be negative"},
		{"bad yaml", "plugins: [\n", "invalid scheduler configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := dir + "/" + strings.ReplaceAll(tc.name, " ", "-") + ".yaml"
			if err := os.WriteFile(f, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := scheduler.New(scheduler.Config{Client: e.c, ConfigFile: f})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New with %s: %v, want an error containing %q", tc.name, err, tc.want)
			}
		})
	}
}

// Bind is refused for a Pod bound already: the scheduler never binds twice.
func TestBindConflict(t *testing.T) {
	e := newEnv(t)
	e.create(node("n1", "1", "1Gi", nil))
	e.create(pod("p", "", ""))
	pods := corev1.NewPodServiceClient(e.c.Conn())
	b := &corev1.Binding{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "p"}, Target: &corev1.ObjectReference{Kind: "Node", Name: "n1"}}
	if _, err := pods.Bind(e.ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Bind(e.ctx, proto.Clone(b).(*corev1.Binding)); !kerrors.IsConflict(err) {
		t.Fatalf("second bind: %v, want Conflict", err)
	}
}

// Two schedulers with the same name: only the leader binds; when it stops, the other takes
// over.
func TestLeaderElection(t *testing.T) {
	e := newEnv(t)
	le := func(id string) leaderelection.Config {
		return leaderelection.Config{Identity: id, LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 250 * time.Millisecond}
	}
	start := func(id string) context.CancelFunc {
		s, err := scheduler.New(scheduler.Config{Client: e.c, Identity: id, LeaderElection: le(id), Logger: testLogger(t),
			Queue: queue.Options{InitialBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, FlushInterval: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := s.Run(ctx); err != nil {
				t.Errorf("scheduler %s: %v", id, err)
			}
		}()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop
	}
	scheduledBy := func(name string) string {
		var host string
		e.eventually(10*time.Second, func() string {
			for _, ev := range e.events(name) {
				if ev.GetReason() == "Scheduled" {
					host = ev.GetSource().GetHost()
					return ""
				}
			}
			return "no Scheduled event for " + name
		})
		return host
	}
	e.create(node("n1", "4", "8Gi", nil))
	stopA := start("a")
	e.create(pod("p1", "10m", ""))
	e.waitBound(20*time.Second, "p1")
	start("b")
	e.create(pod("p2", "10m", ""))
	e.waitBound(20*time.Second, "p2")
	if got := [2]string{scheduledBy("p1"), scheduledBy("p2")}; got != [2]string{"a", "a"} {
		t.Fatalf("p1 and p2 scheduled by %v, want the leader a for both", got)
	}
	lease, err := e.c.Resource(scheme.Leases).Get(e.ctx, "kube-system", "kube-scheduler")
	if err != nil {
		t.Fatalf("the Lease kube-system/kube-scheduler: %v", err)
	}
	if h := lease.(*coordinationv1.Lease).GetSpec().GetHolderIdentity(); h != "a" {
		t.Errorf("lease held by %q, want a", h)
	}
	stopA()
	e.create(pod("p3", "10m", ""))
	e.waitBound(20*time.Second, "p3")
	if by := scheduledBy("p3"); by != "b" {
		t.Errorf("p3 scheduled by %q after a stopped, want b", by)
	}
}

// A Pod that finished (phase Succeeded) no longer holds its Node's resources: a Pod waiting
// for them is scheduled.
func TestFinishedPodFreesItsNode(t *testing.T) {
	e := newEnv(t)
	e.startScheduler(scheduler.Config{})
	e.create(node("n1", "1", "1Gi", nil))
	e.create(pod("first", "1", ""))
	e.waitBound(20*time.Second, "first")
	e.create(pod("second", "1", ""))
	e.eventually(20*time.Second, func() string {
		if c := condition(e.getPod("second"), "PodScheduled"); c.GetReason() != "Unschedulable" {
			return fmt.Sprintf("second: PodScheduled %v, want Unschedulable", c)
		}
		return ""
	})
	done := e.getPod("first")
	done.Status.Phase = "Succeeded"
	if _, err := e.c.Resource(scheme.Pods).UpdateStatus(e.ctx, done); err != nil {
		t.Fatal(err)
	}
	if placed := e.waitBound(20*time.Second, "second"); placed["second"] != "n1" {
		t.Errorf("second bound to %q, want n1", placed["second"])
	}
}
