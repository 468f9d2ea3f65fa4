package defaults

import (
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Values Kubernetes uses as defaults.
const (
	// DefaultSchedulerName is the scheduler a Pod is given when it names none.
	DefaultSchedulerName = "default-scheduler"
	// DefaultTerminationGracePeriodSeconds is a Pod's grace period when it sets none.
	DefaultTerminationGracePeriodSeconds int64 = 30
	// DefaultTerminationMessagePath is where a container writes its termination message.
	DefaultTerminationMessagePath = "/dev/termination-log"
	// DefaultVolumeMode is the file mode of projected ConfigMap and Secret files (0644).
	DefaultVolumeMode int32 = 0o644
	// DefaultClientIPTimeoutSeconds is how long ClientIP session affinity sticks (3 hours).
	DefaultClientIPTimeoutSeconds int32 = 10800
	// DefaultRevisionHistoryLimit is how many old ReplicaSets a Deployment keeps.
	DefaultRevisionHistoryLimit int32 = 10
	// DefaultProgressDeadlineSeconds is how long a Deployment may make no progress.
	DefaultProgressDeadlineSeconds int32 = 600
	// DefaultMaxSurgeAndUnavailable bounds a rolling update when the Deployment sets no bound.
	DefaultMaxSurgeAndUnavailable = "25%"
	// FinalizerKubernetes is the Namespace finalizer that deletes a Namespace's content.
	FinalizerKubernetes = "kubernetes"
	// LabelMetadataName is the label every Namespace carries with its own name.
	LabelMetadataName = "kubernetes.io/metadata.name"
)

// Object applies the defaults of the object's kind. Objects of unknown kinds are left alone.
func Object(o scheme.Object) {
	switch o := o.(type) {
	case *corev1.Namespace:
		Namespace(o)
	case *corev1.Node:
		Node(o)
	case *corev1.ConfigMap:
		// ConfigMaps have no defaults.
	case *corev1.Secret:
		Secret(o)
	case *corev1.Service:
		Service(o)
	case *corev1.Endpoints:
		Endpoints(o)
	case *corev1.Event:
		// Events have no defaults.
	case *coordinationv1.Lease:
		// Leases have no defaults.
	case *corev1.Pod:
		Pod(o)
	case *corev1.ReplicationController:
		ReplicationController(o)
	case *appsv1.ReplicaSet:
		ReplicaSet(o)
	case *appsv1.Deployment:
		Deployment(o)
	}
}

// ObjectUpdate applies the defaults of the object's kind to newObj, the object an update is about
// to store in place of oldObj; the apiserver calls it instead of Object on updates. It is Object
// plus what kube-apiserver keeps from the stored object when an update leaves it out, so that
// re-applying a manifest does not lose it: a Service's allocated clusterIP(s), nodePorts and
// healthCheckNodePort (ServiceUpdate), and a Namespace's finalizers (NamespaceUpdate).
func ObjectUpdate(newObj, oldObj scheme.Object) {
	switch n := newObj.(type) {
	case *corev1.Namespace:
		o, _ := oldObj.(*corev1.Namespace)
		NamespaceUpdate(n, o)
	case *corev1.Service:
		Service(n)
		if o, ok := oldObj.(*corev1.Service); ok {
			ServiceUpdate(n, o)
		}
	default:
		Object(newObj)
	}
}

// Namespace labels a new Namespace with its own name (kubernetes.io/metadata.name), gives it the
// "kubernetes" finalizer and the Active phase.
func Namespace(ns *corev1.Namespace) {
	namespace(ns)
	if len(ns.Spec.Finalizers) == 0 {
		ns.Spec.Finalizers = []string{FinalizerKubernetes}
	}
}

// NamespaceUpdate defaults a Namespace being updated. Kubernetes changes spec.finalizers only
// through its /finalize subresource, which Berth does not have: here an update that leaves
// spec.finalizers empty keeps the stored ones while the Namespace is not being deleted (a
// re-applied manifest), and may remove them once it is (the namespace controller finishing).
// The "kubernetes" finalizer is never added back.
func NamespaceUpdate(newNS, oldNS *corev1.Namespace) {
	namespace(newNS)
	if len(newNS.Spec.Finalizers) == 0 && oldNS.GetMetadata().GetDeletionTimestamp() == nil {
		newNS.Spec.Finalizers = slices.Clone(oldNS.GetSpec().GetFinalizers())
	}
}

// namespace applies the defaults new and updated Namespaces share.
func namespace(ns *corev1.Namespace) {
	md := scheme.Meta(ns)
	if md.Name != "" {
		if md.Labels == nil {
			md.Labels = map[string]string{}
		}
		md.Labels[LabelMetadataName] = md.Name
	}
	if ns.Spec == nil {
		ns.Spec = &corev1.NamespaceSpec{}
	}
	if ns.Status == nil {
		ns.Status = &corev1.NamespaceStatus{}
	}
	if ns.Status.Phase == "" {
		ns.Status.Phase = "Active"
	}
}

// Node copies capacity to allocatable when the Node reports no allocatable resources, and writes
// quantities in canonical form.
func Node(n *corev1.Node) {
	if n.Status == nil {
		return
	}
	resourceList(n.Status.Capacity)
	if len(n.Status.Allocatable) == 0 && len(n.Status.Capacity) > 0 {
		n.Status.Allocatable = maps.Clone(n.Status.Capacity)
	}
	resourceList(n.Status.Allocatable)
}

// Secret merges stringData into data (stringData wins, as in Kubernetes) and defaults the type to
// Opaque.
func Secret(s *corev1.Secret) {
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
	if s.Type == "" {
		s.Type = "Opaque"
	}
}

// Endpoints defaults every port's protocol to TCP.
func Endpoints(e *corev1.Endpoints) {
	for _, ss := range e.Subsets {
		for _, p := range ss.GetPorts() {
			if p != nil && p.Protocol == "" {
				p.Protocol = "TCP"
			}
		}
	}
}

// ReplicationController defaults replicas to 1 and, when the template has labels, the selector
// and the controller's own labels to them; its template is defaulted like a Pod's.
func ReplicationController(rc *corev1.ReplicationController) {
	if rc.Spec == nil {
		rc.Spec = &corev1.ReplicationControllerSpec{}
	}
	spec := rc.Spec
	if tl := spec.GetTemplate().GetMetadata().GetLabels(); len(tl) > 0 {
		if len(spec.Selector) == 0 {
			spec.Selector = maps.Clone(tl)
		}
		if md := scheme.Meta(rc); len(md.Labels) == 0 {
			md.Labels = maps.Clone(tl)
		}
	}
	if spec.Replicas == nil {
		spec.Replicas = proto.Int32(1)
	}
	if spec.Template != nil {
		PodTemplateSpec(spec.Template)
	}
}

// ReplicaSet defaults replicas to 1; its template is defaulted like a Pod's.
func ReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec == nil {
		rs.Spec = &appsv1.ReplicaSetSpec{}
	}
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = proto.Int32(1)
	}
	if rs.Spec.Template != nil {
		PodTemplateSpec(rs.Spec.Template)
	}
}

