package kubejson

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"

	"github.com/berth-dev/berth/pkg/scheme"
)

// typeInfo is what the codec knows about a top-level message: the apiVersion and kind it is
// written with and, for lists and watch events, the type of the objects inside.
type typeInfo struct {
	apiVersion, kind string
	// list is set for <Kind>List messages: metadata and items are always written.
	list bool
	// item is the type of a list's items or of a watch event's object.
	item *typeInfo
	// itemField names the field holding item: "items" or "object".
	itemField protoreflect.Name
	// object is set for the resources' objects, which a Cache may hold.
	object bool
}

// types maps message names to what the codec knows about them: every resource in
// scheme.All, its list and watch event, and the subresource messages Scale and Binding.
var types = func() map[protoreflect.FullName]*typeInfo {
	t := map[protoreflect.FullName]*typeInfo{}
	name := func(m interface {
		ProtoReflect() protoreflect.Message
	}) protoreflect.FullName {
		return m.ProtoReflect().Descriptor().FullName()
	}
	for _, r := range scheme.All {
		obj := &typeInfo{apiVersion: r.APIVersion(), kind: r.Kind, object: true}
		t[name(r.New())] = obj
		t[name(r.NewList())] = &typeInfo{apiVersion: r.APIVersion(), kind: r.ListKind, list: true, item: obj, itemField: "items"}
		t[name(r.NewWatchEvent())] = &typeInfo{item: obj, itemField: "object"}
	}
	t[name(&autoscalingv1.Scale{})] = &typeInfo{apiVersion: "autoscaling/v1", kind: "Scale"}
	t[name(&corev1.Binding{})] = &typeInfo{apiVersion: "v1", kind: "Binding"}
	return t
}()

// hasTypeMeta tells whether objects of this type are written with apiVersion and kind.
func (t *typeInfo) hasTypeMeta() bool { return t != nil && t.kind != "" }

// Well-known message types the codec writes as scalars.
const (
	timestampName protoreflect.FullName = "google.protobuf.Timestamp"
	valueName     protoreflect.FullName = "google.protobuf.Value"
	structName    protoreflect.FullName = "google.protobuf.Struct"
	listValueName protoreflect.FullName = "google.protobuf.ListValue"
)

// quantityMaps are the map fields whose values are resource quantities (ResourceList):
// Kubernetes accepts JSON numbers there ("cpu: 1") and reads them as quantity strings.
var quantityMaps = map[protoreflect.Name]bool{
	"requests": true, "limits": true, "capacity": true, "allocatable": true, "hard": true, "used": true,
}

// quantityScalars are the string fields that hold one quantity.
var quantityScalars = map[protoreflect.Name]bool{"size_limit": true, "divisor": true}

// isQuantity tells whether a string field (or a map's string values) holds quantities.
func isQuantity(fd protoreflect.FieldDescriptor) bool {
	if fd.IsMap() {
		return quantityMaps[fd.Name()] && fd.MapValue().Kind() == protoreflect.StringKind
	}
	return quantityScalars[fd.Name()] && fd.Kind() == protoreflect.StringKind
}

// microTimeFields are the timestamps Kubernetes types as MicroTime: written with exactly six
// fractional digits (Kubernetes clients reject anything else) and kept to the microsecond.
var microTimeFields = map[protoreflect.FullName]bool{
	"berth.core.v1.Event.event_time":               true,
	"berth.coordination.v1.LeaseSpec.acquire_time": true,
	"berth.coordination.v1.LeaseSpec.renew_time":   true,
}
