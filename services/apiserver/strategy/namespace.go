package strategy

import (
	"context"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// namespace adds to base: a new Namespace is Active; deleting one makes it Terminating until
// the namespace controller has emptied it and removed its spec.finalizers.
type namespace struct{ *base }

func (n *namespace) PrepareForCreate(ctx context.Context, obj scheme.Object) {
	n.base.PrepareForCreate(ctx, obj)
	obj.(*corev1.Namespace).Status = &corev1.NamespaceStatus{Phase: "Active"}
	if n.namespaces != nil {
		n.namespaces.markActive(obj.GetMetadata().GetName())
	}
}

// Admit: Namespaces are not in a namespace.
func (n *namespace) Admit(context.Context, scheme.Object, scheme.Object) error { return nil }

func (n *namespace) BeforeDelete(obj scheme.Object) bool {
	ns := obj.(*corev1.Namespace)
	if ns.Status == nil {
		ns.Status = &corev1.NamespaceStatus{}
	}
	ns.Status.Phase = "Terminating"
	if n.namespaces != nil {
		n.namespaces.markTerminating(ns.GetMetadata().GetName())
	}
	return n.Pending(obj)
}

func (n *namespace) Pending(obj scheme.Object) bool {
	return len(obj.(*corev1.Namespace).GetSpec().GetFinalizers()) > 0
}

// undeletable are the Namespaces Kubernetes' NamespaceLifecycle admission protects.
var undeletable = map[string]bool{"default": true, "kube-system": true, "kube-public": true}

// ValidateDelete refuses to delete the built-in Namespaces.
func (n *namespace) ValidateDelete(_ context.Context, obj scheme.Object) error {
	name := obj.GetMetadata().GetName()
	if undeletable[name] {
		return kerrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, name, fmt.Errorf("this namespace may not be deleted"))
	}
	return nil
}
