package manifest_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/manifest"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// app is the kind of multi-document manifest a Kubernetes user applies.
const app = `# The demo application.
---
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: demo
data:
  PORT: "8080"
---
# an empty document
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: demo
spec:
  containers:
  - name: shell
    image: berth-shell:latest
    command: ["sleep", "3600"]
    resources:
      requests: {cpu: 0.1, memory: 16Mi}
--- # the service
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: http
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 3
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
        envFrom:
        - configMapRef:
            name: web-config
        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
---
`

// summary is "Kind name (document, line)" for each item.
func summary(items []manifest.Item) string {
	var s []string
	for _, it := range items {
		entry := fmt.Sprintf("%s %s (%d@%d", it.Resource.Kind, it.Object.GetMetadata().GetName(), it.Document, it.Line)
		if it.ListIndex >= 0 {
			entry += fmt.Sprintf(" items[%d]", it.ListIndex)
		}
		s = append(s, entry+")")
	}
	return strings.Join(s, ", ")
}

func TestReadItems(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"multi-document application", app,
			"Namespace demo (1@3), ConfigMap web-config (2@8), Pod client (3@18), Service web (4@31), Deployment web (5@43)"},
		{"no separators", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", "Namespace a (1@1)"},
		{"only separators and comments", "---\n# nothing\n---\n\n---\n", ""},
		{"empty", "", ""},
		{"CRLF line ends", "apiVersion: v1\r\nkind: Namespace\r\nmetadata: {name: a}\r\n---\r\napiVersion: v1\r\nkind: Namespace\r\nmetadata: {name: b}\r\n",
			"Namespace a (1@1), Namespace b (2@5)"},
		{"byte order mark", "\xef\xbb\xbfapiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", "Namespace a (1@1)"},
		{"KYAML", "---\n{\n  apiVersion: \"v1\",\n  kind: \"Namespace\",\n  metadata: {name: \"a\",},\n}\n---\n{apiVersion: v1, kind: Namespace, metadata: {name: b}}\n",
			"Namespace a (1@2), Namespace b (2@8)"},
		{"one JSON object", "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Namespace\",\n  \"metadata\": {\"name\": \"a\"}\n}\n", "Namespace a (1@1)"},
		{"a stream of JSON objects", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}` + "\n\n" +
			`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"c"}}`,
			"Namespace a (1@1), Namespace b (2@3), Namespace c (3@3)"},
		{"JSON documents between YAML separators", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}\n---\n" +
			"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}\n", "Namespace a (1@1), Namespace b (2@3)"},
		{"kind: List", `apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: v1
  kind: Service
  metadata: {name: s}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: d}
`, "Service s (1@1 items[0]), Deployment d (1@1 items[1])"},
		{"a PodList, items without apiVersion and kind", `{"apiVersion":"v1","kind":"PodList","metadata":{},"items":[{"metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}]}`,
			"Pod a (1@1 items[0]), Pod b (1@1 items[1])"},
		{"an empty List", "apiVersion: v1\nkind: List\nitems: []\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := manifest.ReadItems(strings.NewReader(tt.in), "app.yaml")
			if err != nil {
				t.Fatalf("ReadItems: %v", err)
			}
			if got := summary(items); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			for _, it := range items {
				if it.Source != "app.yaml" || it.Object.GetMetadata() == nil {
					t.Fatalf("item %v: source %q, metadata %v", it.String(), it.Source, it.Object.GetMetadata())
				}
			}
		})
	}
}

