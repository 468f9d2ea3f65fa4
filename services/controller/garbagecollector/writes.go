package garbagecollector

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// maxConflictRetries bounds the re-reads of one write that keeps meeting a Conflict; the
// reconcile is retried with backoff after that.
const maxConflictRetries = 8

// getLive reads ref through the apiserver (a consistent read, never a cache). present is false
// when it is gone: NotFound, or another object (another uid) under its name.
func (gc *GarbageCollector) getLive(ctx context.Context, ref objectRef) (obj scheme.Object, present bool, err error) {
	if ref.res == nil {
		return nil, false, fmt.Errorf("get %s: kind %s is not served", ref, ref.kind)
	}
	obj, err = gc.client.Resource(ref.res).Get(ctx, ref.namespace, ref.name)
	switch {
	case kerrors.IsNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("get %s: %w", ref, err)
	case obj.GetMetadata().GetUid() != ref.uid:
		return nil, false, nil
	}
	return obj, true, nil
}

// deleteObject deletes ref, as latest showed it, with propagation policy, on condition that
// its uid and resourceVersion are unchanged. When only the resourceVersion changed and the
// ownerReferences did not, it deletes again on the uid alone, so that unrelated writes (a
// Pod's status) cannot starve the collector.
func (gc *GarbageCollector) deleteObject(ctx context.Context, ref objectRef, latest scheme.Object, policy string) error {
	md := latest.GetMetadata()
	uid, rv := ref.uid, md.GetResourceVersion()
	req := &metav1.DeleteRequest{
		Namespace: ref.namespace, Name: ref.name, PropagationPolicy: policy,
		Preconditions: &metav1.Preconditions{Uid: &uid, ResourceVersion: &rv},
	}
	controller.LoggerFrom(ctx).Info("deleting object", "object", ref.String(), "propagationPolicy", policy)
	rc := gc.client.Resource(ref.res)
	_, err := rc.Delete(ctx, req)
	if kerrors.IsConflict(err) {
		live, present, gerr := gc.getLive(ctx, ref)
		if gerr != nil {
			return gerr
		}
		if !present {
			return nil
		}
		lmd := live.GetMetadata()
		if lmd.GetResourceVersion() == rv || !sameRefs(lmd.GetOwnerReferences(), md.GetOwnerReferences()) {
			return fmt.Errorf("delete %s: %w", ref, err) // retried: its owners changed
		}
		req.Preconditions.ResourceVersion = nil
		_, err = rc.Delete(ctx, req)
	}
	if kerrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}

// removeOwnerReferences removes the ownerReferences to the owners remove from ref.
func (gc *GarbageCollector) removeOwnerReferences(ctx context.Context, ref objectRef, remove []string) error {
	return gc.updateMeta(ctx, ref, func(md *metav1.ObjectMeta) bool {
		n := len(md.OwnerReferences)
		md.OwnerReferences = slices.DeleteFunc(md.OwnerReferences, func(r *metav1.OwnerReference) bool {
			return slices.Contains(remove, r.GetUid())
		})
		return len(md.OwnerReferences) != n
	})
}

// unblockOwnerReferences sets blockOwnerDeletion to false on every ownerReference of ref that
// blocks.
func (gc *GarbageCollector) unblockOwnerReferences(ctx context.Context, ref objectRef) error {
	return gc.updateMeta(ctx, ref, func(md *metav1.ObjectMeta) bool {
		changed := false
		for _, r := range md.OwnerReferences {
			if r.GetBlockOwnerDeletion() {
				f := false
				r.BlockOwnerDeletion = &f
				changed = true
			}
		}
		return changed
	})
}

// removeFinalizer removes finalizer f from ref; the apiserver removes an object being deleted
// once its last finalizer is gone.
func (gc *GarbageCollector) removeFinalizer(ctx context.Context, ref objectRef, f string) error {
	return gc.updateMeta(ctx, ref, func(md *metav1.ObjectMeta) bool {
		n := len(md.Finalizers)
		md.Finalizers = slices.DeleteFunc(md.Finalizers, func(have string) bool { return have == f })
		return len(md.Finalizers) != n
	})
}

// updateMeta reads ref live, applies change to a copy of its metadata and, when change
// reports a change, writes it back with the resourceVersion read, reading again on Conflict.
// An object gone (or replaced by another uid) needs nothing.
func (gc *GarbageCollector) updateMeta(ctx context.Context, ref objectRef, change func(md *metav1.ObjectMeta) bool) error {
	rc := gc.client.Resource(ref.res)
	for attempt := 0; ; attempt++ {
		obj, present, err := gc.getLive(ctx, ref)
		if err != nil || !present {
			return err
		}
		upd := proto.Clone(obj).(scheme.Object)
		if !change(scheme.Meta(upd)) {
			return nil
		}
		_, err = rc.Update(ctx, upd)
		switch {
		case err == nil, kerrors.IsNotFound(err):
			return nil
		case kerrors.IsConflict(err) && attempt < maxConflictRetries:
			continue
		default:
			return fmt.Errorf("update %s: %w", ref, err)
		}
	}
}

func hasFinalizer(md *metav1.ObjectMeta, f string) bool {
	return slices.Contains(md.GetFinalizers(), f)
}

// sameRefs reports whether two lists of ownerReferences are equal.
func sameRefs(a, b []*metav1.OwnerReference) bool {
	return slices.EqualFunc(a, b, func(x, y *metav1.OwnerReference) bool { return proto.Equal(x, y) })
}
