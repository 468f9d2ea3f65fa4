package scheme

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Object is any persisted API object: a proto message with ObjectMeta.
type Object interface {
	proto.Message
	GetMetadata() *metav1.ObjectMeta
}

// Resource describes one kind of object Berth serves.
type Resource struct {
	// Group is the API group ("" for core, "apps", "coordination.k8s.io").
	Group string
	// Version is the API version within the group ("v1").
	Version string
	// Kind is the object's kind ("Pod"); ListKind the list's ("PodList").
	Kind, ListKind string
	// Plural and Singular are the lower-case resource names ("pods", "pod").
	Plural, Singular string
	// ShortNames are kubectl's short names ("po").
	ShortNames []string
	// Namespaced tells whether objects live in a namespace.
	Namespaced bool
	// HasStatus tells whether the resource has a status subresource (UpdateStatus).
	HasStatus bool
	// HasScale tells whether the resource has a scale subresource (GetScale, UpdateScale).
	HasScale bool
	// Service is the full name of the gRPC service ("berth.core.v1.PodService").
	Service string

	newObject func() Object
	newList   func() proto.Message
	newEvent  func() proto.Message
}

// APIVersion is the apiVersion string objects of this kind carry ("v1", "apps/v1").
func (r *Resource) APIVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// GroupResource is "pods" for the core group and "deployments.apps" otherwise.
func (r *Resource) GroupResource() string {
	if r.Group == "" {
		return r.Plural
	}
	return r.Plural + "." + r.Group
}

// New returns a new empty object of this kind, with empty metadata.
func (r *Resource) New() Object {
	o := r.newObject()
	Meta(o)
	return o
}

// NewList returns a new empty list of this kind.
func (r *Resource) NewList() proto.Message { return r.newList() }

// NewWatchEvent returns a new empty watch event of this kind.
func (r *Resource) NewWatchEvent() proto.Message { return r.newEvent() }

// Method is the full gRPC method name of one of this resource's RPCs ("/berth.core.v1.PodService/Get").
func (r *Resource) Method(rpc string) string { return "/" + r.Service + "/" + rpc }

func resource[T Object, L proto.Message, E proto.Message](group, kind, plural string, namespaced, status, scale bool, short ...string) *Resource {
	var zero T
	pkg := string(zero.ProtoReflect().Descriptor().ParentFile().Package())
	return &Resource{
		Group: group, Version: "v1", Kind: kind, ListKind: kind + "List",
		Plural: plural, Singular: strings.ToLower(kind), ShortNames: short,
		Namespaced: namespaced, HasStatus: status, HasScale: scale,
		Service:   pkg + "." + kind + "Service",
		newObject: func() Object { return zero.ProtoReflect().New().Interface().(T) },
		newList:   func() proto.Message { var l L; return l.ProtoReflect().New().Interface() },
		newEvent:  func() proto.Message { var e E; return e.ProtoReflect().New().Interface() },
	}
}

// The resources Berth serves.
var (
	Pods                   = resource[*corev1.Pod, *corev1.PodList, *corev1.PodWatchEvent]("", "Pod", "pods", true, true, false, "po")
	Nodes                  = resource[*corev1.Node, *corev1.NodeList, *corev1.NodeWatchEvent]("", "Node", "nodes", false, true, false, "no")
	Namespaces             = resource[*corev1.Namespace, *corev1.NamespaceList, *corev1.NamespaceWatchEvent]("", "Namespace", "namespaces", false, true, false, "ns")
	Services               = resource[*corev1.Service, *corev1.ServiceList, *corev1.ServiceWatchEvent]("", "Service", "services", true, true, false, "svc")
	Endpoints              = resource[*corev1.Endpoints, *corev1.EndpointsList, *corev1.EndpointsWatchEvent]("", "Endpoints", "endpoints", true, false, false, "ep")
	ReplicationControllers = resource[*corev1.ReplicationController, *corev1.ReplicationControllerList, *corev1.ReplicationControllerWatchEvent]("", "ReplicationController", "replicationcontrollers", true, true, true, "rc")
	ConfigMaps             = resource[*corev1.ConfigMap, *corev1.ConfigMapList, *corev1.ConfigMapWatchEvent]("", "ConfigMap", "configmaps", true, false, false, "cm")
	Secrets                = resource[*corev1.Secret, *corev1.SecretList, *corev1.SecretWatchEvent]("", "Secret", "secrets", true, false, false)
	Events                 = resource[*corev1.Event, *corev1.EventList, *corev1.EventWatchEvent]("", "Event", "events", true, false, false, "ev")
	ReplicaSets            = resource[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, *appsv1.ReplicaSetWatchEvent]("apps", "ReplicaSet", "replicasets", true, true, true, "rs")
	Deployments            = resource[*appsv1.Deployment, *appsv1.DeploymentList, *appsv1.DeploymentWatchEvent]("apps", "Deployment", "deployments", true, true, true, "deploy")
	Leases                 = resource[*coordinationv1.Lease, *coordinationv1.LeaseList, *coordinationv1.LeaseWatchEvent]("coordination.k8s.io", "Lease", "leases", true, false, false)
)

