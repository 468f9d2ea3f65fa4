package dns

import (
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		name         string
		want         query
		inDomain, ok bool
	}{
		{"web.default.svc.cluster.local.", query{kind: kindService, namespace: "default", service: "web"}, true, true},
		{"web-0.web.prod.svc.cluster.local.", query{kind: kindEndpoint, namespace: "prod", service: "web", host: "web-0"}, true, true},
		{"_http._tcp.web.default.svc.cluster.local.", query{kind: kindPort, namespace: "default", service: "web", port: "http", protocol: "tcp"}, true, true},
		{"cluster.local.", query{kind: kindNone}, true, true},
		{"svc.cluster.local.", query{kind: kindNone}, true, true},
		{"default.svc.cluster.local.", query{kind: kindNone, namespace: "default"}, true, true},
		{"web.default.pod.cluster.local.", query{}, true, false},
		{"a.b.c.d.e.f.svc.cluster.local.", query{}, true, false},
		{"_tcp.web.default.svc.cluster.local.", query{}, true, false},
		{"http._tcp.web.default.svc.cluster.local.", query{}, true, false},
		{"_._tcp.web.default.svc.cluster.local.", query{}, true, false},
		{"web..svc.cluster.local.", query{}, true, false},
		{"example.com.", query{}, false, false},
		{"notcluster.local.", query{}, false, false},
		{"local.", query{}, false, false},
		{".", query{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, inDomain, ok := parseName(tt.name, "cluster.local")
			if q != tt.want || inDomain != tt.inDomain || ok != tt.ok {
				t.Fatalf("parseName(%q) = %+v, %v, %v; want %+v, %v, %v", tt.name, q, inDomain, ok, tt.want, tt.inDomain, tt.ok)
			}
			if ok && q.kind != kindNone {
				if got := q.name("cluster.local"); got != tt.name {
					t.Fatalf("name() = %q, want %q", got, tt.name)
				}
			}
		})
	}
}

// FuzzParseName: parsing never panics, and a name parsed as a record name is rebuilt
// exactly from its parts.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"web.default.svc.cluster.local.", "_http._tcp.web.default.svc.cluster.local.",
		"web-0.web.default.svc.cluster.local.", "cluster.local.", "..cluster.local.", "example.com.", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		q, inDomain, ok := parseName(name, "cluster.local")
		if ok && !inDomain {
			t.Fatalf("%q: ok outside the domain", name)
		}
		if !ok || q.kind == kindNone {
			return
		}
		if got := q.name("cluster.local"); got != strings.TrimSuffix(name, ".")+"." {
			t.Fatalf("%q parsed as %+v, rebuilt as %q", name, q, got)
		}
	})
}
