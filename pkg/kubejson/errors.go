package kubejson

import (
	"fmt"
	"strconv"
	"strings"
)

// ErrorType says what is wrong with a field.
type ErrorType string

// The kinds of field errors decoding reports.
const (
	// ErrorTypeUnknownField is a field the message does not have.
	ErrorTypeUnknownField ErrorType = "unknown field"
	// ErrorTypeDuplicateField is a field given twice in one object.
	ErrorTypeDuplicateField ErrorType = "duplicate field"
	// ErrorTypeInvalidValue is a value of the wrong type or out of range.
	ErrorTypeInvalidValue ErrorType = "invalid value"
)

// FieldError is one problem with one field of a decoded document.
type FieldError struct {
	// Field is the field's path as Kubernetes writes it ("spec.containers[0].image",
	// "metadata.labels[app]"); empty for the document itself.
	Field string
	// Type says what is wrong.
	Type ErrorType
	// Detail explains an invalid value ("expected integer, got string \"three\"").
	Detail string
}

// Error reads like Kubernetes' strict decoding errors: `unknown field "spec.foo"`,
// `duplicate field "spec.replicas"`, `spec.replicas: expected integer, got string "three"`.
func (e *FieldError) Error() string {
	switch {
	case e.Type == ErrorTypeUnknownField || e.Type == ErrorTypeDuplicateField:
		return fmt.Sprintf("%s %q", e.Type, e.Field)
	case e.Field == "":
		return e.Detail
	default:
		return e.Field + ": " + e.Detail
	}
}

// DecodeError is every field error found in one document. Decoding goes on past unknown
// fields and bad values so that one run reports them all.
type DecodeError struct {
	Errors []*FieldError
}

// Error joins the field errors with ", " as Kubernetes does.
func (e *DecodeError) Error() string {
	var b strings.Builder
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// WithPrefix returns a copy of the error whose field paths start with prefix ("items[2]"), for
// documents decoded as part of a larger one.
func (e *DecodeError) WithPrefix(prefix string) *DecodeError {
	out := &DecodeError{Errors: make([]*FieldError, len(e.Errors))}
	for i, fe := range e.Errors {
		c := *fe
		switch {
		case c.Field == "":
			c.Field = prefix
		case c.Field[0] == '[':
			c.Field = prefix + c.Field
		default:
			c.Field = prefix + "." + c.Field
		}
		out.Errors[i] = &c
	}
	return out
}

// SyntaxError is malformed JSON or YAML.
type SyntaxError struct {
	// Format is "JSON" or "YAML".
	Format string
	// Line and Column locate the error, counting from 1; zero when unknown.
	Line, Column int
	// Msg is the parser's message, without the location.
	Msg string
}

// Error is "invalid YAML at line 3: mapping values are not allowed in this context".
func (e *SyntaxError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("invalid %s at line %d, column %d: %s", e.Format, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("invalid %s at line %d: %s", e.Format, e.Line, e.Msg)
	default:
		return fmt.Sprintf("invalid %s: %s", e.Format, e.Msg)
	}
}

// path is the stack of fields from the document's root to the value being decoded; it is
// turned into a string only when an error needs it.
type path []pathElem

type pathElem struct {
	name  string // field name, or map key when key is set
	index int    // list index when name is empty and key is not set
	key   bool
}

func (p path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch {
		case e.key:
			b.WriteByte('[')
			b.WriteString(e.name)
			b.WriteByte(']')
		case e.name == "":
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.index))
			b.WriteByte(']')
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.name)
		}
	}
	return b.String()
}
