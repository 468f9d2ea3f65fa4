package client

import (
	"context"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// ResourceClient calls the gRPC service of one resource. Objects passed in must be of the
// resource's message type; objects returned are.
type ResourceClient struct {
	conn *grpc.ClientConn
	r    *scheme.Resource
}

// Resource is the resource this client serves.
func (rc *ResourceClient) Resource() *scheme.Resource { return rc.r }

// Create creates obj and returns it as stored.
func (rc *ResourceClient) Create(ctx context.Context, obj scheme.Object) (scheme.Object, error) {
	return rc.write(ctx, "Create", obj)
}

// Get reads the object namespace/name (namespace "" for cluster-scoped resources).
func (rc *ResourceClient) Get(ctx context.Context, namespace, name string) (scheme.Object, error) {
	out := rc.r.New()
	req := &metav1.GetRequest{Namespace: namespace, Name: name}
	if err := rc.conn.Invoke(ctx, rc.r.Method("Get"), req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// List returns one page of the objects opts selects and the list's metadata (resourceVersion,
// continue token). A nil opts lists everything in every namespace.
func (rc *ResourceClient) List(ctx context.Context, opts *metav1.ListOptions) ([]scheme.Object, *metav1.ListMeta, error) {
	if opts == nil {
		opts = &metav1.ListOptions{}
	}
	list := rc.r.NewList()
	if err := rc.conn.Invoke(ctx, rc.r.Method("List"), opts, list); err != nil {
		return nil, nil, err
	}
	items, meta := ListItems(list)
	return items, meta, nil
}

// ListAll lists every object opts selects, following continue tokens page by page when
// opts.Limit is set. The metadata returned is the last page's (its resourceVersion is the
// list's, as Kubernetes keeps one snapshot across pages).
func (rc *ResourceClient) ListAll(ctx context.Context, opts *metav1.ListOptions) ([]scheme.Object, *metav1.ListMeta, error) {
	page := &metav1.ListOptions{}
	if opts != nil {
		page = proto.Clone(opts).(*metav1.ListOptions)
	}
	var all []scheme.Object
	for {
		items, meta, err := rc.List(ctx, page)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, items...)
		if meta.GetContinue() == "" {
			return all, meta, nil
		}
		page.Continue = meta.GetContinue()
		// A continued list is served from the first page's snapshot; the server rejects
		// resourceVersion together with continue.
		page.ResourceVersion, page.ResourceVersionMatch = "", ""
	}
}

// Update replaces obj's spec (and metadata); metadata.resourceVersion, when set, must match
// the stored one or the call fails with a Conflict.
func (rc *ResourceClient) Update(ctx context.Context, obj scheme.Object) (scheme.Object, error) {
	return rc.write(ctx, "Update", obj)
}

// UpdateStatus replaces obj's status, through the status subresource.
func (rc *ResourceClient) UpdateStatus(ctx context.Context, obj scheme.Object) (scheme.Object, error) {
	if !rc.r.HasStatus {
		return nil, kerrors.NewMethodNotSupported(rc.groupResource(), "update status of")
	}
	return rc.write(ctx, "UpdateStatus", obj)
}

// Delete deletes the object req names. It returns the object as it was last stored: with a
// deletionTimestamp when finalizers or a grace period delay its removal.
func (rc *ResourceClient) Delete(ctx context.Context, req *metav1.DeleteRequest) (scheme.Object, error) {
	out := rc.r.New()
	if err := rc.conn.Invoke(ctx, rc.r.Method("Delete"), req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetScale reads the scale subresource of namespace/name.
func (rc *ResourceClient) GetScale(ctx context.Context, namespace, name string) (*autoscalingv1.Scale, error) {
	if !rc.r.HasScale {
		return nil, kerrors.NewMethodNotSupported(rc.groupResource(), "get scale of")
	}
	out := &autoscalingv1.Scale{}
	req := &metav1.GetRequest{Namespace: namespace, Name: name}
	if err := rc.conn.Invoke(ctx, rc.r.Method("GetScale"), req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateScale sets the replica count through the scale subresource.
func (rc *ResourceClient) UpdateScale(ctx context.Context, s *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
	if !rc.r.HasScale {
		return nil, kerrors.NewMethodNotSupported(rc.groupResource(), "update scale of")
	}
	out := &autoscalingv1.Scale{}
	if err := rc.conn.Invoke(ctx, rc.r.Method("UpdateScale"), s, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (rc *ResourceClient) write(ctx context.Context, rpc string, obj scheme.Object) (scheme.Object, error) {
	if err := rc.check(obj); err != nil {
		return nil, err
	}
	out := rc.r.New()
	if err := rc.conn.Invoke(ctx, rc.r.Method(rpc), obj, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (rc *ResourceClient) check(obj scheme.Object) error {
	if obj == nil {
		return fmt.Errorf("%s: nil object", rc.r.GroupResource())
	}
	want := rc.r.New().ProtoReflect().Descriptor().FullName()
	if got := obj.ProtoReflect().Descriptor().FullName(); got != want {
		return fmt.Errorf("%s: object is a %s, want a %s", rc.r.GroupResource(), got, want)
	}
	return nil
}

func (rc *ResourceClient) groupResource() schema.GroupResource {
	return schema.GroupResource{Group: rc.r.Group, Resource: rc.r.Plural}
}

// ListItems returns the items and metadata of any list message of the scheme (a PodList, a
// DeploymentList, ...).
func ListItems(list proto.Message) ([]scheme.Object, *metav1.ListMeta) {
	m := list.ProtoReflect()
	fields := m.Descriptor().Fields()
	var meta *metav1.ListMeta
	if fd := fields.ByName("metadata"); fd != nil && m.Has(fd) {
		meta, _ = m.Get(fd).Message().Interface().(*metav1.ListMeta)
	}
	if meta == nil {
		meta = &metav1.ListMeta{}
	}
	fd := fields.ByName("items")
	if fd == nil || !fd.IsList() {
		return nil, meta
	}
	l := m.Get(fd).List()
	items := make([]scheme.Object, 0, l.Len())
	for i := 0; i < l.Len(); i++ {
		if o, ok := l.Get(i).Message().Interface().(scheme.Object); ok {
			items = append(items, o)
		}
	}
	return items, meta
}

// eventParts returns the type and object of any watch-event message of the scheme.
func eventParts(ev proto.Message) (string, scheme.Object) {
	m := ev.ProtoReflect()
	fields := m.Descriptor().Fields()
	var typ string
	if fd := fields.ByName("type"); fd != nil && fd.Kind() == protoreflect.StringKind {
		typ = m.Get(fd).String()
	}
	var obj scheme.Object
	if fd := fields.ByName("object"); fd != nil && m.Has(fd) {
		obj, _ = m.Get(fd).Message().Interface().(scheme.Object)
	}
	return typ, obj
}
