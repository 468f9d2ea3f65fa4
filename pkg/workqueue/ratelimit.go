package workqueue

import (
	"sync"
	"time"
)

// RateLimiter decides how long a failing key waits before it is retried.
type RateLimiter interface {
	// When records one more failure of key and returns how long it must wait.
	When(key string) time.Duration
	// Forget clears key's failures.
	Forget(key string)
	// NumRequeues is how many failures of key are recorded.
	NumRequeues(key string) int
}

// Defaults of DefaultRateLimiter, as client-go has them.
const (
	DefaultBaseDelay = 5 * time.Millisecond
	DefaultMaxDelay  = 1000 * time.Second
	DefaultQPS       = 10
	DefaultBurst     = 100
)

// DefaultRateLimiter backs off each key exponentially from 5ms to 1000s, and all keys together
// through a token bucket of 10 retries per second with a burst of 100; the longer wait wins.
func DefaultRateLimiter() RateLimiter {
	return MaxOf(
		NewItemExponential(DefaultBaseDelay, DefaultMaxDelay),
		NewBucket(DefaultQPS, DefaultBurst),
	)
}

// ItemExponential waits base·2^n for a key's n-th failure (counting from 0), at most maxDelay.
type ItemExponential struct {
	base, maxDelay time.Duration

	mu       sync.Mutex
	failures map[string]int
}

// NewItemExponential returns a per-key exponential backoff from base up to maxDelay.
func NewItemExponential(base, maxDelay time.Duration) *ItemExponential {
	return &ItemExponential{base: base, maxDelay: maxDelay, failures: map[string]int{}}
}

// When implements RateLimiter.
func (r *ItemExponential) When(key string) time.Duration {
	r.mu.Lock()
	n := r.failures[key]
	r.failures[key] = n + 1
	r.mu.Unlock()
	d := r.base
	for i := 0; i < n && d < r.maxDelay; i++ {
		d *= 2
	}
	return min(d, r.maxDelay)
}

// Forget implements RateLimiter.
func (r *ItemExponential) Forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.failures, key)
}

// NumRequeues implements RateLimiter.
func (r *ItemExponential) NumRequeues(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures[key]
}

// Bucket is a token bucket shared by all keys: burst retries at once, then qps per second.
// Each When takes a token, possibly one not yet refilled, and waits until it is.
type Bucket struct {
	qps, burst float64
	now        func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewBucket returns a full token bucket of burst tokens refilled at qps per second.
func NewBucket(qps float64, burst int) *Bucket {
	return &Bucket{qps: qps, burst: float64(burst), tokens: float64(burst), now: time.Now}
}

// When implements RateLimiter.
func (b *Bucket) When(string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.qps)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.qps * float64(time.Second))
}

// Forget implements RateLimiter; the bucket keeps nothing per key.
func (b *Bucket) Forget(string) {}

// NumRequeues implements RateLimiter; the bucket keeps nothing per key.
func (b *Bucket) NumRequeues(string) int { return 0 }

// maxOf waits the longest of its limiters.
type maxOf []RateLimiter

// MaxOf combines limiters: a key waits the longest of their delays.
func MaxOf(limiters ...RateLimiter) RateLimiter { return maxOf(limiters) }

func (m maxOf) When(key string) time.Duration {
	var d time.Duration
	for _, l := range m {
		d = max(d, l.When(key))
	}
	return d
}

func (m maxOf) Forget(key string) {
	for _, l := range m {
		l.Forget(key)
	}
}

func (m maxOf) NumRequeues(key string) int {
	n := 0
	for _, l := range m {
		n = max(n, l.NumRequeues(key))
	}
	return n
}
