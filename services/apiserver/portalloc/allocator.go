package portalloc

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/berth-dev/berth/services/apiserver/rangealloc"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

// Prefix is the etcd key prefix of node port allocations: one key per allocated port.
const Prefix = "/registry/ranges/servicenodeports/"

// Allocator hands out the node ports of a Range.
type Allocator struct {
	r   Range
	set *rangealloc.Allocator
}

// New returns the allocator of range r, storing its allocations through s.
func New(s *storage.Storage, r Range) *Allocator {
	return &Allocator{r: r, set: rangealloc.New(s, rangealloc.Config{
		Prefix:     Prefix,
		Size:       uint64(r.Size),
		StaticBand: r.staticBand(),
		Name:       func(i uint64) string { return strconv.Itoa(r.Base + int(i)) },
		Offset: func(name string) (uint64, bool) {
			p, err := strconv.Atoi(name)
			if err != nil || !r.Contains(p) || strconv.Itoa(p) != name {
				return 0, false
			}
			return uint64(p - r.Base), true
		},
	})}
}

// Range is the allocator's range.
func (a *Allocator) Range() Range { return a.r }

// Allocate allocates the requested port for owner (namespace/name): *NotInRangeError outside
// the range, ErrAllocated when taken.
func (a *Allocator) Allocate(ctx context.Context, port int32, owner string) error {
	if !a.r.Contains(int(port)) {
		return &NotInRangeError{ValidPorts: a.r.String()}
	}
	err := a.set.Claim(ctx, strconv.Itoa(int(port)), owner)
	if errors.Is(err, rangealloc.ErrAllocated) {
		return ErrAllocated
	}
	return err
}

// AllocateNext allocates a free node port for owner; ErrFull when none is left.
func (a *Allocator) AllocateNext(ctx context.Context, owner string) (int32, error) {
	name, err := a.set.AllocateNext(ctx, owner)
	if errors.Is(err, rangealloc.ErrFull) {
		return 0, ErrFull
	}
	if err != nil {
		return 0, fmt.Errorf("allocate a node port: %w", err)
	}
	p, err := strconv.Atoi(name)
	if err != nil {
		return 0, fmt.Errorf("allocate a node port: allocated %q: %w", name, err)
	}
	return int32(p), nil
}

// Release frees port (in the range or not); freeing a free port is not an error.
func (a *Allocator) Release(ctx context.Context, port int32) error {
	return a.set.Release(ctx, strconv.Itoa(int(port)))
}

// Set is the underlying allocation set, for the repair pass.
func (a *Allocator) Set() *rangealloc.Allocator { return a.set }
