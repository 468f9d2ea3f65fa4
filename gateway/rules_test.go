package gateway

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/berth-dev/berth/pkg/scheme"
)

type httpRule struct {
	Selector           string     `json:"selector"`
	Get                string     `json:"get"`
	Post               string     `json:"post"`
	Put                string     `json:"put"`
	Delete             string     `json:"delete"`
	Patch              string     `json:"patch"`
	Body               string     `json:"body"`
	AdditionalBindings []httpRule `json:"additional_bindings"`
}

// binding is one HTTP binding of a gRPC method: "GET /api/v1/namespaces/{namespace}/pods
// berth.core.v1.PodService.List".
func (r httpRule) bindings(selector string) []string {
	var out []string
	for m, p := range map[string]string{"GET": r.Get, "POST": r.Post, "PUT": r.Put, "DELETE": r.Delete, "PATCH": r.Patch} {
		if p != "" {
			body := ""
			if r.Body != "" {
				body = " body=" + r.Body
			}
			out = append(out, m+" "+p+" "+selector+body)
		}
	}
	for _, ab := range r.AdditionalBindings {
		out = append(out, ab.bindings(selector)...)
	}
	return out
}

// expectedBindings is what proto/gateway.yaml must say, derived from pkg/scheme: Kubernetes'
// paths for every method of every resource (Watch is served by the gateway's own handler).
func expectedBindings() []string {
	var out []string
	for _, r := range scheme.All {
		svc := strings.TrimPrefix(r.Method(""), "/")
		svc = strings.TrimSuffix(svc, "/") + "."
		coll, obj, wcoll, wobj := prefix(r)+"/"+r.Plural, "", "", ""
		if r.Namespaced {
			coll = prefix(r) + "/namespaces/{namespace}/" + r.Plural
			wcoll = prefix(r) + "/namespaces/{metadata.namespace}/" + r.Plural
			out = append(out, "GET "+prefix(r)+"/"+r.Plural+" "+svc+"List")
		} else {
			wcoll = coll
		}
		obj, wobj = coll+"/{name}", wcoll+"/{metadata.name}"
		out = append(out,
			"GET "+obj+" "+svc+"Get",
			"GET "+coll+" "+svc+"List",
			"POST "+wcoll+" "+svc+"Create body=*",
			"PUT "+wobj+" "+svc+"Update body=*",
			"DELETE "+obj+" "+svc+"Delete",
		)
		if r.HasStatus {
			out = append(out, "GET "+obj+"/status "+svc+"Get", "PUT "+wobj+"/status "+svc+"UpdateStatus body=*")
		}
		if r.HasScale {
			out = append(out, "GET "+obj+"/scale "+svc+"GetScale", "PUT "+wobj+"/scale "+svc+"UpdateScale body=*")
		}
		if r == scheme.Pods {
			out = append(out, "POST "+wobj+"/binding "+svc+"Bind body=*")
		}
	}
	sort.Strings(out)
	return out
}

func readRules(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../proto/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Type          string `json:"type"`
		ConfigVersion int    `json:"config_version"`
		HTTP          struct {
			Rules []httpRule `json:"rules"`
		} `json:"http"`
	}
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range cfg.HTTP.Rules {
		out = append(out, r.bindings(r.Selector)...)
	}
	sort.Strings(out)
	return out
}

// TestRulesCoverEveryMethod checks proto/gateway.yaml against pkg/scheme: every method of
// every resource on Kubernetes' paths, nothing else.
func TestRulesCoverEveryMethod(t *testing.T) {
	got, want := readRules(t), expectedBindings()
	gotSet := map[string]bool{}
	for _, b := range got {
		gotSet[b] = true
	}
	wantSet := map[string]bool{}
	for _, b := range want {
		wantSet[b] = true
		if !gotSet[b] {
			t.Errorf("proto/gateway.yaml lacks %s", b)
		}
	}
	for _, b := range got {
		if !wantSet[b] {
			t.Errorf("proto/gateway.yaml has unexpected %s", b)
		}
	}
}

var pathVar = regexp.MustCompile(`\{[^}]*\}`)

// TestRulesAgreeWithRoutes checks that every path of the rules is one parseRoute reads as the
// same resource, so that the gateway's own handling (bodies, watches, tables) applies to
// exactly the paths the generated handlers serve.
func TestRulesAgreeWithRoutes(t *testing.T) {
	for _, b := range readRules(t) {
		fields := strings.Fields(b)
		method, tmpl, selector := fields[0], fields[1], fields[2]
		path := pathVar.ReplaceAllStringFunc(tmpl, func(v string) string {
			if strings.Contains(v, "namespace") {
				return "ns1"
			}
			return "obj1"
		})
		rt, ok := parseRoute(path)
		if !ok {
			t.Errorf("%s: parseRoute(%q) failed", b, path)
			continue
		}
		if !strings.HasPrefix(selector, rt.res.Service+".") {
			t.Errorf("%s: route resource %s", b, rt.res.Kind)
		}
		wantName := strings.Contains(tmpl, "name}")
		if (rt.name == "obj1") != wantName {
			t.Errorf("%s: route name %q", b, rt.name)
		}
		if rt.res.Namespaced && strings.Contains(tmpl, "/namespaces/{") && rt.namespace != "ns1" {
			t.Errorf("%s: route namespace %q", b, rt.namespace)
		}
		switch method {
		case "POST", "PUT":
			if !writable(method, rt) {
				t.Errorf("%s: not writable", b)
			}
		}
	}
}
