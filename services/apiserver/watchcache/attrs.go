package watchcache

import (
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// Attrs are the labels and selectable fields of an object.
type Attrs struct {
	Namespace string
	Labels    labels.Set
	Fields    Fields
}

// NewAttrs returns the attributes of an object in the namespace with these labels and fields.
func NewAttrs(namespace string, l labels.Set, f fields.Set) *Attrs {
	return &Attrs{Namespace: namespace, Labels: l, Fields: compactFields(f)}
}

// Fields are an object's selectable fields, kept compactly: the cache holds them for every
// object and every change in its ring, so a value slice next to a list of names shared by all
// the objects of a resource costs a fraction of a map per object. It implements fields.Fields.
type Fields struct {
	names  []string // sorted; shared by every object with the same field names
	values []string
}

var _ fields.Fields = Fields{}

// Has reports whether the field exists.
func (f Fields) Has(name string) bool {
	_, ok := slices.BinarySearch(f.names, name)
	return ok
}

// Get returns the field's value, "" when it does not exist.
func (f Fields) Get(name string) string {
	if i, ok := slices.BinarySearch(f.names, name); ok {
		return f.values[i]
	}
	return ""
}

// Set returns the fields as a map.
func (f Fields) Set() fields.Set {
	s := make(fields.Set, len(f.names))
	for i, n := range f.names {
		s[n] = f.values[i]
	}
	return s
}

// Equal reports whether f and g hold the same fields and values.
func (f Fields) Equal(g Fields) bool {
	return slices.Equal(f.names, g.names) && slices.Equal(f.values, g.values)
}

// fieldNames interns the sorted name lists of Fields: a resource has one or two.
var fieldNames sync.Map // names joined with "\x00" -> []string

func compactFields(set fields.Set) Fields {
	if len(set) == 0 {
		return Fields{}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	if shared, ok := fieldNames.Load(strings.Join(names, "\x00")); ok {
		names = shared.([]string)
	} else {
		fieldNames.Store(strings.Join(names, "\x00"), names)
	}
	values := make([]string, len(names))
	for i, n := range names {
		values[i] = set[n]
	}
	return Fields{names: names, values: values}
}
