package ipalloc_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/berth-dev/berth/services/apiserver/etcdserver"
	"github.com/berth-dev/berth/services/apiserver/ipalloc"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

func startEtcd(t *testing.T) *storage.Storage {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e, err := etcdserver.Start(ctx, etcdserver.Config{DataDir: t.TempDir()})
	if err != nil {
		cancel()
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(func() { cancel(); e.Close() })
	return storage.New(e.Client)
}

// TestAllocator: a /28 holds 14 addresses, 12 of them allocatable; allocators that share one
// etcd hand each out once, refuse the reserved ones, and report a full range as Kubernetes.
func TestAllocator(t *testing.T) {
	s := startEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := ipalloc.MustParseRange("10.0.0.0/28")
	a, b := ipalloc.New(s, r), ipalloc.New(s, r)

	var nf *ipalloc.NotInRangeError
	if err := a.Allocate(ctx, "10.0.0.16", "ns/x"); !errors.As(err, &nf) ||
		err.Error() != "provided IP is not in the valid range. The range of valid IPs is 10.0.0.0/28" {
		t.Fatalf("Allocate outside: %v", err)
	}
	for _, ip := range []string{"10.0.0.0", "10.0.0.15", "nonsense"} {
		if err := a.Allocate(ctx, ip, "ns/x"); !errors.As(err, &nf) {
			t.Errorf("Allocate(%s) = %v, want not in range", ip, err)
		}
	}
	for _, ip := range []string{"10.0.0.1", "10.0.0.10"} {
		if err := a.Allocate(ctx, ip, "ns/x"); !errors.Is(err, ipalloc.ErrAllocated) {
			t.Errorf("Allocate(reserved %s) = %v, want ErrAllocated", ip, err)
		}
	}
	if err := a.Allocate(ctx, "10.0.0.5", "ns/five"); err != nil {
		t.Fatal(err)
	}
	if err := b.Allocate(ctx, "10.0.0.5", "ns/other"); !errors.Is(err, ipalloc.ErrAllocated) || err.Error() != "provided IP is already allocated" {
		t.Fatalf("second Allocate of 10.0.0.5 = %v", err)
	}
	got := map[string]bool{"10.0.0.5": true}
	for i := range 11 {
		al := []*ipalloc.Allocator{a, b}[i%2]
		ip, err := al.AllocateNext(ctx, "ns/next")
		if err != nil {
			t.Fatalf("AllocateNext %d: %v", i, err)
		}
		addr := netip.MustParseAddr(ip)
		if got[ip] || !r.Contains(addr) || addr == r.Gateway() || addr == r.DNS() {
			t.Fatalf("AllocateNext %d = %s (allocated so far %v)", i, ip, got)
		}
		got[ip] = true
	}
	for _, al := range []*ipalloc.Allocator{a, b} {
		if ip, err := al.AllocateNext(ctx, "ns/full"); !errors.Is(err, ipalloc.ErrFull) || err.Error() != "range is full" {
			t.Fatalf("AllocateNext in a full range = %q, %v", ip, err)
		}
	}
	// A released address is the only one left, whichever allocator asks.
	if err := a.Release(ctx, "10.0.0.5"); err != nil {
		t.Fatal(err)
	}
	if ip, err := b.AllocateNext(ctx, "ns/again"); err != nil || ip != "10.0.0.5" {
		t.Fatalf("AllocateNext after a release = %q, %v; want 10.0.0.5", ip, err)
	}
}

// TestAllocatorPrefersUpperBand: dynamic allocation leaves the static band (the lowest 16 of a
// /26) to explicit requests while others are free.
func TestAllocatorPrefersUpperBand(t *testing.T) {
	s := startEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := ipalloc.MustParseRange("10.0.0.0/26") // 62 addresses, band 16: 10.0.0.1-10.0.0.16
	a := ipalloc.New(s, r)
	for i := range 62 - 16 {
		ip, err := a.AllocateNext(ctx, "ns/x")
		if err != nil {
			t.Fatal(err)
		}
		if b := netip.MustParseAddr(ip).As4(); b[3] <= 16 {
			t.Fatalf("allocation %d took %s from the static band while others were free", i, ip)
		}
	}
	for range 16 - 2 { // the band, less .1 and .10
		if _, err := a.AllocateNext(ctx, "ns/x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.AllocateNext(ctx, "ns/x"); !errors.Is(err, ipalloc.ErrFull) {
		t.Fatalf("AllocateNext in a full range: %v", err)
	}
}
