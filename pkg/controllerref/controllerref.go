package controllerref

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Of returns the ControllerRef of obj: its ownerReference with controller: true, or nil.
func Of(obj scheme.Object) *metav1.OwnerReference {
	for _, ref := range obj.GetMetadata().GetOwnerReferences() {
		if ref.GetController() {
			return ref
		}
	}
	return nil
}

// IsControlledBy reports whether obj's ControllerRef names the object with this uid.
func IsControlledBy(obj scheme.Object, uid string) bool {
	ref := Of(obj)
	return ref != nil && ref.GetUid() == uid
}

// New returns a ControllerRef to owner, with blockOwnerDeletion set so that a foreground
// deletion of the owner waits for the dependent. owner's type must be in the scheme.
func New(owner scheme.Object) *metav1.OwnerReference {
	r := scheme.ForObject(owner)
	md := owner.GetMetadata()
	t := true
	return &metav1.OwnerReference{
		ApiVersion: r.APIVersion(), Kind: r.Kind, Name: md.GetName(), Uid: md.GetUid(),
		Controller: &t, BlockOwnerDeletion: &t,
	}
}

// Manager claims the dependents of one owner.
type Manager struct {
	// Owner is the controller (a ReplicaSet, a Deployment, ...), as cached.
	Owner scheme.Object
	// Selector picks the dependents Owner should control.
	Selector labels.Selector
	// Dependents writes the dependents (the Pods of a ReplicaSet, ...).
	Dependents *client.ResourceClient
	// CanAdopt is called at most once per Claim, before the first adoption; it must fail
	// when Owner may no longer adopt (see FreshOwner).
	CanAdopt func(ctx context.Context) error
}

// Claim returns the objects of objs that Owner controls once the claim is done: those it
// already controls and still selects, plus the orphans it selects and has adopted. It
// releases the ones it controls but no longer selects. objs come from a cache and are never
// modified; adopted objects are returned as the apiserver stored them. Objects being deleted
// are neither adopted nor released. The error aggregates the adoptions and releases that
// failed; the returned objects are valid even then.
func (m *Manager) Claim(ctx context.Context, objs []scheme.Object) ([]scheme.Object, error) {
	uid := m.Owner.GetMetadata().GetUid()
	ownerDeleting := m.Owner.GetMetadata().GetDeletionTimestamp() != nil
	var (
		claimed  []scheme.Object
		errs     []error
		canAdopt error
		checked  bool
	)
	for _, obj := range objs {
		md := obj.GetMetadata()
		matches := m.Selector.Matches(labels.Set(md.GetLabels()))
		ref := Of(obj)
		switch {
		case ref != nil && ref.GetUid() == uid:
			if matches {
				claimed = append(claimed, obj)
				continue
			}
			if ownerDeleting || md.GetDeletionTimestamp() != nil {
				continue // an owner being deleted, or a dependent going away, releases nothing
			}
			if err := m.release(ctx, obj); err != nil {
				errs = append(errs, err)
			}
		case ref != nil:
			// Another controller's.
		case !matches || ownerDeleting || md.GetDeletionTimestamp() != nil:
			// An orphan it does not want, or may not take.
		default:
			if !checked {
				checked = true
				if m.CanAdopt != nil {
					canAdopt = m.CanAdopt(ctx)
				}
			}
			if canAdopt != nil {
				errs = append(errs, fmt.Errorf("adopt %s: %w", keyOf(obj), canAdopt))
				continue
			}
			adopted, err := m.adopt(ctx, obj)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if adopted != nil {
				claimed = append(claimed, adopted)
			}
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

// adopt adds a ControllerRef to Owner; nil, nil when the object is gone.
func (m *Manager) adopt(ctx context.Context, obj scheme.Object) (scheme.Object, error) {
	next := proto.Clone(obj).(scheme.Object)
	md := next.GetMetadata()
	md.OwnerReferences = append(md.OwnerReferences, New(m.Owner))
	out, err := m.Dependents.Update(ctx, next)
	if kerrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("adopt %s: %w", keyOf(obj), err)
	}
	return out, nil
}

// release removes Owner's ownerReference.
func (m *Manager) release(ctx context.Context, obj scheme.Object) error {
	uid := m.Owner.GetMetadata().GetUid()
	next := proto.Clone(obj).(scheme.Object)
	md := next.GetMetadata()
	refs := md.OwnerReferences[:0]
	for _, r := range md.OwnerReferences {
		if r.GetUid() != uid {
			refs = append(refs, r)
		}
	}
	md.OwnerReferences = refs
	_, err := m.Dependents.Update(ctx, next)
	if kerrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release %s: %w", keyOf(obj), err)
	}
	return nil
}

// FreshOwner returns a CanAdopt that reads the owner from the apiserver through owners and
// fails when it is gone, has another uid (deleted and re-created) or is being deleted. The
// read happens once, however often the function is called.
func FreshOwner(owners *client.ResourceClient, owner scheme.Object) func(ctx context.Context) error {
	var (
		once sync.Once
		err  error
	)
	md := owner.GetMetadata()
	return func(ctx context.Context) error {
		once.Do(func() {
			cur, gerr := owners.Get(ctx, md.GetNamespace(), md.GetName())
			switch {
			case gerr != nil:
				err = fmt.Errorf("re-read owner %s: %w", keyOf(owner), gerr)
			case cur.GetMetadata().GetUid() != md.GetUid():
				err = fmt.Errorf("owner %s was replaced (uid %s, want %s)", keyOf(owner), cur.GetMetadata().GetUid(), md.GetUid())
			case cur.GetMetadata().GetDeletionTimestamp() != nil:
				err = fmt.Errorf("owner %s is being deleted", keyOf(owner))
			}
		})
		return err
	}
}

func keyOf(obj scheme.Object) string {
	md := obj.GetMetadata()
	return scheme.Key(md.GetNamespace(), md.GetName())
}
