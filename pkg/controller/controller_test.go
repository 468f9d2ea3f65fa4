package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// start runs c until the returned stop is called; stop waits for Run to return.
func start(t *testing.T, c *Controller) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// metric reads one sample of m through a pedantic registry (which also checks that Describe
// and Collect agree).
func metric(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, s := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case s.Counter != nil:
				return s.GetCounter().GetValue()
			case s.Gauge != nil:
				return s.GetGauge().GetValue()
			case s.Histogram != nil:
				return float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

type outcome struct {
	res   Result
	err   error
	panic bool
}

var (
	ok      = outcome{}
	fail    = outcome{err: errors.New("boom")}
	term    = outcome{err: Terminal(errors.New("bad spec"))}
	crash   = outcome{panic: true}
	requeue = func(d time.Duration) outcome { return outcome{res: Result{RequeueAfter: d}} }
)

// TestOutcomes scripts what reconcile returns and checks when the runner calls it again, in
// the fake time of a synctest bubble.
func TestOutcomes(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		script   []outcome
		want     []time.Duration // when each call happens, from the first
		results  map[string]float64
		failures float64
	}{
		{"success is not repeated", []outcome{ok}, []time.Duration{0},
			map[string]float64{ResultSuccess: 1}, 0},
		{"errors back off exponentially", []outcome{fail, fail, fail, ok}, []time.Duration{0, 5 * ms, 15 * ms, 35 * ms},
			map[string]float64{ResultError: 3, ResultSuccess: 1}, 3},
		{"requeue after a delay", []outcome{requeue(time.Minute), ok}, []time.Duration{0, time.Minute},
			map[string]float64{ResultRequeue: 1, ResultSuccess: 1}, 0},
		{"a terminal error is not retried", []outcome{term}, []time.Duration{0},
			map[string]float64{ResultTerminal: 1}, 1},
		{"a panic is retried like an error", []outcome{crash, ok}, []time.Duration{0, 5 * ms},
			map[string]float64{ResultError: 1, ResultSuccess: 1}, 1},
		{"success resets the backoff", []outcome{fail, fail, requeue(time.Second), fail, ok},
			[]time.Duration{0, 5 * ms, 15 * ms, 1015 * ms, 1020 * ms},
			map[string]float64{ResultError: 3, ResultRequeue: 1, ResultSuccess: 1}, 3},
		{"the error wins over a requeue", []outcome{{res: Result{RequeueAfter: time.Hour}, err: errors.New("x")}, ok},
			[]time.Duration{0, 5 * ms}, map[string]float64{ResultError: 1, ResultSuccess: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var (
					mu    sync.Mutex
					calls []time.Time
				)
				reconcile := func(ctx context.Context, key string) (Result, error) {
					mu.Lock()
					n := len(calls)
					calls = append(calls, time.Now())
					mu.Unlock()
					if key != "ns/a" {
						t.Errorf("reconcile of %q, want ns/a", key)
					}
					if n >= len(tt.script) {
						t.Errorf("call %d beyond the script", n+1)
						return Result{}, nil
					}
					o := tt.script[n]
					if o.panic {
						panic("crash")
					}
					return o.res, o.err
				}
				m := NewMetrics()
				c := New("test", reconcile, Options{Metrics: m})
				stop := start(t, c)
				c.Enqueue("ns/a")
				time.Sleep(time.Hour)
				synctest.Wait()
				stop()

				mu.Lock()
				defer mu.Unlock()
				var got []time.Duration
				for _, at := range calls {
					got = append(got, at.Sub(calls[0]))
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("calls at %v, want %v", got, tt.want)
				}
				for result, want := range tt.results {
					if got := metric(t, m, "berth_controller_reconcile_total", map[string]string{"controller": "test", "result": result}); got != want {
						t.Errorf("reconcile_total{result=%s} = %v, want %v", result, got, want)
					}
				}
				if got := metric(t, m, "berth_controller_reconcile_errors_total", map[string]string{"controller": "test"}); got != tt.failures {
					t.Errorf("reconcile_errors_total = %v, want %v", got, tt.failures)
				}
				if got := metric(t, m, "berth_controller_reconcile_duration_seconds", map[string]string{"controller": "test"}); got != float64(len(tt.want)) {
					t.Errorf("%v latency samples, want %d", got, len(tt.want))
				}
			})
		})
	}
}

