package controllertest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// runFunc is a controller.Runner made of a function.
type runFunc func(ctx context.Context) error

func (f runFunc) Run(ctx context.Context) error { return f(ctx) }

// TestTogether runs three controllers as one: each runs until ctx ends, and their errors are
// joined.
func TestTogether(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	var running atomic.Int32
	run := func(err error) runFunc {
		return func(ctx context.Context) error {
			running.Add(1)
			<-ctx.Done()
			return err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Together(run(errA), run(nil), run(errB)).Run(ctx) }()
	Eventually(t, "the three to run", func() bool { return running.Load() == 3 })
	cancel()
	err := <-done
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("Run = %v, want both errors", err)
	}
}

// TestGoStops runs a function until stop, which waits for it; stop twice is harmless.
func TestGoStops(t *testing.T) {
	var stopped atomic.Bool
	stop := Go(t, context.Background(), "run", func(ctx context.Context) error {
		<-ctx.Done()
		stopped.Store(true)
		return nil
	})
	stop()
	if !stopped.Load() {
		t.Error("stop returned before the function did")
	}
	stop()
}

func TestEventuallyNil(t *testing.T) {
	n := 0
	EventuallyNil(t, "the third call", func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
}
