package testlog

import (
	"fmt"
	"log/slog"
	"testing"
)

func TestContains(t *testing.T) {
	w := Writer(t)
	log := slog.New(slog.NewTextHandler(w, nil))
	log.Info("before keep", "n", 1)
	w.Keep()
	log.Info("reconciled", "key", "default/web", "n", 2)
	tests := []struct {
		parts []string
		want  bool
	}{
		{[]string{"reconciled"}, true},
		{[]string{"reconciled", "key=default/web", "n=2"}, true},
		{[]string{"reconciled", "n=1"}, false},
		{[]string{"before keep"}, false}, // written before Keep
		{nil, true},
	}
	for _, tt := range tests {
		if got := w.Contains(tt.parts...); got != tt.want {
			t.Errorf("Contains(%q) = %v, want %v", tt.parts, got, tt.want)
		}
	}
}

// fakeTB records what a logger passes to Log, and the cleanups it registers.
type fakeTB struct {
	testing.TB
	logged   []string
	cleanups []func()
}

func (f *fakeTB) Log(args ...any)   { f.logged = append(f.logged, fmt.Sprint(args...)) }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// TestLinesAfterTheEndAreDropped writes once the test has ended, as a goroutine that outlived
// it would: passed to t.Log, the line would panic.
func TestLinesAfterTheEndAreDropped(t *testing.T) {
	tb := &fakeTB{TB: t}
	log := New(tb)
	log.Debug("during the test")
	if len(tb.logged) != 1 {
		t.Fatalf("logged %q, want the line written during the test", tb.logged)
	}
	for _, fn := range tb.cleanups {
		fn()
	}
	log.Info("after the test")
	if len(tb.logged) != 1 {
		t.Errorf("logged %q after the test ended", tb.logged[1:])
	}
}
