package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stats is the outcome of one load run: how many operations completed in the measured window,
// how long the window lasted, every operation's latency, and the bytes moved.
type stats struct {
	ops     int
	elapsed time.Duration
	// lat holds the latency of every measured operation, sorted.
	lat   []time.Duration
	bytes int64
}

// rate is the throughput in operations per second.
func (s stats) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.ops) / s.elapsed.Seconds()
}

// pct returns the q-quantile (0 < q <= 1) of the latencies, by the nearest-rank method.
func (s stats) pct(q float64) time.Duration {
	return percentile(s.lat, q)
}

// bytesPerOp is the average payload of one operation.
func (s stats) bytesPerOp() int64 {
	if s.ops == 0 {
		return 0
	}
	return s.bytes / int64(s.ops)
}

// percentile returns the q-quantile of sorted values by the nearest-rank method: the smallest
// value such that at least q of all values are no larger. It returns 0 for no values.
func percentile[T any](sorted []T, q float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// op is one operation of a load run. worker identifies the client (0..clients-1) and seq counts
// that worker's operations; op returns the bytes it moved.
type op func(ctx context.Context, worker, seq int) (int, error)

// timing bounds a load run: operations of the warm-up are run but not measured.
type timing struct {
	warmup, measure time.Duration
}

// minRounds is how many operations per client a measured window must hold at least: a window
// is extended, up to maxStretch times its length, until it does, so that slow operations at
// high concurrency are measured rather than all left in flight at its end.
const (
	minRounds  = 1
	maxStretch = 10
)

// load runs op from clients concurrent workers, each calling it in a loop, for t.warmup and
// then t.measure (extended until clients*minRounds operations have completed in it, up to
// maxStretch times). It measures the operations that complete within the window: their count
// over the window's length is the throughput. No operation starts after the window; those in
// flight at its end complete but are not measured. The first error stops the run.
func load(ctx context.Context, clients int, t timing, fn op) (stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	measureFrom := time.Now().Add(t.warmup)
	deadline := measureFrom.Add(t.measure)
	hardDeadline := measureFrom.Add(maxStretch * t.measure)
	minOps := int64(clients * minRounds)

	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		measured atomic.Int64
		// end is when the window closed (Unix nanoseconds), 0 while it is open.
		end atomic.Int64
	)
	// open reports whether the window is still open at now, closing it when it should.
	open := func(now time.Time) bool {
		if e := end.Load(); e != 0 {
			return now.UnixNano() < e
		}
		if now.Before(deadline) || (measured.Load() < minOps && now.Before(hardDeadline)) {
			return true
		}
		end.CompareAndSwap(0, now.UnixNano())
		return now.UnixNano() < end.Load()
	}
	lats := make([][]time.Duration, clients)
	bytes := make([]int64, clients)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				began := time.Now()
				if !open(began) || ctx.Err() != nil {
					return
				}
				n, err := fn(ctx, w, seq)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("worker %d op %d: %w", w, seq, err); cancel() })
					return
				}
				if done := time.Now(); !done.Before(measureFrom) && open(done) {
					lats[w] = append(lats[w], done.Sub(began))
					bytes[w] += int64(n)
					measured.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return stats{}, firstErr
	}
	e := end.Load()
	if e == 0 {
		e = time.Now().UnixNano()
	}
	s := stats{elapsed: time.Unix(0, e).Sub(measureFrom)}
	for w := range clients {
		s.lat = append(s.lat, lats[w]...)
		s.bytes += bytes[w]
	}
	slices.Sort(s.lat)
	s.ops = len(s.lat)
	return s, nil
}

// parallel runs fn(i) for i in [0, n) on up to workers goroutines and returns the first error.
// It fills fixtures, where only the total time matters.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
