package kubejson

import (
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

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
