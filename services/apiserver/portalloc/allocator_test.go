package portalloc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/berth-dev/berth/services/apiserver/etcdserver"
	"github.com/berth-dev/berth/services/apiserver/portalloc"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

func TestAllocator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := etcdserver.Start(ctx, etcdserver.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a := portalloc.New(storage.New(e.Client), portalloc.MustParseRange("30000-30004"))

	var nf *portalloc.NotInRangeError
	if err := a.Allocate(ctx, 8080, "ns/x"); !errors.As(err, &nf) ||
		err.Error() != "provided port is not in the valid range. The range of valid ports is 30000-30004" {
		t.Fatalf("Allocate(8080) = %v", err)
	}
	if err := a.Allocate(ctx, 30002, "ns/two"); err != nil {
		t.Fatal(err)
	}
	if err := a.Allocate(ctx, 30002, "ns/x"); !errors.Is(err, portalloc.ErrAllocated) || err.Error() != "provided port is already allocated" {
		t.Fatalf("second Allocate(30002) = %v", err)
	}
	seen := map[int32]bool{30002: true}
	for range 4 {
		p, err := a.AllocateNext(ctx, "ns/next")
		if err != nil || seen[p] || p < 30000 || p > 30004 {
			t.Fatalf("AllocateNext = %d, %v (seen %v)", p, err, seen)
		}
		seen[p] = true
	}
	if p, err := a.AllocateNext(ctx, "ns/full"); !errors.Is(err, portalloc.ErrFull) {
		t.Fatalf("AllocateNext in a full range = %d, %v", p, err)
	}

	// The stored allocations name their owners; ReleaseAt frees only what was listed.
	list, err := a.Set().List(ctx)
	if err != nil || len(list) != 5 {
		t.Fatalf("List = %v, %v; want 5 allocations", list, err)
	}
	var two int64
	for _, al := range list {
		if al.Name == "30002" {
			two = al.ModRevision
			if al.Owner != "ns/two" || time.Since(al.Time) > time.Minute {
				t.Errorf("allocation of 30002: %+v", al)
			}
		}
	}
	if freed, err := a.Set().ReleaseAt(ctx, "30002", two+1); err != nil || freed {
		t.Fatalf("ReleaseAt a newer revision = %v, %v; want not freed", freed, err)
	}
	if freed, err := a.Set().ReleaseAt(ctx, "30002", two); err != nil || !freed {
		t.Fatalf("ReleaseAt = %v, %v; want freed", freed, err)
	}
	if p, err := a.AllocateNext(ctx, "ns/again"); err != nil || p != 30002 {
		t.Fatalf("AllocateNext after ReleaseAt = %d, %v; want 30002", p, err)
	}
}
