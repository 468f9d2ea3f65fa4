package kubejson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/yaml"
)

// MarshalOptions configures Marshal.
type MarshalOptions struct {
	// Indent, when set, indents nested values with this string (kubectl -o json uses four
	// spaces).
	Indent string
	// ItemTypeMeta writes apiVersion and kind on every item of a list too, as kubectl prints
	// lists; the apiserver writes them on the list only.
	ItemTypeMeta bool
}

// Marshal writes a message as the Kubernetes apiserver writes it. Objects, lists, Scale and
// Binding carry apiVersion and kind; a watch event is {"type":...,"object":{...}} with
// apiVersion and kind on the object.
func Marshal(m proto.Message) ([]byte, error) { return MarshalOptions{}.Marshal(m) }

// MarshalYAML writes a message as Marshal does, in YAML.
func MarshalYAML(m proto.Message) ([]byte, error) { return MarshalOptions{}.MarshalYAML(m) }

// MarshalWatchEvent writes one line of a Kubernetes watch stream,
// {"object":{...},"type":"ADDED"}, with apiVersion and kind on the object. Marshal of a
// <Kind>WatchEvent message writes the same; this is for callers that hold the object apart.
func MarshalWatchEvent(eventType string, obj proto.Message) ([]byte, error) {
	e := encoder{}
	e.b = append(e.b, `{"object":`...)
	mr := obj.ProtoReflect()
	if err := e.message(mr, types[mr.Descriptor().FullName()], true); err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	e.b = append(e.b, `,"type":`...)
	e.b = appendString(e.b, eventType)
	e.b = append(e.b, '}')
	return e.b, nil
}

// MarshalList writes objects, possibly of several kinds, as the "kind: List" kubectl prints
// for more than one object: apiVersion and kind on every item.
func MarshalList(objs []proto.Message) ([]byte, error) { return MarshalOptions{}.MarshalList(objs) }

// Marshal writes a message as the package-level Marshal does, with these options.
func (o MarshalOptions) Marshal(m proto.Message) ([]byte, error) {
	e := encoder{opts: o}
	mr := m.ProtoReflect()
	if err := e.message(mr, types[mr.Descriptor().FullName()], true); err != nil {
		return nil, err
	}
	return e.finish()
}

// MarshalYAML writes a message as Marshal does, in YAML (keys sorted, as kubectl prints).
func (o MarshalOptions) MarshalYAML(m proto.Message) ([]byte, error) {
	o.Indent = ""
	j, err := o.Marshal(m)
	if err != nil {
		return nil, err
	}
	return jsonToYAML(j)
}

// MarshalList writes objects as the package-level MarshalList does, with these options.
func (o MarshalOptions) MarshalList(objs []proto.Message) ([]byte, error) {
	e := encoder{opts: o}
	e.b = append(e.b, `{"apiVersion":"v1","items":[`...)
	for i, obj := range objs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		mr := obj.ProtoReflect()
		if err := e.message(mr, types[mr.Descriptor().FullName()], true); err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
	}
	e.b = append(e.b, `],"kind":"List","metadata":{"resourceVersion":""}}`...)
	return e.finish()
}

// MarshalListYAML writes objects as MarshalList does, in YAML.
func (o MarshalOptions) MarshalListYAML(objs []proto.Message) ([]byte, error) {
	o.Indent = ""
	j, err := o.MarshalList(objs)
	if err != nil {
		return nil, err
	}
	return jsonToYAML(j)
}

func jsonToYAML(j []byte) ([]byte, error) {
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("converting JSON to YAML: %w", err)
	}
	return y, nil
}

type encoder struct {
	b    []byte
	opts MarshalOptions
}

func (e *encoder) finish() ([]byte, error) {
	if e.opts.Indent == "" {
		return e.b, nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, e.b, "", e.opts.Indent); err != nil {
		return nil, fmt.Errorf("indenting JSON: %w", err)
	}
	return out.Bytes(), nil
}

// sortedFields caches each message type's fields in JSON-name order.
var sortedFields sync.Map // protoreflect.FullName -> []protoreflect.FieldDescriptor