// TestChangeDuringReconcileIsNotLost enqueues a key three times while it is being reconciled:
// it is reconciled exactly once more, afterwards, never twice at the same time.
func TestChangeDuringReconcileIsNotLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		calls, inFlight := 0, 0
		release := make(chan struct{})
		c := New("test", func(ctx context.Context, key string) (Result, error) {
			mu.Lock()
			calls++
			first := calls == 1
			inFlight++
			if inFlight > 1 {
				t.Error("one key reconciled by two workers at once")
			}
			mu.Unlock()
			if first {
				<-release
			}
			mu.Lock()
			inFlight--
			mu.Unlock()
			return Result{}, nil
		}, Options{Workers: 4})
		stop := start(t, c)
		c.Enqueue("a")
		synctest.Wait() // the first reconcile is blocked
		for range 3 {
			c.Enqueue("a")
		}
		close(release)
		synctest.Wait()
		stop()
		if calls != 2 {
			t.Errorf("%d reconciles, want 2", calls)
		}
	})
}

func TestWorkersRunInParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		inFlight, peak := 0, 0
		c := New("test", func(ctx context.Context, key string) (Result, error) {
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			time.Sleep(time.Second)
			mu.Lock()
			inFlight--
			mu.Unlock()
			return Result{}, nil
		}, Options{Workers: 3})
		stop := start(t, c)
		for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
			c.Enqueue(k)
		}
		begin := time.Now()
		for {
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
			mu.Lock()
			idle := inFlight == 0
			mu.Unlock()
			if idle && c.queue.Len() == 0 {
				break
			}
		}
		stop()
		if peak != 3 {
			t.Errorf("peak of %d reconciles at once, want 3", peak)
		}
		if took := time.Since(begin).Truncate(time.Second); took != 2*time.Second {
			t.Errorf("six 1s reconciles on 3 workers took %v, want 2s", took)
		}
	})
}

func TestReconcileLoggerAndContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		ctxKey := struct{ name string }{"test"}
		c := New("ns-controller", func(ctx context.Context, key string) (Result, error) {
			LoggerFrom(ctx).Info("inside", "step", 1)
			if ctx.Value(ctxKey) != "carried" {
				t.Error("reconcile's ctx does not derive from Run's")
			}
			return Result{}, errors.New("boom")
		}, Options{Logger: log, RateLimiter: noRetry{}})
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey, "carried"))
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		c.Enqueue("default/x")
		synctest.Wait()
		cancel()
		<-done
		var inside, failed string
		for _, line := range strings.Split(buf.String(), "\n") {
			switch {
			case strings.Contains(line, `"msg":"inside"`):
				inside = line
			case strings.Contains(line, `"msg":"reconcile failed, retrying"`):
				failed = line
			}
		}
		for _, line := range []string{inside, failed} {
			for _, want := range []string{`"controller":"ns-controller"`, `"key":"default/x"`, `"reconcileID":"`} {
				if !strings.Contains(line, want) {
					t.Errorf("log line %q lacks %s", line, want)
				}
			}
		}
		if !strings.Contains(failed, `"err":"boom"`) || !strings.Contains(failed, `"level":"ERROR"`) {
			t.Errorf("failure logged as %q", failed)
		}
	})
	if got := LoggerFrom(context.Background()); got == nil {
		t.Error("LoggerFrom without a logger returned nil")
	}
}

// noRetry never lets a retry happen within a test.
type noRetry struct{}

func (noRetry) When(string) time.Duration { return time.Hour * 24 * 365 }
func (noRetry) Forget(string)             {}
func (noRetry) NumRequeues(string) int    { return 0 }

func TestConflictsAreRetriedQuietly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		calls := 0
		c := New("test", func(ctx context.Context, key string) (Result, error) {
			calls++
			if calls == 1 {
				return Result{}, kerrors.NewConflict(schema.GroupResource{Resource: "namespaces"}, "x", errors.New("stale"))
			}
			return Result{}, nil
		}, Options{Logger: log})
		stop := start(t, c)
		c.Enqueue("x")
		time.Sleep(time.Second)
		synctest.Wait()
		stop()
		if calls != 2 {
			t.Errorf("%d calls, want 2 (a conflict is retried)", calls)
		}
		if strings.Contains(buf.String(), `"level":"ERROR"`) {
			t.Errorf("a conflict was logged as an error: %s", buf.String())
		}
	})
}

func TestRunLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMetrics()
		c := New("test", func(context.Context, string) (Result, error) { return Result{}, nil }, Options{Metrics: m})
		stop := start(t, c)
		synctest.Wait()
		if err := c.Run(context.Background()); err == nil {
			t.Error("a second Run did not fail")
		}
		c.EnqueueAfter("later", time.Hour)
		synctest.Wait()
		if got := metric(t, m, "berth_controller_queue_delayed", map[string]string{"controller": "test"}); got != 1 {
			t.Errorf("queue_delayed = %v, want 1", got)
		}
		stop() // synctest fails the test if a worker or timer outlives it
		if got := metric(t, m, "berth_controller_queue_delayed", map[string]string{"controller": "test"}); got != 0 {
			t.Errorf("a stopped controller still reports its queue: %v", got)
		}
		// The name is free again.
		New("test", func(context.Context, string) (Result, error) { return Result{}, nil }, Options{Metrics: m})
	})
}

