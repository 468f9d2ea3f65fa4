package kubejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

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