// Deployment defaults replicas to 1, the strategy to RollingUpdate with maxSurge and
// maxUnavailable 25%, revisionHistoryLimit to 10 and progressDeadlineSeconds to 600; its template
// is defaulted like a Pod's.
func Deployment(d *appsv1.Deployment) {
	if d.Spec == nil {
		d.Spec = &appsv1.DeploymentSpec{}
	}
	spec := d.Spec
	if spec.Replicas == nil {
		spec.Replicas = proto.Int32(1)
	}
	if spec.Strategy == nil {
		spec.Strategy = &appsv1.DeploymentStrategy{}
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = "RollingUpdate"
	}
	if spec.Strategy.Type == "RollingUpdate" {
		if spec.Strategy.RollingUpdate == nil {
			spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := spec.Strategy.RollingUpdate
		if isUnset(ru.MaxUnavailable) {
			ru.MaxUnavailable = percent(DefaultMaxSurgeAndUnavailable)
		}
		if isUnset(ru.MaxSurge) {
			ru.MaxSurge = percent(DefaultMaxSurgeAndUnavailable)
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = proto.Int32(DefaultRevisionHistoryLimit)
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = proto.Int32(DefaultProgressDeadlineSeconds)
	}
	if spec.Template != nil {
		PodTemplateSpec(spec.Template)
	}
}
