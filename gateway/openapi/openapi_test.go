package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"k8s.io/kube-openapi/pkg/spec3"
	kproto "k8s.io/kube-openapi/pkg/util/proto"

	"github.com/berth-dev/berth/gateway/internal/subresource"
	"github.com/berth-dev/berth/pkg/scheme"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New(Options{Version: "v1.32.3+berth.test"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// documents fetches the index and every document it lists, as kubectl does.
func documents(t *testing.T, h *Handler) map[string][]byte {
	t.Helper()
	rec := serve(h, http.MethodGet, "/openapi/v3", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("index: %d %s", rec.Code, rec.Body)
	}
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &index); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for key, e := range index.Paths {
		if !strings.HasPrefix(e.ServerRelativeURL, "/openapi/v3/"+key+"?hash=") {
			t.Errorf("%s: serverRelativeURL %s", key, e.ServerRelativeURL)
		}
		rec := serve(h, http.MethodGet, e.ServerRelativeURL, nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "public, immutable" {
			t.Fatalf("%s: %d %v", e.ServerRelativeURL, rec.Code, rec.Header())
		}
		out[key] = rec.Body.Bytes()
	}
	return out
}

func TestIndex(t *testing.T) {
	docs := documents(t, newHandler(t))
	var keys []string
	for k := range docs {
		keys = append(keys, k)
	}
	want := map[string]bool{"api/v1": true, "apis/apps/v1": true, "apis/coordination.k8s.io/v1": true}
	if len(keys) != len(want) {
		t.Errorf("index lists %v", keys)
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("index lists %s", k)
		}
	}
}

// TestDocumentsParse reads every document the way kubectl's libraries do: kube-openapi's
// spec3 types, and gnostic plus kube-openapi's proto models (which fail on a reference to a
// missing schema), then looks up every kind.
func TestDocumentsParse(t *testing.T) {
	docs := documents(t, newHandler(t))
	for key, b := range docs {
		var doc spec3.OpenAPI
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: spec3: %v", key, err)
		}
		if doc.Version != "3.0.0" || len(doc.Paths.Paths) == 0 || len(doc.Components.Schemas) == 0 {
			t.Errorf("%s: openapi %q, %d paths, %d schemas", key, doc.Version, len(doc.Paths.Paths), len(doc.Components.Schemas))
		}
		gdoc, err := openapiv3.ParseDocument(b)
		if err != nil {
			t.Fatalf("%s: gnostic: %v", key, err)
		}
		models, err := kproto.NewOpenAPIV3Data(gdoc)
		if err != nil {
			t.Fatalf("%s: models: %v", key, err)
		}
		for _, r := range scheme.All {
			if groupVersionPath(r.Group, r.Version) != key {
				continue
			}
			for _, kind := range []string{r.Kind, r.ListKind} {
				name := kubeName(r.Group, kind)
				m := models.LookupModel(name)
				k, ok := m.(*kproto.Kind)
				if !ok {
					t.Errorf("%s: %s is %T, want a kind", key, name, m)
					continue
				}
				for _, f := range []string{"apiVersion", "kind", "metadata"} {
					if _, ok := k.Fields[f]; !ok {
						t.Errorf("%s: %s has no field %s", key, name, f)
					}
				}
				gvk := k.GetExtensions()["x-kubernetes-group-version-kind"]
				if gvk == nil {
					t.Errorf("%s: %s has no x-kubernetes-group-version-kind", key, name)
				}
			}
		}
	}
}

// kubeName is Kubernetes' schema name of a kind.
func kubeName(group, kind string) string {
	switch group {
	case "":
		return "io.k8s.api.core.v1." + kind
	case "coordination.k8s.io":
		return "io.k8s.api.coordination.v1." + kind
	}
	return "io.k8s.api." + group + ".v1." + kind
}

// supportsFieldValidation is kubectl's test (QueryParamVerifierV3) of whether the server
// validates fields itself for gvk: a PATCH operation of that kind lists fieldValidation.
func supportsFieldValidation(doc *spec3.OpenAPI, group, version, kind string) error {
	for _, p := range doc.Paths.Paths {
		op := p.Patch
		if op == nil {
			continue
		}
		gvk, ok := op.Extensions["x-kubernetes-group-version-kind"].(map[string]any)
		if !ok || gvk["group"] != group || gvk["version"] != version || gvk["kind"] != kind {
			continue
		}
		for _, param := range op.Parameters {
			if param.Name == "fieldValidation" && param.In == "query" {
				return nil
			}
		}
		return fmt.Errorf("PATCH of %s has no fieldValidation", kind)
	}
	return fmt.Errorf("no PATCH of %s/%s %s", group, version, kind)
}

