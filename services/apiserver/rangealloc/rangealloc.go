package rangealloc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/services/apiserver/storage"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrAllocated: the member is already allocated (or reserved).
	ErrAllocated = errors.New("already allocated")
	// ErrFull: no member of the range is free.
	ErrFull = errors.New("range is full")
)

// Config describes a range and where its allocations live.
type Config struct {
	// Prefix is the etcd key prefix of the allocations, ending in "/".
	Prefix string
	// Size is the number of members, at offsets 0 to Size-1.
	Size uint64
	// Reserved offsets are never handed out; Claim refuses them as allocated.
	Reserved []uint64
	// StaticBand is the number of low offsets AllocateNext uses only once the rest of the
	// range is taken, leaving them to explicit requests (Kubernetes' static subrange).
	StaticBand uint64
	// Name returns the name of the member at an offset: the last element of its key.
	Name func(offset uint64) string
	// Offset returns the offset of a member name, and false for a name outside the range.
	Offset func(name string) (uint64, bool)
}

// Allocation is one allocated member, as stored.
type Allocation struct {
	Name string
	// Owner is the namespace/name of the object the member was allocated for.
	Owner string
	// Time is when it was allocated.
	Time time.Time
	// ModRevision is the etcd revision of the key (for ReleaseAt).
	ModRevision int64
}

// record is the value of an allocation key.
type record struct {
	Owner string    `json:"owner"`
	Time  time.Time `json:"time"`
}

// Allocator allocates the members of one range. It is safe for concurrent use, and any
// number of Allocators over the same etcd prefix (in several apiservers) never hand out one
// member twice.
type Allocator struct {
	cfg      Config
	storage  *storage.Storage
	reserved map[uint64]bool
	now      func() time.Time

	mu       sync.Mutex
	taken    map[uint64]bool // hint: members believed allocated
	inflight map[uint64]bool // members this process is claiming right now
}

// New returns an Allocator of the range cfg stored through s.
func New(s *storage.Storage, cfg Config) *Allocator {
	a := &Allocator{cfg: cfg, storage: s, reserved: map[uint64]bool{}, now: time.Now,
		taken: map[uint64]bool{}, inflight: map[uint64]bool{}}
	for _, r := range cfg.Reserved {
		a.reserved[r] = true
	}
	return a
}

// Size is the number of members of the range, reserved ones included.
func (a *Allocator) Size() uint64 { return a.cfg.Size }

// Reserved reports whether a member is reserved.
func (a *Allocator) Reserved(name string) bool {
	off, ok := a.cfg.Offset(name)
	return ok && a.reserved[off]
}

func (a *Allocator) key(name string) string { return a.cfg.Prefix + name }

// Claim allocates the named member for owner; ErrAllocated if it is taken or reserved. A
// name outside the range is recorded too (the repair pass keeps the members of Services
// created under an earlier range); callers that must refuse those check the range first.
func (a *Allocator) Claim(ctx context.Context, name, owner string) error {
	off, inRange := a.cfg.Offset(name)
	if inRange && a.reserved[off] {
		return fmt.Errorf("claim %s: %w", name, ErrAllocated)
	}
	err := a.create(ctx, name, owner)
	if inRange && (err == nil || errors.Is(err, ErrAllocated)) {
		a.mu.Lock()
		a.taken[off] = true
		a.mu.Unlock()
	}
	return err
}

func (a *Allocator) create(ctx context.Context, name, owner string) error {
	val, err := json.Marshal(record{Owner: owner, Time: a.now().UTC()})
	if err != nil {
		return fmt.Errorf("encode allocation of %s: %w", name, err)
	}
	_, err = a.storage.Create(ctx, a.key(name), val)
	if errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("claim %s: %w", name, ErrAllocated)
	}
	if err != nil {
		return fmt.Errorf("claim %s: %w", name, err)
	}
	return nil
}