func fieldsByJSONName(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	if v, ok := sortedFields.Load(md.FullName()); ok {
		return v.([]protoreflect.FieldDescriptor)
	}
	fields := md.Fields()
	fds := make([]protoreflect.FieldDescriptor, fields.Len())
	for i := range fds {
		fds[i] = fields.Get(i)
	}
	sort.Slice(fds, func(i, j int) bool { return fds[i].JSONName() < fds[j].JSONName() })
	sortedFields.Store(md.FullName(), fds)
	return fds
}

// message writes one message as a JSON object. ti, when it has type meta and typeMeta is set,
// adds apiVersion and kind; for lists and watch events it also decides how the items are
// written.
func (e *encoder) message(m protoreflect.Message, ti *typeInfo, typeMeta bool) error {
	var extra [2]struct{ key, value string }
	n := 0
	if typeMeta && ti.hasTypeMeta() {
		extra[0].key, extra[0].value = "apiVersion", ti.apiVersion
		extra[1].key, extra[1].value = "kind", ti.kind
		n = 2
	}
	e.b = append(e.b, '{')
	first := true
	comma := func() {
		if !first {
			e.b = append(e.b, ',')
		}
		first = false
	}
	writeExtras := func(before string) {
		for n > 0 && (before == "" || extra[len(extra)-n].key < before) {
			x := extra[len(extra)-n]
			comma()
			e.b = appendString(e.b, x.key)
			e.b = append(e.b, ':')
			e.b = appendString(e.b, x.value)
			n--
		}
	}
	list := ti != nil && ti.list
	for _, fd := range fieldsByJSONName(m.Descriptor()) {
		name := fd.JSONName()
		// A list always has metadata and items, as the apiserver writes them.
		always := list && (fd.Name() == "metadata" || fd.Name() == ti.itemField)
		if !m.Has(fd) && !always {
			continue
		}
		v := m.Get(fd)
		if !always && isEmptyValue(fd, v) {
			continue
		}
		writeExtras(name)
		comma()
		e.b = appendString(e.b, name)
		e.b = append(e.b, ':')
		var err error
		switch {
		case ti != nil && ti.item != nil && fd.Name() == ti.itemField:
			// List items carry apiVersion/kind only when asked; a watch event's object always.
			err = e.fieldValue(fd, v, ti.item, !ti.list || e.opts.ItemTypeMeta)
		default:
			err = e.fieldValue(fd, v, nil, false)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	writeExtras("")
	e.b = append(e.b, '}')
	return nil
}

// isEmptyValue tells whether a populated field still has nothing to write: a Value with no
// kind set.
func isEmptyValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	if fd.IsList() || fd.IsMap() || fd.Message() == nil || fd.Message().FullName() != valueName {
		return false
	}
	m := v.Message()
	return m.WhichOneof(m.Descriptor().Oneofs().ByName("kind")) == nil
}

func (e *encoder) fieldValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, item *typeInfo, typeMeta bool) error {
	switch {
	case fd.IsList():
		l := v.List()
		e.b = append(e.b, '[')
		for i := 0; i < l.Len(); i++ {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			if err := e.singular(fd, l.Get(i), item, typeMeta); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		e.b = append(e.b, ']')
		return nil
	case fd.IsMap():
		return e.mapValue(fd, v.Map())
	default:
		return e.singular(fd, v, item, typeMeta)
	}
}

func (e *encoder) mapValue(fd protoreflect.FieldDescriptor, mp protoreflect.Map) error {
	keys := make([]string, 0, mp.Len())
	vals := make(map[string]protoreflect.Value, mp.Len())
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		s := k.String()
		keys = append(keys, s)
		vals[s] = v
		return true
	})
	sort.Strings(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, k)
		e.b = append(e.b, ':')
		if err := e.singular(fd.MapValue(), vals[k], nil, false); err != nil {
			return fmt.Errorf("[%s]: %w", k, err)
		}
	}
	e.b = append(e.b, '}')
	return nil
}

