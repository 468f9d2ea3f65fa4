package podworker

import "time"

// Back-off of crashing containers and failing image pulls: 10 s doubling to 5 min, as in the
// kubelet.
const (
	initialBackoff = 10 * time.Second
	maxBackoff     = 5 * time.Minute
)

// backoff is the kubelet's per-key exponential back-off (flowcontrol.Backoff): Next records an
// event and grows the delay, which falls back to the initial one when the key has been quiet
// for twice the maximum (10 minutes of running resets a crash loop).
type backoff struct {
	initial, max time.Duration
	entries      map[string]*backoffEntry
}

type backoffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

func newBackoff(initial, max time.Duration) *backoff {
	return &backoff{initial: initial, max: max, entries: map[string]*backoffEntry{}}
}

// Next grows key's delay for an event at eventTime and returns it.
func (b *backoff) Next(key string, eventTime, now time.Time) time.Duration {
	e, ok := b.entries[key]
	if !ok || eventTime.Sub(e.lastUpdate) > 2*b.max {
		e = &backoffEntry{delay: b.initial}
		b.entries[key] = e
	} else {
		e.delay = min(2*e.delay, b.max)
	}
	e.lastUpdate = now
	return e.delay
}

// Delay is key's current delay (0 when it has none).
func (b *backoff) Delay(key string) time.Duration {
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return 0
}

// InBackoffSince reports whether less than key's delay has passed between eventTime and now,
// and how long remains. An event twice the maximum after the last Next is never in back-off.
func (b *backoff) InBackoffSince(key string, eventTime, now time.Time) (bool, time.Duration) {
	e, ok := b.entries[key]
	if !ok || eventTime.Sub(e.lastUpdate) > 2*b.max {
		return false, 0
	}
	if left := e.delay - now.Sub(eventTime); left > 0 {
		return true, left
	}
	return false, 0
}

// InBackoffSinceUpdate reports whether less than key's delay has passed since its last Next,
// and how long remains.
func (b *backoff) InBackoffSinceUpdate(key string, now time.Time) (bool, time.Duration) {
	e, ok := b.entries[key]
	if !ok {
		return false, 0
	}
	return b.InBackoffSince(key, e.lastUpdate, now)
}

// Reset forgets key.
func (b *backoff) Reset(key string) { delete(b.entries, key) }
