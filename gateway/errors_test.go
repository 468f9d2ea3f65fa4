package gateway

import (
	"net/http"
	"strings"
	"testing"

	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestErrors checks the Status and HTTP code of every kind of mistake a client can make.
func TestErrors(t *testing.T) {
	e := start(t)
	const pods = "/api/v1/namespaces/default/pods"
	pod := func(name string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`
	}
	if r := e.post(t, pods, pod("taken")); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	var stale string
	{
		r := e.get(t, pods+"/taken")
		stale = setLabel(t, r.body, "a", "1")
		if r := e.put(t, pods+"/taken", setLabel(t, r.body, "a", "2")); r.code != http.StatusOK {
			t.Fatalf("update: %d %s", r.code, r.body)
		}
	}
	json := "application/json"
	tests := []struct {
		name                   string
		method, path, ct, body string
		code                   int
		reason                 kmetav1.StatusReason
		message                string
	}{
		{"unknown path", "GET", "/api/v1/frobs", "", "", 404, kmetav1.StatusReasonNotFound, "the server could not find the requested resource"},
		{"unknown group", "GET", "/apis/example.com/v1/widgets", "", "", 404, kmetav1.StatusReasonNotFound, ""},
		{"unknown subresource", "GET", pods + "/taken/eviction", "", "", 404, kmetav1.StatusReasonNotFound, ""},
		{"not found", "GET", pods + "/nothere", "", "", 404, kmetav1.StatusReasonNotFound, `pods "nothere" not found`},
		{"delete not found", "DELETE", pods + "/nothere", "", "", 404, kmetav1.StatusReasonNotFound, ""},
		{"delete collection", "DELETE", pods, "", "", 405, kmetav1.StatusReasonMethodNotAllowed, ""},
		{"put collection", "PUT", pods, json, pod("x"), 405, kmetav1.StatusReasonMethodNotAllowed, ""},
		{"post object", "POST", pods + "/taken", json, pod("taken"), 405, kmetav1.StatusReasonMethodNotAllowed, ""},
		{"post across namespaces", "POST", "/api/v1/pods", json, pod("x"), 405, kmetav1.StatusReasonMethodNotAllowed, ""},
		{"post to a watch path", "POST", "/api/v1/watch/namespaces/default/pods", json, pod("x"), 405, kmetav1.StatusReasonMethodNotAllowed, ""},
		{"already exists", "POST", pods, json, pod("taken"), 409, kmetav1.StatusReasonAlreadyExists, `pods "taken" already exists`},
		{"conflict", "PUT", pods + "/taken", json, stale, 409, kmetav1.StatusReasonConflict, "the object has been modified"},
		{"invalid", "POST", pods, json, pod("Bad_Name"), 422, kmetav1.StatusReasonInvalid, `metadata.name: Invalid value: "Bad_Name"`},
		{"not json", "POST", pods, json, "{not json", 400, kmetav1.StatusReasonBadRequest, `cannot be handled as a Pod`},
		{"empty body", "POST", pods, json, "", 400, kmetav1.StatusReasonBadRequest, "the body of the request is empty"},
		{"other kind", "POST", pods, json, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}`, 400, kmetav1.StatusReasonBadRequest, `Deployment in version "v1" cannot be handled as a Pod`},
		{"other name", "PUT", pods + "/taken", json, pod("other"), 400, kmetav1.StatusReasonBadRequest, "the name of the object (other) does not match the name on the URL (taken)"},
		{"other namespace", "POST", pods, json, `{"metadata":{"name":"x","namespace":"kube-system"}}`, 400, kmetav1.StatusReasonBadRequest, "the namespace of the provided object does not match the namespace sent on the request"},
		{"strict unknown field", "POST", pods + "?fieldValidation=Strict", json, `{"metadata":{"name":"x"},"spec":{"foo":1}}`, 400, kmetav1.StatusReasonBadRequest, `strict decoding error: unknown field "spec.foo"`},
		{"bad fieldValidation", "POST", pods + "?fieldValidation=Loud", json, pod("x"), 400, kmetav1.StatusReasonBadRequest, `fieldValidation: Unsupported value: "Loud"`},
		{"wrong type", "POST", pods, json, `{"metadata":{"name":7}}`, 400, kmetav1.StatusReasonBadRequest, `metadata.name: expected string, got number 7`},
		{"dry run", "POST", pods + "?dryRun=All", json, pod("x"), 400, kmetav1.StatusReasonBadRequest, "dryRun"},
		{"garbage protobuf body", "POST", pods, "application/vnd.kubernetes.protobuf", "k8s\x00\x0a\xff", 400, kmetav1.StatusReasonBadRequest, "invalid protobuf"},
		{"form body", "POST", pods, "application/x-www-form-urlencoded", pod("x"), 415, kmetav1.StatusReasonUnsupportedMediaType, ""},
		{"patch type on PUT", "PUT", pods + "/taken", "application/merge-patch+json", `{}`, 415, kmetav1.StatusReasonUnsupportedMediaType, ""},
		{"too large", "POST", pods, json, `{"metadata":{"name":"x","annotations":{"a":"` + strings.Repeat("x", 3<<20) + `"}}}`, 413, kmetav1.StatusReasonRequestEntityTooLarge, ""},
		{"bad limit", "GET", pods + "?limit=ten", "", "", 400, kmetav1.StatusReasonBadRequest, ""},
		{"bad watch", "GET", pods + "?watch=maybe", "", "", 400, kmetav1.StatusReasonBadRequest, "watch"},
		{"garbage watch resourceVersion", "GET", pods + "?watch=true&resourceVersion=abc", "", "", 400, kmetav1.StatusReasonBadRequest, "resourceVersion"},
		{"bad timeoutSeconds", "GET", pods + "?watch=1&timeoutSeconds=soon", "", "", 400, kmetav1.StatusReasonBadRequest, "timeoutSeconds"},
		{"bad delete body", "DELETE", pods + "/taken", json, `{"kind":"Pod"}`, 400, kmetav1.StatusReasonBadRequest, "cannot be handled as a DeleteOptions"},
		{"both orphan and policy", "DELETE", pods + "/taken?orphanDependents=true&propagationPolicy=Background", "", "", 400, kmetav1.StatusReasonBadRequest, ""},
		{"bad gracePeriodSeconds", "DELETE", pods + "/taken?gracePeriodSeconds=x", "", "", 400, kmetav1.StatusReasonBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.ct, tt.body)
			st := wantStatus(t, r, tt.code, tt.reason)
			if !strings.Contains(st.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", st.Message, tt.message)
			}
		})
	}
}

