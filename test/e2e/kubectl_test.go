//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	kappsv1 "k8s.io/api/apps/v1"
	kcorev1 "k8s.io/api/core/v1"

	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// These tests drive the stock kubectl against the REST gateway of a real `berth server`
// (issue 3): discovery, OpenAPI (explain, server-side field validation), Tables for get, and
// every verb kubectl uses for a day's work.

const kubectlBase = `apiVersion: v1
kind: Namespace
metadata:
  name: kshop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: kshop
  labels:
    app: web
data:
  GREETING: hello
`

const kubectlApps = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: kshop
  labels:
    app: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: berth-testapp:latest
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: kshop
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: probe
  namespace: kshop
  labels:
    app: probe
spec:
  containers:
  - name: app
    image: berth-testapp:latest
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: kshop
data:
  password: czNjcmV0
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: leader
  namespace: kshop
spec:
  holderIdentity: web-1
  leaseDurationSeconds: 15
`

// header returns the first line of a kubectl table, its columns separated by single spaces.
func header(table string) string {
	first, _, _ := strings.Cut(table, "\n")
	return strings.Join(strings.Fields(first), " ")
}

// row returns the line of a kubectl table whose first cell is name, single-spaced, or "".
func row(table, name string) string {
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return strings.Join(f, " ")
		}
	}
	return ""
}

// decodeStrict decodes kubectl's -o json into a k8s.io/api type, failing on any field the
// type does not have.
func decodeStrict(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T: %v\n%s", v, err, out)
	}
}

func TestKubectl(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	k := srv.Kubectl(t)

	t.Run("version and discovery", func(t *testing.T) {
		var v struct {
			ServerVersion struct {
				Major, Minor, GitVersion string
			} `json:"serverVersion"`
		}
		if err := json.Unmarshal([]byte(k.Run(t, "version", "-o", "json")), &v); err != nil {
			t.Fatal(err)
		}
		if v.ServerVersion.Major != "1" || !strings.HasPrefix(v.ServerVersion.GitVersion, "v1.") {
			t.Errorf("server version %+v", v.ServerVersion)
		}
		res := k.Run(t, "api-resources")
		for _, want := range []string{
			"pods po v1 true Pod", "deployments deploy apps/v1 true Deployment", "services svc v1 true Service",
			"namespaces ns v1 false Namespace", "leases coordination.k8s.io/v1 true Lease",
		} {
			if !strings.Contains(strings.Join(strings.Fields(res), " "), want) {
				t.Errorf("api-resources lacks %q:\n%s", want, res)
			}
		}
		if all := k.Run(t, "api-resources", "--categories=all", "-o", "name"); strings.Join(strings.Fields(all), " ") != "pods replicationcontrollers services deployments.apps replicasets.apps" {
			t.Errorf("category all: %s", all)
		}
	})

	t.Run("create and apply", func(t *testing.T) {
		out := k.RunStdin(t, kubectlBase, "create", "-f", "-")
		if !strings.Contains(out, "namespace/kshop created") || !strings.Contains(out, "configmap/web-config created") {
			t.Errorf("create:\n%s", out)
		}
		out = k.RunStdin(t, kubectlApps, "apply", "-f", "-")
		for _, want := range []string{"deployment.apps/web created", "service/web created", "pod/probe created", "secret/creds created", "lease.coordination.k8s.io/leader created"} {
			if !strings.Contains(out, want) {
				t.Errorf("apply lacks %q:\n%s", want, out)
			}
		}
		if out := k.RunStdin(t, kubectlApps, "apply", "-f", "-"); strings.Count(out, "unchanged") != 5 {
			t.Errorf("second apply should leave all 5 unchanged:\n%s", out)
		}
		changed := strings.Replace(kubectlApps, "replicas: 1", "replicas: 2", 1)
		if out := k.RunStdin(t, changed, "apply", "-f", "-"); !strings.Contains(out, "deployment.apps/web configured") {
			t.Errorf("apply of a changed manifest:\n%s", out)
		}
		if got := k.Run(t, "get", "deploy", "web", "-n", "kshop", "-o", "jsonpath={.spec.replicas}"); got != "2" {
			t.Errorf("replicas after apply: %q", got)
		}
	})

	t.Run("validation", func(t *testing.T) {
		cases := []struct{ name, manifest, want string }{
			{"unknown field", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: kshop\nspec:\n  containers:\n  - name: a\n    imagee: x\n", `unknown field "spec.containers[0].imagee"`},
			{"invalid name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  namespace: kshop\n", `metadata.name: Invalid value: "Bad_Name"`},
		}
		for _, tc := range cases {
			for _, verb := range []string{"create", "apply"} {
				r := k.Exec(t, tc.manifest, verb, "-f", "-")
				if r.ExitCode == 0 || !strings.Contains(r.Stderr, tc.want) {
					t.Errorf("%s %s: exit %d, want an error naming %q:\n%s", verb, tc.name, r.ExitCode, tc.want, r.Stderr)
				}
			}
		}
		if r := k.Exec(t, "", "get", "pod", "nope", "-n", "kshop"); r.ExitCode == 0 || !strings.Contains(r.Stderr, `Error from server (NotFound): pods "nope" not found`) {
			t.Errorf("get of a missing pod: %+v", r)
		}
	})

	t.Run("get tables", func(t *testing.T) {
		tests := []struct {
			args   []string
			header string
			name   string // a row that must be there
		}{
			{[]string{"get", "pods", "-n", "kshop"}, "NAME READY STATUS RESTARTS AGE", "probe"},
			{[]string{"get", "pods", "-n", "kshop", "-o", "wide"}, "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES", "probe"},
			{[]string{"get", "pods", "-A"}, "NAMESPACE NAME READY STATUS RESTARTS AGE", "kshop"},
			{[]string{"get", "pods", "-n", "kshop", "--show-labels"}, "NAME READY STATUS RESTARTS AGE LABELS", "probe"},
			{[]string{"get", "pods", "-n", "kshop", "--sort-by=.metadata.name"}, "NAME READY STATUS RESTARTS AGE", "probe"},
			{[]string{"get", "deploy", "-n", "kshop"}, "NAME READY UP-TO-DATE AVAILABLE AGE", "web"},
			{[]string{"get", "deploy", "-n", "kshop", "-o", "wide"}, "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR", "web"},
			{[]string{"get", "svc", "-n", "kshop"}, "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", "web"},
			{[]string{"get", "cm", "-n", "kshop"}, "NAME DATA AGE", "web-config"},
			{[]string{"get", "secrets", "-n", "kshop"}, "NAME TYPE DATA AGE", "creds"},
			{[]string{"get", "ns"}, "NAME STATUS AGE", "kshop"},
			{[]string{"get", "leases", "-A"}, "NAMESPACE NAME HOLDER AGE", "kshop"},
		}
		for _, tt := range tests {
			out := k.Run(t, tt.args...)
			if got := header(out); got != tt.header {
				t.Errorf("kubectl %s: header %q, want %q\n%s", strings.Join(tt.args, " "), got, tt.header, out)
			}
			if tt.name != "" && row(out, tt.name) == "" {
				t.Errorf("kubectl %s: no row %s\n%s", strings.Join(tt.args, " "), tt.name, out)
			}
		}
		// CLUSTER-IP is <none> until the apiserver allocates Service IPs.
		if r := row(k.Run(t, "get", "svc", "web", "-n", "kshop"), "web"); !regexp.MustCompile(`^web ClusterIP (\d+\.\d+\.\d+\.\d+|<none>) <none> 80/TCP \S+$`).MatchString(r) {
			t.Errorf("service row %q", r)
		}
		if r := row(k.Run(t, "get", "leases", "-n", "kshop"), "leader"); !strings.HasPrefix(r, "leader web-1 ") {
			t.Errorf("lease row %q", r)
		}
		if r := row(k.Run(t, "get", "cm", "web-config", "-n", "kshop"), "web-config"); !strings.HasPrefix(r, "web-config 1 ") {
			t.Errorf("configmap row %q", r)
		}
		if r := row(k.Run(t, "get", "pods", "-n", "kshop", "--show-labels"), "probe"); !strings.HasSuffix(r, " app=probe") {
			t.Errorf("pod row with labels %q", r)
		}
		// Every kind answers a get, empty or not.
		for _, kind := range []string{"pods", "nodes", "namespaces", "services", "endpoints", "configmaps", "secrets", "events", "replicationcontrollers", "replicasets", "deployments", "leases"} {
			k.Run(t, "get", kind, "-A")
		}
		all := k.Run(t, "get", "all", "-n", "kshop")
		for _, want := range []string{"pod/probe", "service/web", "deployment.apps/web"} {
			if !strings.Contains(all, want) {
				t.Errorf("get all lacks %s:\n%s", want, all)
			}
		}
	})

	t.Run("get selectors and formats", func(t *testing.T) {
		if out := k.Run(t, "get", "pods", "-n", "kshop", "-l", "app=probe", "-o", "name"); strings.TrimSpace(out) != "pod/probe" {
			t.Errorf("-l app=probe: %q", out)
		}
		if r := k.Exec(t, "", "get", "pods", "-n", "kshop", "-l", "app=nothing"); r.ExitCode != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "No resources found in kshop namespace.") {
			t.Errorf("-l app=nothing: %+v", r)
		}
		var pod kcorev1.Pod
		decodeStrict(t, k.Run(t, "get", "pod", "probe", "-n", "kshop", "-o", "json"), &pod)
		if pod.Kind != "Pod" || pod.APIVersion != "v1" || pod.Name != "probe" || pod.UID == "" || pod.Spec.Containers[0].Image != "berth-testapp:latest" {
			t.Errorf("-o json: %+v", pod)
		}
		var list kcorev1.List
		// The Deployment's Pods live in kshop too: the selector leaves them out.
		decodeStrict(t, k.Run(t, "get", "pods", "-n", "kshop", "-l", "app=probe", "-o", "json"), &list)
		if list.Kind != "List" || len(list.Items) != 1 {
			t.Errorf("list -o json: %+v", list)
		}
		var d kappsv1.Deployment
		decodeStrict(t, k.Run(t, "get", "deploy", "web", "-n", "kshop", "-o", "json"), &d)
		if d.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort != 8080 {
			t.Errorf("deployment -o json: %+v", d.Spec)
		}
		if y := k.Run(t, "get", "cm", "web-config", "-n", "kshop", "-o", "yaml"); !strings.Contains(y, "GREETING: hello") || !strings.Contains(y, "kind: ConfigMap") {
			t.Errorf("-o yaml:\n%s", y)
		}
	})

	t.Run("watch", func(t *testing.T) {
		w := k.Start(t, "get", "configmaps", "-n", "kshop", "-w", "--output-watch-events")
		w.WaitForOutput(t, "web-config", 20*time.Second)
		k.RunStdin(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n  namespace: kshop\ndata:\n  a: b\n", "create", "-f", "-")
		w.WaitForOutput(t, "ADDED", 20*time.Second)
		w.WaitForOutput(t, "watched", 20*time.Second)
		k.Run(t, "delete", "configmap", "watched", "-n", "kshop")
		w.WaitForOutput(t, "DELETED", 20*time.Second)
		if h := header(w.Stdout()); h != "EVENT NAME DATA AGE" {
			t.Errorf("watch header %q:\n%s", h, w.Stdout())
		}
	})

	t.Run("label annotate patch", func(t *testing.T) {
		if out := k.Run(t, "label", "pod", "probe", "-n", "kshop", "tier=front"); !strings.Contains(out, "pod/probe labeled") {
			t.Errorf("label: %s", out)
		}
		if out := k.Run(t, "get", "pods", "-n", "kshop", "-l", "tier=front", "-o", "name"); strings.TrimSpace(out) != "pod/probe" {
			t.Errorf("-l tier=front after label: %q", out)
		}
		if out := k.Run(t, "annotate", "pod", "probe", "-n", "kshop", "note=hello"); !strings.Contains(out, "pod/probe annotated") {
			t.Errorf("annotate: %s", out)
		}
		if got := k.Run(t, "get", "pod", "probe", "-n", "kshop", "-o", "jsonpath={.metadata.annotations.note}"); got != "hello" {
			t.Errorf("annotation: %q", got)
		}
		patches := []struct {
			args   []string
			path   string
			want   string
			output string
		}{
			{[]string{"patch", "deployment", "web", "-n", "kshop", "-p", `{"spec":{"replicas":3}}`}, "{.spec.replicas}", "3", "deployment.apps/web patched"},
			{[]string{"patch", "configmap", "web-config", "-n", "kshop", "--type=merge", "-p", `{"data":{"EXTRA":"x"}}`}, "{.data.EXTRA}", "x", "configmap/web-config patched"},
			{[]string{"patch", "configmap", "web-config", "-n", "kshop", "--type=json", "-p", `[{"op":"replace","path":"/data/GREETING","value":"hi"}]`}, "{.data.GREETING}", "hi", "configmap/web-config patched"},
			{[]string{"patch", "deployment", "web", "-n", "kshop", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"berth-testapp:v2"}]}}}}`}, "{.spec.template.spec.containers[0].image}", "berth-testapp:v2", "deployment.apps/web patched"},
		}
		for _, p := range patches {
			if out := k.Run(t, p.args...); !strings.Contains(out, p.output) {
				t.Errorf("kubectl %s: %s", strings.Join(p.args, " "), out)
			}
			kind, name := p.args[1], p.args[2]
			if got := k.Run(t, "get", kind, name, "-n", "kshop", "-o", "jsonpath="+p.path); got != p.want {
				t.Errorf("after kubectl %s: %s is %q, want %q", strings.Join(p.args, " "), p.path, got, p.want)
			}
		}
		// The strategic merge patch of the containers kept the port of the container it merged into.
		if got := k.Run(t, "get", "deploy", "web", "-n", "kshop", "-o", "jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}"); got != "8080" {
			t.Errorf("containerPort after a strategic merge patch: %q", got)
		}
		if out := k.Run(t, "scale", "deployment", "web", "-n", "kshop", "--replicas=4"); !strings.Contains(out, "deployment.apps/web scaled") {
			t.Errorf("scale: %s", out)
		}
		if got := k.Run(t, "get", "deploy", "web", "-n", "kshop", "-o", "jsonpath={.spec.replicas}"); got != "4" {
			t.Errorf("replicas after scale: %q", got)
		}
	})

	t.Run("replace", func(t *testing.T) {
		y := k.Run(t, "get", "cm", "web-config", "-n", "kshop", "-o", "yaml")
		edited := strings.Replace(y, "GREETING: hi", "GREETING: edited", 1)
		if out := k.RunStdin(t, edited, "replace", "-f", "-"); !strings.Contains(out, "configmap/web-config replaced") {
			t.Errorf("replace: %s", out)
		}
		if got := k.Run(t, "get", "cm", "web-config", "-n", "kshop", "-o", "jsonpath={.data.GREETING}"); got != "edited" {
			t.Errorf("after replace: %q", got)
		}
		// The same edit again carries a resourceVersion that is no longer current: 409.
		r := k.Exec(t, strings.Replace(y, "GREETING: hi", "GREETING: stale", 1), "replace", "-f", "-")
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "Conflict") || !strings.Contains(r.Stderr, "the object has been modified") {
			t.Errorf("stale replace: %+v", r)
		}
	})

	t.Run("edit", func(t *testing.T) {
		// kubectl edit with an "editor" that rewrites the value: a strategic merge patch.
		ed := *k
		ed.Env = append(append([]string(nil), k.Env...), "KUBE_EDITOR=sed -i s/edited$/viaedit/")
		if out := ed.Run(t, "edit", "configmap", "web-config", "-n", "kshop"); !strings.Contains(out, "configmap/web-config edited") {
			t.Errorf("edit: %s", out)
		}
		if got := k.Run(t, "get", "cm", "web-config", "-n", "kshop", "-o", "jsonpath={.data.GREETING}"); got != "viaedit" {
			t.Errorf("after edit: %q", got)
		}
	})

	t.Run("explain", func(t *testing.T) {
		tests := []struct {
			args []string
			want []string
		}{
			{[]string{"explain", "pod"}, []string{"KIND:       Pod", "VERSION:    v1", "spec\t<PodSpec>", "status\t<PodStatus>"}},
			{[]string{"explain", "deployment"}, []string{"GROUP:      apps", "KIND:       Deployment", "spec\t<DeploymentSpec>"}},
			{[]string{"explain", "pod.spec.containers"}, []string{"FIELD: containers <[]Container>", "image\t<string>", "name\t<string> -required-", "resources\t<ResourceRequirements>"}},
			{[]string{"explain", "deploy.spec.strategy.rollingUpdate.maxSurge"}, []string{"FIELD: maxSurge <IntOrString>"}},
		}
		for _, tt := range tests {
			out := k.Run(t, tt.args...)
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("kubectl %s lacks %q:\n%s", strings.Join(tt.args, " "), want, out)
				}
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		if out := k.Run(t, "delete", "pod", "probe", "-n", "kshop", "--timeout=60s"); !strings.Contains(out, `pod "probe" deleted`) {
			t.Errorf("delete pod: %s", out)
		}
		if r := k.Exec(t, "", "get", "pod", "probe", "-n", "kshop"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "NotFound") {
			t.Errorf("get after delete: %+v", r)
		}
		out := k.RunStdin(t, kubectlApps, "delete", "-f", "-", "--ignore-not-found", "--timeout=60s")
		for _, want := range []string{`deployment.apps "web" deleted`, `service "web" deleted`, `secret "creds" deleted`, `lease.coordination.k8s.io "leader" deleted`} {
			if !strings.Contains(out, want) {
				t.Errorf("delete -f lacks %q:\n%s", want, out)
			}
		}
		if out := k.Run(t, "delete", "namespace", "kshop", "--timeout=60s"); !strings.Contains(out, `namespace "kshop" deleted`) {
			t.Errorf("delete namespace: %s", out)
		}
		if r := k.Exec(t, "", "get", "namespace", "kshop"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "NotFound") {
			t.Errorf("namespace kshop still there: %+v", r)
		}
	})
}
