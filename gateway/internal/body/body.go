package body

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/kubejson"
)

// MaxBytes is the largest request body the gateway reads: 3 MiB, the Kubernetes apiserver's
// limit.
const MaxBytes = 3 << 20

// Validation is the fieldValidation directive of a write request.
type Validation string

// The fieldValidation directives, as Kubernetes names them.
const (
	// Strict rejects a body with unknown or duplicate fields.
	Strict Validation = "Strict"
	// Warn drops unknown fields (and keeps the last of duplicate ones) and warns about each.
	Warn Validation = "Warn"
	// Ignore drops unknown fields silently.
	Ignore Validation = "Ignore"
)

// ValidationFrom reads the fieldValidation query parameter: Warn when absent, a 400 Status
// when it is not one of Strict, Warn and Ignore.
func ValidationFrom(q url.Values) (Validation, error) {
	switch v := Validation(q.Get("fieldValidation")); v {
	case "":
		return Warn, nil
	case Strict, Warn, Ignore:
		return v, nil
	default:
		err := field.NotSupported(field.NewPath("fieldValidation"), string(v), []string{string(Ignore), string(Strict), string(Warn)})
		return "", kerrors.NewBadRequest(err.Error())
	}
}

// Read reads the body of r: at most MaxBytes (413 beyond), with a Content-Type
// CheckContentType accepts (415 otherwise).
func Read(r *http.Request) ([]byte, error) {
	if err := CheckContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return ReadLimited(r.Body)
}

// ReadLimited reads at most MaxBytes from rd; more is a 413 Status.
func ReadLimited(rd io.Reader) ([]byte, error) {
	if rd == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(rd, MaxBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, TooLarge()
		}
		return nil, kerrors.NewBadRequest(fmt.Sprintf("reading the request body: %v", err))
	}
	if len(data) > MaxBytes {
		return nil, TooLarge()
	}
	return data, nil
}

// TooLarge is the 413 Status of a body over MaxBytes.
func TooLarge() error {
	return kerrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", MaxBytes))
}

// CheckContentType accepts the media types a create or update body may have, as the
// Kubernetes apiserver does: JSON, YAML, Kubernetes' protobuf, or none at all (JSON).
// Anything else (a form, the patch types) is a 415 Status.
func CheckContentType(ct string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		switch mt {
		case "application/json", "application/yaml", ContentTypeProtobuf:
			return nil
		}
	}
	return &kerrors.StatusError{ErrStatus: kmetav1.Status{
		Status: kmetav1.StatusFailure,
		Code:   http.StatusUnsupportedMediaType,
		Reason: kmetav1.StatusReasonUnsupportedMediaType,
		Message: fmt.Sprintf("the body of the request was in an unknown format (%s) - accepted media types include: "+
			"application/json, application/yaml, application/vnd.kubernetes.protobuf", ct),
	}}
}

// Kind names what a body must be, for error messages: its kind and apiVersion.
type Kind struct {
	APIVersion, Kind string
}

// Decode decodes data (JSON or YAML) into m strictly, as the Kubernetes apiserver decodes a
// body meant to be a want, and applies v to unknown and duplicate fields (see the package
// doc). It returns the warnings to send (Warn only). Every error is a 400 Status whose
// message reads like Kubernetes' (`Pod in version "v1" cannot be handled as a Pod: strict
// decoding error: unknown field "spec.foo"`).
func Decode(data []byte, m proto.Message, want Kind, v Validation) ([]string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("the body of the request is empty: expected a %s", want.Kind))
	}
	js, err := kubejson.ToJSON(data)
	if err != nil {
		return nil, cannotHandle(want, want, err)
	}
	return decode(js, m, want, v, false)
}

// decode decodes the JSON document js. quietEmpty drops unknown fields whose value is empty
// (null, "", 0, false, {} or []) without a word: a body converted from protobuf has them for
// every field of the Kubernetes type, set or not.
func decode(js []byte, m proto.Message, want Kind, v Validation, quietEmpty bool) ([]string, error) {
	// The common case first: the body decodes strictly (its apiVersion and kind, when
	// given, are m's).
	err := kubejson.Unmarshal(js, m)
	if err == nil {
		return nil, nil
	}
	got := want
	apiVersion, kind, tmErr := kubejson.TypeMeta(js)
	if tmErr != nil {
		return nil, cannotHandle(want, want, tmErr)
	}
	if apiVersion != "" {
		got.APIVersion = apiVersion
	}
	if kind != "" {
		got.Kind = kind
	}
	if got != want {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: the body's apiVersion and kind must be %s, %s",
			got.Kind, version(got.APIVersion), want.Kind, want.APIVersion, want.Kind))
	}
	lenient, ok := onlyStrictErrors(err)
	if !ok {
		return nil, cannotHandle(got, want, err)
	}
	// Drop what strict decoding found (unknown fields; duplicate fields collapse to their
	// last value), then decode what is left; that must succeed.
	cleaned, reported, err := dropFields(js, lenient, quietEmpty)
	if err != nil {
		return nil, cannotHandle(got, want, err)
	}
	if len(reported) > 0 && v == Strict {
		return nil, cannotHandle(got, want, fmt.Errorf("strict decoding error: %w", &kubejson.DecodeError{Errors: reported}))
	}
	if err := kubejson.Unmarshal(cleaned, m); err != nil {
		return nil, cannotHandle(got, want, err)
	}
	if v != Warn {
		return nil, nil
	}
	warnings := make([]string, len(reported))
	for i, fe := range reported {
		warnings[i] = fe.Error()
	}
	return warnings, nil
}

