package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ten := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		sorted []int
		q      float64
		want   int
	}{
		{"empty", nil, 0.5, 0},
		{"one value", []int{7}, 0.99, 7},
		{"median of ten is the fifth", ten, 0.5, 5},
		{"p99 of ten is the largest", ten, 0.99, 10},
		{"p90 of ten is the ninth", ten, 0.9, 9},
		{"p100", ten, 1, 10},
		{"tiny q takes the smallest", ten, 0.001, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("percentile(%v, %v) = %d, want %d", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
}

func TestStats(t *testing.T) {
	s := stats{ops: 50, elapsed: 2 * time.Second, bytes: 5000, lat: []time.Duration{1, 2, 3, 4}}
	if got := s.rate(); got != 25 {
		t.Errorf("rate = %v, want 25", got)
	}
	if got := s.bytesPerOp(); got != 100 {
		t.Errorf("bytesPerOp = %v, want 100", got)
	}
	if got := s.pct(0.5); got != 2 {
		t.Errorf("p50 = %v, want 2", got)
	}
	if got := (stats{}).rate(); got != 0 {
		t.Errorf("rate of nothing = %v, want 0", got)
	}
}

func TestLoadMeasuresTheWindow(t *testing.T) {
	var calls, seen atomic.Int64
	s, err := load(context.Background(), 4, timing{warmup: 50 * time.Millisecond, measure: 200 * time.Millisecond},
		func(ctx context.Context, w, seq int) (int, error) {
			calls.Add(1)
			seen.Or(1 << w)
			time.Sleep(5 * time.Millisecond)
			return 10, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for w := range 4 {
		if seen.Load()&(1<<w) == 0 {
			t.Errorf("worker %d never ran", w)
		}
	}
	// 4 workers for 200 ms at 5 ms each: about 160 measured operations, and some warm-up ones.
	if s.ops < 80 || s.ops > 200 {
		t.Errorf("measured %d operations, want about 160", s.ops)
	}
	if int64(s.ops) >= calls.Load() {
		t.Errorf("measured %d of %d calls: the warm-up was measured", s.ops, calls.Load())
	}
	if s.elapsed < 200*time.Millisecond || s.elapsed > 300*time.Millisecond {
		t.Errorf("elapsed = %v, want the measured window of 200ms", s.elapsed)
	}
	if s.bytes != int64(s.ops)*10 || len(s.lat) != s.ops {
		t.Errorf("bytes %d and %d latencies for %d operations", s.bytes, len(s.lat), s.ops)
	}
	if s.pct(0.5) < 5*time.Millisecond {
		t.Errorf("p50 = %v, below the operation's 5 ms", s.pct(0.5))
	}
}

func TestLoadStretchesTheWindowForSlowOperations(t *testing.T) {
	// Operations of 150 ms do not complete in a 50 ms window: it stretches until each of the 3
	// clients has completed minRounds of them.
	s, err := load(context.Background(), 3, timing{measure: 50 * time.Millisecond}, func(ctx context.Context, w, seq int) (int, error) {
		time.Sleep(150 * time.Millisecond)
		return 1, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.ops < 3*minRounds {
		t.Errorf("measured %d operations, want at least %d", s.ops, 3*minRounds)
	}
	if s.elapsed < minRounds*150*time.Millisecond || s.elapsed > (minRounds+1)*150*time.Millisecond+100*time.Millisecond {
		t.Errorf("window of %v, want about %v", s.elapsed, minRounds*150*time.Millisecond)
	}
	if r := s.rate(); r < 10 || r > 25 {
		t.Errorf("rate %.1f/s, want about 20/s (3 clients at 150 ms)", r)
	}
}

func TestLoadStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	start := time.Now()
	_, err := load(context.Background(), 3, timing{measure: 10 * time.Second}, func(ctx context.Context, w, seq int) (int, error) {
		if w == 1 && seq == 3 {
			return 0, boom
		}
		time.Sleep(time.Millisecond)
		return 0, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the run went on for %v after the error", time.Since(start))
	}
}

func TestParallel(t *testing.T) {
	var done [100]atomic.Bool
	if err := parallel(context.Background(), 100, 7, func(_ context.Context, i int) error {
		if done[i].Swap(true) {
			t.Errorf("%d ran twice", i)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range done {
		if !done[i].Load() {
			t.Errorf("%d never ran", i)
		}
	}
	boom := errors.New("boom")
	if err := parallel(context.Background(), 100, 7, func(_ context.Context, i int) error {
		if i == 42 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
}
