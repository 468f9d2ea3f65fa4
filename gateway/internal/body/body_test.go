package body

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"google.golang.org/protobuf/proto"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

var podKind = Kind{APIVersion: "v1", Kind: "Pod"}

func code(err error) int32 {
	var se *kerrors.StatusError
	if errors.As(err, &se) {
		return se.ErrStatus.Code
	}
	return 0
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		v        Validation
		wantErr  string // substring of the 400's message; "" for success
		warnings []string
		check    func(*corev1.Pod) bool
	}{
		{name: "plain", body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}`, v: Strict,
			check: func(p *corev1.Pod) bool { return p.GetMetadata().GetName() == "a" }},
		{name: "type meta may be absent", body: `{"metadata":{"name":"a"}}`, v: Strict,
			check: func(p *corev1.Pod) bool { return p.GetMetadata().GetName() == "a" }},
		{name: "yaml", body: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n", v: Strict,
			check: func(p *corev1.Pod) bool { return p.GetMetadata().GetName() == "a" }},
		{name: "strict unknown", body: `{"kind":"Pod","metadata":{"name":"a"},"spec":{"foo":1}}`, v: Strict,
			wantErr: `Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"`},
		{name: "strict duplicate", body: `{"metadata":{"name":"a","name":"b"}}`, v: Strict,
			wantErr: `strict decoding error: duplicate field "metadata.name"`},
		{name: "warn unknown", body: `{"metadata":{"name":"a"},"spec":{"foo":1,"containers":[{"name":"c","image":"i","bogus":{"x":[1]}}]}}`, v: Warn,
			warnings: []string{`unknown field "spec.foo"`, `unknown field "spec.containers[0].bogus"`},
			check:    func(p *corev1.Pod) bool { return p.GetSpec().GetContainers()[0].GetImage() == "i" }},
		{name: "warn duplicate keeps the last", body: `{"metadata":{"name":"a","name":"b"}}`, v: Warn,
			warnings: []string{`duplicate field "metadata.name"`},
			check:    func(p *corev1.Pod) bool { return p.GetMetadata().GetName() == "b" }},
		{name: "ignore unknown", body: `{"metadata":{"name":"a","labels":{"x.y/z":"1"}},"status":{"weird":true}}`, v: Ignore,
			check: func(p *corev1.Pod) bool { return p.GetMetadata().GetLabels()["x.y/z"] == "1" }},
		{name: "unknown top-level field with a dot", body: `{"metadata":{"name":"a"},"spec.x":1}`, v: Warn,
			warnings: []string{`unknown field "spec.x"`},
			check:    func(p *corev1.Pod) bool { return p.GetMetadata().GetName() == "a" }},
		{name: "wrong type fails in every mode", body: `{"metadata":{"name":"a"},"spec":{"foo":1,"activeDeadlineSeconds":"x"}}`, v: Ignore,
			wantErr: `spec.activeDeadlineSeconds: expected integer`},
		{name: "other kind", body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"}}`, v: Warn,
			wantErr: `Deployment in version "v1" cannot be handled as a Pod`},
		{name: "other version", body: `{"apiVersion":"v2","kind":"Pod"}`, v: Warn,
			wantErr: `Pod in version "v2" cannot be handled as a Pod`},
		{name: "not json", body: `{"metadata":`, v: Warn, wantErr: `cannot be handled as a Pod: invalid JSON`},
		{name: "garbage", body: `<html>`, v: Warn, wantErr: `cannot be handled as a Pod`},
		{name: "array", body: `[1,2]`, v: Warn, wantErr: `cannot be handled as a Pod`},
		{name: "empty", body: "  \n", v: Warn, wantErr: `the body of the request is empty`},
		{name: "trailing document", body: `{"metadata":{}} {}`, v: Warn, wantErr: `cannot be handled as a Pod`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p corev1.Pod
			warnings, err := Decode([]byte(tt.body), &p, podKind, tt.v)
			if tt.wantErr != "" {
				if err == nil || code(err) != http.StatusBadRequest || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v (code %d), want a 400 containing %q", err, code(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if strings.Join(warnings, "|") != strings.Join(tt.warnings, "|") {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
			if tt.check != nil && !tt.check(&p) {
				t.Errorf("decoded %v", &p)
			}
		})
	}
}

func TestDecodeKeepsNumbers(t *testing.T) {
	var d appsv1.Deployment
	body := `{"spec":{"replicas":3,"unknown":1.5},"status":{"observedGeneration":9007199254740993}}`
	if _, err := Decode([]byte(body), &d, Kind{"apps/v1", "Deployment"}, Warn); err != nil {
		t.Fatal(err)
	}
	if d.GetSpec().GetReplicas() != 3 || d.GetStatus().GetObservedGeneration() != 9007199254740993 {
		t.Errorf("numbers changed: %v", &d)
	}
}

