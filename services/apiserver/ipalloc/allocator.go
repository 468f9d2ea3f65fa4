package ipalloc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/berth-dev/berth/services/apiserver/rangealloc"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

// Prefix is the etcd key prefix of Service IP allocations: one key per allocated address.
const Prefix = "/registry/ranges/serviceips/"

// Allocator hands out the Service IPs of a Range.
type Allocator struct {
	r   Range
	set *rangealloc.Allocator
}

// New returns the allocator of range r, storing its allocations through s.
func New(s *storage.Storage, r Range) *Allocator {
	return &Allocator{r: r, set: rangealloc.New(s, rangealloc.Config{
		Prefix:     Prefix,
		Size:       r.Size(),
		Reserved:   []uint64{gatewayOffset, dnsOffset},
		StaticBand: r.staticBand(),
		Name:       func(i uint64) string { return r.addr(i).String() },
		Offset: func(name string) (uint64, bool) {
			a, err := netip.ParseAddr(name)
			if err != nil {
				return 0, false
			}
			return r.offset(a)
		},
	})}
}

// Range is the allocator's range.
func (a *Allocator) Range() Range { return a.r }

// Allocate allocates the requested ip for owner (namespace/name): *NotInRangeError outside
// the range, ErrAllocated when taken or reserved.
func (a *Allocator) Allocate(ctx context.Context, ip, owner string) error {
	addr, err := netip.ParseAddr(ip)
	if err != nil || !a.r.Contains(addr) {
		return &NotInRangeError{ValidRange: a.r.String()}
	}
	err = a.set.Claim(ctx, addr.String(), owner)
	if errors.Is(err, rangealloc.ErrAllocated) {
		return ErrAllocated
	}
	return err
}

// AllocateNext allocates a free Service IP for owner; ErrFull when none is left.
func (a *Allocator) AllocateNext(ctx context.Context, owner string) (string, error) {
	ip, err := a.set.AllocateNext(ctx, owner)
	if errors.Is(err, rangealloc.ErrFull) {
		return "", ErrFull
	}
	if err != nil {
		return "", fmt.Errorf("allocate a service IP: %w", err)
	}
	return ip, nil
}

// Release frees ip (in the range or not); freeing a free address is not an error.
func (a *Allocator) Release(ctx context.Context, ip string) error {
	if addr, err := netip.ParseAddr(ip); err == nil {
		ip = addr.String()
	}
	return a.set.Release(ctx, ip)
}

// Set is the underlying allocation set, for the repair pass.
func (a *Allocator) Set() *rangealloc.Allocator { return a.set }
