package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAnswerHostname(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"indented", "{\n  \"hostname\": \"web-abc\",\n  \"podIP\": \"172.18.0.3\"\n}\n", "web-abc"},
		{"compact", `{"hostname":"web-1","podIP":""}`, "web-1"},
		{"no hostname", `{"podIP":"1.2.3.4"}`, ""},
		{"not a string", `{"hostname": 3}`, ""},
		{"unterminated", `{"hostname": "web`, ""},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := answerHostname([]byte(tt.body)); got != tt.want {
				t.Errorf("answerHostname(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

// testBackend is an HTTP server answering as berth-testapp does, after delay, or with a 500
// when failing; it counts the connections it accepted.
func testBackend(t *testing.T, name string, delay time.Duration, failing bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		if failing {
			http.Error(w, "failing", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "{\n  \"hostname\": %q\n}\n", name)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestOpenLoop(t *testing.T) {
	tests := []struct {
		name      string
		delay     time.Duration
		failing   bool
		keepAlive bool
	}{
		{"a new connection per request", 0, false, false},
		{"keep-alive", 0, false, true},
		{"slow answers count from the scheduled time", 30 * time.Millisecond, false, true},
		{"errors are counted, not measured", 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, connsA := testBackend(t, "a", tt.delay, tt.failing)
			b, connsB := testBackend(t, "b", tt.delay, tt.failing)
			target := newHTTPTarget([]string{a.URL + "/", b.URL + "/"}, tt.keepAlive)
			defer target.close()
			var mu sync.Mutex
			hosts := map[string]int{}
			res := openLoop(context.Background(), target, 200, 500*time.Millisecond, func(host string, _ time.Time) {
				mu.Lock()
				hosts[host]++
				mu.Unlock()
			})
			if res.sent != 100 {
				t.Fatalf("sent %d requests, want 100 (200/s for 0.5 s)", res.sent)
			}
			if len(res.lag) != res.sent {
				t.Errorf("%d send lags for %d requests", len(res.lag), res.sent)
			}
			if tt.failing {
				if res.failed != 100 || res.ok != 0 || len(res.lat) != 0 || res.firstErr == nil || !strings.Contains(res.firstErr.Error(), "500") {
					t.Fatalf("failing backends: %d failed, %d ok, %d latencies, first error %v", res.failed, res.ok, len(res.lat), res.firstErr)
				}
				return
			}
			if res.ok != 100 || res.failed != 0 || len(res.lat) != 100 {
				t.Fatalf("%d ok, %d failed (%v), %d latencies; want 100 answered", res.ok, res.failed, res.firstErr, len(res.lat))
			}
			if hosts["a"] != 50 || hosts["b"] != 50 {
				t.Errorf("answers by host %v, want 50 each (round robin)", hosts)
			}
			if rate := res.rate(); rate < 150 || rate > 210 {
				t.Errorf("answered %.0f/s, want about 200", rate)
			}
			if res.pct(0.5) < tt.delay {
				t.Errorf("p50 %s below the backends' delay %s", res.pct(0.5), tt.delay)
			}
			conns := connsA.Load() + connsB.Load()
			if !tt.keepAlive && conns != 100 {
				t.Errorf("%d connections without keep-alive, want one per request", conns)
			}
			if tt.keepAlive && conns >= 100 {
				t.Errorf("%d connections with keep-alive, want them reused", conns)
			}
		})
	}
}

func TestOpenLoopStopsWithContext(t *testing.T) {
	a, _ := testBackend(t, "a", 0, false)
	target := newHTTPTarget([]string{a.URL + "/"}, false)
	defer target.close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := openLoop(ctx, target, 100, time.Minute, nil)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the open loop ran %s after its context ended", took)
	}
	if res.sent == 0 || res.sent > 40 || res.ok != res.sent {
		t.Errorf("sent %d, answered %d; want about 20 sent in 0.2 s at 100/s, all answered", res.sent, res.ok)
	}
}

func TestClosedLoop(t *testing.T) {
	a, _ := testBackend(t, "a", 5*time.Millisecond, false)
	target := newHTTPTarget([]string{a.URL + "/"}, true)
	defer target.close()
	res := closedLoop(context.Background(), target, 4, timing{warmup: 50 * time.Millisecond, measure: 300 * time.Millisecond})
	// 4 workers, each at most one request per 5 ms: at most 4 × 60 in the window.
	if res.ok == 0 || res.ok > 240 || res.failed != 0 {
		t.Fatalf("%d answered, %d failed (%v); want between 1 and 240", res.ok, res.failed, res.firstErr)
	}
	if res.elapsed != 300*time.Millisecond || res.pct(0.01) < 5*time.Millisecond {
		t.Errorf("window %s, fastest latency %s; want 300ms and at least 5ms", res.elapsed, res.pct(0.01))
	}
}

func TestServiceReport(t *testing.T) {
	lat := func(ms ...int) *loadResult {
		r := &loadResult{sent: len(ms), ok: len(ms), elapsed: time.Second}
		for _, m := range ms {
			r.lat = append(r.lat, time.Duration(m)*time.Millisecond)
		}
		return r
	}
	res := &svcResult{
		cfg:       serviceConfig{rate: 1000, measure: 10 * time.Second, rounds: 5, readyRepeats: 2, readyRate: 500, replicasBefore: 3, workers: 16},
		clusterIP: "10.100.0.7", podIPs: []string{"a", "b", "c"},
		open: []*svcCompare{
			{keepAlive: false, cluster: lat(1, 2, 13), pod: lat(1, 2, 10),
				clusterUse: pathUse{server: 900 * time.Microsecond, wall: time.Second}, podUse: pathUse{server: 30 * time.Microsecond, wall: time.Second}},
			{keepAlive: true, cluster: lat(1, 2, 11), pod: lat(1, 2, 10)},
		},
		ready: []readyRun{{pod: "web-1", endpoints: 5 * time.Millisecond, traffic: 20 * time.Millisecond}, {pod: "web-2", endpoints: 10 * time.Millisecond, traffic: 1500 * time.Millisecond}},
	}
	var tbl table
	(&report{service: res}).serviceTargets(&tbl)
	if len(tbl.rows) != 3 {
		t.Fatalf("%d target rows, want 3: %v", len(tbl.rows), tbl.rows)
	}
	for i, want := range []string{"**MISS**", "**PASS**", "**MISS**"} {
		if got := tbl.rows[i][2]; got != want {
			t.Errorf("row %q: %s, want %s", tbl.rows[i][0], got, want)
		}
	}
	if !strings.Contains(tbl.rows[0][1], "1.30× (13 ms vs 10 ms)") {
		t.Errorf("first row measured %q", tbl.rows[0][1])
	}
	var b bytes.Buffer
	(&report{service: res}).serviceSection(&b)
	for _, want := range []string{"## Services", "`10.100.0.7`", "| ClusterIP / Pod IPs | a new TCP connection per request |", "`web-2`", "| max |  | 10 ms | 1.50 s | 1.49 s |", "**What limits it.** The proxy costs the berth processes 290 µs per request with a new TCP connection per request (0.29 cores at 1,000 req/s)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the section lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	(&report{service: &svcResult{skipped: "no Docker"}}).serviceSection(&b)
	if !strings.Contains(b.String(), "Not run: no Docker.") {
		t.Errorf("skipped section:\n%s", b.String())
	}
}