func TestFieldValidationSupported(t *testing.T) {
	docs := documents(t, newHandler(t))
	for _, r := range scheme.All {
		var doc spec3.OpenAPI
		if err := json.Unmarshal(docs[groupVersionPath(r.Group, r.Version)], &doc); err != nil {
			t.Fatal(err)
		}
		if err := supportsFieldValidation(&doc, r.Group, r.Version, r.Kind); err != nil {
			t.Errorf("%s: %v", r.Kind, err)
		}
	}
}

func TestPaths(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		doc, path string
		methods   string // the operations, with their x-kubernetes-action
		gvk       string
		opID      string // of the first operation listed
	}{
		{"api/v1", "/api/v1/namespaces/{namespace}/pods", "get:list post:post", "/v1/Pod", "listCoreV1NamespacedPod"},
		{"api/v1", "/api/v1/pods", "get:list", "/v1/Pod", "listCoreV1PodForAllNamespaces"},
		{"api/v1", "/api/v1/namespaces/{namespace}/pods/{name}", "get:get put:put delete:delete patch:patch", "/v1/Pod", "readCoreV1NamespacedPod"},
		{"api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/status", "get:get put:put patch:patch", "/v1/Pod", "readCoreV1NamespacedPodStatus"},
		{"api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/binding", "post:post", "/v1/Binding", "createCoreV1NamespacedPodBinding"},
		{"api/v1", "/api/v1/nodes/{name}", "get:get put:put delete:delete patch:patch", "/v1/Node", "readCoreV1Node"},
		{"api/v1", "/api/v1/namespaces", "get:list post:post", "/v1/Namespace", "listCoreV1Namespace"},
		{"api/v1", "/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale", "get:get put:put patch:patch", "autoscaling/v1/Scale", "readCoreV1NamespacedReplicationControllerScale"},
		{"apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "get:get put:put patch:patch", "autoscaling/v1/Scale", "readAppsV1NamespacedDeploymentScale"},
		{"apis/apps/v1", "/apis/apps/v1/deployments", "get:list", "apps/v1/Deployment", "listAppsV1DeploymentForAllNamespaces"},
		{"apis/coordination.k8s.io/v1", "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}", "get:get put:put delete:delete patch:patch", "coordination.k8s.io/v1/Lease", "readCoordinationV1NamespacedLease"},
	}
	for _, tt := range tests {
		p := h.Document(tt.doc).Paths[tt.path]
		if p == nil {
			t.Errorf("%s: no %s", tt.doc, tt.path)
			continue
		}
		var got []string
		first := ""
		for _, m := range []struct {
			name string
			op   *Operation
		}{{"get", p.Get}, {"put", p.Put}, {"post", p.Post}, {"delete", p.Delete}, {"patch", p.Patch}} {
			if m.op == nil {
				continue
			}
			if first == "" {
				first = m.op.OperationID
			}
			got = append(got, m.name+":"+m.op.Action)
			g := m.op.GroupVersionKind
			if gvk := g.Group + "/" + g.Version + "/" + g.Kind; gvk != tt.gvk {
				t.Errorf("%s %s: gvk %s, want %s", m.name, tt.path, gvk, tt.gvk)
			}
		}
		if strings.Join(got, " ") != tt.methods || first != tt.opID {
			t.Errorf("%s: %s (%s), want %s (%s)", tt.path, strings.Join(got, " "), first, tt.methods, tt.opID)
		}
	}
	// No path for a subresource the services do not serve.
	for _, absent := range []string{"/api/v1/namespaces/{namespace}/pods/{name}/log", "/api/v1/namespaces/{namespace}/configmaps/{name}/status"} {
		if h.Document("api/v1").Paths[absent] != nil {
			t.Errorf("api/v1 has %s", absent)
		}
	}
	// Every subresource the services serve has a path.
	for _, r := range scheme.All {
		for _, s := range subresource.Of(r) {
			if s.Name == "log" || s.Name == "exec" {
				continue
			}
			found := false
			for path := range h.Document(groupVersionPath(r.Group, r.Version)).Paths {
				found = found || strings.HasSuffix(path, "/"+r.Plural+"/{name}/"+s.Name)
			}
			if !found {
				t.Errorf("no path for %s/%s", r.Plural, s.Name)
			}
		}
	}
}

