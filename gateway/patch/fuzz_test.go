package patch

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var fuzzTypes = []types.PatchType{
	types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType,
}

var fuzzValidation = []string{kmetav1.FieldValidationStrict, kmetav1.FieldValidationWarn, kmetav1.FieldValidationIgnore}

const fuzzDeployment = `
metadata: {name: d, namespace: default, resourceVersion: "4", labels: {app: d}}
spec:
  replicas: 2
  selector: {matchLabels: {app: d}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 30%, maxUnavailable: 1}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers:
      - {name: c, image: nginx, ports: [{containerPort: 80}], env: [{name: A, value: "1"}]}
      volumes: [{name: v, emptyDir: {}}]
status: {replicas: 2}
`

// FuzzPatch applies arbitrary bodies of every patch type to a Pod, a Deployment and a Scale,
// under every fieldValidation directive. Whatever the body, the patch never panics, and fails
// only with a Status blaming the client (400, 413, 415 or 422), never a 500; what it produces
// has the URL's name.
func FuzzPatch(f *testing.F) {
	seeds := []string{
		`{"metadata":{"labels":{"a":"b"}}}`,
		`{"spec":{"containers":[{"name":"nginx","image":"x"}]}}`,
		`{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"nginx"}]}}`,
		`{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}`,
		`{"spec":{"containers":[{"name":"only"},{"$patch":"replace"}]}}`,
		`{"spec":{"$patch":"replace","containers":[]}}`,
		`{"$patch":"delete"}`,
		`{"metadata":{"$deleteFromPrimitiveList/finalizers":["a.example.com/one"]}}`,
		`{"metadata":{"$deleteFromPrimitiveList/finalizers":"x","$setElementOrder/finalizers":[1]}}`,
		`{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`,
		`{"spec":{"strategy":{"$retainKeys":"type"}}}`,
		`{"spec":{"template":{"spec":{"containers":[{"name":"c","ports":[{"containerPort":81}]}]}}}}`,
		`{"spec":{"replicas":3},"status":{"replicas":1}}`,
		`{"spec":{"containers":5}}`,
		`{"metadata":{"name":"other"}}`,
		`{"metadata":{"resourceVersion":"3"}}`,
		`{"a":1,"a":2}`,
		`{"spec":{"bogus":{"x":[1,{"y":2}]}}}`,
		`[{"op":"add","path":"/metadata/labels/x","value":"y"}]`,
		`[{"op":"test","path":"/kind","value":"Pod"},{"op":"remove","path":"/spec"}]`,
		`[{"op":"copy","from":"/spec","path":"/metadata/x"}]`,
		`[{"op":"copy","from":"","path":"/spec/a"}]`,
		`[{"op":"move","from":"/metadata/labels","path":"/metadata/annotations"}]`,
		`[{"op":"replace","path":"","value":{}}]`,
		`[{"op":"add","path":"/spec/containers/-","value":{"name":"n"}}]`,
		`[{"op":"add","path":"/spec/containers/-1","value":null}]`,
		`[{"op":"add"}]`,
		"apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {x: \"1\"}}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n",
		"apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: d}\nspec: {replicas: 7}\n",
		"a: b\na: c\n",
		`null`, `5`, `"x"`, `[]`, `{}`, ``, `{`, "\xff",
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	pod := mustDecodeF(f, scheme.Pods, basePod)
	dep := mustDecodeF(f, scheme.Deployments, fuzzDeployment)
	scale := &autoscalingv1.Scale{
		Metadata: &metav1.ObjectMeta{Name: "d", Namespace: "default", ResourceVersion: "4"},
		Spec:     &autoscalingv1.ScaleSpec{Replicas: 2},
		Status:   &autoscalingv1.ScaleStatus{Replicas: 2, Selector: "app=d"},
	}
	targets := []struct {
		t   Target
		cur scheme.Object
	}{
		{Target{Resource: scheme.Pods, Namespace: "default", Name: "web"}, pod},
		{Target{Resource: scheme.Deployments, Namespace: "default", Name: "d"}, dep},
		{Target{Resource: scheme.Deployments, Namespace: "default", Name: "d", Subresource: SubresourceScale}, scale},
		{Target{Resource: scheme.Deployments, Namespace: "default", Name: "d", Subresource: SubresourceStatus}, dep},
	}
	f.Fuzz(func(t *testing.T, sel uint8, body string) {
		pt := fuzzTypes[int(sel)%len(fuzzTypes)]
		tg := targets[int(sel/4)%len(targets)]
		validation := fuzzValidation[int(sel/16)%len(fuzzValidation)]
		out, _, err := applyLocal(tg.t, tg.cur, pt, body, validation)
		if err != nil {
			var se *kerrors.StatusError
			if !asStatus(err, &se) {
				t.Fatalf("%s %q: not a Status: %v", pt, body, err)
			}
			switch se.ErrStatus.Code {
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			default:
				t.Fatalf("%s %q: %d %s", pt, body, se.ErrStatus.Code, se.ErrStatus.Message)
			}
			return
		}
		if out.GetMetadata().GetName() != tg.t.Name || out.GetMetadata().GetNamespace() != tg.t.Namespace {
			t.Fatalf("%s %q: result named %s/%s", pt, body, out.GetMetadata().GetNamespace(), out.GetMetadata().GetName())
		}
		if _, err := kubejson.Marshal(out); err != nil {
			t.Fatalf("%s %q: result does not encode: %v", pt, body, err)
		}
	})
}

func mustDecodeF(f *testing.F, r *scheme.Resource, yaml string) scheme.Object {
	obj := r.New()
	if err := kubejson.Unmarshal([]byte(yaml), obj); err != nil {
		f.Fatalf("decode %s: %v", r.Kind, err)
	}
	return obj
}

// FuzzRequestOptions checks the readers of a PATCH request's Content-Type and query: any
// input is a patch type and options, or a 415 or 400 Status.
func FuzzRequestOptions(f *testing.F) {
	for _, s := range [][2]string{
		{"application/merge-patch+json", "fieldManager=kubectl&fieldValidation=Strict"},
		{"application/apply-patch+yaml; charset=utf-8", "fieldManager=x&force=true"},
		{"application/strategic-merge-patch+json", "dryRun=All&dryRun=All"},
		{"application/json-patch+json;", "force=maybe"},
		{"text/plain", "%zz"},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, contentType, query string) {
		if pt, err := PatchType(contentType); err != nil {
			wantFuzzCode(t, err, http.StatusUnsupportedMediaType)
		} else if !slices.Contains(fuzzTypes, pt) {
			t.Fatalf("PatchType(%q) = %q", contentType, pt)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return // net/http answers a malformed query itself
		}
		if _, err := PatchOptions(q); err != nil {
			wantFuzzCode(t, err, http.StatusBadRequest)
		}
	})
}

func wantFuzzCode(t *testing.T, err error, code int32) {
	t.Helper()
	var se *kerrors.StatusError
	if !asStatus(err, &se) || se.ErrStatus.Code != code {
		t.Fatalf("got %v, want a Status with code %d", err, code)
	}
}