// TestReadDecodes checks that what Read returns is decoded fully (not just named).
func TestReadDecodes(t *testing.T) {
	objs, err := manifest.Read(strings.NewReader(app), "app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pod := objs[2].(*corev1.Pod)
	if got := pod.Spec.Containers[0].Resources.Requests["cpu"]; got != "0.1" {
		t.Errorf("cpu request %q, want 0.1", got)
	}
	svc := objs[3].(*corev1.Service)
	if got := svc.Spec.Ports[0].TargetPort.GetStringValue(); got != "http" {
		t.Errorf("targetPort %q", got)
	}
	d := objs[4].(*appsv1.Deployment)
	if d.Spec.GetReplicas() != 3 || d.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name != "web-config" {
		t.Errorf("deployment: %v", d)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // the joined errors, one per line
		good     string   // the items read despite the errors
	}{{
		name: "unknown field",
		in:   app + "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        imagee: x\n",
		want: []string{`app.yaml: document 6 (Deployment bad): unknown field "spec.template.spec.containers[0].imagee"`},
		good: "Namespace demo (1@3), ConfigMap web-config (2@8), Pod client (3@18), Service web (4@31), Deployment web (5@43)",
	}, {
		name: "wrong type",
		in:   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: three}\n",
		want: []string{`app.yaml: document 1 (Deployment d): spec.replicas: expected integer, got string "three"`},
	}, {
		name: "malformed YAML in a later document",
		in:   "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n   labels: x\n",
		want: []string{`app.yaml: document 2: invalid YAML at line 9: mapping values are not allowed in this context`},
		good: "Namespace a (1@1)",
	}, {
		name: "duplicate key",
		in:   "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n",
		want: []string{`app.yaml: document 1: invalid YAML at line 6: key "name" already set in map`},
	}, {
		name: "malformed JSON",
		in:   "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Namespace\"\n  \"metadata\": {}\n}\n",
		want: []string{`app.yaml: document 1: invalid JSON at line 4, column 3: invalid character '"' after object key:value pair`},
	}, {
		name: "no apiVersion",
		in:   "kind: Namespace\nmetadata: {name: a}\n",
		want: []string{`app.yaml: document 1 (Namespace a): apiVersion: Required value: every object needs an apiVersion`},
	}, {
		name: "no kind",
		in:   "apiVersion: v1\nmetadata: {name: a}\n",
		want: []string{`app.yaml: document 1: kind: Required value: every object needs a kind`},
	}, {
		name: "kind not served",
		in:   "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n",
		want: []string{`app.yaml: document 1 (StatefulSet db): kind: Unsupported value: "StatefulSet" (apiVersion apps/v1): Berth serves ConfigMap, Deployment, Endpoints, Event, Lease, Namespace, Node, Pod, ReplicaSet, ReplicationController, Secret, Service`},
	}, {
		name: "wrong apiVersion",
		in:   "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata: {name: d}\n",
		want: []string{`app.yaml: document 1 (Deployment d): apiVersion: Unsupported value: "apps/v1beta2": kind Deployment is served as apps/v1`},
	}, {
		name: "not an object",
		in:   "- a\n- b\n",
		want: []string{`app.yaml: document 1: expected object, got array`},
	}, {
		name: "bad separator",
		in:   "apiVersion: v1\n--- x\n",
		want: []string{`app.yaml: line 2: invalid YAML document separator: x`},
	}, {
		name: "bad List items",
		in: `apiVersion: v1
kind: List
extra: 1
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
- apiVersion: v1
  kind: Namespace
  metadata: {name: b, nam: c}
- apiVersion: batch/v1
  kind: Job
`,
		want: []string{
			`app.yaml: document 1 (List): unknown field "extra"`,
			`unknown field "items[1].metadata.nam"`,
			`items[2]: kind: Unsupported value: "Job" (apiVersion batch/v1): Berth serves ConfigMap, Deployment, Endpoints, Event, Lease, Namespace, Node, Pod, ReplicaSet, ReplicationController, Secret, Service`,
		},
		good: "Namespace a (1@1 items[0])",
	}, {
		name: "items of a PodList of another kind",
		in:   `{"apiVersion":"v1","kind":"PodList","items":[{"kind":"Service"}]}`,
		want: []string{`app.yaml: document 1 (PodList): items[0].kind: expected "Pod", got "Service"`},
	}, {
		name: "every bad document is reported",
		in:   "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, x: 1}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: 5}\n",
		want: []string{
			`app.yaml: document 1 (Namespace a): unknown field "metadata.x"`,
			`app.yaml: document 3 (Namespace): metadata.name: expected string, got number 5`,
		},
		good: "Namespace b (2@5)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := manifest.ReadItems(strings.NewReader(tt.in), "app.yaml")
			if err == nil {
				t.Fatalf("no error; items %s", summary(items))
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Fatalf("error:\n%s\nwant:\n%s", got, want)
			}
			var de *manifest.DocumentError
			if !errors.As(err, &de) || de.Source != "app.yaml" {
				t.Fatalf("error %T is not a *DocumentError", err)
			}
			if got := summary(items); got != tt.good {
				t.Fatalf("items %s, want %s", got, tt.good)
			}
		})
	}
}