// property walks a schema through properties, items ([]) and map values ({}), following
// references.
func property(t *testing.T, d *Document, schemaName, path string) *Schema {
	t.Helper()
	s := d.Components.Schemas[schemaName]
	if s == nil {
		t.Fatalf("no schema %s", schemaName)
	}
	var field *Schema
	for _, part := range strings.Split(path, ".") {
		s = resolve(t, d, s)
		switch part {
		case "[]":
			s = s.Items
		case "{}":
			s = s.AdditionalProperties
		default:
			s = s.Properties[part]
		}
		if s == nil {
			t.Fatalf("%s: no %s in %s", schemaName, part, path)
		}
		field = s
	}
	return field
}

func resolve(t *testing.T, d *Document, s *Schema) *Schema {
	t.Helper()
	for {
		switch {
		case s.Ref != "":
			s = d.Components.Schemas[strings.TrimPrefix(s.Ref, refPrefix)]
			if s == nil {
				t.Fatalf("dangling reference")
			}
		case len(s.AllOf) == 1 && s.Properties == nil:
			s = s.AllOf[0]
		default:
			return s
		}
	}
}

func refName(s *Schema) string {
	if len(s.AllOf) == 1 {
		return strings.TrimPrefix(s.AllOf[0].Ref, refPrefix)
	}
	return strings.TrimPrefix(s.Ref, refPrefix)
}

func TestSchemas(t *testing.T) {
	h := newHandler(t)
	const pod, deploy = "io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment"
	tests := []struct {
		doc, schema, path string
		typ, format, ref  string
		patch             string // patch strategy/merge key
		check             func(*Schema) bool
	}{
		{doc: "api/v1", schema: pod, path: "spec.containers", typ: "array", patch: "merge/name"},
		{doc: "api/v1", schema: pod, path: "spec.containers.[]", ref: "io.k8s.api.core.v1.Container"},
		{doc: "api/v1", schema: pod, path: "spec.containers.[].ports.[].containerPort", typ: "integer", format: "int32"},
		{doc: "api/v1", schema: pod, path: "spec.containers.[].ports", typ: "array", patch: "merge/containerPort"},
		{doc: "api/v1", schema: pod, path: "spec.containers.[].readinessProbe.httpGet.port", ref: intOrStringName},
		{doc: "api/v1", schema: pod, path: "spec.containers.[].resources.limits.{}", ref: quantityName},
		{doc: "api/v1", schema: pod, path: "spec.hostIPC", typ: "boolean"},
		{doc: "api/v1", schema: pod, path: "status.podIP", typ: "string"},
		{doc: "api/v1", schema: pod, path: "status.startTime", ref: timeName},
		{doc: "api/v1", schema: pod, path: "metadata.creationTimestamp", ref: timeName},
		{doc: "api/v1", schema: pod, path: "metadata.generation", typ: "integer", format: "int64"},
		{doc: "api/v1", schema: pod, path: "metadata.labels", typ: "object", check: func(s *Schema) bool { return s.AdditionalProperties.Type == "string" }},
		{doc: "api/v1", schema: pod, path: "kind", typ: "string"},
		{doc: "api/v1", schema: "io.k8s.api.core.v1.Event", path: "eventTime", ref: microTimeName},
		{doc: "api/v1", schema: "io.k8s.api.core.v1.Service", path: "spec.ports.[].targetPort", ref: intOrStringName},
		{doc: "api/v1", schema: "io.k8s.api.core.v1.Secret", path: "data.{}", typ: "string", format: "byte"},
		{doc: "api/v1", schema: "io.k8s.api.core.v1.PodList", path: "items.[]", ref: pod},
		{doc: "apis/apps/v1", schema: deploy, path: "spec.strategy.rollingUpdate.maxSurge", ref: intOrStringName},
		{doc: "apis/apps/v1", schema: deploy, path: "spec.replicas", typ: "integer", format: "int32"},
		{doc: "apis/apps/v1", schema: deploy, path: "spec.template.spec.containers.[]", ref: "io.k8s.api.core.v1.Container"},
		{doc: "apis/apps/v1", schema: "io.k8s.api.autoscaling.v1.Scale", path: "spec.replicas", typ: "integer", format: "int32"},
		{doc: "apis/coordination.k8s.io/v1", schema: "io.k8s.api.coordination.v1.Lease", path: "spec.renewTime", ref: microTimeName},
	}
	for _, tt := range tests {
		t.Run(tt.schema+"."+tt.path, func(t *testing.T) {
			d := h.Document(tt.doc)
			s := property(t, d, tt.schema, tt.path)
			if tt.typ != "" && (s.Type != tt.typ || s.Format != tt.format) {
				t.Errorf("type %s/%s, want %s/%s", s.Type, s.Format, tt.typ, tt.format)
			}
			if tt.ref != "" && refName(s) != tt.ref {
				t.Errorf("ref %q, want %s", refName(s), tt.ref)
			}
			if tt.patch != "" && s.PatchStrategy+"/"+s.PatchMergeKey != tt.patch {
				t.Errorf("patch %s/%s, want %s", s.PatchStrategy, s.PatchMergeKey, tt.patch)
			}
			if tt.check != nil && !tt.check(s) {
				t.Errorf("schema %+v", s)
			}
			if !strings.HasSuffix(tt.path, "[]") && !strings.HasSuffix(tt.path, "{}") && s.Description == "" {
				t.Errorf("no description")
			}
		})
	}
}

