package kubejson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/berth-dev/berth/pkg/scheme"
)

// maxErrors bounds how many field errors one document reports.
const maxErrors = 50

// Unmarshal decodes Kubernetes JSON, or YAML, into m strictly, as the Kubernetes apiserver
// decodes a request body: an unknown field, a field given twice or a value of the wrong type
// is an error naming the field's path, and every such problem in the document is reported in
// one *DecodeError. Field names are the JSON names (podIP); the proto names (pod_ip) are
// accepted too. JSON null means absent. Quantity fields (resources.requests, sizeLimit, ...)
// accept numbers; IntOrString fields accept only an integer or a string. A top-level
// apiVersion and kind, when present, must be the message's. Malformed input is a
// *SyntaxError. On error m is left empty.
func Unmarshal(data []byte, m proto.Message) error {
	js, err := ToJSON(data)
	if err != nil {
		return err
	}
	proto.Reset(m)
	mr := m.ProtoReflect()
	if err := decode(js, mr, types[mr.Descriptor().FullName()]); err != nil {
		proto.Reset(m)
		return err
	}
	return nil
}

// UnmarshalObject decodes an object of any kind Berth serves, chosen by its apiVersion and
// kind (both required), and returns it with its resource. A kind Berth does not serve is an
// error that lists the kinds it does.
func UnmarshalObject(data []byte) (scheme.Object, *scheme.Resource, error) {
	js, err := ToJSON(data)
	if err != nil {
		return nil, nil, err
	}
	apiVersion, kind, err := typeMeta(js)
	if err != nil {
		return nil, nil, err
	}
	r, err := scheme.ForKind(apiVersion, kind)
	if err != nil {
		return nil, nil, err
	}
	obj := r.New()
	mr := obj.ProtoReflect()
	if err := decode(js, mr, types[mr.Descriptor().FullName()]); err != nil {
		return nil, r, err
	}
	scheme.Meta(obj)
	return obj, r, nil
}

// TypeMeta reads the apiVersion and kind of a JSON or YAML document without decoding the
// rest. Either may be empty when absent.
func TypeMeta(data []byte) (apiVersion, kind string, err error) {
	js, err := ToJSON(data)
	if err != nil {
		return "", "", err
	}
	return typeMeta(js)
}

func typeMeta(js []byte) (apiVersion, kind string, err error) {
	if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
		return "", "", &FieldError{Type: ErrorTypeInvalidValue, Detail: "empty document: apiVersion and kind are required"}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return "", "", &FieldError{Type: ErrorTypeInvalidValue, Detail: "expected object, got " + describeRaw(js)}
	}
	str := func(key string) (string, error) {
		raw, ok := top[key]
		if !ok {
			return "", nil
		}
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", &FieldError{Field: key, Type: ErrorTypeInvalidValue, Detail: "expected string, got " + describeRaw(raw)}
		}
		if s == nil {
			return "", nil
		}
		return *s, nil
	}
	if apiVersion, err = str("apiVersion"); err != nil {
		return "", "", err
	}
	if kind, err = str("kind"); err != nil {
		return "", "", err
	}
	return apiVersion, kind, nil
}

// describeRaw names the type (and value, for scalars) of a raw JSON value.
func describeRaw(raw []byte) string {
	l := lexer{data: raw}
	tok := l.next()
	if l.err != nil || tok.kind == tokEOF {
		return "invalid JSON"
	}
	return describe(tok)
}

// ToJSON returns a document as JSON: JSON input as it is, YAML (including flow-style YAML such
// as KYAML) converted as Kubernetes converts it, with duplicate keys rejected. Only the first
// YAML document is read. Malformed input is a *SyntaxError.
func ToJSON(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	looksJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	if looksJSON {
		if json.Valid(data) {
			return data, nil
		}
		// One JSON value followed by more is not YAML either, though go-yaml would read
		// only the first value and ignore the rest.
		if se := jsonSyntaxError(data); strings.Contains(se.Msg, "after top-level value") {
			return nil, se
		}
	}
	js, yerr := yamlToJSON(data)
	if yerr == nil {
		return js, nil
	}
	if looksJSON {
		return nil, jsonSyntaxError(data)
	}
	return nil, yerr
}