// singular writes one value of a field's kind (a list element or a map value for those).
func (e *encoder) singular(fd protoreflect.FieldDescriptor, v protoreflect.Value, item *typeInfo, typeMeta bool) error {
	switch fd.Kind() {
	case protoreflect.StringKind:
		e.b = appendString(e.b, v.String())
	case protoreflect.BoolKind:
		e.b = strconv.AppendBool(e.b, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		e.b = strconv.AppendInt(e.b, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
	case protoreflect.FloatKind:
		return e.float(v.Float(), 32)
	case protoreflect.DoubleKind:
		return e.float(v.Float(), 64)
	case protoreflect.BytesKind:
		e.b = append(e.b, '"')
		e.b = base64.StdEncoding.AppendEncode(e.b, v.Bytes())
		e.b = append(e.b, '"')
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			e.b = appendString(e.b, string(ev.Name()))
		} else {
			e.b = strconv.AppendInt(e.b, int64(v.Enum()), 10)
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		switch m.Descriptor().FullName() {
		case timestampName:
			return e.timestamp(m, microTimeFields[fd.FullName()])
		case valueName:
			return e.value(m)
		case structName:
			return e.structValue(m)
		case listValueName:
			return e.listValue(m)
		}
		return e.message(m, item, typeMeta)
	default:
		return fmt.Errorf("unsupported field kind %v", fd.Kind())
	}
	return nil
}

// float writes a number the way encoding/json does.
func (e *encoder) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("unsupported number %v", f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		e.b = strconv.AppendInt(e.b, int64(f), 10)
		return nil
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, bits)
	if format == 'e' {
		// Like encoding/json: 1e-07 becomes 1e-7.
		if n := len(e.b); n >= 4 && e.b[n-4] == 'e' && e.b[n-3] == '-' && e.b[n-2] == '0' {
			e.b[n-2] = e.b[n-1]
			e.b = e.b[:n-1]
		}
	}
	return nil
}

// timestamp writes RFC 3339 in UTC: whole seconds when there is no fraction (as
// Kubernetes' metav1.Time), else 3, 6 or 9 fractional digits; MicroTime fields always with 6.
func (e *encoder) timestamp(m protoreflect.Message, micro bool) error {
	fields := m.Descriptor().Fields()
	secs := m.Get(fields.ByNumber(1)).Int()
	nanos := m.Get(fields.ByNumber(2)).Int()
	// The range of google.protobuf.Timestamp: years 1 to 9999.
	if secs < -62135596800 || secs > 253402300799 || nanos < 0 || nanos > 999999999 {
		return fmt.Errorf("timestamp (%d, %d) out of range", secs, nanos)
	}
	t := time.Unix(secs, nanos).UTC()
	layout := time.RFC3339
	switch {
	case micro:
		layout = "2006-01-02T15:04:05.000000Z07:00"
	case nanos == 0:
	case nanos%1e6 == 0:
		layout = "2006-01-02T15:04:05.000Z07:00"
	case nanos%1e3 == 0:
		layout = "2006-01-02T15:04:05.000000Z07:00"
	default:
		layout = "2006-01-02T15:04:05.000000000Z07:00"
	}
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, layout)
	e.b = append(e.b, '"')
	return nil
}

// value writes a google.protobuf.Value as the plain JSON value it holds: IntOrString fields
// come out as a number or a string.
func (e *encoder) value(m protoreflect.Message) error {
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("kind"))
	if fd == nil {
		e.b = append(e.b, "null"...)
		return nil
	}
	v := m.Get(fd)
	switch fd.Name() {
	case "null_value":
		e.b = append(e.b, "null"...)
	case "number_value":
		return e.float(v.Float(), 64)
	case "string_value":
		e.b = appendString(e.b, v.String())
	case "bool_value":
		e.b = strconv.AppendBool(e.b, v.Bool())
	case "struct_value":
		return e.structValue(v.Message())
	case "list_value":
		return e.listValue(v.Message())
	}
	return nil
}

func (e *encoder) structValue(m protoreflect.Message) error {
	return e.mapValue(m.Descriptor().Fields().ByName("fields"), m.Get(m.Descriptor().Fields().ByName("fields")).Map())
}

func (e *encoder) listValue(m protoreflect.Message) error {
	fd := m.Descriptor().Fields().ByName("values")
	return e.fieldValue(fd, m.Get(fd), nil, false)
}

const hex = "0123456789abcdef"

// appendString writes a JSON string exactly as encoding/json does (HTML-safe escaping of <,
// > and &, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD), so the bytes match
// what the Kubernetes apiserver writes.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
