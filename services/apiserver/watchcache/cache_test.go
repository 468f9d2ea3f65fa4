package watchcache

import (
	"testing"
	"time"
)

// The ring grows while the events it would drop are fresh, up to Capacity, and shrinks once
// its newest quarter is stale, down to MinCapacity; the floor follows what it drops.
func TestRingSizedByTime(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New(Config{Capacity: 64, MinCapacity: 8, FreshFor: time.Minute, Now: func() time.Time { return now }})
	rev := int64(0)
	push := func(n int, every time.Duration) {
		for range n {
			rev++
			now = now.Add(every)
			c.pushLocked(&Event{Type: Added, Rev: rev})
		}
	}
	for _, step := range []struct {
		name      string
		n         int
		every     time.Duration
		wantCap   int
		wantFloor int64
	}{
		{"starts at the minimum", 8, time.Millisecond, 8, 0},
		{"a burst doubles it up to the maximum", 100, time.Millisecond, 64, 108 - 64},
		{"a stale history halves it down to the minimum", 200, 10 * time.Minute, 8, 308 - 8},
		{"slow events keep it small", 50, 20 * time.Second, 8, 358 - 8},
		// The stale events of the slow phase go first; the fresh ones make it grow.
		{"a burst again grows it", 30, time.Millisecond, 64, 355},
	} {
		push(step.n, step.every)
		if len(c.ring) != step.wantCap || c.floor != step.wantFloor {
			t.Errorf("%s: capacity %d, floor %d; want %d, %d", step.name, len(c.ring), c.floor, step.wantCap, step.wantFloor)
		}
		// The ring holds the newest events, oldest first, without gaps.
		for i := range c.n {
			if got, want := c.ring[(c.head+i)%len(c.ring)].Rev, rev-int64(c.n)+1+int64(i); got != want {
				t.Fatalf("%s: event %d of the ring is revision %d, want %d", step.name, i, got, want)
			}
		}
		if c.n > 0 && c.ring[c.head].Rev-1 < c.floor {
			t.Errorf("%s: floor %d is past the oldest kept event %d", step.name, c.floor, c.ring[c.head].Rev)
		}
	}
}