// jsonSyntaxError locates the first syntax error of invalid JSON.
func jsonSyntaxError(data []byte) *SyntaxError {
	err := json.Unmarshal(data, new(json.RawMessage))
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		msg := "unexpected end of input"
		if err != nil {
			msg = strings.TrimPrefix(err.Error(), "json: ")
		}
		return &SyntaxError{Format: "JSON", Msg: msg}
	}
	line, col := lineColumn(data, int(se.Offset))
	return &SyntaxError{Format: "JSON", Line: line, Column: col, Msg: se.Error()}
}

// lineColumn turns a byte offset into a 1-based line and column.
func lineColumn(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return line, max(col, 1)
}

func yamlToJSON(data []byte) (js []byte, err error) {
	defer func() {
		// The YAML parser is old code; never let a bad document crash the caller.
		if r := recover(); r != nil {
			js, err = nil, &SyntaxError{Format: "YAML", Msg: fmt.Sprint(r)}
		}
	}()
	js, err = yamlToJSONStrict(data)
	if err != nil {
		return nil, yamlSyntaxError(err)
	}
	if line := secondDocument(data); line > 0 {
		return nil, &SyntaxError{Format: "YAML", Line: line, Msg: "a second document; expected exactly one"}
	}
	return js, nil
}

// decoder walks a JSON document guided by a message descriptor and fills the message.
type decoder struct {
	lex   lexer
	path  path
	errs  []*FieldError
	fatal error
}

func decode(js []byte, m protoreflect.Message, ti *typeInfo) error {
	d := &decoder{lex: lexer{data: js}}
	tok := d.token()
	switch {
	case d.fatal != nil:
	case tok.kind == tokNull:
		d.invalid("empty document")
	default:
		d.message(tok, m, ti, ti.hasTypeMeta())
	}
	if d.fatal == nil && !d.lex.atEOF() {
		d.fatal = &SyntaxError{Format: "JSON", Msg: "unexpected data after the top-level value"}
	}
	if d.fatal != nil {
		return d.fatal
	}
	if len(d.errs) > 0 {
		return &DecodeError{Errors: d.errs}
	}
	return nil
}

// token reads the next token; running out of input is fatal.
func (d *decoder) token() token {
	if d.fatal != nil {
		return token{kind: tokEOF}
	}
	tok := d.lex.next()
	if tok.kind == tokEOF {
		d.fatal = &SyntaxError{Format: "JSON", Msg: "unexpected end of input"}
	}
	return tok
}

func (d *decoder) more() bool { return d.fatal == nil && d.lex.more() }

// skip consumes the rest of a value whose first token was tok.
func (d *decoder) skip(tok token) {
	if tok.kind != tokBeginObject && tok.kind != tokBeginArray {
		return
	}
	for depth := 1; depth > 0 && d.fatal == nil; {
		switch d.token().kind {
		case tokBeginObject, tokBeginArray:
			depth++
		case tokEndObject, tokEndArray:
			depth--
		}
	}
}

func (d *decoder) push(name string)   { d.path = append(d.path, pathElem{name: name}) }
func (d *decoder) pushKey(k string)   { d.path = append(d.path, pathElem{name: k, key: true}) }
func (d *decoder) pushIndex(i int)    { d.path = append(d.path, pathElem{index: i}) }
func (d *decoder) pop()               { d.path = d.path[:len(d.path)-1] }
func (d *decoder) unknown()           { d.add(ErrorTypeUnknownField, "") }
func (d *decoder) duplicate()         { d.add(ErrorTypeDuplicateField, "") }
func (d *decoder) invalid(msg string) { d.add(ErrorTypeInvalidValue, msg) }

func (d *decoder) add(t ErrorType, detail string) {
	if len(d.errs) < maxErrors {
		d.errs = append(d.errs, &FieldError{Field: d.path.String(), Type: t, Detail: detail})
	}
}

// wrongType reports a value of the wrong JSON type and skips it.
func (d *decoder) wrongType(want string, tok token) {
	d.invalid("expected " + want + ", got " + describe(tok))
	d.skip(tok)
}

// describe names a token's JSON type, with the value for scalars: `string "three"`.
func describe(tok token) string {
	switch tok.kind {
	case tokNull:
		return "null"
	case tokBeginArray:
		return "array"
	case tokBeginObject:
		return "object"
	case tokString:
		s := tok.str()
		if utf8.RuneCountInString(s) > 64 {
			s = string([]rune(s)[:64]) + "..."
		}
		return "string " + strconv.Quote(s)
	case tokNumber:
		s := tok.number()
		if len(s) > 64 {
			s = s[:64] + "..."
		}
		return "number " + s
	case tokBool:
		return "boolean " + strconv.FormatBool(tok.b)
	default:
		return "end of input"
	}
}

