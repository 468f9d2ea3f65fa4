package strategy

import (
	"context"
	"fmt"
	"sync"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/validation"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	"github.com/berth-dev/berth/services/apiserver/registry"
)

// NamespaceLookup returns a Namespace by name, or a NotFound error.
type NamespaceLookup func(ctx context.Context, name string) (*corev1.Namespace, error)

// Namespaces is what namespace admission knows of Namespaces: a lookup (usually served by the
// watch cache) and the deletions this apiserver has started, which the cache may not show yet.
type Namespaces struct {
	Lookup      NamespaceLookup
	terminating sync.Map // name → struct{}
}

func (n *Namespaces) markTerminating(name string) { n.terminating.Store(name, struct{}{}) }
func (n *Namespaces) markActive(name string)      { n.terminating.Delete(name) }
func (n *Namespaces) isTerminating(name string) bool {
	_, ok := n.terminating.Load(name)
	return ok
}

// base is the behaviour every resource shares: Kubernetes defaulting and validation, status
// reset on create, and the fields each kind makes selectable.
type base struct {
	res         *scheme.Resource
	keepStatus  bool // Nodes keep the status they are created with
	fields      func(scheme.Object) fields.Set
	fieldLabels []string
	namespaces  *Namespaces
}

var _ registry.Strategy = (*base)(nil)

func (b *base) PrepareForCreate(_ context.Context, obj scheme.Object) {
	if b.res.HasStatus && !b.keepStatus {
		m := obj.ProtoReflect()
		if fd := m.Descriptor().Fields().ByName("status"); fd != nil {
			m.Clear(fd)
		}
	}
	defaults.Object(obj)
}

func (b *base) Validate(_ context.Context, obj scheme.Object) field.ErrorList {
	return validation.Object(obj)
}

func (b *base) PrepareForUpdate(_ context.Context, obj, old scheme.Object) {
	defaults.ObjectUpdate(obj, old)
}

func (b *base) ValidateUpdate(_ context.Context, obj, old scheme.Object) field.ErrorList {
	return validation.ObjectUpdate(obj, old)
}

func (b *base) Fields(obj scheme.Object) fields.Set {
	if b.fields == nil {
		return nil
	}
	return b.fields(obj)
}

func (b *base) FieldLabels() []string { return b.fieldLabels }

// Admit refuses new namespaced objects in a Namespace that does not exist or is terminating.
func (b *base) Admit(ctx context.Context, obj, old scheme.Object) error {
	if old != nil || !b.res.Namespaced || b.namespaces == nil {
		return nil
	}
	ns := obj.GetMetadata().GetNamespace()
	n, err := b.namespaces.Lookup(ctx, ns)
	if err == nil && b.namespaces.isTerminating(ns) {
		// Its deletion started here an instant ago; the cache has not seen it yet.
		n.Status = &corev1.NamespaceStatus{Phase: "Terminating"}
	}
	if err != nil {
		if kerrors.IsNotFound(err) {
			return kerrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, ns)
		}
		return err
	}
	if n.GetMetadata().GetDeletionTimestamp() != nil || n.GetStatus().GetPhase() == "Terminating" {
		return kerrors.NewForbidden(schema.GroupResource{Group: b.res.Group, Resource: b.res.Plural}, obj.GetMetadata().GetName(),
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}

// For returns the strategy of a resource. namespaces serves namespace admission; one value is
// shared by every resource of an apiserver.
func For(res *scheme.Resource, namespaces *Namespaces) registry.Strategy {
	b := &base{res: res, namespaces: namespaces}
	switch res {
	case scheme.Pods:
		b.fields, b.fieldLabels = podFields, podFieldLabels
		return &pod{base: b}
	case scheme.Namespaces:
		b.fields, b.fieldLabels = namespaceFields, []string{"status.phase"}
		return &namespace{base: b}
	case scheme.Secrets:
		b.fields, b.fieldLabels = secretFields, []string{"type"}
		return &secret{base: b}
	case scheme.Nodes:
		b.keepStatus = true
		b.fields, b.fieldLabels = nodeFields, []string{"spec.unschedulable"}
	case scheme.Events:
		b.fields, b.fieldLabels = eventFields, eventFieldLabels
	case scheme.ReplicaSets:
		b.fields, b.fieldLabels = replicasFields, []string{"status.replicas"}
	case scheme.ReplicationControllers:
		b.fields, b.fieldLabels = replicasFields, []string{"status.replicas"}
	}
	return b
}
