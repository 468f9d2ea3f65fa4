package leaderelection

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
)

// expiry is when a Lease whose spec this candidate last saw change at observedAt expires, on
// this candidate's clock.
func expiry(spec *coordinationv1.LeaseSpec, observedAt time.Time) time.Time {
	return observedAt.Add(time.Duration(spec.GetLeaseDurationSeconds()) * time.Second)
}

// heldByOther reports whether the Lease is held, unexpired at now, by someone other than id.
func heldByOther(spec *coordinationv1.LeaseSpec, observedAt, now time.Time, id string) bool {
	holder := spec.GetHolderIdentity()
	return holder != "" && holder != id && expiry(spec, observedAt).After(now)
}

// acquireSpec is the spec candidate id writes to take or renew a Lease whose current spec is
// cur (nil when the Lease does not exist yet), at now; ok is false when someone else holds it
// unexpired. A renewal keeps acquireTime and leaseTransitions; a change of holder sets
// acquireTime and counts one transition, as Kubernetes does.
func acquireSpec(cur *coordinationv1.LeaseSpec, observedAt, now time.Time, id string, d time.Duration) (next *coordinationv1.LeaseSpec, ok bool) {
	if heldByOther(cur, observedAt, now, id) {
		return nil, false
	}
	ts := microTime(now)
	next = &coordinationv1.LeaseSpec{
		HolderIdentity:       &id,
		LeaseDurationSeconds: ptr(int32(d / time.Second)),
		AcquireTime:          ts,
		RenewTime:            ts,
		LeaseTransitions:     ptr(cur.GetLeaseTransitions()),
	}
	switch {
	case cur == nil:
	case cur.GetHolderIdentity() == id:
		if cur.AcquireTime != nil {
			next.AcquireTime = cur.AcquireTime
		}
	default:
		*next.LeaseTransitions++
	}
	return next, true
}

// releaseSpec is the spec of a Lease its holder gives up at now: no holder, so anyone may take
// it at once, as Kubernetes' release writes it.
func releaseSpec(cur *coordinationv1.LeaseSpec, now time.Time) *coordinationv1.LeaseSpec {
	ts := microTime(now)
	return &coordinationv1.LeaseSpec{
		HolderIdentity:       ptr(""),
		LeaseDurationSeconds: ptr(int32(1)),
		AcquireTime:          ts,
		RenewTime:            ts,
		LeaseTransitions:     ptr(cur.GetLeaseTransitions()),
	}
}

// microTime is t at the microsecond precision of Kubernetes' MicroTime, which Lease times are.
func microTime(t time.Time) *timestamppb.Timestamp {
	return timestamppb.New(t.Truncate(time.Microsecond))
}

func ptr[T any](v T) *T { return &v }