func TestReadLimited(t *testing.T) {
	tests := []struct {
		size int
		code int32
	}{{0, 0}, {MaxBytes, 0}, {MaxBytes + 1, http.StatusRequestEntityTooLarge}}
	for _, tt := range tests {
		data, err := ReadLimited(bytes.NewReader(make([]byte, tt.size)))
		if code(err) != tt.code || (err == nil && len(data) != tt.size) {
			t.Errorf("size %d: %d bytes, err %v; want code %d", tt.size, len(data), err, tt.code)
		}
	}
	// A body http.MaxBytesReader already cut is a 413 too.
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
	if _, err := ReadLimited(http.MaxBytesReader(rec, r.Body, 5)); code(err) != http.StatusRequestEntityTooLarge {
		t.Errorf("MaxBytesReader: %v", err)
	}
}

func TestCheckContentType(t *testing.T) {
	tests := []struct {
		ct   string
		code int32
	}{
		{"", 0}, {"application/json", 0}, {"application/json; charset=utf-8", 0}, {"application/yaml", 0},
		{"application/vnd.kubernetes.protobuf", 0}, {"application/x-www-form-urlencoded", 415},
		{"application/merge-patch+json", 415}, {"text/plain", 415}, {";;;", 415},
	}
	for _, tt := range tests {
		if got := code(CheckContentType(tt.ct)); got != tt.code {
			t.Errorf("%q: code %d, want %d", tt.ct, got, tt.code)
		}
	}
}

func TestValidationFrom(t *testing.T) {
	tests := []struct {
		query string
		want  Validation
		code  int32
	}{
		{"", Warn, 0}, {"fieldValidation=Strict", Strict, 0}, {"fieldValidation=Ignore", Ignore, 0},
		{"fieldValidation=Warn", Warn, 0}, {"fieldValidation=strict", "", 400},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		got, err := ValidationFrom(q)
		if got != tt.want || code(err) != tt.code {
			t.Errorf("%q: %q, %v; want %q, code %d", tt.query, got, err, tt.want, tt.code)
		}
	}
}

func TestWriteWarnings(t *testing.T) {
	h := http.Header{}
	WriteWarnings(h, []string{`unknown field "spec.foo"`})
	if got := h.Get("Warning"); got != `299 - "unknown field \"spec.foo\""` {
		t.Errorf("Warning: %s", got)
	}
}

func TestDecodeDeleteOptions(t *testing.T) {
	tests := []struct {
		body   string
		code   int32
		policy string
	}{
		{"", 0, ""},
		{`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","preconditions":{"uid":"u"}}`, 0, "Foreground"},
		{`{"apiVersion":"meta.k8s.io/v1","propagationPolicy":"Orphan"}`, 0, "Orphan"},
		{"propagationPolicy: Background\n", 0, "Background"},
		{`{"kind":"Pod"}`, 400, ""},
		{`{"apiVersion":"apps/v1","kind":"DeleteOptions"}`, 0, ""},
		{`{"gracePeriodSeconds":"x"}`, 400, ""},
		{`{`, 400, ""},
	}
	for _, tt := range tests {
		opts, err := DecodeDeleteOptions([]byte(tt.body), "application/json")
		if code(err) != tt.code {
			t.Errorf("%s: %v, want code %d", tt.body, err, tt.code)
			continue
		}
		if err == nil && tt.policy != "" && (opts.PropagationPolicy == nil || string(*opts.PropagationPolicy) != tt.policy) {
			t.Errorf("%s: policy %v", tt.body, opts.PropagationPolicy)
		}
	}
}

func FuzzDecodeBody(f *testing.F) {
	seeds := []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}]}}`,
		`{"metadata":{"name":"a","name":"b"},"spec":{"foo":1,"containers":[{"bogus":[1,{"x":2}]}]}}`,
		`{"metadata":{"labels":{"x.y":"1"},"annotations":{"[0]":"z"}},"spec.x":{"a":1},"[0]":1}`,
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  foo: 1\n",
		`{"kind":"Deployment"}`, `[`, `null`, `{"spec":{"overhead":{"cpu":1}}}`,
	}
	for _, s := range seeds {
		for _, v := range []Validation{Strict, Warn, Ignore} {
			f.Add([]byte(s), string(v))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, v string) {
		var p corev1.Pod
		warnings, err := Decode(data, &p, podKind, Validation(v))
		if err != nil {
			if code(err) != http.StatusBadRequest {
				t.Fatalf("error is not a 400: %v", err)
			}
			return
		}
		if Validation(v) == Strict && len(warnings) > 0 {
			t.Fatalf("Strict decoding warned: %q", warnings)
		}
		// What was accepted decodes strictly once written back.
		var again corev1.Pod
		out, err := marshal(&p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := Decode(out, &again, podKind, Strict); err != nil {
			t.Fatalf("accepted body does not round-trip: %v\n%s", err, out)
		}
		if !proto.Equal(&p, &again) {
			t.Fatalf("round trip changed the Pod:\n%v\n%v", &p, &again)
		}
	})
}
