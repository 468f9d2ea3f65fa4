package workqueue

import (
	"testing"
	"time"
)

func TestItemExponential(t *testing.T) {
	r := NewItemExponential(DefaultBaseDelay, DefaultMaxDelay)
	want := []time.Duration{
		5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond,
		80 * time.Millisecond, 160 * time.Millisecond, 320 * time.Millisecond, 640 * time.Millisecond,
		1280 * time.Millisecond,
	}
	for i, w := range want {
		if got := r.When("a"); got != w {
			t.Errorf("failure %d: %v, want %v", i, got, w)
		}
	}
	if got := r.When("b"); got != 5*time.Millisecond {
		t.Errorf("another key shares the backoff: %v, want 5ms", got)
	}
	// 5ms·2^17 = 655s, 2^18 = 1310s > 1000s: capped from the 19th failure on, and never
	// overflows however many failures pile up.
	for range 1000 {
		r.When("a")
	}
	if got := r.When("a"); got != DefaultMaxDelay {
		t.Errorf("after many failures: %v, want the cap %v", got, DefaultMaxDelay)
	}
	if got := r.NumRequeues("a"); got != len(want)+1001 {
		t.Errorf("NumRequeues = %d, want %d", got, len(want)+1001)
	}
	r.Forget("a")
	if got := r.When("a"); got != DefaultBaseDelay {
		t.Errorf("after Forget: %v, want %v", got, DefaultBaseDelay)
	}
}

func TestBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBucket(2, 3) // 2 per second, burst 3
	b.now = func() time.Time { return now }
	steps := []struct {
		advance time.Duration
		want    time.Duration
	}{
		{0, 0}, {0, 0}, {0, 0}, // the burst
		{0, 500 * time.Millisecond}, // one token owed: half a second at 2/s
		{0, time.Second},            // two owed
		{time.Second, 500 * time.Millisecond},
		{time.Hour, 0}, // refilled, but only up to the burst
		{0, 0},
		{0, 0},
		{0, 500 * time.Millisecond},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := b.When("any"); got != s.want {
			t.Errorf("step %d: %v, want %v", i, got, s.want)
		}
	}
}

func TestMaxOf(t *testing.T) {
	exp := NewItemExponential(time.Millisecond, time.Hour)
	bucket := NewBucket(1, 1)
	bucket.now = func() time.Time { return time.Unix(0, 0) }
	r := MaxOf(exp, bucket)
	if got := r.When("a"); got != time.Millisecond {
		t.Errorf("first: %v, want 1ms (the key's backoff; the bucket has a token)", got)
	}
	if got := r.When("a"); got != time.Second {
		t.Errorf("second: %v, want 1s (the empty bucket is slower than 2ms)", got)
	}
	if got := r.NumRequeues("a"); got != 2 {
		t.Errorf("NumRequeues = %d, want 2", got)
	}
	r.Forget("a")
	if got := r.NumRequeues("a"); got != 0 {
		t.Errorf("NumRequeues after Forget = %d, want 0", got)
	}
}
