package discovery

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"github.com/berth-dev/berth/pkg/scheme"
)

const (
	aggregatedV2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	// kubectlAccept is what kubectl v1.32 sends for /api and /apis.
	kubectlAccept = aggregatedV2 + ",application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New(Options{Version: "v0.3.0-dev+abc"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get sends a request and decodes the JSON answer strictly into out.
func get(t *testing.T, h http.Handler, method, path, accept string, out any) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(out); err != nil {
			t.Fatalf("%s %s: decoding %T: %v\n%s", method, path, out, err, rec.Body.Bytes())
		}
	}
	return rec
}

func TestVersion(t *testing.T) {
	var info version.Info
	rec := get(t, newHandler(t), http.MethodGet, "/version", "", &info)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if info.Major != "1" || info.Minor != "32" || info.GitVersion != "v1.32.3+berth.v0.3.0-dev-abc" || info.GoVersion == "" || info.Platform == "" {
		t.Errorf("version %+v", info)
	}
}

func TestBuildMetadata(t *testing.T) {
	for in, want := range map[string]string{"v1.2.3": "v1.2.3", "dev": "dev", "": "", "a/b c": "a-b-c", ".x.": "x", "+v1": "v1"} {
		if got := buildMetadata(in); got != want {
			t.Errorf("buildMetadata(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLegacyDocuments(t *testing.T) {
	h := newHandler(t)

	var api kmetav1.APIVersions
	get(t, h, http.MethodGet, "/api", "application/json", &api)
	if api.Kind != "APIVersions" || !reflect.DeepEqual(api.Versions, []string{"v1"}) {
		t.Errorf("/api: %+v", api)
	}

	var apis kmetav1.APIGroupList
	get(t, h, http.MethodGet, "/apis", "application/json", &apis)
	var names []string
	for _, g := range apis.Groups {
		names = append(names, g.Name)
		want := kmetav1.GroupVersionForDiscovery{GroupVersion: g.Name + "/v1", Version: "v1"}
		if g.PreferredVersion != want || !reflect.DeepEqual(g.Versions, []kmetav1.GroupVersionForDiscovery{want}) {
			t.Errorf("group %s: %+v", g.Name, g)
		}
	}
	if got := strings.Join(names, ","); got != "apps,coordination.k8s.io" || apis.Kind != "APIGroupList" || apis.APIVersion != "v1" {
		t.Errorf("/apis: %s %+v", got, apis.TypeMeta)
	}

	var apps kmetav1.APIGroup
	get(t, h, http.MethodGet, "/apis/apps", "", &apps)
	if apps.Kind != "APIGroup" || apps.Name != "apps" || apps.PreferredVersion.GroupVersion != "apps/v1" {
		t.Errorf("/apis/apps: %+v", apps)
	}
}

func resourcesOf(t *testing.T, h http.Handler, path string) map[string]kmetav1.APIResource {
	t.Helper()
	var l kmetav1.APIResourceList
	get(t, h, http.MethodGet, path, "application/json", &l)
	if l.Kind != "APIResourceList" || l.APIVersion != "v1" {
		t.Errorf("%s: %+v", path, l.TypeMeta)
	}
	m := map[string]kmetav1.APIResource{}
	for i, r := range l.APIResources {
		if i > 0 && l.APIResources[i-1].Name >= r.Name {
			t.Errorf("%s: %s listed after %s", path, r.Name, l.APIResources[i-1].Name)
		}
		m[r.Name] = r
	}
	return m
}

func TestResourceLists(t *testing.T) {
	h := newHandler(t)
	all := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	tests := []struct {
		path string
		want kmetav1.APIResource
	}{
		{"/api/v1", kmetav1.APIResource{Name: "pods", SingularName: "pod", Namespaced: true, Kind: "Pod", Verbs: all, ShortNames: []string{"po"}, Categories: []string{"all"}}},
		{"/api/v1", kmetav1.APIResource{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: []string{"get", "patch", "update"}}},
		{"/api/v1", kmetav1.APIResource{Name: "pods/binding", Namespaced: true, Kind: "Binding", Verbs: []string{"create"}}},
		{"/api/v1", kmetav1.APIResource{Name: "pods/log", Namespaced: true, Kind: "Pod", Verbs: []string{"get"}}},
		{"/api/v1", kmetav1.APIResource{Name: "pods/exec", Namespaced: true, Kind: "PodExecOptions", Verbs: []string{"create", "get"}}},
		{"/api/v1", kmetav1.APIResource{Name: "services", SingularName: "service", Namespaced: true, Kind: "Service", Verbs: all, ShortNames: []string{"svc"}, Categories: []string{"all"}}},
		{"/api/v1", kmetav1.APIResource{Name: "namespaces", SingularName: "namespace", Kind: "Namespace", Verbs: all, ShortNames: []string{"ns"}}},
		{"/api/v1", kmetav1.APIResource{Name: "nodes", SingularName: "node", Kind: "Node", Verbs: all, ShortNames: []string{"no"}}},
		{"/api/v1", kmetav1.APIResource{Name: "secrets", SingularName: "secret", Namespaced: true, Kind: "Secret", Verbs: all}},
		{"/api/v1", kmetav1.APIResource{Name: "replicationcontrollers/scale", Namespaced: true, Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: []string{"get", "patch", "update"}}},
		{"/apis/apps/v1", kmetav1.APIResource{Name: "deployments", SingularName: "deployment", Namespaced: true, Kind: "Deployment", Verbs: all, ShortNames: []string{"deploy"}, Categories: []string{"all"}}},
		{"/apis/apps/v1", kmetav1.APIResource{Name: "deployments/status", Namespaced: true, Kind: "Deployment", Verbs: []string{"get", "patch", "update"}}},
		{"/apis/apps/v1", kmetav1.APIResource{Name: "deployments/scale", Namespaced: true, Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: []string{"get", "patch", "update"}}},
		{"/apis/apps/v1", kmetav1.APIResource{Name: "replicasets", SingularName: "replicaset", Namespaced: true, Kind: "ReplicaSet", Verbs: all, ShortNames: []string{"rs"}, Categories: []string{"all"}}},
		{"/apis/coordination.k8s.io/v1", kmetav1.APIResource{Name: "leases", SingularName: "lease", Namespaced: true, Kind: "Lease", Verbs: all}},
	}
	lists := map[string]map[string]kmetav1.APIResource{}
	for _, tt := range tests {
		if lists[tt.path] == nil {
			lists[tt.path] = resourcesOf(t, h, tt.path)
		}
		got, ok := lists[tt.path][tt.want.Name]
		if !ok {
			t.Errorf("%s: no %s", tt.path, tt.want.Name)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", tt.path, tt.want.Name, got, tt.want)
		}
	}
	// Not served: no status for kinds without UpdateStatus.
	for _, absent := range []string{"configmaps/status", "events/status", "endpoints/scale"} {
		if _, ok := lists["/api/v1"][absent]; ok {
			t.Errorf("/api/v1 lists %s", absent)
		}
	}
}

// TestEveryResourceListed checks that every resource of the scheme is in its group
// version's list, with its kind and scope.
func TestEveryResourceListed(t *testing.T) {
	h := newHandler(t)
	for _, r := range scheme.All {
		path := "/apis/" + r.APIVersion()
		if r.Group == "" {
			path = "/api/" + r.Version
		}
		got, ok := resourcesOf(t, h, path)[r.Plural]
		if !ok || got.Kind != r.Kind || got.Namespaced != r.Namespaced || got.SingularName != r.Singular {
			t.Errorf("%s in %s: %+v", r.Kind, path, got)
		}
	}
}

func TestAggregated(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name, path, accept string
		aggregated         bool
	}{
		{"kubectl /api", "/api", kubectlAccept, true},
		{"kubectl /apis", "/apis", kubectlAccept, true},
		{"v2 only", "/apis", aggregatedV2, true},
		{"protobuf aggregated first", "/apis", "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," + kubectlAccept, true},
		{"v2beta1 only: plain", "/apis", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", false},
		{"json first", "/apis", "application/json," + aggregatedV2, false},
		{"protobuf then json", "/api", "application/vnd.kubernetes.protobuf,application/json", false},
		{"resource list never aggregated", "/api/v1", kubectlAccept, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			r.Header.Set("Accept", tt.accept)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				t.Fatalf("code %d: %s", rec.Code, rec.Body)
			}
			ct := rec.Header().Get("Content-Type")
			if tt.aggregated != (ct == aggregatedV2) {
				t.Fatalf("Content-Type %q, aggregated want %v", ct, tt.aggregated)
			}
			if !tt.aggregated {
				if ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				return
			}
			var l apidiscoveryv2.APIGroupDiscoveryList
			dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&l); err != nil {
				t.Fatal(err)
			}
			if l.Kind != "APIGroupDiscoveryList" || l.APIVersion != "apidiscovery.k8s.io/v2" || len(l.Items) == 0 {
				t.Fatalf("%+v", l)
			}
		})
	}
}

