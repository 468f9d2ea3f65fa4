package kubejson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// Cache, when set, keeps the encodings of the objects written (alone, in lists and in watch
	// events) to copy them when they are written again. See Cache for what may be cached.
	Cache *Cache
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
	return MarshalOptions{}.MarshalWatchEvent(eventType, obj)
}

// MarshalWatchEvent writes one line of a watch stream as the package-level MarshalWatchEvent
// does, with these options (but no indentation).
func (o MarshalOptions) MarshalWatchEvent(eventType string, obj proto.Message) ([]byte, error) {
	e := newEncoder(o)
	defer e.free()
	if err := e.watchEvent(eventType, obj); err != nil {
		return nil, err
	}
	return bytes.Clone(e.b), nil
}

// AppendWatchEvent appends the line MarshalWatchEvent writes to b and returns the extended
// buffer (b unchanged on error): a watch stream can reuse one buffer for all its events.
func (o MarshalOptions) AppendWatchEvent(b []byte, eventType string, obj proto.Message) ([]byte, error) {
	e := newEncoder(o)
	own := e.b
	e.b = b
	defer func() {
		e.b = own
		e.free()
	}()
	if err := e.watchEvent(eventType, obj); err != nil {
		return b, err
	}
	return e.b, nil
}

func (e *encoder) watchEvent(eventType string, obj proto.Message) error {
	e.b = append(e.b, `{"object":`...)
	mr := obj.ProtoReflect()
	if err := e.message(mr, types[mr.Descriptor().FullName()], true); err != nil {
		return fmt.Errorf("object: %w", err)
	}
	e.b = append(e.b, `,"type":`...)
	e.b = appendString(e.b, eventType)
	e.b = append(e.b, '}')
	return nil
}

// MarshalList writes objects, possibly of several kinds, as the "kind: List" kubectl prints
// for more than one object: apiVersion and kind on every item.
func MarshalList(objs []proto.Message) ([]byte, error) { return MarshalOptions{}.MarshalList(objs) }

// Marshal writes a message as the package-level Marshal does, with these options.
func (o MarshalOptions) Marshal(m proto.Message) ([]byte, error) {
	e := newEncoder(o)
	defer e.free()
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
	e := newEncoder(o)
	defer e.free()
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
	// entries holds the entries of the maps being written, innermost last; members the
	// populated fields of the messages being written.
	entries []mapEntry
	members []member
	// plan is the plan of the message whose fields collect is collecting; collectFn is
	// collect, bound once.
	plan      *messagePlan
	collectFn func(protoreflect.FieldDescriptor, protoreflect.Value) bool
}

// mapEntry is one entry of a map being written.
type mapEntry struct {
	key   string
	value protoreflect.Value
}

// encoders keeps encoders and their buffers from one Marshal to the next: a Marshal allocates
// only the bytes it returns.
var encoders = sync.Pool{New: func() any {
	e := &encoder{b: make([]byte, 0, 4<<10)}
	e.collectFn = e.collect
	return e
}}

// maxPooledBuffer bounds the buffers kept in encoders.
const maxPooledBuffer = 4 << 20

func newEncoder(o MarshalOptions) *encoder {
	e := encoders.Get().(*encoder)
	e.opts = o
	e.b = e.b[:0]
	return e
}

// free returns e to the pool; what it wrote must have been copied out.
func (e *encoder) free() {
	if cap(e.b) > maxPooledBuffer {
		return
	}
	clear(e.entries[:cap(e.entries)])
	e.entries = e.entries[:0]
	clear(e.members[:cap(e.members)])
	e.members = e.members[:0]
	e.plan = nil
	e.opts = MarshalOptions{}
	encoders.Put(e)
}

// finish returns what e wrote, indented if asked, in a slice of its own.
func (e *encoder) finish() ([]byte, error) {
	if e.opts.Indent == "" {
		return bytes.Clone(e.b), nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, e.b, "", e.opts.Indent); err != nil {
		return nil, fmt.Errorf("indenting JSON: %w", err)
	}
	return out.Bytes(), nil
}

// fieldPlan is what the encoder needs of one field, worked out once per message type.
type fieldPlan struct {
	fd   protoreflect.FieldDescriptor
	name string
	// key is the field's name written as a JSON object key, with its colon.
	key []byte
	// value is set for singular google.protobuf.Value fields, which may hold nothing.
	value bool
}

// messagePlan is a message type's fields in JSON-name order, and the position of each in it
// by field number.
type messagePlan struct {
	fields []fieldPlan
	// byNumber[n] is the position in fields of field number n, -1 for none.
	byNumber []int
}

// plans caches each message type's plan. It is copied on write: the encoder reads it without
// a lock.
var (
	plans   atomic.Pointer[map[protoreflect.MessageDescriptor]*messagePlan]
	plansMu sync.Mutex
)

func planFor(md protoreflect.MessageDescriptor) *messagePlan {
	if m := plans.Load(); m != nil {
		if p, ok := (*m)[md]; ok {
			return p
		}
	}
	fields := md.Fields()
	p := &messagePlan{fields: make([]fieldPlan, fields.Len())}
	maxNumber := 0
	for i := range p.fields {
		fd := fields.Get(i)
		p.fields[i] = fieldPlan{
			fd: fd, name: fd.JSONName(),
			key:   append(appendString(nil, fd.JSONName()), ':'),
			value: !fd.IsList() && !fd.IsMap() && fd.Message() != nil && fd.Message().FullName() == valueName,
		}
		maxNumber = max(maxNumber, int(fd.Number()))
	}
	sort.Slice(p.fields, func(i, j int) bool { return p.fields[i].name < p.fields[j].name })
	p.byNumber = make([]int, maxNumber+1)
	for i := range p.byNumber {
		p.byNumber[i] = -1
	}
	for i, f := range p.fields {
		p.byNumber[f.fd.Number()] = i
	}
	plansMu.Lock()
	defer plansMu.Unlock()
	next := map[protoreflect.MessageDescriptor]*messagePlan{md: p}
	if m := plans.Load(); m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	plans.Store(&next)
	return p
}

