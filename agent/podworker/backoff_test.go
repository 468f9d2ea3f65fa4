package podworker

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at, event time.Duration // since t0: when Next is called, and the event (the crash) it is for
		want      time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"doubles from 10s", []step{{0, 0, 10 * time.Second}, {10 * time.Second, 5 * time.Second, 20 * time.Second}, {40 * time.Second, 35 * time.Second, 40 * time.Second}}},
		{"caps at 5m", []step{
			{0, 0, 10 * time.Second}, {1, 1, 20 * time.Second}, {2, 2, 40 * time.Second}, {3, 3, 80 * time.Second},
			{4, 4, 160 * time.Second}, {5, 5, 300 * time.Second}, {6, 6, 300 * time.Second},
		}},
		{"resets after 10 minutes quiet", []step{{0, 0, 10 * time.Second}, {time.Minute, time.Minute, 20 * time.Second}, {12 * time.Minute, 11*time.Minute + 30*time.Second, 10 * time.Second}}},
		{"10 minutes exactly does not reset", []step{{0, 0, 10 * time.Second}, {10 * time.Minute, 10 * time.Minute, 20 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackoff(initialBackoff, maxBackoff)
			for i, s := range tt.steps {
				if got := b.Next("k", t0.Add(s.event), t0.Add(s.at)); got != s.want {
					t.Fatalf("step %d: Next = %v, want %v", i, got, s.want)
				}
				if got := b.Delay("k"); got != s.want {
					t.Fatalf("step %d: Delay = %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestInBackoff(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBackoff(initialBackoff, maxBackoff)
	if in, _ := b.InBackoffSince("k", t0, t0); in {
		t.Fatal("a key never seen is in back-off")
	}
	b.Next("k", t0, t0.Add(time.Second)) // 10s
	tests := []struct {
		event, now time.Duration
		want       bool
		left       time.Duration
	}{
		{0, 3 * time.Second, true, 7 * time.Second},
		{0, 10 * time.Second, false, 0},
		{5 * time.Second, 14 * time.Second, true, time.Second},
	}
	for _, tt := range tests {
		in, left := b.InBackoffSince("k", t0.Add(tt.event), t0.Add(tt.now))
		if in != tt.want || left != tt.left {
			t.Errorf("InBackoffSince(event +%v, now +%v) = %v %v, want %v %v", tt.event, tt.now, in, left, tt.want, tt.left)
		}
	}
	if in, _ := b.InBackoffSince("k", t0.Add(11*time.Minute), t0.Add(11*time.Minute)); in {
		t.Error("a crash 11 minutes after the last restart is in back-off")
	}
	if in, left := b.InBackoffSinceUpdate("k", t0.Add(4*time.Second)); !in || left != 7*time.Second {
		t.Errorf("InBackoffSinceUpdate = %v %v, want true 7s", in, left)
	}
	b.Reset("k")
	if in, _ := b.InBackoffSinceUpdate("k", t0); in {
		t.Error("Reset key still in back-off")
	}
}
