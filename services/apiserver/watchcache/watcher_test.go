package watchcache

import (
	"errors"
	"testing"
)

func TestEncodedOncePerChangeAndType(t *testing.T) {
	e := &Event{Type: Modified, Rev: 7}
	calls := 0
	encode := func(b string) func() ([]byte, error) {
		return func() ([]byte, error) { calls++; return []byte(b), nil }
	}
	// A thousand watchers receive the same change as MODIFIED: one encoding.
	for i := 0; i < 1000; i++ {
		got, err := WatchEvent{Type: Modified, src: e}.Encoded(encode("m"))
		if err != nil || string(got) != "m" {
			t.Fatalf("watcher %d got %q, %v", i, got, err)
		}
	}
	// Watchers whose selector the change leaves see it as DELETED: their own encoding.
	if got, _ := (WatchEvent{Type: Deleted, src: e}).Encoded(encode("d")); string(got) != "d" {
		t.Fatalf("deleted view: %q", got)
	}
	if calls != 2 {
		t.Errorf("encoded %d times, want 2 (one per type seen)", calls)
	}
	// Initial and bookmark events have no source: encoded every time.
	WatchEvent{Type: Added}.Encoded(encode("a"))
	WatchEvent{Type: Added}.Encoded(encode("a"))
	if calls != 4 {
		t.Errorf("events without a source encoded %d times in all, want 4", calls)
	}
	// A failed encoding is not remembered.
	e2 := &Event{Type: Added}
	if _, err := (WatchEvent{Type: Added, src: e2}).Encoded(func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
		t.Fatal("error lost")
	}
	if got, _ := (WatchEvent{Type: Added, src: e2}).Encoded(encode("ok")); string(got) != "ok" {
		t.Errorf("after a failure: %q", got)
	}
}
