package gateway

import (
	"testing"

	"github.com/berth-dev/berth/pkg/scheme"
)

func TestParseRoute(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
		want route
	}{
		{"/api/v1/namespaces/default/pods", true, route{res: scheme.Pods, namespace: "default"}},
		{"/api/v1/pods", true, route{res: scheme.Pods}},
		{"/api/v1/namespaces/default/pods/web", true, route{res: scheme.Pods, namespace: "default", name: "web"}},
		{"/api/v1/namespaces/default/pods/web/status", true, route{res: scheme.Pods, namespace: "default", name: "web", sub: "status"}},
		{"/api/v1/namespaces/default/pods/web/binding", true, route{res: scheme.Pods, namespace: "default", name: "web", sub: "binding"}},
		{"/api/v1/namespaces", true, route{res: scheme.Namespaces}},
		{"/api/v1/namespaces/default", true, route{res: scheme.Namespaces, name: "default"}},
		{"/api/v1/namespaces/default/status", true, route{res: scheme.Namespaces, name: "default", sub: "status"}},
		{"/api/v1/nodes/n1/status", true, route{res: scheme.Nodes, name: "n1", sub: "status"}},
		{"/apis/apps/v1/namespaces/ns/deployments/d/scale", true, route{res: scheme.Deployments, namespace: "ns", name: "d", sub: "scale"}},
		{"/apis/apps/v1/deployments", true, route{res: scheme.Deployments}},
		{"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", true, route{res: scheme.Leases, namespace: "kube-node-lease", name: "n1"}},
		{"/api/v1/watch/namespaces/default/pods", true, route{res: scheme.Pods, namespace: "default", watchPath: true}},
		{"/api/v1/watch/namespaces/default/pods/web", true, route{res: scheme.Pods, namespace: "default", name: "web", watchPath: true}},
		{"/api/v1/watch/pods", true, route{res: scheme.Pods, watchPath: true}},
		{"/apis/apps/v1/watch/deployments", true, route{res: scheme.Deployments, watchPath: true}},
		{"/api/v1/namespaces/watch", true, route{res: scheme.Namespaces, name: "watch"}},
		{"/api/v1/watch/namespaces/default/pods/web/status", false, route{}},
		{"/api/v1/pods/web", false, route{}},
		{"/api/v1/namespaces/default/nodes", false, route{}},
		{"/api/v1/namespaces/default/configmaps/c/status", false, route{}},
		{"/api/v1/namespaces/default/pods/web/scale", false, route{}},
		{"/api/v1/namespaces/default/pods/web/log", true, route{res: scheme.Pods, namespace: "default", name: "web", sub: "log"}},
		{"/api/v1/namespaces/default/pods/web/exec", false, route{}},
		{"/api/v1/namespaces/default/configmaps/c/log", false, route{}},
		{"/api/v1/namespaces/default/pods/web/status/x", false, route{}},
		{"/api/v1/namespaces/default/deployments", false, route{}},
		{"/apis/apps/v2/deployments", false, route{}},
		{"/api/v1/namespaces//pods", false, route{}},
		{"/api/v1/pods/", false, route{}},
		{"/api/v1", false, route{}},
		{"/apis/apps/v1", false, route{}},
		{"/version", false, route{}},
		{"/", false, route{}},
	}
	for _, tt := range tests {
		got, ok := parseRoute(tt.path)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseRoute(%q) = %+v, %v; want %+v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsDiscoveryPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/version": true, "/api": true, "/api/": true, "/apis": true, "/api/v1": true, "/apis/apps": true,
		"/apis/apps/v1": true, "/apis/apps/v1/": true, "/api/v1/pods": false, "/healthz": false, "/apis//v1": false,
	} {
		if got := isDiscoveryPath(p); got != want {
			t.Errorf("isDiscoveryPath(%q) = %v", p, got)
		}
	}
}