// index returns the position of a field in the plan, or -1.
func (p *messagePlan) index(fd protoreflect.FieldDescriptor) int {
	n := int(fd.Number())
	if fd.IsExtension() || n >= len(p.byNumber) {
		return -1
	}
	return p.byNumber[n]
}

// member is a populated field of the message being written: its position in the plan.
type member struct {
	at int
	v  protoreflect.Value
}

// collect is the function the encoder ranges over a message's populated fields with; it is
// made once per encoder (a method value passed on would be allocated for every message).
func (e *encoder) collect(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	if at := e.plan.index(fd); at >= 0 {
		e.members = append(e.members, member{at: at, v: v})
	}
	return true
}

// message writes one message as a JSON object. ti, when it has type meta and typeMeta is set,
// adds apiVersion and kind; for lists and watch events it also decides how the items are
// written. Objects go through the Cache, when there is one.
func (e *encoder) message(m protoreflect.Message, ti *typeInfo, typeMeta bool) error {
	if e.opts.Cache == nil || ti == nil || !ti.object {
		return e.fields(m, ti, typeMeta)
	}
	k, ok := objectKey(m, ti, typeMeta)
	if !ok {
		return e.fields(m, ti, typeMeta)
	}
	if b, ok := e.opts.Cache.get(k); ok {
		e.b = append(e.b, b...)
		return nil
	}
	start := len(e.b)
	if err := e.fields(m, ti, typeMeta); err != nil {
		return err
	}
	e.opts.Cache.put(k, append([]byte(nil), e.b[start:]...))
	return nil
}

// fields writes one message as message does, without the Cache.
func (e *encoder) fields(m protoreflect.Message, ti *typeInfo, typeMeta bool) error {
	// apiVersion and kind, when written, go among the fields in name order.
	extra := [2][2]string{{"apiVersion", ""}, {"kind", ""}}
	next := len(extra)
	if typeMeta && ti.hasTypeMeta() {
		extra[0][1], extra[1][1] = ti.apiVersion, ti.kind
		next = 0
	}
	// The populated fields go on e.members, above those of the messages being written around
	// this one, in JSON-name order, and come off when it is written. A message inside may grow
	// e.members: index it afresh.
	plan := planFor(m.Descriptor())
	start := len(e.members)
	defer func() {
		clear(e.members[start:])
		e.members = e.members[:start]
	}()
	e.plan = plan
	m.Range(e.collectFn)
	list := ti != nil && ti.list
	if list {
		// A list always has metadata and items, as the apiserver writes them.
		for _, name := range []protoreflect.Name{"metadata", ti.itemField} {
			fd := m.Descriptor().Fields().ByName(name)
			if fd == nil || m.Has(fd) {
				continue
			}
			e.members = append(e.members, member{at: plan.index(fd), v: m.Get(fd)})
		}
	}
	// Insertion sort: a message has few populated fields.
	ms := e.members[start:]
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].at < ms[j-1].at; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	n := len(ms)
	e.b = append(e.b, '{')
	first := true
	for i := range n {
		mb := e.members[start+i]
		f, v := &plan.fields[mb.at], mb.v
		if f.value && isEmptyValue(v) {
			continue
		}
		for ; next < len(extra) && extra[next][0] < f.name; next++ {
			first = e.extra(first, extra[next])
		}
		if !first {
			e.b = append(e.b, ',')
		}
		first = false
		e.b = append(e.b, f.key...)
		var err error
		switch {
		case ti != nil && ti.item != nil && f.fd.Name() == ti.itemField:
			// List items carry apiVersion/kind only when asked; a watch event's object always.
			err = e.fieldValue(f.fd, v, ti.item, !ti.list || e.opts.ItemTypeMeta)
		default:
			err = e.fieldValue(f.fd, v, nil, false)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for ; next < len(extra); next++ {
		first = e.extra(first, extra[next])
	}
	e.b = append(e.b, '}')
	return nil
}

// extra writes one of apiVersion and kind, {name, value}, and returns false (no longer the
// first member).
func (e *encoder) extra(first bool, kv [2]string) bool {
	if !first {
		e.b = append(e.b, ',')
	}
	e.b = appendString(e.b, kv[0])
	e.b = append(e.b, ':')
	e.b = appendString(e.b, kv[1])
	return false
}

// isEmptyValue tells whether a populated google.protobuf.Value field still has nothing to
// write: no kind set.
func isEmptyValue(v protoreflect.Value) bool {
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
	// The entries go on e.entries, above those of the maps being written around this one, and
	// come off when it is written. A map inside a value may grow e.entries: index it afresh.
	start := len(e.entries)
	defer func() {
		clear(e.entries[start:])
		e.entries = e.entries[:start]
	}()
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		e.entries = append(e.entries, mapEntry{key: k.String(), value: v})
		return true
	})
	slices.SortFunc(e.entries[start:], func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
	n := len(e.entries) - start
	vd := fd.MapValue()
	e.b = append(e.b, '{')
	for i := range n {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		entry := e.entries[start+i]
		e.b = appendString(e.b, entry.key)
		e.b = append(e.b, ':')
		if err := e.singular(vd, entry.value, nil, false); err != nil {
			return fmt.Errorf("[%s]: %w", entry.key, err)
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
