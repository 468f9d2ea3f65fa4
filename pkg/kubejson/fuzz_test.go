package kubejson_test

import (
	"encoding/json"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/kubejson"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// fuzzSeeds are the corpus documents plus inputs that reach each corner of the decoder.
func fuzzSeeds(f *testing.F) {
	docs, err := readCorpus()
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range docs {
		f.Add(d.data)
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"a":1} {"b":2}`, "a: 1\n---\nb: 2\n", "---\n{a: 1,}\n",
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"a":"b"},"creationTimestamp":"2024-01-02T03:04:05.5+01:00"},` +
			`"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":0.5}},"livenessProbe":{"httpGet":{"port":8080}}}],"terminationGracePeriodSeconds":30}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"3","strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1.5}}}}`,
		`{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":80,"targetPort":"http"},null],"selector":{"a":null}}}`,
		`{"apiVersion":"v1","kind":"Secret","data":{"a":"AAEC","b":"!!"}}`,
		`{"apiVersion":"v1","kind":"Event","eventTime":"2024-01-02T03:04:05.123456789Z"}`,
		`{"metadata":{"name":"a","name":"b","x":[{"y":{}}]},"spec":{"containers":{"a":1}}}`,
		"metadata:\n  labels:\n    a: yes\n    b: 1.0\n  name: &x a\n  namespace: *x\n",
		"spec: {replicas: 99999999999999999999}\n",
	} {
		f.Add([]byte(s))
	}
}

// checkDecodeError fails unless err is one of the errors the package documents.
func checkDecodeError(t *testing.T, err error) {
	var de *kubejson.DecodeError
	var se *kubejson.SyntaxError
	var fe *kubejson.FieldError
	if !errors.As(err, &de) && !errors.As(err, &se) && !errors.As(err, &fe) && !isSchemeError(err) {
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}

// isSchemeError tells whether err is scheme.ForKind's (a plain error naming apiVersion/kind).
func isSchemeError(err error) bool {
	s := err.Error()
	return len(s) > 5 && (s[:5] == "kind:" || (len(s) > 11 && s[:11] == "apiVersion:"))
}

// FuzzUnmarshal decodes arbitrary input into a Pod, a Deployment and a Service: it never
// panics, and whatever is accepted is written and read back to an equal message.
func FuzzUnmarshal(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []proto.Message{&corev1.Pod{}, &appsv1.Deployment{}, &corev1.Service{}} {
			if err := kubejson.Unmarshal(data, m); err != nil {
				checkDecodeError(t, err)
				continue
			}
			out, err := kubejson.Marshal(m)
			if err != nil {
				t.Fatalf("Marshal of a decoded %T: %v", m, err)
			}
			again := m.ProtoReflect().Type().New().Interface()
			if err := kubejson.Unmarshal(out, again); err != nil {
				t.Fatalf("Unmarshal of our own output: %v\n%s", err, out)
			}
			if !proto.Equal(m, again) {
				t.Fatalf("round trip differs:\n%v\n%v\n%s", m, again, out)
			}
		}
	})
}

// FuzzUnmarshalObject decodes arbitrary input as an object of any served kind: it never
// panics, and whatever is accepted is written (as JSON and as YAML) and read back equal.
func FuzzUnmarshalObject(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, res, err := kubejson.UnmarshalObject(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		for _, marshal := range []func(proto.Message) ([]byte, error){kubejson.Marshal, kubejson.MarshalYAML} {
			out, err := marshal(obj)
			if err != nil {
				t.Fatalf("Marshal of a decoded %s: %v", res.Kind, err)
			}
			again, res2, err := kubejson.UnmarshalObject(out)
			if err != nil {
				t.Fatalf("UnmarshalObject of our own output: %v\n%s", err, out)
			}
			if res2 != res || !proto.Equal(obj, again) {
				t.Fatalf("round trip differs:\n%v\n%v\n%s", obj, again, out)
			}
		}
	})
}

// FuzzMarshalString checks string escaping against encoding/json for any string.
func FuzzMarshalString(f *testing.F) {
	for _, s := range []string{"", "<a&b>", "\u2028", "\xff", "\x00\x1f\"\\", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkStringEscaping(t, s)
		// A string we write reads back as encoding/json reads it.
		m := &metav1.ObjectMeta{}
		out, _ := kubejson.Marshal(&metav1.ObjectMeta{Name: s})
		if err := kubejson.Unmarshal(out, m); err != nil {
			t.Fatalf("Unmarshal %s: %v", out, err)
		}
		var want struct{ Name string }
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		if m.Name != want.Name {
			t.Fatalf("read %q, encoding/json reads %q", m.Name, want.Name)
		}
	})
}