// All lists every resource, in a stable order (the order kubectl would create them in:
// namespaces first, workloads last).
var All = []*Resource{
	Namespaces, Nodes, ConfigMaps, Secrets, Services, Endpoints, Events, Leases,
	Pods, ReplicationControllers, ReplicaSets, Deployments,
}

var byMessage = func() map[protoreflect.FullName]*Resource {
	m := make(map[protoreflect.FullName]*Resource, len(All))
	for _, r := range All {
		m[r.newObject().ProtoReflect().Descriptor().FullName()] = r
	}
	return m
}()

// ForObject returns the resource of an object's message type, or nil.
func ForObject(m proto.Message) *Resource {
	return byMessage[m.ProtoReflect().Descriptor().FullName()]
}

// ForKind returns the resource with this apiVersion and kind. The error says what is wrong and
// lists what is supported.
func ForKind(apiVersion, kind string) (*Resource, error) {
	if apiVersion == "" {
		return nil, fmt.Errorf("apiVersion: Required value: every object needs an apiVersion")
	}
	if kind == "" {
		return nil, fmt.Errorf("kind: Required value: every object needs a kind")
	}
	var sameKind []string
	for _, r := range All {
		if r.Kind == kind {
			if r.APIVersion() == apiVersion {
				return r, nil
			}
			sameKind = append(sameKind, r.APIVersion())
		}
	}
	if len(sameKind) > 0 {
		return nil, fmt.Errorf("apiVersion: Unsupported value: %q: kind %s is served as %s", apiVersion, kind, strings.Join(sameKind, ", "))
	}
	return nil, fmt.Errorf("kind: Unsupported value: %q (apiVersion %s): Berth serves %s", kind, apiVersion, strings.Join(Kinds(), ", "))
}

// ForName finds a resource by any of the names kubectl accepts: plural, singular, short name or
// kind, case-insensitive, optionally qualified by group ("deployments.apps").
func ForName(name string) (*Resource, error) {
	n := strings.ToLower(name)
	group := ""
	if i := strings.IndexByte(n, '.'); i >= 0 {
		n, group = n[:i], n[i+1:]
	}
	for _, r := range All {
		if group != "" && r.Group != group {
			continue
		}
		if n == r.Plural || n == r.Singular || n == strings.ToLower(r.Kind) {
			return r, nil
		}
		for _, s := range r.ShortNames {
			if n == s {
				return r, nil
			}
		}
	}
	return nil, fmt.Errorf("the server doesn't have a resource type %q", name)
}

// Kinds lists the supported kinds, sorted.
func Kinds() []string {
	ks := make([]string, 0, len(All))
	for _, r := range All {
		ks = append(ks, r.Kind)
	}
	sort.Strings(ks)
	return ks
}

// Meta returns the object's metadata, creating it if it is nil.
func Meta(o Object) *metav1.ObjectMeta {
	if md := o.GetMetadata(); md != nil {
		return md
	}
	m := o.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("metadata")
	m.Set(fd, protoreflect.ValueOfMessage((&metav1.ObjectMeta{}).ProtoReflect()))
	return o.GetMetadata()
}

// Key is "namespace/name" for namespaced objects and "name" otherwise: the key controllers
// queue and caches index by.
func Key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// SplitKey is the inverse of Key.
func SplitKey(key string) (namespace, name string) {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}
