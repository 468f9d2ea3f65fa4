package main

import (
	"errors"
	"testing"
	"time"
)

func TestFanoutSummarize(t *testing.T) {
	start := time.Unix(100, 0)
	// Three planned writes; the second was never acknowledged. Latencies in microseconds.
	ack := []time.Duration{2 * time.Millisecond, 0, 3 * time.Millisecond}
	a := &watcher{lat: []int32{5000, 7000, 4000}, last: start.Add(time.Second).UnixNano()}
	b := &watcher{lat: []int32{1000, -1, -1}, last: start.Add(2 * time.Second).UnixNano(), err: errors.New("expired")}
	res := &fanoutResult{writes: 2}
	res.summarize([]*watcher{a, b}, ack, start)

	if res.expected != 4 || res.delivered != 3 {
		t.Errorf("delivered %d of %d, want 3 of 4 (the unacknowledged write does not count)", res.delivered, res.expected)
	}
	if res.incomplete != 1 || res.dropped != 1 || res.dropErr == nil {
		t.Errorf("incomplete %d, dropped %d (%v), want 1 and 1", res.incomplete, res.dropped, res.dropErr)
	}
	if res.deliveryTime != 2*time.Second {
		t.Errorf("delivery time %v, want 2s", res.deliveryTime)
	}
	// From send: 1, 4, 5 ms and one undelivered; from ack: 0 (arrived first), 1, 3 ms and one.
	if res.fromSend.p50 != 4*time.Millisecond || res.fromSend.p99 != undelivered || res.fromSend.max != undelivered {
		t.Errorf("from send %+v", res.fromSend)
	}
	if res.fromAck.p50 != time.Millisecond {
		t.Errorf("from ack p50 %v, want 1ms", res.fromAck.p50)
	}
	if res.fromSend.deliveredP99 != 5*time.Millisecond || res.fromSend.deliveredMax != 5*time.Millisecond {
		t.Errorf("from send, delivered only: p99 %v, max %v; want 5ms", res.fromSend.deliveredP99, res.fromSend.deliveredMax)
	}
	if got := fmtLat(res.fromAck.p99); got != "not delivered" {
		t.Errorf("fmtLat(undelivered) = %q", got)
	}
}

func TestSummarizeMicros(t *testing.T) {
	if got := summarizeMicros(nil); got != (latencies{}) {
		t.Errorf("summary of nothing = %+v", got)
	}
	got := summarizeMicros([]int32{3000, 1000, 2000})
	if got.p50 != 2*time.Millisecond || got.p99 != 3*time.Millisecond || got.max != 3*time.Millisecond || got.deliveredP99 != got.p99 {
		t.Errorf("summary = %+v", got)
	}
}