func TestAggregatedContent(t *testing.T) {
	h := newHandler(t)
	var core, apis apidiscoveryv2.APIGroupDiscoveryList
	get(t, h, http.MethodGet, "/api", kubectlAccept, &core)
	get(t, h, http.MethodGet, "/apis", kubectlAccept, &apis)
	if len(core.Items) != 1 || core.Items[0].Name != "" || core.Items[0].Versions[0].Version != "v1" {
		t.Fatalf("/api: %+v", core.Items)
	}
	var pods *apidiscoveryv2.APIResourceDiscovery
	for i, r := range core.Items[0].Versions[0].Resources {
		if r.Resource == "pods" {
			pods = &core.Items[0].Versions[0].Resources[i]
		}
	}
	if pods == nil || pods.Scope != apidiscoveryv2.ScopeNamespace || pods.SingularResource != "pod" || pods.ResponseKind.Kind != "Pod" ||
		!reflect.DeepEqual(pods.ShortNames, []string{"po"}) || !reflect.DeepEqual(pods.Categories, []string{"all"}) {
		t.Fatalf("pods: %+v", pods)
	}
	var subs []string
	for _, s := range pods.Subresources {
		subs = append(subs, s.Subresource+":"+s.ResponseKind.Kind)
	}
	if got := strings.Join(subs, ","); got != "binding:Binding,exec:PodExecOptions,log:Pod,status:Pod" {
		t.Errorf("pods subresources %s", got)
	}
	var groups []string
	for _, g := range apis.Items {
		groups = append(groups, g.Name)
		if g.Versions[0].Freshness != apidiscoveryv2.DiscoveryFreshnessCurrent {
			t.Errorf("%s: freshness %q", g.Name, g.Versions[0].Freshness)
		}
		for _, r := range g.Versions[0].Resources {
			if r.Resource != "deployments" {
				continue
			}
			if len(r.Subresources) != 2 || r.Subresources[0].Subresource != "scale" ||
				*r.Subresources[0].ResponseKind != (kmetav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}) {
				t.Errorf("deployments subresources %+v", r.Subresources)
			}
		}
	}
	if got := strings.Join(groups, ","); got != "apps,coordination.k8s.io" {
		t.Errorf("/apis groups %s", got)
	}
}

