package prober

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// script is an Execer whose exit codes follow a script, one per attempt (the last repeats).
type script struct {
	mu    sync.Mutex
	codes []int
	calls []time.Time
}

func (s *script) ExecSync(context.Context, string, []string, time.Duration) ([]byte, []byte, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, time.Now())
	code := s.codes[0]
	if len(s.codes) > 1 {
		s.codes = s.codes[1:]
	}
	return nil, nil, code, nil
}

// recorder collects a worker's updates.
type recorder struct {
	mu      sync.Mutex
	updates []Update
}

func (r *recorder) add(u Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
}

func (r *recorder) results() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Result
	for _, u := range r.updates {
		out = append(out, u.Result)
	}
	return out
}

func TestWorkerThresholds(t *testing.T) {
	tests := []struct {
		name           string
		kind           Kind
		codes          []int
		success, fail  int32
		initialDelay   int32
		want           []Result // Result after each attempt
		wantStopped    bool     // the worker ended on its own
		wantInitial    Result
		wantFinal      Result
		wantFirstProbe time.Duration // after the container started
	}{
		{
			name: "readiness: ready after successThreshold successes, unready after failureThreshold failures",
			kind: Readiness, codes: []int{0, 0, 1, 1, 0, 1, 1, 1}, success: 2, fail: 3,
			want:        []Result{Failure, Success, Success, Success, Success, Success, Success, Failure},
			wantInitial: Failure, wantFinal: Failure, wantFirstProbe: 0,
		},
		{
			name: "liveness: stops at failure",
			kind: Liveness, codes: []int{1, 0, 1, 1, 1, 0}, success: 1, fail: 3, initialDelay: 15,
			want:        []Result{Success, Success, Success, Success, Failure},
			wantStopped: true, wantInitial: Success, wantFinal: Failure, wantFirstProbe: 15 * time.Second,
		},
		{
			name: "startup: stops at success",
			kind: Startup, codes: []int{1, 1, 0, 1}, success: 1, fail: 30,
			want:        []Result{Unknown, Unknown, Success},
			wantStopped: true, wantInitial: Unknown, wantFinal: Success,
		},
		{
			name: "startup: stops at failure",
			kind: Startup, codes: []int{1}, success: 1, fail: 2,
			want:        []Result{Unknown, Failure},
			wantStopped: true, wantInitial: Unknown, wantFinal: Failure,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sc := &script{codes: tt.codes}
				rec := &recorder{}
				started := time.Now()
				w := New(sc).Start(WorkerConfig{
					Kind: tt.kind, StartedAt: started, OnResult: rec.add,
					Target: Target{ContainerID: "c1"},
					Probe: &corev1.Probe{
						Exec: &corev1.ExecAction{Command: []string{"check"}}, PeriodSeconds: 10, TimeoutSeconds: 1,
						SuccessThreshold: tt.success, FailureThreshold: tt.fail, InitialDelaySeconds: tt.initialDelay,
					},
				})
				if got := w.Result(); got != tt.wantInitial {
					t.Errorf("initial result %v, want %v", got, tt.wantInitial)
				}
				// Let the attempts happen, 10 s apart.
				time.Sleep(time.Duration(tt.initialDelay)*time.Second + time.Duration(len(tt.want)-1)*10*time.Second + time.Second)
				synctest.Wait()
				stopped := false
				select {
				case <-w.Done():
					stopped = true
				default:
				}
				if stopped != tt.wantStopped {
					t.Errorf("worker stopped on its own: %v, want %v", stopped, tt.wantStopped)
				}
				w.Stop()
				if got := rec.results(); !equal(got, tt.want) {
					t.Errorf("results %v, want %v", got, tt.want)
				}
				if got := w.Result(); got != tt.wantFinal {
					t.Errorf("final result %v, want %v", got, tt.wantFinal)
				}
				if first := sc.calls[0].Sub(started); first != tt.wantFirstProbe {
					t.Errorf("first probe %v after start, want %v", first, tt.wantFirstProbe)
				}
				for i := 1; i < len(sc.calls); i++ {
					if d := sc.calls[i].Sub(sc.calls[i-1]); d != 10*time.Second {
						t.Errorf("attempt %d came %v after the previous, want the 10s period", i, d)
					}
				}
			})
		})
	}
}

func TestWorkerInitialDelayAlreadyPast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := &script{codes: []int{0}}
		start := time.Now()
		w := New(sc).Start(WorkerConfig{
			Kind: Readiness, StartedAt: start.Add(-time.Minute),
			Probe: &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"x"}}, InitialDelaySeconds: 30, PeriodSeconds: 5},
		})
		synctest.Wait()
		w.Stop()
		if len(sc.calls) != 1 || !sc.calls[0].Equal(start) {
			t.Errorf("probes at %v, want one at once", sc.calls)
		}
	})
}

func TestWorkerStopCancelsAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var reported atomic.Bool
		w := New(shell).Start(WorkerConfig{
			Kind: Liveness, StartedAt: time.Now(),
			OnResult: func(Update) { reported.Store(true) },
			Probe:    &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"sleep"}}, TimeoutSeconds: 60},
		})
		synctest.Wait() // the attempt is in flight
		w.Stop()
		if reported.Load() {
			t.Error("an attempt cut short by Stop was reported")
		}
	})
}

// TestWorkerHTTP runs a readiness worker against a real server in real time.
func TestWorkerHTTP(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	updates := make(chan Update, 16)
	w := New(nil).Start(WorkerConfig{
		Kind: Readiness, StartedAt: time.Now(), Target: Target{PodIP: host},
		OnResult: func(u Update) { updates <- u },
		Probe: &corev1.Probe{
			HttpGet:       &corev1.HTTPGetAction{Path: "/healthz", Port: num(port)},
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
		},
	})
	defer w.Stop()
	next := func() Update {
		select {
		case u := <-updates:
			return u
		case <-time.After(5 * time.Second):
			t.Fatal("no probe within 5s")
			return Update{}
		}
	}
	if u := next(); u.Result != Success || !u.Changed {
		t.Fatalf("first update %+v, want a change to Success", u)
	}
	healthy.Store(false)
	if u := next(); u.Result != Failure || !u.Changed || u.Output != "HTTP probe failed with statuscode: 500" {
		t.Fatalf("update %+v, want a change to Failure", u)
	}
}

func equal(a, b []Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