func TestDuplicateNamePanics(t *testing.T) {
	m := NewMetrics()
	New("same", nil, Options{Metrics: m})
	defer func() {
		if recover() == nil {
			t.Error("two controllers with one name in one Metrics did not panic")
		}
	}()
	New("same", nil, Options{Metrics: m})
}

func TestRunWaitsForInformers(t *testing.T) {
	c, err := client.Dial(context.Background(), "127.0.0.1:1") // nothing listens: never syncs
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctl := New("test", func(context.Context, string) (Result, error) {
		t.Error("reconciled before the informers synced")
		return Result{}, nil
	}, Options{})
	ctl.Watch(informer.New(c, scheme.ConfigMaps, informer.Options{}), nil)
	ctl.Enqueue("x")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ctl.Run(ctx); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestControllerOf(t *testing.T) {
	yes, no := true, false
	pod := func(refs ...*metav1.OwnerReference) scheme.Object {
		return &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p", OwnerReferences: refs}}
	}
	tests := []struct {
		obj  scheme.Object
		want []string
	}{
		{pod(&metav1.OwnerReference{Kind: "ReplicaSet", Name: "rs", Controller: &yes}), []string{"ns/rs"}},
		{pod(&metav1.OwnerReference{Kind: "ReplicaSet", Name: "rs", Controller: &no}), nil},
		{pod(&metav1.OwnerReference{Kind: "ReplicaSet", Name: "rs"}), nil},
		{pod(&metav1.OwnerReference{Kind: "Job", Name: "j", Controller: &yes}), nil},
		{pod(), nil},
	}
	for i, tt := range tests {
		if got := ControllerOf("ReplicaSet")(tt.obj); !slices.Equal(got, tt.want) {
			t.Errorf("%d: %v, want %v", i, got, tt.want)
		}
	}
	if got := OwnKey(pod()); !slices.Equal(got, []string{"ns/p"}) {
		t.Errorf("OwnKey = %v", got)
	}
	if got := NoKeys(pod()); got != nil {
		t.Errorf("NoKeys = %v", got)
	}
}

func TestTerminal(t *testing.T) {
	base := errors.New("bad")
	if Terminal(nil) != nil {
		t.Error("Terminal(nil) != nil")
	}
	wrapped := fmt.Errorf("reconcile: %w", Terminal(base))
	if !IsTerminal(wrapped) || !errors.Is(wrapped, base) {
		t.Error("a wrapped terminal error lost its nature or its cause")
	}
	if IsTerminal(base) {
		t.Error("a plain error is terminal")
	}
}

// TestWatchEnqueuesKeys runs a controller on a real informer against a real apiserver.
func TestWatchEnqueuesKeys(t *testing.T) {
	c, err := client.Dial(context.Background(), apiservertest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	f := informer.NewFactory(c, informer.Options{})
	seen := make(chan string, 100)
	ctl := New("test", func(ctx context.Context, key string) (Result, error) {
		seen <- key
		return Result{}, nil
	}, Options{})
	ctl.Watch(f.For(scheme.ConfigMaps), nil)
	ctl.Watch(f.For(scheme.Pods), ControllerOf("ConfigMap")) // an odd owner, but any kind works
	f.Start(ctx)
	done := make(chan error)
	go func() { done <- ctl.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		f.Wait()
	}()
	cms := c.Resource(scheme.ConfigMaps)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "one"}}); err != nil {
		t.Fatal(err)
	}
	yes := true
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "p", OwnerReferences: []*metav1.OwnerReference{
			{ApiVersion: "v1", Kind: "ConfigMap", Name: "owner", Uid: "u", Controller: &yes},
		}},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "berth-testapp:latest"}}},
	}
	if _, err := c.Resource(scheme.Pods).Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"default/one": false, "default/owner": false}
	timeout := time.After(20 * time.Second)
	for !want["default/one"] || !want["default/owner"] {
		select {
		case k := <-seen:
			if _, ok := want[k]; !ok {
				t.Fatalf("reconciled unexpected key %q", k)
			}
			want[k] = true
		case <-timeout:
			t.Fatalf("keys not reconciled: %v", want)
		}
	}
}
