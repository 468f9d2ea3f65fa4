package openapi

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/api/resource"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// generator builds the schemas of proto messages, each walked alongside the Kubernetes Go
// type it mirrors, and of the Kubernetes-only types the paths refer to (DeleteOptions,
// Status). Every schema is generated once and shared by all documents.
type generator struct {
	schemas   map[string]*Schema
	byMessage map[protoreflect.FullName]string
	// unmapped lists the message fields that have no Kubernetes counterpart ("Message.field"),
	// and so no description.
	unmapped []string
}

func newGenerator() *generator {
	return &generator{schemas: wellKnown(), byMessage: map[protoreflect.FullName]string{}}
}

var (
	timeType        = reflect.TypeOf(kmetav1.Time{})
	microTimeType   = reflect.TypeOf(kmetav1.MicroTime{})
	quantityType    = reflect.TypeOf(resource.Quantity{})
	intOrStringType = reflect.TypeOf(intstr.IntOrString{})
)

// goName is Kubernetes' OpenAPI name of a Go type: its package path with the host reversed,
// dots for slashes, then the type name ("k8s.io/api/core/v1".Pod is io.k8s.api.core.v1.Pod).
func goName(t reflect.Type) string {
	host, rest, _ := strings.Cut(t.PkgPath(), "/")
	parts := strings.Split(host, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".") + "." + strings.ReplaceAll(rest, "/", ".") + "." + t.Name()
}

// berthName names the schema of a message that mirrors no Kubernetes type:
// berth.core.v1.Foo is dev.berth.core.v1.Foo.
func berthName(md protoreflect.MessageDescriptor) string {
	return "dev.berth." + strings.TrimPrefix(string(md.FullName()), "berth.")
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// swaggerDoc returns the documentation Kubernetes generates for a Go type: "" is the type's
// own description, the other keys its fields' JSON names.
func swaggerDoc(t reflect.Type) map[string]string {
	if t == nil {
		return nil
	}
	if d, ok := reflect.New(t).Elem().Interface().(interface{ SwaggerDoc() map[string]string }); ok {
		return d.SwaggerDoc()
	}
	return nil
}

// jsonFields maps the JSON names of a struct's fields to the fields, inline structs
// flattened.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	if t == nil || t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			for k, v := range jsonFields(deref(f.Type)) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// required tells whether Kubernetes' OpenAPI marks a field required: its JSON tag has no
// omitempty.
func required(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	return !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "inline")
}

// message returns the name of md's schema, generating the schema on first use. kt is the
// Kubernetes struct type md mirrors, or nil.
func (g *generator) message(md protoreflect.MessageDescriptor, kt reflect.Type) string {
	if name, ok := g.byMessage[md.FullName()]; ok {
		return name
	}
	name := berthName(md)
	if kt != nil {
		name = goName(kt)
	}
	if _, taken := g.schemas[name]; taken {
		kt, name = nil, berthName(md)
	}
	g.byMessage[md.FullName()] = name
	s := &Schema{Type: "object", Properties: map[string]*Schema{}}
	g.schemas[name] = s // before the fields: messages may refer to themselves

	doc := swaggerDoc(kt)
	s.Description = doc[""]
	if s.Description == "" {
		s.Description = fmt.Sprintf("%s is Berth's %s.", md.Name(), md.FullName())
	}
	kfields := jsonFields(kt)
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		jn := fd.JSONName()
		kf, mapped := kfields[jn]
		var ft reflect.Type
		if mapped {
			ft = kf.Type
		} else {
			g.unmapped = append(g.unmapped, string(md.Name())+"."+jn)
		}
		p := g.field(fd, ft)
		p.Description = doc[jn]
		if p.Description == "" {
			p.Description = fieldDescription(fd)
		}
		if mapped {
			p.PatchStrategy = kf.Tag.Get("patchStrategy")
			p.PatchMergeKey = kf.Tag.Get("patchMergeKey")
			if required(kf) {
				s.Required = append(s.Required, jn)
			}
		}
		s.Properties[jn] = p
	}
	sort.Strings(s.Required)
	return name
}

// fieldDescription describes a field Kubernetes does not document, from its name.
func fieldDescription(fd protoreflect.FieldDescriptor) string {
	words := splitCamel(fd.JSONName())
	return strings.ToUpper(words[:1]) + words[1:] + " of the " + string(fd.ContainingMessage().Name()) + "."
}

