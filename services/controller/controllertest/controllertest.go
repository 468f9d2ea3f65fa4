package controllertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// Timeout bounds the context Start returns: a test that hangs fails well before go test's
// own timeout, and well within a package's minute.
const Timeout = 50 * time.Second

// Start starts an apiserver on embedded etcd and returns a client to it and a context that
// ends with the test (or after Timeout). Both are closed when the test ends.
func Start(t testing.TB) (*client.Client, context.Context) {
	t.Helper()
	return Connect(t, apiservertest.Start(t))
}

// Connect returns a client to the apiserver at addr and a context that ends with the test (or
// after Timeout). Both are closed when the test ends.
func Connect(t testing.TB, addr string) (*client.Client, context.Context) {
	t.Helper()
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatalf("dial the apiserver: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(func() {
		cancel()
		c.Close()
	})
	return c, ctx
}

// Go runs run in a goroutine until the returned stop is called or the test ends, whichever
// comes first. stop cancels run's context and waits for it to return; an error it returns
// fails the test, named by what.
func Go(t testing.TB, ctx context.Context, what string, run func(ctx context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: %v", what, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// PollTimeout is how long Eventually waits.
const PollTimeout = 30 * time.Second

// pollInterval is how often Eventually looks.
const pollInterval = 20 * time.Millisecond

// Eventually polls cond until it holds, and fails the test when it does not within
// PollTimeout.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	EventuallyNil(t, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// EventuallyNil polls cond until it returns nil, and fails the test with cond's last error
// when it does not within PollTimeout.
func EventuallyNil(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(PollTimeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err == errNotYet {
				t.Fatalf("timed out waiting for %s", what)
			}
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(pollInterval)
	}
}

// errNotYet is Eventually's condition not holding.
var errNotYet = notYet{}

type notYet struct{}

func (notYet) Error() string { return "not yet" }

// Together runs controllers side by side as one controller.Runner: its Run returns once each
// has returned, with their errors joined.
func Together(runners ...controller.Runner) controller.Runner { return together(runners) }

type together []controller.Runner

func (rs together) Run(ctx context.Context) error {
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = r.Run(ctx) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}