// AllocateNext allocates a free member for owner, at random above the static band, else in
// it; ErrFull when none is left.
func (a *Allocator) AllocateNext(ctx context.Context, owner string) (string, error) {
	resynced := false
	for {
		off, ok := a.pick()
		if !ok {
			if resynced {
				return "", ErrFull
			}
			if err := a.Resync(ctx); err != nil {
				return "", err
			}
			resynced = true
			continue
		}
		name := a.cfg.Name(off)
		err := a.create(ctx, name, owner)
		a.mu.Lock()
		delete(a.inflight, off)
		if err != nil && !errors.Is(err, ErrAllocated) {
			delete(a.taken, off)
		}
		a.mu.Unlock()
		switch {
		case err == nil:
			return name, nil
		case errors.Is(err, ErrAllocated):
			// Another apiserver holds it: what this one knows is stale.
			if !resynced {
				if err := a.Resync(ctx); err != nil {
					return "", err
				}
				resynced = true
			}
		default:
			return "", err
		}
	}
}

// pick chooses a member believed free and marks it taken and in flight.
func (a *Allocator) pick() (uint64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	band := min(a.cfg.StaticBand, a.cfg.Size)
	for _, span := range [][2]uint64{{band, a.cfg.Size}, {0, band}} {
		lo, hi := span[0], span[1]
		if hi <= lo {
			continue
		}
		n := hi - lo
		start := rand.Uint64N(n)
		for i := range n {
			off := lo + (start+i)%n
			if a.reserved[off] || a.taken[off] {
				continue
			}
			a.taken[off] = true
			a.inflight[off] = true
			return off, true
		}
	}
	return 0, false
}

// Resync replaces what the allocator believes taken with what etcd holds.
func (a *Allocator) Resync(ctx context.Context) error {
	list, err := a.List(ctx)
	if err != nil {
		return err
	}
	taken := make(map[uint64]bool, len(list))
	for _, al := range list {
		if off, ok := a.cfg.Offset(al.Name); ok {
			taken[off] = true
		}
	}
	a.mu.Lock()
	for off := range a.inflight {
		taken[off] = true
	}
	a.taken = taken
	a.mu.Unlock()
	return nil
}

// Release frees a member, whoever holds it; releasing a free member is not an error.
func (a *Allocator) Release(ctx context.Context, name string) error {
	if _, err := a.storage.Client().Delete(ctx, a.key(name)); err != nil {
		return fmt.Errorf("release %s: %w", name, err)
	}
	a.forget(name)
	return nil
}

// ReleaseAt frees a member only if its key is still at modRevision (nobody re-allocated it
// since it was listed); it reports whether it did.
func (a *Allocator) ReleaseAt(ctx context.Context, name string, modRevision int64) (bool, error) {
	_, _, err := a.storage.Delete(ctx, a.key(name), modRevision)
	switch {
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("release %s: %w", name, err)
	}
	a.forget(name)
	return true, nil
}

func (a *Allocator) forget(name string) {
	if off, ok := a.cfg.Offset(name); ok {
		a.mu.Lock()
		if !a.inflight[off] {
			delete(a.taken, off)
		}
		a.mu.Unlock()
	}
}

// List returns every recorded allocation, in range or not. A value that does not decode is
// listed with an empty owner and a zero time.
func (a *Allocator) List(ctx context.Context) ([]Allocation, error) {
	var out []Allocation
	from := ""
	for {
		page, err := a.storage.List(ctx, a.cfg.Prefix, from, 0, 1000)
		if err != nil {
			return nil, fmt.Errorf("list allocations under %s: %w", a.cfg.Prefix, err)
		}
		for _, kv := range page.KVs {
			var r record
			_ = json.Unmarshal(kv.Value, &r)
			out = append(out, Allocation{
				Name: strings.TrimPrefix(kv.Key, a.cfg.Prefix), Owner: r.Owner, Time: r.Time, ModRevision: kv.ModRevision,
			})
		}
		if !page.More || len(page.KVs) == 0 {
			return out, nil
		}
		from = page.KVs[len(page.KVs)-1].Key + "\x00"
	}
}
