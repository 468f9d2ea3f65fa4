package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
)

// Item is one object read from a manifest, with where it came from.
type Item struct {
	Object   scheme.Object
	Resource *scheme.Resource
	// Source is the file the object was read from ("deploy.yaml"), or "STDIN".
	Source string
	// Document counts the non-empty documents of Source from 1.
	Document int
	// Line is the line of Source at which the document starts.
	Line int
	// ListIndex is the object's index in the items of a List document, or -1.
	ListIndex int
}

// String names where the object came from: "deploy.yaml: document 2", with "items[3]" for an
// item of a List.
func (it *Item) String() string {
	s := fmt.Sprintf("%s: document %d", it.Source, it.Document)
	if it.ListIndex >= 0 {
		s += fmt.Sprintf(": items[%d]", it.ListIndex)
	}
	return s
}

// DocumentError is a document that could not be read.
type DocumentError struct {
	// Source is the file ("deploy.yaml") or "STDIN".
	Source string
	// Document counts the non-empty documents of Source from 1; 0 when the error is not about
	// one document (a bad separator line).
	Document int
	// Line is the line of Source at which the document starts.
	Line int
	// Kind and Name are the object's, when they could be read.
	Kind, Name string
	// Err is what is wrong: a *kubejson.DecodeError, a *kubejson.SyntaxError (whose line
	// counts from the start of Source), or an error about apiVersion and kind.
	Err error
}

// Error reads "deploy.yaml: document 2 (Deployment web): unknown field \"spec.replica\"".
func (e *DocumentError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Document > 0 {
		fmt.Fprintf(&b, ": document %d", e.Document)
	}
	switch {
	case e.Kind != "" && e.Name != "":
		fmt.Fprintf(&b, " (%s %s)", e.Kind, e.Name)
	case e.Kind != "":
		fmt.Fprintf(&b, " (%s)", e.Kind)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *DocumentError) Unwrap() error { return e.Err }

// Read reads every object of a manifest. source names the input in errors. See ReadItems.
func Read(r io.Reader, source string) ([]scheme.Object, error) {
	items, err := ReadItems(r, source)
	objs := make([]scheme.Object, len(items))
	for i, it := range items {
		objs[i] = it.Object
	}
	return objs, err
}

// ReadItems reads every object of a manifest as kubectl does: YAML documents separated by
// lines starting with "---" (empty and comment-only documents skipped), or a stream of JSON
// objects; a "kind: List" (or a list kind such as PodList) is expanded into its items. Every
// object needs apiVersion and kind, must be of a kind Berth serves and is decoded strictly.
// Errors name the source and the document; all of them are returned, joined, together with
// the objects that could be read.
func ReadItems(r io.Reader, source string) ([]Item, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	docs, err := split(data)
	if err != nil {
		return nil, &DocumentError{Source: source, Err: err}
	}
	var items []Item
	var errs []error
	n := 0
	for _, doc := range docs {
		js, err := kubejson.ToJSON(doc.data)
		if err != nil {
			n++
			errs = append(errs, &DocumentError{Source: source, Document: n, Line: doc.line, Err: shiftLines(err, doc.line)})
			continue
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue
		}
		n++
		at := Item{Source: source, Document: n, Line: doc.line, ListIndex: -1}
		got, err := readDocument(js, at)
		items = append(items, got...)
		if err != nil {
			de := &DocumentError{Source: source, Document: n, Line: doc.line, Err: err}
			de.Kind, de.Name = kindAndName(js)
			errs = append(errs, de)
		}
	}
	return items, errors.Join(errs...)
}

// readDocument decodes one document into its object, or a List into its items.
func readDocument(js []byte, at Item) ([]Item, error) {
	apiVersion, kind, err := kubejson.TypeMeta(js)
	if err != nil {
		return nil, err
	}
	if list, item := listKind(apiVersion, kind); list {
		return readList(js, item, at)
	}
	obj, res, err := kubejson.UnmarshalObject(js)
	if err != nil {
		return nil, err
	}
	at.Object, at.Resource = obj, res
	return []Item{at}, nil
}

// listKind tells whether apiVersion/kind is a list to expand: v1 List (items of any kind) or
// the list kind of a served resource (item is that resource).
func listKind(apiVersion, kind string) (list bool, item *scheme.Resource) {
	if kind == "List" && apiVersion == "v1" {
		return true, nil
	}
	for _, r := range scheme.All {
		if r.ListKind == kind && r.APIVersion() == apiVersion {
			return true, r
		}
	}
	return false, nil
}

// readList expands a list's items. item, when set, is the kind of every item (a PodList's
// items need not carry apiVersion and kind); otherwise each item names its own.
func readList(js []byte, item *scheme.Resource, at Item) ([]Item, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, fmt.Errorf("reading list: %w", err)
	}
	var errs []error
	for key := range top {
		switch key {
		case "apiVersion", "kind", "metadata", "items":
		default:
			errs = append(errs, &kubejson.FieldError{Field: key, Type: kubejson.ErrorTypeUnknownField})
		}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(top["items"], &raw); err != nil && top["items"] != nil {
		errs = append(errs, &kubejson.FieldError{Field: "items", Type: kubejson.ErrorTypeInvalidValue, Detail: "expected array"})
	}
	var items []Item
	for i, r := range raw {
		it := at
		it.ListIndex = i
		var err error
		if item != nil {
			obj := item.New()
			if err = kubejson.Unmarshal(r, obj); err == nil {
				scheme.Meta(obj)
				it.Object, it.Resource = obj, item
			}
		} else {
			it.Object, it.Resource, err = kubejson.UnmarshalObject(r)
		}
		if err != nil {
			errs = append(errs, prefixItem(err, i))
			continue
		}
		items = append(items, it)
	}
	return items, errors.Join(errs...)
}

// prefixItem makes an item's error name the item: `unknown field "items[2].spec.foo"`.
func prefixItem(err error, i int) error {
	prefix := "items[" + strconv.Itoa(i) + "]"
	var de *kubejson.DecodeError
	if errors.As(err, &de) {
		return de.WithPrefix(prefix)
	}
	var fe *kubejson.FieldError
	if errors.As(err, &fe) {
		return (&kubejson.DecodeError{Errors: []*kubejson.FieldError{fe}}).WithPrefix(prefix).Errors[0]
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// kindAndName reads kind and metadata.name for error messages, when they are strings.
func kindAndName(js []byte) (kind, name string) {
	var o struct {
		Kind     any `json:"kind"`
		Metadata struct {
			Name any `json:"name"`
		} `json:"metadata"`
	}
	if json.Unmarshal(js, &o) != nil {
		return "", ""
	}
	kind, _ = o.Kind.(string)
	name, _ = o.Metadata.Name.(string)
	return kind, name
}

// shiftLines makes a syntax error's line count from the start of the source rather than the
// start of the document, which starts at line start.
func shiftLines(err error, start int) error {
	var se *kubejson.SyntaxError
	if !errors.As(err, &se) || se.Line == 0 {
		return err
	}
	c := *se
	c.Line += start - 1
	return &c
}
