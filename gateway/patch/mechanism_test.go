package patch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
)

// applyLocal runs the pure part of a patch (no apiserver): parse the body, apply it to cur,
// decode the result.
func applyLocal(t Target, cur scheme.Object, pt types.PatchType, body, validation string) (scheme.Object, []string, error) {
	if validation == "" {
		validation = kmetav1.FieldValidationStrict
	}
	d := &decoder{validation: validation, gk: schema.GroupKind{Group: t.Resource.Group, Kind: t.Resource.Kind}, name: t.Name}
	mech, err := newMechanism(t, pt, []byte(body), d)
	if err != nil {
		return nil, d.warnings, err
	}
	newObject := t.Resource.New
	if t.Subresource == SubresourceScale {
		newObject = func() scheme.Object { return &autoscalingv1.Scale{} }
	}
	out, err := patchObject(cur, mech, d, newObject, t)
	return out, d.warnings, err
}

func mustDecode(t *testing.T, r *scheme.Resource, yaml string) scheme.Object {
	t.Helper()
	obj := r.New()
	if err := kubejson.Unmarshal([]byte(yaml), obj); err != nil {
		t.Fatalf("decode %s: %v\n%s", r.Kind, err, yaml)
	}
	return obj
}

const basePod = `
metadata:
  name: web
  namespace: default
  resourceVersion: "7"
  labels: {app: web, tier: front}
  finalizers: [a.example.com/one, a.example.com/two]
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports: [{containerPort: 80, name: http}]
    env: [{name: A, value: "1"}, {name: B, value: "2"}]
  - name: sidecar
    image: busybox
  volumes: [{name: data, emptyDir: {}}]
  tolerations: [{key: dedicated, value: test-team, effect: NoSchedule}]
`