func TestInvalidNamesTheField(t *testing.T) {
	e := start(t)
	r := e.post(t, "/apis/apps/v1/namespaces/default/deployments",
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":-1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`)
	st := wantStatus(t, r, http.StatusUnprocessableEntity, kmetav1.StatusReasonInvalid)
	if st.Details == nil || st.Details.Kind != "Deployment" || st.Details.Name != "d" || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != "spec.replicas" {
		t.Errorf("details: %+v", st.Details)
	}
}

func TestWarnings(t *testing.T) {
	e := start(t)
	const body = `{"metadata":{"name":"warned"},"spec":{"foo":1,"containers":[{"name":"c","image":"nginx","imagee":"x"}]}}`
	r := e.post(t, "/api/v1/namespaces/default/pods", body)
	if r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	got := r.header.Values("Warning")
	want := []string{`299 - "unknown field \"spec.foo\""`, `299 - "unknown field \"spec.containers[0].imagee\""`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Warning headers %q, want %q", got, want)
	}
	r = e.post(t, "/api/v1/namespaces/default/pods?fieldValidation=Ignore", strings.Replace(body, "warned", "ignored", 1))
	if r.code != http.StatusCreated || len(r.header.Values("Warning")) != 0 {
		t.Errorf("Ignore: %d, warnings %q", r.code, r.header.Values("Warning"))
	}
}