// onlyStrictErrors returns the field errors of err when every one is an unknown or duplicate
// field: what fieldValidation decides about.
func onlyStrictErrors(err error) ([]*kubejson.FieldError, bool) {
	var de *kubejson.DecodeError
	if !errors.As(err, &de) || len(de.Errors) == 0 {
		return nil, false
	}
	for _, fe := range de.Errors {
		if fe.Type != kubejson.ErrorTypeUnknownField && fe.Type != kubejson.ErrorTypeDuplicateField {
			return nil, false
		}
	}
	return de.Errors, true
}

// cannotHandle is Kubernetes' 400 for a body that does not decode.
func cannotHandle(got, want Kind, err error) error {
	return kerrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", got.Kind, version(got.APIVersion), want.Kind, err))
}

// version is the version part of an apiVersion ("v1" of "apps/v1").
func version(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[i+1:]
	}
	return apiVersion
}

// WriteWarnings adds one Warning header per warning, as the Kubernetes apiserver sends them:
// `299 - "unknown field \"spec.foo\""`.
func WriteWarnings(h http.Header, warnings []string) {
	for _, w := range warnings {
		if v, err := utilnet.NewWarningHeader(299, "-", w); err == nil {
			h.Add("Warning", v)
		}
	}
}

// dropFields removes the unknown fields errs name from the JSON document js; duplicate
// fields need nothing, since a generic decode keeps the last value of each. The document is
// re-encoded with its numbers as written. It returns the errors to report: all of errs, less
// the unknown fields with an empty value when quietEmpty is set.
func dropFields(js []byte, errs []*kubejson.FieldError, quietEmpty bool) ([]byte, []*kubejson.FieldError, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("re-reading the body: %w", err)
	}
	var reported []*kubejson.FieldError
	for _, fe := range errs {
		if fe.Type != kubejson.ErrorTypeUnknownField {
			reported = append(reported, fe)
			continue
		}
		v, ok := removePath(doc, fe.Field)
		if !ok {
			return nil, nil, fmt.Errorf("strict decoding error: %w", fe)
		}
		if !quietEmpty || !isEmpty(v) {
			reported = append(reported, fe)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("re-encoding the body: %w", err)
	}
	return out, reported, nil
}

// isEmpty tells whether a generically decoded JSON value is empty: null, "", 0, false, or
// an object or array of empty values only.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case map[string]any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	}
	return false
}

// removePath deletes the object key that path names ("spec.containers[0].foo",
// "metadata.labels[a.b].x") from a generically decoded JSON document and returns its value.
// Field names in a path are not escaped, so each step tries the keys of the object at hand
// that the path can start with; it reports whether it removed something.
func removePath(node any, path string) (any, bool) {
	switch n := node.(type) {
	case map[string]any:
		if strings.HasPrefix(path, "[") {
			// A map key: "[key]" then the rest.
			for k, child := range n {
				if rest, ok := after(path, "["+k+"]"); ok && rest != "" {
					if v, ok := removePath(child, rest); ok {
						return v, true
					}
				}
			}
			return nil, false
		}
		if v, ok := n[path]; ok {
			delete(n, path)
			return v, true
		}
		for k, child := range n {
			if rest, ok := after(path, k); ok && rest != "" {
				if v, ok := removePath(child, rest); ok {
					return v, true
				}
			}
		}
	case []any:
		if !strings.HasPrefix(path, "[") {
			return nil, false
		}
		end := strings.IndexByte(path, ']')
		if end < 0 {
			return nil, false
		}
		i, err := strconv.Atoi(path[1:end])
		if err != nil || i < 0 || i >= len(n) {
			return nil, false
		}
		if rest := strings.TrimPrefix(path[end+1:], "."); rest != "" {
			return removePath(n[i], rest)
		}
	}
	return nil, false
}

// after returns what follows prefix in path when prefix is a whole step of it (followed by
// the end, "." or "["), without a leading ".".
func after(path, prefix string) (string, bool) {
	if !strings.HasPrefix(path, prefix) {
		return "", false
	}
	rest := path[len(prefix):]
	switch {
	case rest == "":
		return "", true
	case rest[0] == '.':
		return rest[1:], true
	case rest[0] == '[':
		return rest, true
	}
	return "", false
}