func TestStrategicMergePatchOnPods(t *testing.T) {
	target := Target{Resource: scheme.Pods, Namespace: "default", Name: "web"}
	cases := []struct {
		name, patch string
		// edit turns basePod's YAML into the expected object's.
		edit func(string) string
	}{
		{"containers merge by name, the patch's first",
			`{"spec":{"containers":[{"name":"redis","image":"redis"}]}}`,
			func(s string) string {
				return strings.Replace(s, "  containers:\n", "  containers:\n  - name: redis\n    image: redis\n", 1)
			}},
		{"a container's image changes in place",
			`{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}`,
			func(s string) string { return strings.Replace(s, "image: busybox", "image: busybox:1.36", 1) }},
		{"env merges by name, in place",
			`{"spec":{"containers":[{"name":"nginx","env":[{"name":"B","value":"20"},{"name":"C","value":"3"}]}]}}`,
			func(s string) string {
				return strings.Replace(s, `env: [{name: A, value: "1"}, {name: B, value: "2"}]`, `env: [{name: A, value: "1"}, {name: B, value: "20"}, {name: C, value: "3"}]`, 1)
			}},
		{"ports merge by containerPort",
			`{"spec":{"containers":[{"name":"nginx","ports":[{"containerPort":443,"name":"https"}]}]}}`,
			func(s string) string {
				return strings.Replace(s, `ports: [{containerPort: 80, name: http}]`, `ports: [{containerPort: 443, name: https}, {containerPort: 80, name: http}]`, 1)
			}},
		{"volumes merge by name",
			`{"spec":{"volumes":[{"name":"cache","emptyDir":{"medium":"Memory"}}]}}`,
			func(s string) string {
				return strings.Replace(s, `volumes: [{name: data, emptyDir: {}}]`, `volumes: [{name: cache, emptyDir: {medium: Memory}}, {name: data, emptyDir: {}}]`, 1)
			}},
		{"tolerations have no merge key: replaced whole",
			`{"spec":{"tolerations":[{"key":"disktype","value":"ssd","effect":"NoSchedule"}]}}`,
			func(s string) string {
				return strings.Replace(s, "key: dedicated, value: test-team", "key: disktype, value: ssd", 1)
			}},
		{"$setElementOrder reorders",
			`{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"nginx"}]}}`,
			func(s string) string {
				i, j := strings.Index(s, "  - name: nginx"), strings.Index(s, "  - name: sidecar")
				k := strings.Index(s, "  volumes:")
				return s[:i] + s[j:k] + s[i:j] + s[k:]
			}},
		{"$patch: delete removes one item",
			`{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}`,
			func(s string) string {
				return strings.Replace(s, "  - name: sidecar\n    image: busybox\n", "", 1)
			}},
		{"$patch: replace replaces the list",
			`{"spec":{"containers":[{"name":"only","image":"alpine"},{"$patch":"replace"}]}}`,
			func(s string) string {
				i, k := strings.Index(s, "  - name: nginx"), strings.Index(s, "  volumes:")
				return s[:i] + "  - name: only\n    image: alpine\n" + s[k:]
			}},
		{"$deleteFromPrimitiveList removes a finalizer",
			`{"metadata":{"$deleteFromPrimitiveList/finalizers":["a.example.com/one"]}}`,
			func(s string) string {
				return strings.Replace(s, "[a.example.com/one, a.example.com/two]", "[a.example.com/two]", 1)
			}},
		{"finalizers merge as a set, the patch's first",
			`{"metadata":{"finalizers":["a.example.com/three"]}}`,
			func(s string) string {
				return strings.Replace(s, "[a.example.com/one, a.example.com/two]", "[a.example.com/three, a.example.com/one, a.example.com/two]", 1)
			}},
		{"null removes a label",
			`{"metadata":{"labels":{"tier":null,"env":"prod"}}}`,
			func(s string) string {
				return strings.Replace(s, "{app: web, tier: front}", "{app: web, env: prod}", 1)
			}},
		{"a matching resourceVersion is kept",
			`{"metadata":{"resourceVersion":"7","labels":{"x":"y"}}}`,
			func(s string) string {
				return strings.Replace(s, "{app: web, tier: front}", `{app: web, tier: front, x: "y"}`, 1)
			}},
		{"a stale resourceVersion is carried to the update (which conflicts)",
			`{"metadata":{"resourceVersion":"3"}}`,
			func(s string) string { return strings.Replace(s, `resourceVersion: "7"`, `resourceVersion: "3"`, 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := applyLocal(target, mustDecode(t, scheme.Pods, basePod), types.StrategicMergePatchType, tc.patch, "")
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			want := mustDecode(t, scheme.Pods, tc.edit(basePod))
			if !proto.Equal(got, want) {
				g, _ := kubejson.MarshalYAML(got)
				w, _ := kubejson.MarshalYAML(want)
				t.Errorf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestRetainKeys(t *testing.T) {
	const demo = `
metadata: {name: retainkeys-demo, namespace: default}
spec:
  selector: {matchLabels: {app: nginx}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 30%}}
  template:
    metadata: {labels: {app: nginx}}
    spec: {containers: [{name: c, image: nginx}]}
`
	target := Target{Resource: scheme.Deployments, Namespace: "default", Name: "retainkeys-demo"}
	cases := []struct {
		name, patch string
		strategy    string // the expected spec.strategy, as JSON
		code        int32
	}{
		{"without retainKeys rollingUpdate stays", `{"spec":{"strategy":{"type":"Recreate"}}}`,
			`{"type":"Recreate","rollingUpdate":{"maxSurge":"30%"}}`, 0},
		{"retainKeys drops rollingUpdate", `{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`,
			`{"type":"Recreate"}`, 0},
		{"retainKeys keeps what it lists", `{"spec":{"strategy":{"$retainKeys":["type","rollingUpdate"],"rollingUpdate":{"maxUnavailable":1}}}}`,
			`{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"30%","maxUnavailable":1}}`, 0},
		{"content outside retainKeys", `{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":1}}}}`, "", http.StatusBadRequest},
		{"retainKeys must be a list", `{"spec":{"strategy":{"$retainKeys":"type"}}}`, "", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := applyLocal(target, mustDecode(t, scheme.Deployments, demo), types.StrategicMergePatchType, tc.patch, "")
			if tc.code != 0 {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			if got := jsonAt(t, got, "spec", "strategy"); !jsonEqual(got, tc.strategy) {
				t.Errorf("spec.strategy %s, want %s", got, tc.strategy)
			}
		})
	}
}

func TestPatchErrors(t *testing.T) {
	target := Target{Resource: scheme.Pods, Namespace: "default", Name: "web"}
	const (
		jp  = types.JSONPatchType
		mp  = types.MergePatchType
		smp = types.StrategicMergePatchType
		ap  = types.ApplyYAMLPatchType
	)
	manyOps := "[" + strings.Repeat(`{"op":"test","path":"/kind","value":"Pod"},`, MaxJSONPatchOperations) + `{"op":"test","path":"/kind","value":"Pod"}]`
	cases := []struct {
		name  string
		pt    types.PatchType
		patch string
		code  int32
		msg   string // a substring of the message
	}{
		{"json patch not JSON", jp, `[{"op":`, 400, "error decoding patch"},
		{"json patch not a list", jp, `{"op":"add"}`, 400, ""},
		{"json patch failed test", jp, `[{"op":"test","path":"/spec/containers/0/image","value":"nginx:1.0"}]`, 422, "test failed"},
		{"json patch missing path", jp, `[{"op":"replace","path":"/spec/nothing/here","value":1}]`, 422, ""},
		{"json patch unknown op", jp, `[{"op":"frobnicate","path":"/spec"}]`, 422, "Unexpected kind"},
		{"json patch too many operations", jp, manyOps, 413, "maximum operations"},
		{"json patch makes a wrong type", jp, `[{"op":"replace","path":"/spec/containers","value":"x"}]`, 422, "spec.containers"},
		{"json patch changes the kind", jp, `[{"op":"replace","path":"/kind","value":"Service"}]`, 422, "kind"},
		{"json patch replaces the document", jp, `[{"op":"replace","path":"","value":5}]`, 422, ""},
		{"merge patch not JSON", mp, `{"metadata":`, 400, "error decoding patch"},
		{"merge patch a number", mp, `5`, 400, ""},
		{"merge patch null", mp, `null`, 400, ""},
		{"merge patch a list", mp, `[1]`, 422, ""},
		{"merge patch wrong type", mp, `{"spec":{"containers":"nginx"}}`, 422, "spec.containers"},
		{"merge patch renames", mp, `{"metadata":{"name":"other"}}`, 400, "does not match the name on the URL"},
		{"merge patch moves namespace", mp, `{"metadata":{"namespace":"other"}}`, 400, "does not match the namespace on the URL"},
		{"merge patch unknown field (Strict)", mp, `{"spec":{"containerz":[]}}`, 400, `strict decoding error: unknown field "spec.containerz"`},
		{"merge patch duplicate field (Strict)", mp, `{"metadata":{"labels":{"a":"1","a":"2"}}}`, 400, `duplicate field "metadata.labels.a"`},
		{"strategic not JSON", smp, `{`, 400, "error decoding patch"},
		{"strategic a list", smp, `[]`, 400, ""},
		{"strategic bad $patch", smp, `{"spec":{"containers":[{"name":"nginx","$patch":"explode"}]}}`, 400, ""},
		{"strategic bad $setElementOrder", smp, `{"spec":{"$setElementOrder/containers":"nginx"}}`, 400, ""},
		{"strategic wrong type", smp, `{"spec":{"containers":[{"name":"nginx","ports":{"containerPort":80}}]}}`, 422, ""},
		{"strategic list item without its key", smp, `{"spec":{"containers":[{"image":"x"}]}}`, 400, "merge key"},
		{"apply not YAML", ap, "apiVersion: v1\n kind: [", 400, ""},
		{"apply a list", ap, "- a\n- b\n", 400, ""},
		{"apply with a directive", ap, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"$patch":"delete"}}}`, 400, "directives"},
		{"apply of another kind", ap, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n", 400, "Specified patch kind: Service, expected: Pod"},
		{"apply of another version", ap, "apiVersion: v2\nkind: Pod\nmetadata: {name: web}\n", 400, "Specified patch version: v2, expected: v1"},
		{"apply without apiVersion", ap, "kind: Pod\nmetadata: {name: web}\n", 400, "Incorrect version"},
		{"unsupported type", "application/json", `{}`, 415, "accepted media types include"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := applyLocal(target, mustDecode(t, scheme.Pods, basePod), tc.pt, tc.patch, "")
			wantCode(t, err, tc.code)
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.msg)
			}
		})
	}
}

func TestFieldValidation(t *testing.T) {
	target := Target{Resource: scheme.Pods, Namespace: "default", Name: "web"}
	const patch = `{"metadata":{"labels":{"x":"1"},"labelz":{"y":"2"}},"spec":{"containers":[{"name":"nginx","imagee":"typo"}]}}`
	cases := []struct {
		validation string
		code       int32
		warnings   []string
	}{
		{kmetav1.FieldValidationStrict, 400, nil},
		{kmetav1.FieldValidationWarn, 0, []string{`unknown field "metadata.labelz"`, `unknown field "spec.containers[0].imagee"`}},
		{kmetav1.FieldValidationIgnore, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.validation, func(t *testing.T) {
			got, warnings, err := applyLocal(target, mustDecode(t, scheme.Pods, basePod), types.StrategicMergePatchType, patch, tc.validation)
			if tc.code != 0 {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(warnings) != fmt.Sprint(tc.warnings) {
				t.Errorf("warnings %q, want %q", warnings, tc.warnings)
			}
			if got.GetMetadata().GetLabels()["x"] != "1" {
				t.Errorf("the known part of the patch was not applied: %v", got.GetMetadata().GetLabels())
			}
		})
	}
}

func wantCode(t *testing.T, err error, code int32) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var se *kerrors.StatusError
	if !asStatus(err, &se) {
		t.Fatalf("got %v, want a Status with code %d", err, code)
	}
	if se.ErrStatus.Code != code {
		t.Fatalf("got code %d (%s: %s), want %d", se.ErrStatus.Code, se.ErrStatus.Reason, se.ErrStatus.Message, code)
	}
}

// jsonAt returns the JSON of the field at path in obj's Kubernetes JSON.
func jsonAt(t *testing.T, obj scheme.Object, path ...string) string {
	t.Helper()
	js, err := kubejson.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func jsonEqual(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}