// splitCamel turns "podCIDRs" into "pod CIDRs" and "hostIPC" into "host IPC".
func splitCamel(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if i > 0 && upper {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z'
			// The last capital of an acronym starts the next word ("hostIPAddress"), unless
			// what follows is a plural s ("podCIDRs").
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z' && rs[i-1] >= 'A' && rs[i-1] <= 'Z' &&
				!(rs[i+1] == 's' && i+2 == len(rs))
			if prevLower || nextLower {
				b.WriteByte(' ')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// field returns the schema of one field; ft is the Go type of the Kubernetes field it
// mirrors, or nil.
func (g *generator) field(fd protoreflect.FieldDescriptor, ft reflect.Type) *Schema {
	ft = deref(ft)
	switch {
	case fd.IsMap():
		var vt reflect.Type
		if ft != nil && ft.Kind() == reflect.Map {
			vt = ft.Elem()
		}
		return &Schema{Type: "object", AdditionalProperties: g.value(fd.MapValue(), vt)}
	case fd.IsList():
		var et reflect.Type
		if ft != nil && ft.Kind() == reflect.Slice {
			et = ft.Elem()
		}
		return &Schema{Type: "array", Items: g.value(fd, et)}
	}
	return g.value(fd, ft)
}

// value returns the schema of one value of fd (a map's value, a list's item, or the field).
func (g *generator) value(fd protoreflect.FieldDescriptor, t reflect.Type) *Schema {
	t = deref(t)
	switch t {
	case timeType:
		return ref(timeName, "")
	case microTimeType:
		return ref(microTimeName, "")
	case quantityType:
		return ref(quantityName, "")
	case intOrStringType:
		return ref(intOrStringName, "")
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			return ref(timeName, "")
		case "google.protobuf.Value":
			return ref(intOrStringName, "") // every Value in Berth's API is an IntOrString
		case "google.protobuf.Struct":
			return &Schema{Type: "object", PreserveUnknownFields: true}
		}
		var kt reflect.Type
		if t != nil && t.Kind() == reflect.Struct {
			kt = t
		}
		return ref(g.message(fd.Message(), kt), "")
	case protoreflect.StringKind:
		return &Schema{Type: "string"}
	case protoreflect.BytesKind:
		return &Schema{Type: "string", Format: "byte"}
	case protoreflect.BoolKind:
		return &Schema{Type: "boolean"}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return &Schema{Type: "integer", Format: "int32"}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return &Schema{Type: "integer", Format: "int64"}
	case protoreflect.DoubleKind:
		return &Schema{Type: "number", Format: "double"}
	case protoreflect.FloatKind:
		return &Schema{Type: "number", Format: "float"}
	case protoreflect.EnumKind:
		s := &Schema{Type: "string"}
		vals := fd.Enum().Values()
		for i := 0; i < vals.Len(); i++ {
			s.Enum = append(s.Enum, string(vals.Get(i).Name()))
		}
		return s
	}
	return &Schema{PreserveUnknownFields: true}
}

// goType returns the name of the schema of a Kubernetes Go struct the API has no message for
// (DeleteOptions, Status), generating it by reflection on first use.
func (g *generator) goType(t reflect.Type) string {
	name := goName(t)
	if _, ok := g.schemas[name]; ok {
		return name
	}
	s := &Schema{Type: "object", Properties: map[string]*Schema{}}
	g.schemas[name] = s
	doc := swaggerDoc(t)
	s.Description = doc[""]
	for jn, f := range jsonFields(t) {
		p := g.goValue(f.Type)
		p.Description = doc[jn]
		s.Properties[jn] = p
		if required(f) {
			s.Required = append(s.Required, jn)
		}
	}
	sort.Strings(s.Required)
	return name
}

func (g *generator) goValue(t reflect.Type) *Schema {
	t = deref(t)
	switch t {
	case timeType:
		return ref(timeName, "")
	case microTimeType:
		return ref(microTimeName, "")
	case quantityType:
		return ref(quantityName, "")
	case intOrStringType:
		return ref(intOrStringName, "")
	}
	switch t.Kind() {
	case reflect.Struct:
		return ref(g.goType(t), "")
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Schema{Type: "string", Format: "byte"}
		}
		return &Schema{Type: "array", Items: g.goValue(t.Elem())}
	case reflect.Map:
		return &Schema{Type: "object", AdditionalProperties: g.goValue(t.Elem())}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int32, reflect.Uint32, reflect.Int16, reflect.Uint16, reflect.Int8, reflect.Uint8:
		return &Schema{Type: "integer", Format: "int32"}
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64:
		return &Schema{Type: "integer", Format: "int64"}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number", Format: "double"}
	}
	return &Schema{Type: "object", PreserveUnknownFields: true}
}
