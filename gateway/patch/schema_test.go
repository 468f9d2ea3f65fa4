package patch

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
)

// TestSchemaMatchesKubernetes checks mechanically that every field of every message Berth
// patches exists, under the same JSON name, in the k8s.io/api type whose struct tags drive
// the strategic merge: a field the Kubernetes type lacks would make a strategic patch that
// touches it fail with "unable to find api field".
func TestSchemaMatchesKubernetes(t *testing.T) {
	for _, r := range scheme.All {
		typ, ok := k8sTypes[r]
		if !ok {
			t.Errorf("%s: no Kubernetes type for strategic merge patches", r.Kind)
			continue
		}
		checkMessage(t, r.Kind, r.New().ProtoReflect().Descriptor(), reflect.TypeOf(typ).Elem())
	}
	checkMessage(t, "Scale", (&autoscalingv1.Scale{}).ProtoReflect().Descriptor(), reflect.TypeOf(scaleType).Elem())
	if len(k8sTypes) != len(scheme.All) {
		t.Errorf("k8sTypes has %d entries, scheme.All %d", len(k8sTypes), len(scheme.All))
	}
}

func checkMessage(t *testing.T, path string, md protoreflect.MessageDescriptor, rt reflect.Type) {
	t.Helper()
	fields := map[string]reflect.Type{}
	jsonFields(rt, fields)
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		name := fd.JSONName()
		ft, ok := fields[name]
		if !ok {
			t.Errorf("%s.%s: %s has no field with this JSON name", path, name, rt)
			continue
		}
		var sub protoreflect.MessageDescriptor
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				sub, ft = fd.MapValue().Message(), deref(ft).Elem()
			}
		case fd.Kind() == protoreflect.MessageKind:
			sub, ft = fd.Message(), deref(ft)
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
		}
		if sub == nil || sub.ParentFile().Package() == "google.protobuf" {
			continue // a scalar, or a well-known type written as one (time, IntOrString)
		}
		ft = deref(ft)
		if ft.Kind() != reflect.Struct {
			t.Errorf("%s.%s: message %s, but the Kubernetes field is a %s", path, name, sub.FullName(), ft)
			continue
		}
		checkMessage(t, path+"."+name, sub, ft)
	}
}

// jsonFields collects the JSON names of a struct's fields, following inlined structs.
func jsonFields(rt reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			jsonFields(deref(f.Type), out)
			continue
		}
		if name != "" && name != "-" {
			out[name] = f.Type
		}
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
