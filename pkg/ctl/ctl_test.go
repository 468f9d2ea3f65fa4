package ctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/ctl"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cluster is a test apiserver and a way to run berthctl against it.
type cluster struct {
	t    *testing.T
	addr string
	ctx  context.Context
}

func newCluster(t *testing.T) *cluster {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &cluster{t: t, addr: apiservertest.Start(t), ctx: ctx}
}

type result struct {
	code        int
	out, errOut string
}

// run runs berthctl with args and stdin.
func (c *cluster) run(stdin string, args ...string) result {
	var out, errOut syncBuffer
	code := ctl.Run(c.ctx, args, ctl.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, c.addr)
	return result{code, out.String(), errOut.String()}
}

// ok runs berthctl and fails the test unless it exits 0.
func (c *cluster) ok(args ...string) string {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != 0 {
		c.t.Fatalf("berthctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	return r.out
}

// fails runs berthctl, expecting exit 1 and wantErr in stderr.
func (c *cluster) fails(wantErr string, args ...string) result {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != 1 || !strings.Contains(r.errOut, wantErr) {
		c.t.Fatalf("berthctl %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(args, " "), r.code, r.errOut, wantErr)
	}
	return r
}

func (c *cluster) client() *client.Client {
	cl, err := client.Dial(c.ctx, c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func fields(line string) []string { return strings.Fields(line) }

func TestApplyGetDelete(t *testing.T) {
	c := newCluster(t)
	want := "namespace/demo created\nconfigmap/web-config created\npod/nginx created\nservice/web created\ndeployment.apps/web created\n"
	if out := c.ok("apply", "-f", "testdata/app.yaml"); out != want {
		t.Fatalf("first apply printed\n%s\nwant\n%s", out, want)
	}
	want = strings.ReplaceAll(want, "created", "unchanged")
	if out := c.ok("apply", "-f", "testdata/app.yaml"); out != want {
		t.Fatalf("second apply printed\n%s\nwant\n%s", out, want)
	}

	// Tables.
	out := lines(c.ok("get", "pods", "-n", "demo"))
	if len(out) != 2 || strings.Join(fields(out[0]), " ") != "NAME READY STATUS RESTARTS AGE" || fields(out[1])[0] != "nginx" || fields(out[1])[1] != "0/1" {
		t.Errorf("get pods:\n%s", strings.Join(out, "\n"))
	}
	out = lines(c.ok("get", "po", "nginx", "-n", "demo", "-o", "wide"))
	if h := strings.Join(fields(out[0]), " "); h != "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES" {
		t.Errorf("get -o wide header: %q", h)
	}
	out = lines(c.ok("get", "deploy", "-A"))
	if h := strings.Join(fields(out[0]), " "); h != "NAMESPACE NAME READY UP-TO-DATE AVAILABLE AGE" || fields(out[1])[0] != "demo" || fields(out[1])[2] != "0/2" {
		t.Errorf("get deploy -A:\n%s", strings.Join(out, "\n"))
	}
	out = lines(c.ok("get", "svc,cm", "-n", "demo"))
	if len(out) != 5 || !strings.HasPrefix(out[1], "service/web") || out[2] != "" || !strings.HasPrefix(out[4], "configmap/web-config") {
		t.Errorf("get svc,cm:\n%s", strings.Join(out, "\n"))
	}
	if f := fields(out[1]); f[1] != "ClusterIP" || f[4] != "80/TCP" {
		t.Errorf("service row: %q", out[1])
	}
	all := c.ok("get", "all", "-n", "demo")
	for _, w := range []string{"pod/nginx ", "service/web ", "deployment.apps/web "} {
		if !strings.Contains(all, w) {
			t.Errorf("get all lacks %q:\n%s", w, all)
		}
	}
	if out := c.ok("get", "ns", "demo"); !strings.Contains(out, "Active") {
		t.Errorf("get ns demo:\n%s", out)
	}

	// -o name, json, yaml.
	if out := c.ok("get", "deployments.apps/web", "svc/web", "-n", "demo", "-o", "name"); out != "deployment.apps/web\nservice/web\n" {
		t.Errorf("-o name: %q", out)
	}
	var single map[string]any
	if err := json.Unmarshal([]byte(c.ok("get", "cm", "web-config", "-n", "demo", "-o", "json")), &single); err != nil {
		t.Fatal(err)
	}
	if single["kind"] != "ConfigMap" || single["data"].(map[string]any)["greeting"] != "hello" {
		t.Errorf("-o json of one object: %v", single)
	}
	var list struct {
		Kind  string
		Items []struct{ Kind, APIVersion string }
	}
	if err := json.Unmarshal([]byte(c.ok("get", "deploy,po", "-n", "demo", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if list.Kind != "List" || len(list.Items) != 2 || list.Items[0].Kind != "Deployment" || list.Items[0].APIVersion != "apps/v1" || list.Items[1].Kind != "Pod" {
		t.Errorf("-o json of two kinds: %+v", list)
	}
	y := c.ok("get", "pod/nginx", "-n", "demo", "-o", "yaml")
	for _, w := range []string{"apiVersion: v1\n", "kind: Pod\n", "  name: nginx\n", "  - image: nginx:1.27\n", "restartPolicy: Always", "kubectl.kubernetes.io/last-applied-configuration"} {
		if !strings.Contains(y, w) {
			t.Errorf("-o yaml lacks %q:\n%s", w, y)
		}
	}

	// Selectors.
	if out := c.ok("get", "pods", "-A", "-l", "app=nginx", "-o", "name"); out != "pod/nginx\n" {
		t.Errorf("-l app=nginx: %q", out)
	}
	if r := c.run("", "get", "pods", "-n", "demo", "-l", "app=none"); r.code != 0 || r.out != "" || r.errOut != "No resources found in demo namespace.\n" {
		t.Errorf("empty list: %+v", r)
	}
	if out := c.ok("get", "pods", "-A", "--field-selector", "metadata.name=nginx", "-o", "name"); out != "pod/nginx\n" {
		t.Errorf("--field-selector: %q", out)
	}

	// describe.
	d := c.ok("describe", "pod", "nginx", "-n", "demo")
	for _, w := range []string{"Name:", "nginx", "Namespace:", "demo", "Image:", "nginx:1.27", "Port:", "80/TCP", "Events:"} {
		if !strings.Contains(d, w) {
			t.Errorf("describe pod lacks %q:\n%s", w, d)
		}
	}
	if strings.Contains(d, "last-applied-configuration") {
		t.Errorf("describe shows the last-applied annotation:\n%s", d)
	}
	if d := c.ok("describe", "deploy/web", "-n", "demo"); !strings.Contains(d, "2 desired") || !strings.Contains(d, "Pod Template:") {
		t.Errorf("describe deploy:\n%s", d)
	}

	// delete.
	if out := c.ok("delete", "pod", "nginx", "-n", "demo"); out != "pod \"nginx\" deleted\n" {
		t.Errorf("delete pod: %q", out)
	}
	c.fails(`Error from server (NotFound): pods "nginx" not found`, "get", "pod", "nginx", "-n", "demo")
	r := c.run("", "delete", "-f", "testdata/app.yaml", "--ignore-not-found", "--wait=false")
	if r.code != 0 || !strings.Contains(r.out, "deployment.apps \"web\" deleted\n") || strings.Contains(r.out, "pod \"nginx\"") {
		t.Errorf("delete -f: %+v", r)
	}
	c.fails(`Error from server (NotFound): error when deleting "testdata/app.yaml": configmaps "web-config" not found`, "delete", "-f", "testdata/app.yaml", "--wait=false")
}

func TestApplyConfigured(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	write := func(data string) string {
		p := filepath.Join(dir, "cm.yaml")
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n  b: \"2\"\n")
	if out := c.ok("apply", "-f", p); out != "configmap/cfg created\n" {
		t.Fatalf("apply: %q", out)
	}

	// Someone else adds a label: apply keeps it, as kubectl does.
	cms := c.client().Resource(scheme.ConfigMaps)
	live, err := cms.Get(c.ctx, "default", "cfg")
	if err != nil {
		t.Fatal(err)
	}
	live.GetMetadata().Labels = map[string]string{"owner": "ops"}
	if _, err := cms.Update(c.ctx, live); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("apply", "-f", p); out != "configmap/cfg unchanged\n" {
		t.Fatalf("apply after a foreign change: %q", out)
	}

	// Change a, drop b, add c.
	p = write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"10\"\n  c: \"3\"\n")
	if out := c.ok("apply", "-f", p); out != "configmap/cfg configured\n" {
		t.Fatalf("apply of a change: %q", out)
	}
	got, err := cms.Get(c.ctx, "default", "cfg")
	if err != nil {
		t.Fatal(err)
	}
	cm := got.(*corev1.ConfigMap)
	if d := cm.GetData(); len(d) != 2 || d["a"] != "10" || d["c"] != "3" {
		t.Errorf("data after apply = %v, want a=10 c=3", d)
	}
	if cm.GetMetadata().GetLabels()["owner"] != "ops" {
		t.Errorf("apply dropped a label it did not manage: %v", cm.GetMetadata().GetLabels())
	}

	// From stdin, into the namespace given with -n.
	r := c.run("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\n", "apply", "-f", "-", "-n", "kube-public")
	if r.code != 0 || r.out != "configmap/piped created\n" {
		t.Fatalf("apply -f - -n kube-public: %+v", r)
	}
	if _, err := cms.Get(c.ctx, "kube-public", "piped"); err != nil {
		t.Errorf("piped object not in kube-public: %v", err)
	}
	p = write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: default\n")
	c.fails(`the namespace from the provided object "default" does not match the namespace "kube-public"`,
		"apply", "-f", p, "-n", "kube-public")
}

func TestCreateErrors(t *testing.T) {
	c := newCluster(t)
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
	if r := c.run(pod, "create", "-f", "-"); r.code != 0 || r.out != "pod/p created\n" {
		t.Fatalf("create: %+v", r)
	}
	r := c.run(pod, "create", "-f", "-")
	if r.code != 1 || r.errOut != "Error from server (AlreadyExists): error when creating \"STDIN\": pods \"p\" already exists\n" {
		t.Errorf("second create: %+v", r)
	}
	r = c.run("apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: c\n    image: busybox\n", "apply", "-f", "-")
	if r.code != 1 || !strings.HasPrefix(r.errOut, `The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"`) {
		t.Errorf("invalid name: %+v", r)
	}
	c.fails(`error: the server doesn't have a resource type "frobs"`, "get", "frobs")
	c.fails("a resource cannot be retrieved by name across all namespaces", "get", "pod", "p", "-A")
	c.fails("resource(s) were provided, but no name was specified", "delete", "pods")
	r = c.fails("unknown flag: --bogus", "get", "pods", "--bogus")
	if !strings.Contains(r.errOut, "See 'berthctl get -h'") {
		t.Errorf("usage error lacks the help pointer: %q", r.errOut)
	}
	c.fails(`unable to match a printer suitable for the output format "jsonpath"`, "get", "pods", "-o", "jsonpath")

	// An unreachable server is an error, not a hang.
	var out, errOut syncBuffer
	code := ctl.Run(c.ctx, []string{"get", "pods", "--server", "127.0.0.1:1", "--request-timeout", "5s"}, ctl.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, "")
	if code != 1 || !strings.Contains(errOut.String(), "127.0.0.1:1") {
		t.Errorf("unreachable server: exit %d, stderr %q", code, errOut.String())
	}
}

func TestChunkedListAndDeleteBySelector(t *testing.T) {
	c := newCluster(t)
	cms := c.client().Resource(scheme.ConfigMaps)
	for i := range 7 {
		cm := &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("cm-%d", i), Labels: map[string]string{"batch": fmt.Sprint(i % 2)}}}
		if _, err := cms.Create(c.ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	if out := lines(c.ok("get", "cm", "--chunk-size", "2", "--no-headers")); len(out) != 7 {
		t.Errorf("get --chunk-size 2 printed %d rows, want 7:\n%s", len(out), strings.Join(out, "\n"))
	}
	out := c.ok("delete", "cm", "-l", "batch=1")
	if out != "configmap \"cm-1\" deleted\nconfigmap \"cm-3\" deleted\nconfigmap \"cm-5\" deleted\n" {
		t.Errorf("delete -l: %q", out)
	}
	if out := c.ok("delete", "cm", "--all", "-o", "name"); out != "configmap/cm-0\nconfigmap/cm-2\nconfigmap/cm-4\nconfigmap/cm-6\n" {
		t.Errorf("delete --all: %q", out)
	}
	if out := c.ok("delete", "cm", "--all"); out != "No resources found\n" {
		t.Errorf("delete --all of nothing: %q", out)
	}
}

func TestGetWatch(t *testing.T) {
	c := newCluster(t)
	cms := c.client().Resource(scheme.ConfigMaps)
	if _, err := cms.Create(c.ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "first"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- ctl.Run(ctx, []string{"get", "cm", "-w"}, ctl.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, c.addr)
	}()
	waitFor := func(what string, cond func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond(out.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("watch output never showed %s:\n%s\nstderr:\n%s", what, out.String(), errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the initial table", func(s string) bool { return strings.Contains(s, "first") })
	// A name as long as the first keeps the columns aligned (a longer one would widen them
	// for its own line only, as in kubectl).
	other, err := cms.Create(c.ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "other"}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor("the created object", func(s string) bool { return strings.Contains(s, "other") })
	other.(*corev1.ConfigMap).Data = map[string]string{"k": "v"}
	if _, err := cms.Update(c.ctx, other); err != nil {
		t.Fatal(err)
	}
	waitFor("the update", func(s string) bool { return strings.Contains(s, "other   1") })
	if _, err := cms.Delete(c.ctx, &metav1.DeleteRequest{Namespace: "default", Name: "first"}); err != nil {
		t.Fatal(err)
	}
	waitFor("the deletion", func(s string) bool { return strings.Count(s, "first") == 2 })
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("get -w exited %d after its context ended; stderr:\n%s", code, errOut.String())
	}
	got := lines(out.String())
	if len(got) != 5 || strings.Join(fields(got[0]), " ") != "NAME DATA AGE" {
		t.Errorf("watch output:\n%s", out.String())
	}
	// One table: every line keeps the header's column widths.
	col := strings.Index(got[0], "DATA")
	for _, l := range got[1:] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("line %q is not aligned with the header %q", l, got[0])
		}
	}
}

func TestBadManifests(t *testing.T) {
	c := newCluster(t)
	good := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n---\n"
	tests := []struct {
		name, manifest string
		wantErr        []string
	}{
		{"unknown field", good + "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containerz: []\n",
			[]string{"error: STDIN: document 2 (Pod p): ", `unknown field "spec.containerz"`}},
		{"no kind", good + "apiVersion: v1\nmetadata:\n  name: p\n", []string{"error: STDIN: document 2", "kind"}},
		{"unserved kind", good + "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\n", []string{"error: STDIN: document 2", "CronJob"}},
		{"malformed YAML", good + "apiVersion: v1\nkind: Pod\n  metadata: [\n", []string{"error: STDIN: document 2"}},
		{"two bad documents", "kind: Pod\n---\nkind: Service\n", []string{"document 1", "document 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.manifest, "apply", "-f", "-")
			if r.code != 1 || r.out != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing applied", r.code, r.out)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.errOut, w) {
					t.Errorf("stderr %q lacks %q", r.errOut, w)
				}
			}
		})
	}
	// Nothing was applied: the good document before each bad one included.
	c.fails(`configmaps "good" not found`, "get", "cm", "good")
	c.fails(`the path "missing.yaml" does not exist`, "apply", "-f", "missing.yaml")
	c.fails("no objects passed to create", "create", "-f", t.TempDir())
	c.fails("must specify one of -f", "apply")
}

func TestDescribeEventsAndGetEvents(t *testing.T) {
	c := newCluster(t)
	cl := c.client()
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
	if r := c.run(pod, "create", "-f", "-"); r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	now := time.Now()
	for i, ev := range []*corev1.Event{
		{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web.1"}, InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
			Reason: "Scheduled", Message: "Successfully assigned default/web to n1", Type: "Normal", Source: &corev1.EventSource{Component: "default-scheduler"}, Count: 1},
		{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "other.1"}, InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "other"},
			Reason: "Killing", Message: "Stopping container", Type: "Normal", Count: 1},
		{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web.2"}, InvolvedObject: &corev1.ObjectReference{Kind: "ConfigMap", Namespace: "default", Name: "web"},
			Reason: "Odd", Message: "same name, other kind", Type: "Warning", Count: 1},
	} {
		ts := timestamppb.New(now.Add(time.Duration(i-5) * time.Minute))
		ev.FirstTimestamp, ev.LastTimestamp = ts, ts
		if _, err := cl.Resource(scheme.Events).Create(c.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	d := c.ok("describe", "pod", "web")
	if !strings.Contains(d, "Successfully assigned default/web to n1") || strings.Contains(d, "Stopping container") || strings.Contains(d, "same name, other kind") {
		t.Errorf("describe pod web shows the wrong events:\n%s", d)
	}
	if !strings.Contains(d, "default-scheduler") {
		t.Errorf("describe lacks the event's source:\n%s", d)
	}
	out := lines(c.ok("get", "events"))
	if len(out) != 4 || strings.Join(fields(out[0]), " ") != "LAST SEEN TYPE REASON OBJECT MESSAGE" {
		t.Fatalf("get events:\n%s", strings.Join(out, "\n"))
	}
	for i, want := range []string{"pod/web", "pod/other", "configmap/web"} {
		if f := fields(out[i+1]); f[3] != want {
			t.Errorf("event row %d is about %s, want %s (oldest first)", i, f[3], want)
		}
	}
}

func TestVersion(t *testing.T) {
	c := &cluster{t: t, ctx: context.Background()}
	if out := c.ok("version"); out != "Client Version: "+ctl.Version+"\n" {
		t.Errorf("version: %q", out)
	}
}