func TestRequired(t *testing.T) {
	d := newHandler(t).Document("api/v1")
	for name, want := range map[string][]string{
		"io.k8s.api.core.v1.Container":     {"name"},
		"io.k8s.api.core.v1.PodSpec":       {"containers"},
		"io.k8s.api.core.v1.PodList":       {"items"},
		"io.k8s.api.core.v1.ServicePort":   {"port"},
		"io.k8s.api.core.v1.ContainerPort": {"containerPort"},
		"io.k8s.api.core.v1.Pod":           nil,
	} {
		if got := d.Components.Schemas[name].Required; !reflect.DeepEqual(got, want) {
			t.Errorf("%s required %v, want %v", name, got, want)
		}
	}
}

// TestEveryFieldMirrorsKubernetes checks that every field of every message has a Kubernetes
// counterpart with the same JSON name: a field missing here is a typo in a json_name, or a
// Berth extension that would be published without documentation.
func TestEveryFieldMirrorsKubernetes(t *testing.T) {
	b, err := build(scheme.All, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.unmapped) > 0 {
		t.Errorf("fields with no Kubernetes counterpart: %v", b.unmapped)
	}
}

func TestEverySchemaDescribed(t *testing.T) {
	h := newHandler(t)
	for key, d := range h.json {
		for name, s := range d.Components.Schemas {
			if s.Description == "" {
				t.Errorf("%s: schema %s has no description", key, name)
			}
			if strings.HasPrefix(name, "dev.berth.") {
				t.Errorf("%s: schema %s has no Kubernetes name", key, name)
			}
		}
	}
}

func TestSplitCamel(t *testing.T) {
	for in, want := range map[string]string{"podCIDRs": "pod CIDRs", "hostIPC": "host IPC", "name": "name", "containerPort": "container Port", "podIP": "pod IP", "hostIPAddress": "host IP Address"} {
		if got := splitCamel(in); got != want {
			t.Errorf("splitCamel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHTTP(t *testing.T) {
	h := newHandler(t)
	current := serve(h, http.MethodGet, "/openapi/v3", nil)
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(current.Body.Bytes(), &index); err != nil {
		t.Fatal(err)
	}
	url := index.Paths["api/v1"].ServerRelativeURL
	etag := serve(h, http.MethodGet, url, nil).Header().Get("ETag")
	tests := []struct {
		name, method, target string
		header               http.Header
		code                 int
		location             string
	}{
		{"index", http.MethodGet, "/openapi/v3", nil, 200, ""},
		{"document without hash", http.MethodGet, "/openapi/v3/api/v1", nil, 200, ""},
		{"document with hash", http.MethodGet, url, nil, 200, ""},
		{"stale hash", http.MethodGet, "/openapi/v3/api/v1?hash=0123", nil, 301, url},
		{"not modified", http.MethodGet, url, http.Header{"If-None-Match": {etag}}, 304, ""},
		{"head", http.MethodHead, url, nil, 200, ""},
		{"unknown group", http.MethodGet, "/openapi/v3/apis/batch/v1", nil, 404, ""},
		{"v2", http.MethodGet, "/openapi/v2", nil, 404, ""},
		{"post", http.MethodPost, "/openapi/v3", nil, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, tt.method, tt.target, tt.header)
			if rec.Code != tt.code {
				t.Fatalf("%d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.location != "" && rec.Header().Get("Location") != tt.location {
				t.Errorf("Location %q, want %q", rec.Header().Get("Location"), tt.location)
			}
			if tt.code >= 400 && !strings.Contains(rec.Body.String(), `"kind":"Status"`) {
				t.Errorf("error body %s", rec.Body)
			}
			if tt.method == http.MethodHead && rec.Body.Len() != 0 {
				t.Errorf("HEAD wrote a body")
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
