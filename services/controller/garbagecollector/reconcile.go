package garbagecollector

import (
	"context"
	"errors"
	"fmt"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/berth-dev/berth/pkg/controller"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Propagation policies of the deletes the garbage collector issues.
const (
	PolicyBackground = "Background"
	PolicyForeground = "Foreground"
	PolicyOrphan     = "Orphan"
)

// errNamespacedOwnerOfClusterScoped is an ownerReference no retry can resolve: a cluster-scoped
// object cannot be owned by a namespaced one.
var errNamespacedOwnerOfClusterScoped = errors.New("a cluster-scoped object refers to a namespaced owner")

// reconcile brings the object uid, as the graph knows it, in line with its owners and
// dependents.
func (gc *GarbageCollector) reconcile(ctx context.Context, uid string) (controller.Result, error) {
	v, ok := gc.graph.view(uid)
	switch {
	case !ok:
		return controller.Result{}, nil
	case !v.observed:
		return gc.verifyVirtual(ctx, v)
	case v.deleting && v.hasFinalizer(FinalizerOrphan):
		return controller.Result{}, gc.orphanDependents(ctx, v)
	case v.deleting && v.hasFinalizer(FinalizerForeground):
		return controller.Result{}, gc.processDeletingDependents(ctx, v)
	case v.deleting:
		// Being deleted is a one-way trip: its dependents are seen to once it is gone.
		return controller.Result{}, nil
	case len(v.owners) == 0:
		return controller.Result{}, nil
	}
	return controller.Result{}, gc.attemptToDelete(ctx, v)
}

// verifyVirtual looks up an owner no informer has shown: absent, it leaves the graph and its
// dependents are looked at again; present, it is looked at again later, until an informer
// shows it.
func (gc *GarbageCollector) verifyVirtual(ctx context.Context, v view) (controller.Result, error) {
	if v.ref.res == nil {
		return controller.Result{}, controller.Terminal(fmt.Errorf("owner %s: kind %s is not served", v.ref, v.ref.kind))
	}
	if v.ref.res.Namespaced && v.ref.namespace == "" {
		return controller.Result{}, controller.Terminal(fmt.Errorf("owner %s: %w", v.ref, errNamespacedOwnerOfClusterScoped))
	}
	_, present, err := gc.getLive(ctx, v.ref)
	if err != nil {
		return controller.Result{}, err
	}
	if present {
		controller.LoggerFrom(ctx).Debug("owner exists but is not observed yet", "owner", v.ref.String())
		return controller.Result{RequeueAfter: gc.virtualRecheck}, nil
	}
	controller.LoggerFrom(ctx).Debug("owner is absent, looking at its dependents", "owner", v.ref.String())
	gc.graph.removeVirtual(v.ref.uid)
	return controller.Result{}, nil
}

// attemptToDelete deletes a dependent whose owners are all gone or waiting for their
// dependents, or removes its references to such owners when it has another owner.
func (gc *GarbageCollector) attemptToDelete(ctx context.Context, v view) error {
	log := controller.LoggerFrom(ctx)
	latest, present, err := gc.getLive(ctx, v.ref)
	if err != nil || !present {
		return err // absent: the informer will say it is gone
	}
	md := latest.GetMetadata()
	if md.GetDeletionTimestamp() != nil {
		if hasFinalizer(md, FinalizerForeground) {
			return gc.processDeletingDependents(ctx, v)
		}
		return nil
	}
	owners := md.GetOwnerReferences()
	if len(owners) == 0 {
		return nil
	}
	c, err := gc.classify(ctx, v.ref, owners)
	if err != nil {
		return err
	}
	switch {
	case len(c.solid) > 0:
		if len(c.dangling) == 0 && len(c.waiting) == 0 {
			return nil
		}
		remove := append(uids(c.dangling), uids(c.waiting)...)
		log.Info("removing dangling and waiting ownerReferences", "object", v.ref.String(), "dangling", uids(c.dangling), "waiting", uids(c.waiting))
		return gc.removeOwnerReferences(ctx, v.ref, remove)
	case len(c.waiting) > 0 && len(v.dependents) > 0:
		for _, d := range v.dependents {
			if d.deletingDependents {
				// An owner and a dependent both wait for their dependents: to break a
				// possible cycle the object's references stop blocking, as in Kubernetes.
				log.Info("unblocking ownerReferences to avoid a deletion cycle", "object", v.ref.String(), "dependent", d.ref.String())
				if err := gc.unblockOwnerReferences(ctx, v.ref); err != nil {
					return err
				}
				break
			}
		}
		return gc.deleteObject(ctx, v.ref, latest, PolicyForeground)
	default:
		policy := PolicyBackground
		switch {
		case hasFinalizer(md, FinalizerOrphan):
			policy = PolicyOrphan
		case hasFinalizer(md, FinalizerForeground):
			policy = PolicyForeground
		}
		return gc.deleteObject(ctx, v.ref, latest, policy)
	}
}

// processDeletingDependents removes the foregroundDeletion finalizer of an owner once no
// dependent blocks it, and otherwise makes sure its dependents are being deleted.
func (gc *GarbageCollector) processDeletingDependents(ctx context.Context, v view) error {
	blocking := 0
	for _, d := range v.dependents {
		if d.blocking {
			blocking++
		}
		if !d.deleting {
			gc.ctrl.Enqueue(d.ref.uid)
		}
	}
	if blocking > 0 {
		controller.LoggerFrom(ctx).Debug("waiting for blocking dependents", "object", v.ref.String(), "blocking", blocking)
		return nil
	}
	controller.LoggerFrom(ctx).Info("removing the foregroundDeletion finalizer", "object", v.ref.String())
	return gc.removeFinalizer(ctx, v.ref, FinalizerForeground)
}

// orphanDependents removes the ownerReference to an owner being deleted with the orphan
// finalizer from each of its dependents, then the finalizer.
func (gc *GarbageCollector) orphanDependents(ctx context.Context, v view) error {
	var errs []error
	for _, d := range v.dependents {
		if err := gc.removeOwnerReferences(ctx, d.ref, []string{v.ref.uid}); err != nil {
			errs = append(errs, fmt.Errorf("orphan %s: %w", d.ref, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("orphan dependents of %s: %w", v.ref, utilerrors.NewAggregate(errs))
	}
	controller.LoggerFrom(ctx).Info("orphaned dependents, removing the orphan finalizer", "object", v.ref.String(), "dependents", len(v.dependents))
	return gc.removeFinalizer(ctx, v.ref, FinalizerOrphan)
}

// classification sorts the ownerReferences of an object.
type classification struct {
	// solid owners exist and are not waiting for their dependents.
	solid []*metav1.OwnerReference
	// dangling owners are gone.
	dangling []*metav1.OwnerReference
	// waiting owners are being deleted with the foregroundDeletion finalizer.
	waiting []*metav1.OwnerReference
}

// classify sorts the owners of item. An owner an informer has shown counts as present; any
// other is looked up live, so that an informer's lag never makes an owner look gone.
func (gc *GarbageCollector) classify(ctx context.Context, item objectRef, owners []*metav1.OwnerReference) (classification, error) {
	var c classification
	for _, ref := range owners {
		switch gc.graph.owner(ref.GetUid()) {
		case ownerPresent:
			c.solid = append(c.solid, ref)
			continue
		case ownerWaiting:
			c.waiting = append(c.waiting, ref)
			continue
		}
		o := virtualRef(ref, item.namespace)
		if o.res == nil {
			return c, controller.Terminal(fmt.Errorf("owner %s of %s: kind %s is not served", o, item, o.kind))
		}
		if o.res.Namespaced && item.namespace == "" {
			return c, controller.Terminal(fmt.Errorf("owner %s of %s: %w", o, item, errNamespacedOwnerOfClusterScoped))
		}
		live, present, err := gc.getLive(ctx, o)
		if err != nil {
			return c, fmt.Errorf("look up owner %s of %s: %w", o, item, err)
		}
		if !present {
			c.dangling = append(c.dangling, ref)
			continue
		}
		switch md := live.GetMetadata(); {
		case md.GetDeletionTimestamp() != nil && hasFinalizer(md, FinalizerForeground):
			c.waiting = append(c.waiting, ref)
		default:
			c.solid = append(c.solid, ref)
		}
	}
	return c, nil
}

func uids(refs []*metav1.OwnerReference) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.GetUid())
	}
	return out
}