// fieldIndex maps both the JSON and the proto name of every field of a message to the field.
type fieldIndex struct {
	byName map[string]protoreflect.FieldDescriptor
	count  int
}

var fieldIndexes sync.Map // protoreflect.FullName -> *fieldIndex

func indexOf(md protoreflect.MessageDescriptor) *fieldIndex {
	if v, ok := fieldIndexes.Load(md.FullName()); ok {
		return v.(*fieldIndex)
	}
	fields := md.Fields()
	idx := &fieldIndex{byName: make(map[string]protoreflect.FieldDescriptor, 2*fields.Len()), count: fields.Len()}
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		idx.byName[string(fd.Name())] = fd
	}
	// JSON names win over a proto name spelled the same (as protojson does).
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		idx.byName[fd.JSONName()] = fd
	}
	fieldIndexes.Store(md.FullName(), idx)
	return idx
}

// lookup finds a key's field; name is the key as a string, without allocating in the common
// case of a key spelled as a field's name.
func (idx *fieldIndex) lookup(key token) (fd protoreflect.FieldDescriptor, name string) {
	if !key.escaped && len(key.raw) >= 2 {
		if fd := idx.byName[string(key.raw[1:len(key.raw)-1])]; fd != nil {
			if fd.JSONName() == string(key.raw[1:len(key.raw)-1]) {
				return fd, fd.JSONName()
			}
			return fd, string(fd.Name())
		}
	}
	name = key.str()
	return idx.byName[name], name
}

// message decodes a JSON object (whose '{' is tok) into m. ti is what is known about m's type;
// typeMeta says whether apiVersion and kind may appear (and then must match ti).
func (d *decoder) message(tok token, m protoreflect.Message, ti *typeInfo, typeMeta bool) {
	if tok.kind != tokBeginObject {
		d.wrongType("object", tok)
		return
	}
	idx := indexOf(m.Descriptor())
	var seen uint64 // by field index, for messages of up to 64 fields
	var seenMore []bool
	if idx.count > 64 {
		seenMore = make([]bool, idx.count)
	}
	var seenOther map[string]bool
	for d.more() {
		fd, key := idx.lookup(d.token())
		d.push(key)
		vtok := d.token()
		if fd == nil {
			if seenOther[key] {
				d.duplicate()
			}
			if seenOther == nil {
				seenOther = map[string]bool{}
			}
			seenOther[key] = true
			if typeMeta && (key == "apiVersion" || key == "kind") {
				d.checkTypeMeta(key, vtok, ti)
			} else {
				d.unknown()
				d.skip(vtok)
			}
			d.pop()
			continue
		}
		i := fd.Index()
		dup := false
		if seenMore != nil {
			dup, seenMore[i] = seenMore[i], true
		} else {
			dup = seen&(1<<i) != 0
			seen |= 1 << i
		}
		switch {
		case dup:
			d.duplicate()
			d.skip(vtok)
		case ti != nil && ti.item != nil && fd.Name() == ti.itemField:
			d.field(m, fd, vtok, ti.item, true)
		default:
			d.field(m, fd, vtok, nil, false)
		}
		d.pop()
	}
	d.token() // '}'
}

func (d *decoder) checkTypeMeta(key string, tok token, ti *typeInfo) {
	switch tok.kind {
	case tokNull:
		return
	case tokString:
	default:
		d.wrongType("string", tok)
		return
	}
	want := ti.kind
	if key == "apiVersion" {
		want = ti.apiVersion
	}
	if s := tok.str(); s != "" && s != want {
		d.invalid(fmt.Sprintf("expected %q, got %q", want, s))
	}
}

// isScalarMessage tells whether a message type is written as a JSON scalar or generic value
// rather than as an object of its fields.
func isScalarMessage(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case timestampName, valueName, structName, listValueName:
		return true
	}
	return false
}

