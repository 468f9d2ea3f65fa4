package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The service benchmark's HTTP load generator: an open loop at a fixed rate, whose latencies
// run from each request's scheduled send time (no coordinated omission), and a closed loop of
// workers for the most requests per second.

// Bounds of one request of the load generator.
const (
	httpDialTimeout    = 2 * time.Second
	httpRequestTimeout = 5 * time.Second
	// httpBodyLimit bounds what is read of an answer: berth-testapp's GET / is under 1 KiB.
	httpBodyLimit = 16 << 10
)

// httpTarget is where a load run sends GET /: one URL, or several taken in turn.
type httpTarget struct {
	urls      []string
	keepAlive bool
	client    *http.Client
	next      atomic.Uint64
}

// newHTTPTarget sends to urls in turn. Without keepAlive every request opens a new TCP
// connection and closes it; with it, requests share one pool of connections.
func newHTTPTarget(urls []string, keepAlive bool) *httpTarget {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: httpDialTimeout}).DialContext,
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	return &httpTarget{urls: urls, keepAlive: keepAlive, client: &http.Client{Transport: tr, Timeout: httpRequestTimeout}}
}

// close closes the idle connections of the pool.
func (t *httpTarget) close() { t.client.CloseIdleConnections() }

// get sends one GET to the next URL and returns the hostname in berth-testapp's answer.
func (t *httpTarget) get(ctx context.Context) (string, error) {
	url := t.urls[(t.next.Add(1)-1)%uint64(len(t.urls))]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, httpBodyLimit))
	if err != nil {
		return "", fmt.Errorf("GET %s: read the answer: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return answerHostname(body), nil
}

// hostnameKey starts the hostname in berth-testapp's JSON answer to GET /.
var hostnameKey = []byte(`"hostname":`)

// answerHostname returns the hostname of berth-testapp's answer without decoding all of it
// (the load generator shares the CPUs with what it measures), or "" when it has none.
func answerHostname(body []byte) string {
	i := bytes.Index(body, hostnameKey)
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(body[i+len(hostnameKey):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return ""
	}
	return string(rest[1 : 1+end])
}

// loadResult is the outcome of a load run.
type loadResult struct {
	// sent requests; ok answered 200; failed did not (errors, timeouts, other statuses).
	sent, ok, failed int
	firstErr         error
	// elapsed is the measured window: for an open loop from the first scheduled send to one
	// interval after the last send (the schedule's length when the loop kept up), for a closed
	// loop the window after the warm-up.
	elapsed time.Duration
	// lat holds the latency of every request answered, sorted: for an open loop from its
	// scheduled send time, for a closed loop from its send.
	lat []time.Duration
	// lag holds, sorted, how late the open loop sent each request after its scheduled time:
	// the load generator's own floor under every latency.
	lag []time.Duration
}

// rate is the answered requests per second.
func (r *loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// pct is the q-quantile of the latencies (nearest rank).
func (r *loadResult) pct(q float64) time.Duration { return percentile(r.lat, q) }

// merge adds o's requests to r: windows add up, latencies are pooled.
func (r *loadResult) merge(o *loadResult) {
	r.sent += o.sent
	r.ok += o.ok
	r.failed += o.failed
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	r.lag = append(r.lag, o.lag...)
	slices.Sort(r.lat)
	slices.Sort(r.lag)
}

// answerFunc is told which Pod answered a request (berth-testapp's hostname) and when.
type answerFunc func(host string, at time.Time)

// openLoop sends GETs to t at rate per second for d (or until ctx ends), each from its own
// goroutine at its scheduled time whatever the answers to the earlier ones, and waits for
// their answers. on, when not nil, is called with each answer. The requests in flight when
// ctx ends still complete (within httpRequestTimeout).
func openLoop(ctx context.Context, t *httpTarget, rate int, d time.Duration, on answerFunc) *loadResult {
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	reqCtx := context.WithoutCancel(ctx)
	var (
		mu       sync.Mutex
		res      = &loadResult{}
		lastSent time.Time
		wg       sync.WaitGroup
	)
	start := time.Now()
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 && !sleepCtx(ctx, wait) {
			break
		}
		if ctx.Err() != nil {
			break
		}
		res.sent++
		lastSent = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sentAt := time.Now()
			host, err := t.get(reqCtx)
			done := time.Now()
			if err == nil && on != nil {
				on(host, done)
			}
			mu.Lock()
			defer mu.Unlock()
			res.lag = append(res.lag, sentAt.Sub(due))
			if err != nil {
				res.failed++
				if res.firstErr == nil {
					res.firstErr = err
				}
				return
			}
			res.ok++
			res.lat = append(res.lat, done.Sub(due))
		}()
	}
	wg.Wait()
	if res.sent > 0 {
		res.elapsed = lastSent.Add(interval).Sub(start)
	}
	slices.Sort(res.lat)
	slices.Sort(res.lag)
	return res
}

// closedLoop runs workers that each send GETs to t one after the other, for tm.warmup and
// then tm.measure; the requests answered within the measured window count.
func closedLoop(ctx context.Context, t *httpTarget, workers int, tm timing) *loadResult {
	measureFrom := time.Now().Add(tm.warmup)
	end := measureFrom.Add(tm.measure)
	results := make([]loadResult, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			for ctx.Err() == nil {
				began := time.Now()
				if !began.Before(end) {
					return
				}
				_, err := t.get(ctx)
				done := time.Now()
				if began.Before(measureFrom) || done.After(end) {
					continue
				}
				r.sent++
				if err != nil {
					r.failed++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.ok++
				r.lat = append(r.lat, done.Sub(began))
			}
		}()
	}
	wg.Wait()
	res := &loadResult{}
	for i := range results {
		res.merge(&results[i])
	}
	res.elapsed = tm.measure
	return res
}
