//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// These tests drive the real `berth` and `berthctl` binaries as a new user would: the
// foundation of issue 2 (API, apiserver on etcd, berthctl).

const shopManifest = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
data:
  GREETING: hello
---
apiVersion: v1
kind: Pod
metadata:
  name: probe
  namespace: shop
  labels:
    app: probe
spec:
  containers:
  - name: app
    image: berth-testapp:latest
    ports:
    - containerPort: 8080
    resources:
      requests:
        cpu: 100m
        memory: 64Mi
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
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
`

func TestApplyGetDescribeDelete(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctl := srv.Berthctl(t)

	out := ctl.RunStdin(t, shopManifest, "apply", "-f", "-")
	for _, want := range []string{"namespace/shop created", "configmap/web-config created", "pod/probe created", "service/web created", "deployment.apps/web created"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if out := ctl.RunStdin(t, shopManifest, "apply", "-f", "-"); strings.Count(out, "unchanged") != 5 {
		t.Errorf("second apply should leave all 5 unchanged:\n%s", out)
	}
	changed := strings.Replace(shopManifest, "replicas: 3", "replicas: 5", 1)
	if out := ctl.RunStdin(t, changed, "apply", "-f", "-"); !strings.Contains(out, "deployment.apps/web configured") {
		t.Errorf("apply of a changed manifest:\n%s", out)
	}

	table := ctl.Run(t, "get", "pods", "-n", "shop")
	if !strings.Contains(table, "NAME") || !strings.Contains(table, "probe") || !strings.Contains(table, "Pending") {
		t.Errorf("get pods:\n%s", table)
	}
	if names := ctl.Run(t, "get", "deploy,svc,cm", "-n", "shop", "-o", "name"); !strings.Contains(names, "deployment.apps/web") || !strings.Contains(names, "service/web") || !strings.Contains(names, "configmap/web-config") {
		t.Errorf("get -o name:\n%s", names)
	}
	var d struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Generation      int64  `json:"generation"`
			ResourceVersion string `json:"resourceVersion"`
			UID             string `json:"uid"`
		} `json:"metadata"`
		Spec struct {
			Replicas int `json:"replicas"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(ctl.Run(t, "get", "deployment", "web", "-n", "shop", "-o", "json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Spec.Replicas != 5 || d.Metadata.Generation != 2 || d.Metadata.UID == "" {
		t.Errorf("get -o json: %+v", d)
	}
	if y := ctl.Run(t, "get", "cm", "web-config", "-n", "shop", "-o", "yaml"); !strings.Contains(y, "GREETING: hello") || !strings.Contains(y, "kind: ConfigMap") {
		t.Errorf("get -o yaml:\n%s", y)
	}
	if desc := ctl.Run(t, "describe", "deployment", "web", "-n", "shop"); !strings.Contains(desc, "Replicas:") || !strings.Contains(desc, "app=web") {
		t.Errorf("describe:\n%s", desc)
	}
	if all := ctl.Run(t, "get", "pods", "-A"); !strings.Contains(all, "NAMESPACE") || !strings.Contains(all, "shop") {
		t.Errorf("get -A:\n%s", all)
	}
	if ns := ctl.Run(t, "get", "ns"); !strings.Contains(ns, "kube-system") || !strings.Contains(ns, "kube-node-lease") || !strings.Contains(ns, "shop") {
		t.Errorf("get ns:\n%s", ns)
	}

	ctl.Run(t, "delete", "pod", "probe", "-n", "shop")
	if r := ctl.Exec(t, "", "get", "pod", "probe", "-n", "shop"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "NotFound") {
		t.Errorf("get after delete: exit %d stderr %s", r.ExitCode, r.Stderr)
	}
	// Deleting the Namespace waits until the namespace controller has emptied it.
	ctl.RunStdin(t, shopManifest, "delete", "-f", "-", "--ignore-not-found", "--timeout=60s")
	if r := ctl.Exec(t, "", "get", "namespace", "shop"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "NotFound") {
		t.Errorf("namespace shop still there: %s %s", r.Stdout, r.Stderr)
	}
	if r := ctl.Exec(t, "", "delete", "namespace", "kube-system"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "Forbidden") {
		t.Errorf("deleting kube-system: exit %d %s", r.ExitCode, r.Stderr)
	}
}

