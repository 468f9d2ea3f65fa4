package agent

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// LeaseNamespace holds the Nodes' heartbeat Leases, as in Kubernetes.
const LeaseNamespace = "kube-node-lease"

// renewLease renews the Node's Lease, creating it when it does not exist, and re-reading it
// when the write conflicts.
func (a *agent) renewLease(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		if a.lease == nil {
			obj, err := a.leases.Get(ctx, LeaseNamespace, a.cfg.NodeName)
			switch {
			case kerrors.IsNotFound(err):
				created, err := a.leases.Create(ctx, a.newLease())
				if kerrors.IsAlreadyExists(err) && attempt < 5 {
					continue
				}
				if err != nil {
					return fmt.Errorf("create lease %s/%s: %w", LeaseNamespace, a.cfg.NodeName, err)
				}
				a.lease = created.(*coordinationv1.Lease)
				return nil
			case err != nil:
				return fmt.Errorf("read lease %s/%s: %w", LeaseNamespace, a.cfg.NodeName, err)
			}
			a.lease = obj.(*coordinationv1.Lease)
		}
		next := proto.Clone(a.lease).(*coordinationv1.Lease)
		a.fillLease(next)
		updated, err := a.leases.Update(ctx, next)
		switch {
		case err == nil:
			a.lease = updated.(*coordinationv1.Lease)
			return nil
		case (kerrors.IsConflict(err) || kerrors.IsNotFound(err)) && attempt < 5:
			a.lease = nil // re-read (or re-create) it
		default:
			return fmt.Errorf("renew lease %s/%s: %w", LeaseNamespace, a.cfg.NodeName, err)
		}
	}
}

// newLease is the Node's Lease, owned by the Node so that it goes with it.
func (a *agent) newLease() *coordinationv1.Lease {
	l := &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Namespace: LeaseNamespace, Name: a.cfg.NodeName}}
	if uid := a.nodeUID(); uid != "" {
		l.Metadata.OwnerReferences = []*metav1.OwnerReference{{
			ApiVersion: "v1", Kind: "Node", Name: a.cfg.NodeName, Uid: uid,
		}}
	}
	a.fillLease(l)
	return l
}

// fillLease sets the holder, duration and renew time of l.
func (a *agent) fillLease(l *coordinationv1.Lease) {
	if l.Spec == nil {
		l.Spec = &coordinationv1.LeaseSpec{}
	}
	holder := a.cfg.NodeName
	dur := int32(a.cfg.LeaseDuration / time.Second)
	l.Spec.HolderIdentity = &holder
	l.Spec.LeaseDurationSeconds = &dur
	l.Spec.RenewTime = timestamppb.New(time.Now().Truncate(time.Microsecond))
}

// keepLease renews the Lease every RenewInterval until ctx ends; a failed renewal is retried
// sooner, after a backoff from 200 ms doubling up to the interval.
func (a *agent) keepLease(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for {
		err := a.renewLease(ctx)
		if ctx.Err() != nil {
			return
		}
		a.metrics.leaseRenewals.WithLabelValues(result(err)).Inc()
		wait := a.cfg.RenewInterval
		if err != nil {
			a.log.Warn("lease renewal failed", "err", err, "retryIn", backoff)
			wait, backoff = backoff, min(2*backoff, a.cfg.RenewInterval)
		} else {
			backoff = 200 * time.Millisecond
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