func TestHTTP(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name, method, path, ifNoneMatch string
		code                            int
		body                            bool
	}{
		{"get", http.MethodGet, "/api/v1", "", 200, true},
		{"trailing slash", http.MethodGet, "/apis/apps/v1/", "", 200, true},
		{"head", http.MethodHead, "/apis", "", 200, false},
		{"not modified", http.MethodGet, "/api/v1", "etag", 304, false},
		{"stale etag", http.MethodGet, "/api/v1", `"other"`, 200, true},
		{"unknown group", http.MethodGet, "/apis/batch/v1", "", 404, true},
		{"post", http.MethodPost, "/api", "", 405, true},
	}
	etag := get(t, h, http.MethodGet, "/api/v1", "", nil).Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.ifNoneMatch == "etag" {
				r.Header.Set("If-None-Match", etag)
			} else if tt.ifNoneMatch != "" {
				r.Header.Set("If-None-Match", tt.ifNoneMatch)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.code || (rec.Body.Len() > 0) != tt.body {
				t.Fatalf("%d with %d bytes, want %d (body %v): %s", rec.Code, rec.Body.Len(), tt.code, tt.body, rec.Body)
			}
			if tt.code >= 400 {
				var st kmetav1.Status
				if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Kind != "Status" || st.Code != int32(tt.code) {
					t.Errorf("error body %s", rec.Body)
				}
			}
		})
	}
}

func TestPaths(t *testing.T) {
	want := []string{"/version", "/api/v1", "/apis/apps", "/apis/apps/v1", "/apis/coordination.k8s.io", "/apis/coordination.k8s.io/v1", "/api", "/apis"}
	if got := newHandler(t).Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v, want %v", got, want)
	}
}