// field decodes the value of one field of m.
func (d *decoder) field(m protoreflect.Message, fd protoreflect.FieldDescriptor, tok token, item *typeInfo, typeMeta bool) {
	switch {
	case tok.kind == tokNull:
		// null: the field is absent.
	case fd.IsMap():
		d.mapField(m, fd, tok)
	case fd.IsList():
		d.listField(m, fd, tok, item, typeMeta)
	case fd.Message() != nil && !isScalarMessage(fd.Message()):
		if tok.kind != tokBeginObject {
			d.wrongType("object", tok)
			return
		}
		d.message(tok, m.Mutable(fd).Message(), item, typeMeta)
	default:
		if v, ok := d.scalar(fd, fd, tok, func() protoreflect.Message { return m.NewField(fd).Message() }); ok {
			m.Set(fd, v)
		}
	}
}

func (d *decoder) listField(m protoreflect.Message, fd protoreflect.FieldDescriptor, tok token, item *typeInfo, typeMeta bool) {
	if tok.kind != tokBeginArray {
		d.wrongType("array", tok)
		return
	}
	l := m.Mutable(fd).List()
	for i := 0; d.more(); i++ {
		d.pushIndex(i)
		t := d.token()
		switch {
		case d.fatal != nil:
		case t.kind == tokNull:
			// Kubernetes decodes null elements as zero values.
			l.Append(l.NewElement())
		case fd.Message() != nil && !isScalarMessage(fd.Message()):
			if t.kind != tokBeginObject {
				d.wrongType("object", t)
				break
			}
			el := l.NewElement()
			d.message(t, el.Message(), item, typeMeta)
			l.Append(el)
		default:
			if v, ok := d.scalar(fd, fd, t, func() protoreflect.Message { return l.NewElement().Message() }); ok {
				l.Append(v)
			}
		}
		d.pop()
	}
	d.token() // ']'
}

func (d *decoder) mapField(m protoreflect.Message, fd protoreflect.FieldDescriptor, tok token) {
	if tok.kind != tokBeginObject {
		d.wrongType("object", tok)
		return
	}
	mp := m.Mutable(fd).Map()
	kd, vd := fd.MapKey(), fd.MapValue()
	for d.more() {
		key := d.token().str()
		d.pushKey(key)
		t := d.token()
		mk, ok := d.mapKey(kd, key)
		switch {
		case d.fatal != nil:
		case !ok:
			d.skip(t)
		case mp.Has(mk):
			d.duplicate()
			d.skip(t)
		case t.kind == tokNull:
			if vd.Message() != nil {
				mp.Set(mk, mp.NewValue())
			} else {
				mp.Set(mk, vd.Default())
			}
		case vd.Message() != nil && !isScalarMessage(vd.Message()):
			if t.kind != tokBeginObject {
				d.wrongType("object", t)
				break
			}
			nv := mp.NewValue()
			d.message(t, nv.Message(), nil, false)
			mp.Set(mk, nv)
		default:
			if v, ok := d.scalar(fd, vd, t, func() protoreflect.Message { return mp.NewValue().Message() }); ok {
				mp.Set(mk, v)
			}
		}
		d.pop()
	}
	d.token() // '}'
}