// TestReadErrorDetail checks that callers can get at the decoder's structured errors.
func TestReadErrorDetail(t *testing.T) {
	_, err := manifest.Read(strings.NewReader("apiVersion: v1\nkind: Pod\nspec: {nodename: a}\n"), "pod.yaml")
	var de *kubejson.DecodeError
	if !errors.As(err, &de) || len(de.Errors) != 1 || de.Errors[0].Field != "spec.nodename" || de.Errors[0].Type != kubejson.ErrorTypeUnknownField {
		t.Fatalf("error %v does not unwrap to the field error", err)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func ns(name string) string {
	return "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n"
}

func TestReadPaths(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b.yaml":         ns("b"),
		"a.yml":          ns("a1") + "---\n" + ns("a2"),
		"c.json":         `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"c"}}`,
		"notes.txt":      "not a manifest",
		"sub/d.yaml":     ns("d"),
		"sub/sub/e.yaml": ns("e"),
		"other.txt":      ns("txt"),
	})
	stdin := strings.NewReader(ns("stdin"))
	rel := func(items []manifest.Item) string {
		var s []string
		for _, it := range items {
			src := it.Source
			if r, err := filepath.Rel(dir, src); err == nil && src != "STDIN" {
				src = r
			}
			s = append(s, src+":"+it.Object.GetMetadata().GetName())
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name      string
		paths     []string
		recursive bool
		want      string
	}{
		{"directory", []string{dir}, false, "a.yml:a1 a.yml:a2 b.yaml:b c.json:c"},
		{"recursive", []string{dir}, true, "a.yml:a1 a.yml:a2 b.yaml:b c.json:c sub/d.yaml:d sub/sub/e.yaml:e"},
		{"a file of any extension, and stdin", []string{filepath.Join(dir, "other.txt"), "-", filepath.Join(dir, "sub")}, false, "other.txt:txt STDIN:stdin sub/d.yaml:d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := manifest.ReadPaths(tt.paths, tt.recursive, stdin)
			if err != nil {
				t.Fatalf("ReadPaths: %v", err)
			}
			if got := rel(items); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		bad := writeFiles(t, map[string]string{"ok.yaml": ns("ok"), "x.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, bad: 1}\n"})
		missing := filepath.Join(bad, "missing.yaml")
		items, err := manifest.ReadPaths([]string{missing, bad, "https://example.com/app.yaml"}, false, nil)
		want := fmt.Sprintf("the path %q does not exist\n%s: document 1 (Namespace x): unknown field \"metadata.bad\"\n"+
			"https://example.com/app.yaml: reading manifests from URLs is not supported", missing, filepath.Join(bad, "x.yaml"))
		if err == nil || err.Error() != want {
			t.Fatalf("error:\n%v\nwant:\n%s", err, want)
		}
		if len(items) != 1 || items[0].Object.GetMetadata().GetName() != "ok" {
			t.Fatalf("items %v", items)
		}
	})
}

// TestReadCorpus reads the Kubernetes documentation's examples as `apply -f DIR -R` would: the
// objects of served kinds are read, every other document fails naming its file and kind.
func TestReadCorpus(t *testing.T) {
	const dir = "/work/shared/k8s-examples"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("Kubernetes example corpus not available: %v", err)
	}
	items, err := manifest.ReadPaths([]string{dir}, true, nil)
	if len(items) < 90 {
		t.Errorf("read %d objects from the corpus, want at least 90", len(items))
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("error %v, want one error per unsupported document", err)
	}
	for _, e := range joined.Unwrap() {
		for _, e := range e.(interface{ Unwrap() []error }).Unwrap() {
			var de *manifest.DocumentError
			if !errors.As(e, &de) || !strings.HasPrefix(de.Source, dir) || de.Document == 0 {
				t.Errorf("error %v does not name its document", e)
				continue
			}
			msg := e.Error()
			if !strings.Contains(msg, "Berth serves") && !strings.Contains(msg, `unknown field "spec.initContainers[0].restartPolicy"`) {
				t.Errorf("unexpected error: %v", e)
			}
		}
	}
}
