package patch

import (
	"net/http"
	"strings"
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/scheme"
)

func TestParsePath(t *testing.T) {
	cases := []struct {
		path string
		want Target
		code int32 // 0: success
	}{
		{"/api/v1/namespaces/default/pods/web", Target{scheme.Pods, "default", "web", ""}, 0},
		{"/api/v1/namespaces/default/pods/web/status", Target{scheme.Pods, "default", "web", "status"}, 0},
		{"/apis/apps/v1/namespaces/prod/deployments/api", Target{scheme.Deployments, "prod", "api", ""}, 0},
		{"/apis/apps/v1/namespaces/prod/deployments/api/scale", Target{scheme.Deployments, "prod", "api", "scale"}, 0},
		{"/apis/apps/v1/namespaces/prod/replicasets/api-1/status", Target{scheme.ReplicaSets, "prod", "api-1", "status"}, 0},
		{"/api/v1/namespaces/default/replicationcontrollers/rc/scale", Target{scheme.ReplicationControllers, "default", "rc", "scale"}, 0},
		{"/api/v1/namespaces/default/services/svc", Target{scheme.Services, "default", "svc", ""}, 0},
		{"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l", Target{scheme.Leases, "kube-system", "l", ""}, 0},
		{"/api/v1/nodes/n1", Target{scheme.Nodes, "", "n1", ""}, 0},
		{"/api/v1/nodes/n1/status", Target{scheme.Nodes, "", "n1", "status"}, 0},
		{"/api/v1/namespaces/team-a", Target{scheme.Namespaces, "", "team-a", ""}, 0},
		{"/api/v1/namespaces/team-a/status", Target{scheme.Namespaces, "", "team-a", "status"}, 0},
		// A namespace may be called like a resource.
		{"/api/v1/namespaces/pods/pods/p", Target{scheme.Pods, "pods", "p", ""}, 0},

		// Collections cannot be patched.
		{"/api/v1/namespaces/default/pods", Target{}, http.StatusMethodNotAllowed},
		{"/api/v1/nodes", Target{}, http.StatusMethodNotAllowed},
		{"/api/v1/namespaces", Target{}, http.StatusMethodNotAllowed},
		{"/apis/apps/v1/namespaces/prod/deployments", Target{}, http.StatusMethodNotAllowed},

		// Not found: unknown groups, versions, resources, subresources; wrong scope.
		{"/api/v2/namespaces/default/pods/web", Target{}, http.StatusNotFound},
		{"/apis/apps/v2/namespaces/default/deployments/d", Target{}, http.StatusNotFound},
		{"/apis/extensions/v1/namespaces/default/deployments/d", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/deployments/d", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/widgets/w", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/pods/web/scale", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/pods/web/log", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/configmaps/c/status", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/pods/web/status/extra", Target{}, http.StatusNotFound},
		{"/api/v1/pods/web", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/nodes/n1", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/team-a/finalize", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces//pods/web", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/pods/web/", Target{}, http.StatusNotFound},
		{"/api/v1/namespaces/default/pods//status", Target{}, http.StatusNotFound},
		{"/api", Target{}, http.StatusNotFound},
		{"/api/v1", Target{}, http.StatusNotFound},
		{"/apis/apps", Target{}, http.StatusNotFound},
		{"/apis//v1/deployments/x", Target{}, http.StatusNotFound},
		{"/healthz", Target{}, http.StatusNotFound},
		{"", Target{}, http.StatusNotFound},
		{"/", Target{}, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			got, err := ParsePath(tc.path)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("ParsePath: %v", err)
				}
				if got != tc.want {
					t.Errorf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			var se *kerrors.StatusError
			if err == nil || !asStatus(err, &se) || se.ErrStatus.Code != tc.code {
				t.Fatalf("got %+v, %v; want a Status with code %d", got, err, tc.code)
			}
		})
	}
}

// FuzzParsePath checks that any path either parses into a target whose canonical path reads
// back the same, or is a 404/405 Status.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"/api/v1/namespaces/default/pods/web", "/api/v1/namespaces/default/pods/web/status",
		"/apis/apps/v1/namespaces/p/deployments/d/scale", "/api/v1/nodes/n", "/api/v1/namespaces/x/status",
		"/api/v1/namespaces/default/pods", "/apis//v1", "//", "/api/v1/namespaces/a/b/c/d/e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tg, err := ParsePath(path)
		if err != nil {
			var se *kerrors.StatusError
			if !asStatus(err, &se) || (se.ErrStatus.Code != http.StatusNotFound && se.ErrStatus.Code != http.StatusMethodNotAllowed) {
				t.Fatalf("ParsePath(%q): %v", path, err)
			}
			return
		}
		if tg.Resource == nil || tg.Name == "" || (tg.Namespace == "") == tg.Resource.Namespaced {
			t.Fatalf("ParsePath(%q) = %+v", path, tg)
		}
		again, err := ParsePath(canonical(tg))
		if err != nil || again != tg {
			t.Fatalf("ParsePath(%q) = %+v, but its canonical path %q reads %+v, %v", path, tg, canonical(tg), again, err)
		}
	})
}

func canonical(t Target) string {
	parts := []string{"/api", "v1"}
	if t.Resource.Group != "" {
		parts = []string{"/apis", t.Resource.Group, t.Resource.Version}
	}
	if t.Namespace != "" {
		parts = append(parts, "namespaces", t.Namespace)
	}
	parts = append(parts, t.Resource.Plural, t.Name)
	if t.Subresource != "" {
		parts = append(parts, t.Subresource)
	}
	return strings.Join(parts, "/")
}