func (d *decoder) mapKey(kd protoreflect.FieldDescriptor, key string) (protoreflect.MapKey, bool) {
	switch kd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(key).MapKey(), true
	case protoreflect.BoolKind:
		if key == "true" || key == "false" {
			return protoreflect.ValueOfBool(key == "true").MapKey(), true
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if n, err := strconv.ParseInt(key, 10, 32); err == nil {
			return protoreflect.ValueOfInt32(int32(n)).MapKey(), true
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if n, err := strconv.ParseInt(key, 10, 64); err == nil {
			return protoreflect.ValueOfInt64(n).MapKey(), true
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if n, err := strconv.ParseUint(key, 10, 32); err == nil {
			return protoreflect.ValueOfUint32(uint32(n)).MapKey(), true
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if n, err := strconv.ParseUint(key, 10, 64); err == nil {
			return protoreflect.ValueOfUint64(n).MapKey(), true
		}
	}
	d.invalid(fmt.Sprintf("invalid map key %q: expected %s", key, kd.Kind()))
	return protoreflect.MapKey{}, false
}

// scalar decodes a value written as a JSON scalar: every non-message kind, timestamps and
// IntOrString values. owner is the field (for a map, the map field; vd its value descriptor),
// which decides quantity and MicroTime handling; newMsg makes the message for message kinds.
func (d *decoder) scalar(owner, vd protoreflect.FieldDescriptor, tok token, newMsg func() protoreflect.Message) (protoreflect.Value, bool) {
	switch vd.Kind() {
	case protoreflect.StringKind:
		switch {
		case tok.kind == tokString:
			return protoreflect.ValueOfString(tok.str()), true
		case tok.kind == tokNumber && isQuantity(owner):
			// Kubernetes reads a number written for a quantity ("cpu: 0.5") as its text.
			return protoreflect.ValueOfString(tok.number()), true
		}
		d.wrongType("string", tok)
	case protoreflect.BoolKind:
		if tok.kind == tokBool {
			return protoreflect.ValueOfBool(tok.b), true
		}
		d.wrongType("boolean", tok)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if n, ok := d.integer(tok, 32, "int32"); ok {
			return protoreflect.ValueOfInt32(int32(n)), true
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if n, ok := d.integer(tok, 64, "int64"); ok {
			return protoreflect.ValueOfInt64(n), true
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if n, ok := d.unsigned(tok, 32, "uint32"); ok {
			return protoreflect.ValueOfUint32(uint32(n)), true
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if n, ok := d.unsigned(tok, 64, "uint64"); ok {
			return protoreflect.ValueOfUint64(n), true
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		bits := 64
		if vd.Kind() == protoreflect.FloatKind {
			bits = 32
		}
		if tok.kind != tokNumber {
			d.wrongType("number", tok)
			break
		}
		f, err := strconv.ParseFloat(tok.number(), bits)
		if err != nil {
			d.invalid(fmt.Sprintf("number %s out of range", tok.number()))
			break
		}
		if bits == 32 {
			return protoreflect.ValueOfFloat32(float32(f)), true
		}
		return protoreflect.ValueOfFloat64(f), true
	case protoreflect.BytesKind:
		if tok.kind != tokString {
			d.wrongType("base64 string", tok)
			break
		}
		b, err := base64.StdEncoding.DecodeString(tok.str())
		if err != nil {
			d.invalid("invalid base64 data: " + strings.TrimPrefix(err.Error(), "illegal base64 data "))
			break
		}
		return protoreflect.ValueOfBytes(b), true
	case protoreflect.EnumKind:
		switch tok.kind {
		case tokString:
			if ev := vd.Enum().Values().ByName(protoreflect.Name(tok.str())); ev != nil {
				return protoreflect.ValueOfEnum(ev.Number()), true
			}
			d.invalid(fmt.Sprintf("unknown value %q", tok.str()))
			return protoreflect.Value{}, false
		case tokNumber:
			if n, ok := d.integer(tok, 32, "enum"); ok {
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), true
			}
			return protoreflect.Value{}, false
		}
		d.wrongType("string", tok)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch vd.Message().FullName() {
		case timestampName:
			return d.timestamp(tok, newMsg(), microTimeFields[owner.FullName()])
		case valueName:
			return d.intOrString(tok, newMsg())
		case structName, listValueName:
			m := newMsg()
			if d.generic(tok, m) {
				return protoreflect.ValueOfMessage(m), true
			}
		}
	}
	return protoreflect.Value{}, false
}

// integer parses a JSON integer of the given size; Kubernetes rejects 1.0 and "1" for
// integer fields, and so does this.
func (d *decoder) integer(tok token, bits int, name string) (int64, bool) {
	if tok.kind != tokNumber {
		d.wrongType("integer", tok)
		return 0, false
	}
	n, err := strconv.ParseInt(tok.number(), 10, bits)
	if err != nil {
		d.badInteger(tok, err, name)
		return 0, false
	}
	return n, true
}

func (d *decoder) unsigned(tok token, bits int, name string) (uint64, bool) {
	if tok.kind != tokNumber {
		d.wrongType("integer", tok)
		return 0, false
	}
	num := tok.number()
	n, err := strconv.ParseUint(num, 10, bits)
	if err != nil {
		if strings.HasPrefix(num, "-") && !strings.ContainsAny(num, ".eE") {
			d.invalid(fmt.Sprintf("integer %s out of range for %s", num, name))
			return 0, false
		}
		d.badInteger(tok, err, name)
		return 0, false
	}
	return n, true
}

func (d *decoder) badInteger(tok token, err error, name string) {
	if errors.Is(err, strconv.ErrRange) {
		d.invalid(fmt.Sprintf("integer %s out of range for %s", tok.number(), name))
		return
	}
	d.invalid("expected integer, got " + describe(tok))
}

// Valid seconds of a google.protobuf.Timestamp: years 1 to 9999.
const minTimestamp, maxTimestamp = -62135596800, 253402300799

// timestamp parses an RFC 3339 time, as metav1.Time does.
func (d *decoder) timestamp(tok token, m protoreflect.Message, micro bool) (protoreflect.Value, bool) {
	if tok.kind != tokString {
		d.wrongType("RFC 3339 time string", tok)
		return protoreflect.Value{}, false
	}
	t, err := time.Parse(time.RFC3339, tok.str())
	if err != nil || t.Unix() < minTimestamp || t.Unix() > maxTimestamp {
		d.invalid("expected RFC 3339 time (2006-01-02T15:04:05Z), got " + describe(tok))
		return protoreflect.Value{}, false
	}
	nanos := t.Nanosecond()
	if micro {
		nanos -= nanos % 1000
	}
	fields := m.Descriptor().Fields()
	m.Set(fields.ByNumber(1), protoreflect.ValueOfInt64(t.Unix()))
	m.Set(fields.ByNumber(2), protoreflect.ValueOfInt32(int32(nanos)))
	return protoreflect.ValueOfMessage(m), true
}

// intOrString decodes an IntOrString field (a google.protobuf.Value): an int32 or a string,
// nothing else, as Kubernetes' intstr does.
func (d *decoder) intOrString(tok token, m protoreflect.Message) (protoreflect.Value, bool) {
	fields := m.Descriptor().Fields()
	switch tok.kind {
	case tokString:
		m.Set(fields.ByName("string_value"), protoreflect.ValueOfString(tok.str()))
		return protoreflect.ValueOfMessage(m), true
	case tokNumber:
		n, err := strconv.ParseInt(tok.number(), 10, 32)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				d.invalid(fmt.Sprintf("integer %s out of range for int32", tok.number()))
			} else {
				d.invalid("expected integer or string, got " + describe(tok))
			}
			return protoreflect.Value{}, false
		}
		m.Set(fields.ByName("number_value"), protoreflect.ValueOfFloat64(float64(n)))
		return protoreflect.ValueOfMessage(m), true
	}
	d.wrongType("integer or string", tok)
	return protoreflect.Value{}, false
}

// generic decodes any JSON value into a google.protobuf.Struct, ListValue or Value.
func (d *decoder) generic(tok token, m protoreflect.Message) bool {
	fields := m.Descriptor().Fields()
	switch m.Descriptor().FullName() {
	case structName:
		if tok.kind != tokBeginObject {
			d.wrongType("object", tok)
			return false
		}
		mp := m.Mutable(fields.ByName("fields")).Map()
		for d.more() {
			key := d.token().str()
			d.pushKey(key)
			mk := protoreflect.ValueOfString(key).MapKey()
			nv := mp.NewValue()
			if t := d.token(); mp.Has(mk) {
				d.duplicate()
				d.skip(t)
			} else if d.fatal == nil && d.generic(t, nv.Message()) {
				mp.Set(mk, nv)
			}
			d.pop()
		}
		d.token()
		return true
	case listValueName:
		if tok.kind != tokBeginArray {
			d.wrongType("array", tok)
			return false
		}
		l := m.Mutable(fields.ByName("values")).List()
		for i := 0; d.more(); i++ {
			d.pushIndex(i)
			el := l.NewElement()
			if t := d.token(); d.fatal == nil && d.generic(t, el.Message()) {
				l.Append(el)
			}
			d.pop()
		}
		d.token()
		return true
	}
	// google.protobuf.Value
	switch tok.kind {
	case tokNull:
		m.Set(fields.ByName("null_value"), protoreflect.ValueOfEnum(0))
	case tokString:
		m.Set(fields.ByName("string_value"), protoreflect.ValueOfString(tok.str()))
	case tokBool:
		m.Set(fields.ByName("bool_value"), protoreflect.ValueOfBool(tok.b))
	case tokNumber:
		f, err := strconv.ParseFloat(tok.number(), 64)
		if err != nil || math.IsInf(f, 0) {
			d.invalid(fmt.Sprintf("number %s out of range", tok.number()))
			return false
		}
		m.Set(fields.ByName("number_value"), protoreflect.ValueOfFloat64(f))
	case tokBeginObject, tokBeginArray:
		fd := fields.ByName("struct_value")
		if tok.kind == tokBeginArray {
			fd = fields.ByName("list_value")
		}
		nv := m.NewField(fd)
		if !d.generic(tok, nv.Message()) {
			return false
		}
		m.Set(fd, nv)
	default:
		return false
	}
	return true
}
