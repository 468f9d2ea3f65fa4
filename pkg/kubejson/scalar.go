package kubejson

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

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