func TestWatchSeesChanges(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctl := srv.Berthctl(t)
	w := ctl.Start(t, "get", "configmaps", "-w")
	time.Sleep(500 * time.Millisecond)
	ctl.RunStdin(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: b\n", "create", "-f", "-")
	w.WaitForOutput(t, "watched", 10*time.Second)
	ctl.Run(t, "delete", "configmap", "watched")
	// A deleted object shows once more as its last state.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(w.Stdout(), "watched") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("watch output after delete:\n%s", w.Stdout())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestInvalidManifestsAreRefused(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctl := srv.Berthctl(t)
	cases := []struct{ name, manifest, want string }{
		{"unknown field", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    imagee: x\n", `unknown field "spec.containers[0].imagee"`},
		{"invalid name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n", `metadata.name: Invalid value: "Bad_Name"`},
		{"invalid label", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    \"a b\": x\n", "metadata.labels: Invalid value"},
		{"negative quantity", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests:\n        cpu: \"-1\"\n", "spec.containers[0].resources.requests[cpu]"},
		{"malformed quantity", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      limits:\n        memory: 12XB\n", "spec.containers[0].resources.limits[memory]"},
		{"wrong apiVersion", "apiVersion: v2\nkind: Pod\nmetadata:\n  name: p\n", `apiVersion: Unsupported value: "v2"`},
		{"unserved kind", "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\n", `kind: Unsupported value: "CronJob"`},
		{"missing kind", "apiVersion: v1\nmetadata:\n  name: c\n", "kind"},
		{"malformed yaml", "apiVersion: v1\nkind: Pod\nmetadata: [\n", "line"},
		{"selector does not match", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels:\n      app: a\n  template:\n    metadata:\n      labels:\n        app: b\n    spec:\n      containers:\n      - name: c\n        image: x\n", "spec.template.metadata.labels"},
		{"negative replicas", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: r\nspec:\n  replicas: -1\n  selector:\n    matchLabels:\n      app: a\n  template:\n    metadata:\n      labels:\n        app: a\n    spec:\n      containers:\n      - name: c\n        image: x\n", "spec.replicas"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ctl.Exec(t, tc.manifest, "apply", "-f", "-")
			if r.ExitCode == 0 {
				t.Fatalf("accepted:\n%s", r.Stdout)
			}
			if !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("error does not name %q:\n%s", tc.want, r.Stderr)
			}
		})
	}
	// Nothing was stored.
	for _, kind := range []string{"pods", "configmaps", "deployments", "replicasets"} {
		if out := ctl.Run(t, "get", kind, "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("rejected manifests left %s:\n%s", kind, out)
		}
	}
}

func TestConcurrentUpdatesConflict(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, srv.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cms := corev1.NewConfigMapServiceClient(c.Conn())
	cm, err := cms.Create(ctx, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "counter"}, Data: map[string]string{"v": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	// Two writers read the same version; exactly one update wins, the other conflicts.
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := proto.Clone(cm).(*corev1.ConfigMap)
			u.Data["v"] = fmt.Sprint(i + 1)
			_, results[i] = cms.Update(ctx, u)
		}()
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case kerrors.IsConflict(err):
			conflict++
			if !strings.Contains(err.Error(), "the object has been modified") {
				t.Errorf("conflict message: %v", err)
			}
		default:
			t.Errorf("update: %v", err)
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("%d succeeded, %d conflicted; want 1 and 1", ok, conflict)
	}
}

func TestKill9LosesNothingAcknowledged(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
	ctl := srv.Berthctl(t)
	var docs []string
	for i := 0; i < 30; i++ {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  i: \"%d\"\n", i, i))
	}
	ctl.RunStdin(t, strings.Join(docs, "---\n"), "apply", "-f", "-")
	srv.Kill(t)
	srv.Restart(t)
	out := ctl.Run(t, "get", "configmaps", "-o", "name")
	for i := 0; i < 30; i++ {
		if !strings.Contains(out, fmt.Sprintf("configmap/cm-%02d", i)) {
			t.Errorf("configmap cm-%02d lost after kill -9:\n%s", i, out)
		}
	}
}

func TestExternalEtcd(t *testing.T) {
	endpoint := e2eutil.StartEtcd(t)
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Role: "apiserver", Args: []string{"--etcd-endpoints", endpoint}})
	ctl := srv.Berthctl(t)
	ctl.RunStdin(t, shopManifest, "apply", "-f", "-")
	srv.Stop(t)
	srv.Restart(t)
	if out := ctl.Run(t, "get", "deploy", "-n", "shop"); !strings.Contains(out, "web") {
		t.Errorf("deployment gone after restart on external etcd:\n%s", out)
	}
	srv.Kill(t)
	srv.Restart(t)
	if out := ctl.Run(t, "get", "pods", "-n", "shop", "-o", "name"); !strings.Contains(out, "pod/probe") {
		t.Errorf("pod gone after kill -9 on external etcd:\n%s", out)
	}
	// The controllers run as their own process against this apiserver.
	ctrl := e2eutil.StartProcess(t, e2eutil.Binary(t, "berth"), []string{"controller", "--server", srv.GRPCAddr, "--http-addr", e2eutil.FreeAddr(t)}, e2eutil.ProcessOptions{Combined: true})
	ctrl.WaitForOutput(t, "controllers started", 30*time.Second)
	ctl.Run(t, "delete", "namespace", "shop", "--timeout=60s")
	if r := ctl.Exec(t, "", "get", "namespace", "shop"); r.ExitCode == 0 {
		t.Errorf("namespace shop still there after the controller ran: %s", r.Stdout)
	}
}
