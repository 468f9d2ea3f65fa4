package validation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Object validates an object about to be created, after defaulting. An object of a kind this
// package does not know is reported as an internal error.
func Object(o scheme.Object) field.ErrorList {
	switch o := o.(type) {
	case *corev1.Namespace:
		return Namespace(o)
	case *corev1.Node:
		return Node(o)
	case *corev1.ConfigMap:
		return ConfigMap(o)
	case *corev1.Secret:
		return Secret(o)
	case *corev1.Service:
		return Service(o)
	case *corev1.Endpoints:
		return Endpoints(o)
	case *corev1.Event:
		return Event(o)
	case *coordinationv1.Lease:
		return Lease(o)
	case *corev1.Pod:
		return Pod(o)
	case *corev1.ReplicationController:
		return ReplicationController(o)
	case *appsv1.ReplicaSet:
		return ReplicaSet(o)
	case *appsv1.Deployment:
		return Deployment(o)
	}
	return unknownKind(o)
}

// ObjectUpdate validates newObj, about to replace oldObj, after defaulting: everything Object
// checks plus what may not change (metadata.name, namespace and uid; most of a Pod's spec; the
// selectors of ReplicaSets and Deployments; the data of immutable ConfigMaps and Secrets; a
// Service's clusterIP; ...). Both objects must be of the same kind.
func ObjectUpdate(newObj, oldObj scheme.Object) field.ErrorList {
	switch n := newObj.(type) {
	case *corev1.Namespace:
		if o, ok := oldObj.(*corev1.Namespace); ok {
			return NamespaceUpdate(n, o)
		}
	case *corev1.Node:
		if o, ok := oldObj.(*corev1.Node); ok {
			return NodeUpdate(n, o)
		}
	case *corev1.ConfigMap:
		if o, ok := oldObj.(*corev1.ConfigMap); ok {
			return ConfigMapUpdate(n, o)
		}
	case *corev1.Secret:
		if o, ok := oldObj.(*corev1.Secret); ok {
			return SecretUpdate(n, o)
		}
	case *corev1.Service:
		if o, ok := oldObj.(*corev1.Service); ok {
			return ServiceUpdate(n, o)
		}
	case *corev1.Endpoints:
		if o, ok := oldObj.(*corev1.Endpoints); ok {
			return EndpointsUpdate(n, o)
		}
	case *corev1.Event:
		if o, ok := oldObj.(*corev1.Event); ok {
			return EventUpdate(n, o)
		}
	case *coordinationv1.Lease:
		if o, ok := oldObj.(*coordinationv1.Lease); ok {
			return LeaseUpdate(n, o)
		}
	case *corev1.Pod:
		if o, ok := oldObj.(*corev1.Pod); ok {
			return PodUpdate(n, o)
		}
	case *corev1.ReplicationController:
		if o, ok := oldObj.(*corev1.ReplicationController); ok {
			return ReplicationControllerUpdate(n, o)
		}
	case *appsv1.ReplicaSet:
		if o, ok := oldObj.(*appsv1.ReplicaSet); ok {
			return ReplicaSetUpdate(n, o)
		}
	case *appsv1.Deployment:
		if o, ok := oldObj.(*appsv1.Deployment); ok {
			return DeploymentUpdate(n, o)
		}
	default:
		return unknownKind(newObj)
	}
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("cannot update a %s with a %s", kindOf(oldObj), kindOf(newObj)))}
}

func unknownKind(o scheme.Object) field.ErrorList {
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("no validation for %s", kindOf(o)))}
}

func kindOf(o scheme.Object) string {
	if o == nil {
		return "nil object"
	}
	return string(o.ProtoReflect().Descriptor().FullName())
}
