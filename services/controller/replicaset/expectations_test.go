package replicaset

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestExpectations(t *testing.T) {
	clock := now
	e := newExpectations(func() time.Time { return clock })
	const key = "default/web"
	if !e.satisfied(key) {
		t.Fatal("a key never seen is not satisfied")
	}
	e.expectCreations(key, 2)
	if e.satisfied(key) {
		t.Fatal("satisfied with 2 creates in flight")
	}
	e.creationObserved(key)
	if e.satisfied(key) {
		t.Fatal("satisfied with 1 create in flight")
	}
	e.creationObserved(key)
	if !e.satisfied(key) {
		t.Fatal("not satisfied once both creates were seen")
	}

	e.expectDeletions(key, []string{"default/a", "default/b"})
	e.deletionObserved(key, "default/a")
	e.deletionObserved(key, "default/a") // a deletionTimestamp, then the delete: counts once
	e.deletionObserved(key, "default/other")
	if e.satisfied(key) {
		t.Fatal("satisfied with default/b's deletion unseen")
	}
	e.deletionObserved(key, "default/b")
	if !e.satisfied(key) {
		t.Fatal("not satisfied once both deletes were seen")
	}

	e.expectCreations(key, 1)
	clock = clock.Add(ExpectationsTimeout + time.Second)
	if !e.satisfied(key) {
		t.Fatal("expectations did not expire")
	}
	e.expectCreations(key, 1)
	e.forget(key)
	if !e.satisfied(key) {
		t.Fatal("a forgotten key is not satisfied")
	}
	e.creationObserved(key) // an owner forgotten: nothing to lower, no panic
	e.deletionObserved(key, "default/a")
}

func TestSlowStartBatch(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		count     int
		failAfter int64 // calls that succeed before every call fails; -1 never fails
		wantOK    int
		wantCalls int64
		wantErr   bool
	}{
		{"all succeed", 10, -1, 10, 10, false},
		{"none", 0, -1, 0, 0, false},
		{"first call fails", 10, 0, 0, 1, true},
		{"fails in the batch of 4", 10, 4, 4, 7, true}, // batches 1, 2, then 4 of which the 2nd on fails
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			ok, err := slowStartBatch(t.Context(), tc.count, 1, func() error {
				if n := calls.Add(1); tc.failAfter >= 0 && n > tc.failAfter {
					return boom
				}
				return nil
			})
			if ok != tc.wantOK || calls.Load() != tc.wantCalls || (err != nil) != tc.wantErr {
				t.Errorf("successes %d, calls %d, err %v; want %d, %d, error %v", ok, calls.Load(), err, tc.wantOK, tc.wantCalls, tc.wantErr)
			}
		})
	}
}

func TestPodsPrefix(t *testing.T) {
	// A generateName's trailing dash is masked before it is checked, as Kubernetes does.
	longest, tooLong := strings.Repeat("a", 253), strings.Repeat("a", 254)
	tests := map[string]string{"web": "web-", "web-7d4b9c": "web-7d4b9c-", longest: longest + "-", tooLong: tooLong}
	for name, want := range tests {
		if got := podsPrefix(name); got != want {
			t.Errorf("podsPrefix(%.10s...) = %.10s..., want %.10s...", name, got, want)
		}
	}
}
