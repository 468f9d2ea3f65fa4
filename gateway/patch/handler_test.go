package patch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	kappsv1 "k8s.io/api/apps/v1"
	kautoscalingv1 "k8s.io/api/autoscaling/v1"
	kcorev1 "k8s.io/api/core/v1"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sjson "sigs.k8s.io/json"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

// env is a real apiserver on embedded etcd with the PATCH handler in front of it.
type env struct {
	t   *testing.T
	c   *client.Client
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	addr := apiservertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := client.Dial(ctx, addr, client.WithBlock())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	srv := httptest.NewServer(NewHandler(c))
	t.Cleanup(srv.Close)
	return &env{t: t, c: c, srv: srv}
}

// create stores a manifest (YAML or JSON) and returns it as stored.
func (e *env) create(manifest string) scheme.Object {
	e.t.Helper()
	obj, r, err := kubejson.UnmarshalObject([]byte(manifest))
	if err != nil {
		e.t.Fatalf("decode manifest: %v", err)
	}
	if r.Namespaced && obj.GetMetadata().GetNamespace() == "" {
		obj.GetMetadata().Namespace = "default"
	}
	out, err := e.c.Resource(r).Create(context.Background(), obj)
	if err != nil {
		e.t.Fatalf("create %s: %v", r.Kind, err)
	}
	return out
}

func (e *env) example(name string) scheme.Object {
	e.t.Helper()
	b, err := os.ReadFile("/work/shared/k8s-examples/application/" + name)
	if err != nil {
		e.t.Skipf("Kubernetes example %s: %v", name, err)
	}
	return e.create(string(b))
}

type response struct {
	code   int
	body   []byte
	header http.Header
}

// patch sends a PATCH; a YAML body is converted to JSON first unless the type is apply, as
// kubectl does with --patch-file.
func (e *env) patch(path, contentType, body string) response {
	e.t.Helper()
	return e.do(http.MethodPatch, path, contentType, body)
}

func (e *env) do(method, path, contentType, body string) response {
	e.t.Helper()
	b := []byte(body)
	if contentType != "application/apply-patch+yaml" && contentType != "" && !strings.HasPrefix(strings.TrimSpace(body), "{") && !strings.HasPrefix(strings.TrimSpace(body), "[") {
		js, err := kubejson.ToJSON(b)
		if err == nil {
			b = js
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{code: resp.StatusCode, body: out, header: resp.Header}
}

// ok checks a 200/201 answer and decodes it strictly into the k8s.io/api type v, as a
// Kubernetes client would.
func (r response) ok(t *testing.T, code int, v any) {
	t.Helper()
	if r.code != code {
		t.Fatalf("code %d, want %d: %s", r.code, code, r.body)
	}
	if v == nil {
		return
	}
	rv := reflect.ValueOf(v).Elem()
	rv.Set(reflect.Zero(rv.Type())) // decode into a fresh value, not onto an earlier answer
	strict, err := sjson.UnmarshalStrict(r.body, v)
	if err != nil || len(strict) > 0 {
		t.Fatalf("decode into %T: %v %v\n%s", v, err, strict, r.body)
	}
}

// status checks an error answer: a Status with this code and reason.
func (r response) status(t *testing.T, code int, reason kmetav1.StatusReason) kmetav1.Status {
	t.Helper()
	var st kmetav1.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("code %d, body not a Status: %v: %s", r.code, err, r.body)
	}
	if r.code != code || int(st.Code) != code || st.Reason != reason || st.Kind != "Status" || st.Status != kmetav1.StatusFailure {
		t.Fatalf("got %d %s (%s), want %d %s", r.code, st.Reason, st.Message, code, reason)
	}
	return st
}

const (
	ctJSON      = "application/json-patch+json"
	ctMerge     = "application/merge-patch+json"
	ctStrategic = "application/strategic-merge-patch+json"
	ctApply     = "application/apply-patch+yaml"
)

const podPath = "/api/v1/namespaces/default/pods/web"

const podManifest = `
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - {name: nginx, image: "nginx:1.25", ports: [{containerPort: 80}]}
  - {name: log, image: busybox, command: [sh, -c, "tail -f /dev/null"]}
`

func TestPatchPod(t *testing.T) {
	e := newEnv(t)
	created := e.create(podManifest)
	var pod kcorev1.Pod

	t.Run("merge", func(t *testing.T) {
		e.patch(podPath, ctMerge, `{"metadata":{"labels":{"tier":"front"}}}`).ok(t, 200, &pod)
		if pod.Labels["tier"] != "front" || pod.Labels["app"] != "web" || len(pod.Spec.Containers) != 2 {
			t.Errorf("labels %v, %d containers", pod.Labels, len(pod.Spec.Containers))
		}
		if pod.ResourceVersion == created.GetMetadata().GetResourceVersion() {
			t.Errorf("resourceVersion did not change")
		}
	})
	t.Run("json", func(t *testing.T) {
		e.patch(podPath, ctJSON, `[
			{"op":"test","path":"/spec/containers/1/name","value":"log"},
			{"op":"replace","path":"/spec/containers/1/image","value":"busybox:1.36"},
			{"op":"remove","path":"/metadata/labels/tier"}]`).ok(t, 200, &pod)
		if pod.Spec.Containers[1].Image != "busybox:1.36" || pod.Labels["tier"] != "" {
			t.Errorf("image %q, labels %v", pod.Spec.Containers[1].Image, pod.Labels)
		}
	})
	t.Run("strategic", func(t *testing.T) {
		// The container is found by its name, not its position.
		e.patch(podPath, ctStrategic, `{"metadata":{"annotations":{"a":"b"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}`).ok(t, 200, &pod)
		c := pod.Spec.Containers
		if len(c) != 2 || c[0].Name != "nginx" || c[0].Image != "nginx:1.27" || len(c[0].Ports) != 1 || c[1].Image != "busybox:1.36" || pod.Annotations["a"] != "b" {
			t.Errorf("containers %+v, annotations %v", c, pod.Annotations)
		}
	})
	t.Run("apply", func(t *testing.T) {
		e.patch(podPath+"?fieldManager=test", ctApply, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {owner: team-a}\n").ok(t, 200, &pod)
		if pod.Labels["owner"] != "team-a" || pod.Labels["app"] != "web" || len(pod.Spec.Containers) != 2 {
			t.Errorf("labels %v, %d containers", pod.Labels, len(pod.Spec.Containers))
		}
	})
	t.Run("status", func(t *testing.T) {
		// A change to spec through /status is ignored, as in Kubernetes.
		e.patch(podPath+"/status", ctMerge, `{"spec":{"activeDeadlineSeconds":5},"status":{"phase":"Running","podIP":"10.0.0.7"}}`).ok(t, 200, &pod)
		if pod.Status.Phase != kcorev1.PodRunning || pod.Status.PodIP != "10.0.0.7" || pod.Spec.ActiveDeadlineSeconds != nil {
			t.Errorf("phase %q podIP %q activeDeadlineSeconds %v", pod.Status.Phase, pod.Status.PodIP, pod.Spec.ActiveDeadlineSeconds)
		}
		// Conditions merge by type.
		e.patch(podPath+"/status", ctStrategic, `{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`).ok(t, 200, &pod)
		e.patch(podPath+"/status", ctStrategic, `{"status":{"conditions":[{"type":"Initialized","status":"True"}]}}`).ok(t, 200, &pod)
		if len(pod.Status.Conditions) != 2 || pod.Status.Phase != kcorev1.PodRunning {
			t.Errorf("conditions %+v, phase %q", pod.Status.Conditions, pod.Status.Phase)
		}
		e.patch(podPath+"/status", ctJSON, `[{"op":"replace","path":"/status/phase","value":"Succeeded"}]`).ok(t, 200, &pod)
		if pod.Status.Phase != kcorev1.PodSucceeded {
			t.Errorf("phase %q", pod.Status.Phase)
		}
	})
}

// TestKubernetesPatchDocs follows "Update API Objects in Place Using kubectl patch" from the
// Kubernetes documentation, with its own example files, and expects what the page shows.
func TestKubernetesPatchDocs(t *testing.T) {
	e := newEnv(t)
	const path = "/apis/apps/v1/namespaces/default/deployments/patch-demo"
	e.example("deployment-patch.yaml")
	var d kappsv1.Deployment

	// patch-file.yaml: a strategic merge patch adds a container; the existing one stays.
	e.patch(path, ctStrategic, `
spec:
  template:
    spec:
      containers:
      - name: patch-demo-ctr-2
        image: redis
`).ok(t, 200, &d)
	var names []string
	for _, c := range d.Spec.Template.Spec.Containers {
		names = append(names, c.Name+"="+c.Image)
	}
	if got := strings.Join(names, ","); got != "patch-demo-ctr-2=redis,patch-demo-ctr=nginx" {
		t.Errorf("containers after the strategic merge patch: %s", got)
	}

	// patch-file-tolerations.yaml: tolerations have no patch strategy, so the list is replaced.
	e.patch(path, ctStrategic, `
spec:
  template:
    spec:
      tolerations:
      - effect: NoSchedule
        key: disktype
        value: ssd
`).ok(t, 200, &d)
	if tol := d.Spec.Template.Spec.Tolerations; len(tol) != 1 || tol[0].Key != "disktype" || tol[0].Value != "ssd" || tol[0].Effect != kcorev1.TaintEffectNoSchedule {
		t.Errorf("tolerations after the patch: %+v", tol)
	}

	// patch-file-2.yaml with --type merge: a JSON merge patch replaces the containers list.
	e.patch(path, ctMerge, `
spec:
  template:
    spec:
      containers:
      - name: patch-demo-ctr-3
        image: gcr.io/google-samples/hello-app:2.0
`).ok(t, 200, &d)
	if c := d.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Name != "patch-demo-ctr-3" || c[0].Image != "gcr.io/google-samples/hello-app:2.0" {
		t.Errorf("containers after the merge patch: %+v", c)
	}

	// The alternate forms: JSON on the command line.
	e.patch(path, ctStrategic, `{"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-3", "image": "gcr.io/google-samples/hello-app:2.0"},{"name": "patch-demo-ctr-4", "image": "redis"}]}}}}`).ok(t, 200, &d)
	if c := d.Spec.Template.Spec.Containers; len(c) != 2 {
		t.Errorf("containers after the inline patch: %+v", c)
	}

	// --subresource=scale --type=merge -p '{"spec":{"replicas":3}}'
	var sc kautoscalingv1.Scale
	e.patch(path+"/scale", ctMerge, `{"spec":{"replicas":3}}`).ok(t, 200, &sc)
	if sc.Spec.Replicas != 3 || sc.Kind != "Scale" || sc.APIVersion != "autoscaling/v1" || sc.Name != "patch-demo" {
		t.Errorf("scale %+v", sc)
	}
	got, err := e.c.Resource(scheme.Deployments).Get(context.Background(), "default", "patch-demo")
	if err != nil {
		t.Fatal(err)
	}
	if js := jsonAt(t, got, "spec", "replicas"); js != "3" {
		t.Errorf("spec.replicas after scaling: %s", js)
	}

	// The retainKeys strategy.
	const rpath = "/apis/apps/v1/namespaces/default/deployments/retainkeys-demo"
	e.example("deployment-retainkeys.yaml")
	// patch-file-no-retainkeys.yaml: refused, rollingUpdate would remain with Recreate.
	st := e.patch(rpath, ctStrategic, "spec:\n  strategy:\n    type: Recreate\n").status(t, 422, kmetav1.StatusReasonInvalid)
	if st.Details == nil || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != "spec.strategy.rollingUpdate" ||
		!strings.Contains(st.Message, "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'") ||
		!strings.Contains(st.Message, `"retainkeys-demo" is invalid`) {
		t.Errorf("Status %+v", st)
	}
	// patch-file-retainkeys.yaml: the strategy keeps only its type.
	e.patch(rpath, ctStrategic, "spec:\n  strategy:\n    $retainKeys:\n    - type\n    type: Recreate\n").ok(t, 200, &d)
	if d.Spec.Strategy.Type != kappsv1.RecreateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("strategy %+v", d.Spec.Strategy)
	}
}

func TestPatchServicePortsMergeByPort(t *testing.T) {
	e := newEnv(t)
	e.create(`
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
`)
	const path = "/api/v1/namespaces/default/services/web"
	var svc kcorev1.Service
	e.patch(path, ctStrategic, `{"spec":{"ports":[{"name":"https","port":443,"targetPort":"tls"},{"name":"metrics","port":9090}]}}`).ok(t, 200, &svc)
	var ports []string
	for _, p := range svc.Spec.Ports {
		ports = append(ports, fmt.Sprintf("%s:%d->%s", p.Name, p.Port, p.TargetPort.String()))
	}
	// 443 is changed in place, 80 is kept, 9090 is added.
	if got := strings.Join(ports, ","); got != "http:80->8080,https:443->tls,metrics:9090->9090" {
		t.Errorf("ports: %s", got)
	}
	// $patch: delete removes one port by its key.
	e.patch(path, ctStrategic, `{"spec":{"ports":[{"port":9090,"$patch":"delete"}]}}`).ok(t, 200, &svc)
	if len(svc.Spec.Ports) != 2 {
		t.Errorf("ports after delete: %+v", svc.Spec.Ports)
	}
	// A merge patch replaces the list.
	e.patch(path, ctMerge, `{"spec":{"ports":[{"name":"http","port":80,"targetPort":8080}]}}`).ok(t, 200, &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("ports after merge patch: %+v", svc.Spec.Ports)
	}
}

const deploymentManifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: "api:1"}]}
`

func TestPatchScaleAndStatus(t *testing.T) {
	e := newEnv(t)
	e.create(deploymentManifest)
	const path = "/apis/apps/v1/namespaces/default/deployments/api"
	cases := []struct {
		contentType, body string
		replicas          int32
	}{
		{ctMerge, `{"spec":{"replicas":3}}`, 3},
		{ctJSON, `[{"op":"test","path":"/spec/replicas","value":3},{"op":"replace","path":"/spec/replicas","value":5}]`, 5},
		{ctStrategic, `{"spec":{"replicas":0}}`, 0},
		{ctApply + "?fieldManager=hpa", "apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: api}\nspec: {replicas: 4}\n", 4},
	}
	for _, tc := range cases {
		ct, query, _ := strings.Cut(tc.contentType, "?")
		t.Run(ct, func(t *testing.T) {
			var sc kautoscalingv1.Scale
			e.patch(path+"/scale?"+query, ct, tc.body).ok(t, 200, &sc)
			if sc.Spec.Replicas != tc.replicas || sc.Status.Selector != "app=api" {
				t.Errorf("scale %+v", sc)
			}
			var d kappsv1.Deployment
			e.patch(path, ctMerge, `{}`).ok(t, 200, &d)
			if d.Spec.Replicas == nil || *d.Spec.Replicas != tc.replicas {
				t.Errorf("deployment replicas %v, want %d", d.Spec.Replicas, tc.replicas)
			}
		})
	}
	t.Run("invalid scale", func(t *testing.T) {
		e.patch(path+"/scale", ctMerge, `{"spec":{"replicas":-1}}`).status(t, 422, kmetav1.StatusReasonInvalid)
	})
	t.Run("status", func(t *testing.T) {
		var d kappsv1.Deployment
		e.patch(path+"/status", ctMerge, `{"spec":{"paused":true},"status":{"observedGeneration":1,"replicas":4,"updatedReplicas":4}}`).ok(t, 200, &d)
		if d.Status.Replicas != 4 || d.Status.UpdatedReplicas != 4 || d.Spec.Paused {
			t.Errorf("status %+v, paused %v", d.Status, d.Spec.Paused)
		}
		// A status-only write through the main resource is ignored.
		e.patch(path, ctMerge, `{"status":{"replicas":9}}`).ok(t, 200, &d)
		if d.Status.Replicas != 4 {
			t.Errorf("status.replicas %d after a patch of the main resource", d.Status.Replicas)
		}
	})
}

func TestPatchConflicts(t *testing.T) {
	e := newEnv(t)
	created := e.create(podManifest)
	rv := created.GetMetadata().GetResourceVersion()
	var pod kcorev1.Pod

	// A matching resourceVersion in the patch is a satisfied precondition.
	e.patch(podPath, ctMerge, fmt.Sprintf(`{"metadata":{"resourceVersion":%q,"labels":{"v":"1"}}}`, rv)).ok(t, 200, &pod)
	// The same one again is stale now: 409, for every patch type.
	for _, tc := range []struct{ ct, body string }{
		{ctMerge, fmt.Sprintf(`{"metadata":{"resourceVersion":%q,"labels":{"v":"2"}}}`, rv)},
		{ctStrategic, fmt.Sprintf(`{"metadata":{"resourceVersion":%q,"labels":{"v":"2"}}}`, rv)},
		{ctJSON, fmt.Sprintf(`[{"op":"replace","path":"/metadata/resourceVersion","value":%q}]`, rv)},
		{ctApply + "?fieldManager=x", fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: web, resourceVersion: %q}\n", rv)},
	} {
		ct, query, _ := strings.Cut(tc.ct, "?")
		t.Run(ct, func(t *testing.T) {
			e.patch(podPath+"?"+query, ct, tc.body).status(t, 409, kmetav1.StatusReasonConflict)
		})
	}

	// Patches without a resourceVersion are retried on conflicts: concurrent writers all win.
	t.Run("concurrent", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ct := []string{ctMerge, ctStrategic}[i%2]
				codes[i] = e.patch(podPath, ct, fmt.Sprintf(`{"metadata":{"labels":{"writer-%d":"yes"}}}`, i)).code
			}()
		}
		wg.Wait()
		got, err := e.c.Resource(scheme.Pods).Get(context.Background(), "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if codes[i] != 200 || got.GetMetadata().GetLabels()[fmt.Sprintf("writer-%d", i)] != "yes" {
				t.Errorf("writer %d: code %d, labels %v", i, codes[i], got.GetMetadata().GetLabels())
			}
		}
	})
}

func TestServerSideApply(t *testing.T) {
	e := newEnv(t)
	const path = "/apis/apps/v1/namespaces/default/deployments/api"
	const config = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, labels: {app: api}}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: "api:1"
        env: [{name: MODE, value: fast}]
`
	var d kappsv1.Deployment
	e.patch(path, ctApply, config).status(t, 422, kmetav1.StatusReasonInvalid) // fieldManager is required
	e.patch(path+"?fieldManager=ci&force=maybe", ctApply, config).status(t, 400, kmetav1.StatusReasonBadRequest)

	// Missing: created, 201.
	e.patch(path+"?fieldManager=ci", ctApply, config).ok(t, 201, &d)
	if d.Namespace != "default" || d.UID == "" || *d.Spec.Replicas != 2 {
		t.Errorf("created %+v", d.ObjectMeta)
	}
	// Present: the configuration is merged onto the live object (containers and env by name).
	e.patch(path+"?fieldManager=ci&force=true", ctApply, strings.NewReplacer(`"api:1"`, `"api:2"`, "value: fast", "value: slow", "replicas: 2", "replicas: 3").Replace(config)).ok(t, 200, &d)
	c := d.Spec.Template.Spec.Containers
	if *d.Spec.Replicas != 3 || len(c) != 1 || c[0].Image != "api:2" || len(c[0].Env) != 1 || c[0].Env[0].Value != "slow" {
		t.Errorf("after the second apply: replicas %d containers %+v", *d.Spec.Replicas, c)
	}
	// JSON is YAML too; a partial configuration leaves the rest alone.
	e.patch(path+"?fieldManager=other", ctApply, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","annotations":{"note":"x"}}}`).ok(t, 200, &d)
	if d.Annotations["note"] != "x" || *d.Spec.Replicas != 3 || d.Labels["app"] != "api" {
		t.Errorf("after a partial apply: %+v", d.ObjectMeta)
	}
	// The name must be the URL's, for create as for update.
	e.patch(path+"?fieldManager=ci", ctApply, strings.Replace(config, "name: api,", "name: other,", 1)).status(t, 400, kmetav1.StatusReasonBadRequest)
	e.patch("/apis/apps/v1/namespaces/default/deployments/new?fieldManager=ci", ctApply, config).status(t, 400, kmetav1.StatusReasonBadRequest)
	// An invalid configuration is refused by the apiserver.
	e.patch("/apis/apps/v1/namespaces/default/deployments/bad?fieldManager=ci", ctApply,
		strings.NewReplacer("name: api,", "name: bad,", "replicas: 2", "replicas: -2").Replace(config)).status(t, 422, kmetav1.StatusReasonInvalid)
	// Apply on /status of a missing object does not create it.
	e.patch("/apis/apps/v1/namespaces/default/deployments/nothing/status?fieldManager=ci", ctApply, strings.Replace(config, "name: api,", "name: nothing,", 1)).status(t, 404, kmetav1.StatusReasonNotFound)
}

func TestPatchHTTPErrors(t *testing.T) {
	e := newEnv(t)
	e.create(podManifest)
	e.create(deploymentManifest)
	cases := []struct {
		name, method, path, contentType, body string
		code                                  int
		reason                                kmetav1.StatusReason
	}{
		{"unsupported content type", "PATCH", podPath, "application/json", `{}`, 415, kmetav1.StatusReasonUnsupportedMediaType},
		{"no content type", "PATCH", podPath, "", `{}`, 415, kmetav1.StatusReasonUnsupportedMediaType},
		{"yaml is not a patch type", "PATCH", podPath, "application/yaml", `{}`, 415, kmetav1.StatusReasonUnsupportedMediaType},
		{"malformed merge patch", "PATCH", podPath, ctMerge, `{"metadata":`, 400, kmetav1.StatusReasonBadRequest},
		{"malformed json patch", "PATCH", podPath, ctJSON, `[{]`, 400, kmetav1.StatusReasonBadRequest},
		{"malformed strategic patch", "PATCH", podPath, ctStrategic, `nope`, 400, kmetav1.StatusReasonBadRequest},
		{"failed json patch test", "PATCH", podPath, ctJSON, `[{"op":"test","path":"/metadata/name","value":"x"}]`, 422, kmetav1.StatusReasonInvalid},
		{"result of the wrong type", "PATCH", podPath, ctMerge, `{"spec":{"containers":5}}`, 422, kmetav1.StatusReasonInvalid},
		{"result invalid for the apiserver", "PATCH", "/apis/apps/v1/namespaces/default/deployments/api", ctMerge, `{"spec":{"replicas":-1}}`, 422, kmetav1.StatusReasonInvalid},
		{"unknown field, Strict", "PATCH", podPath + "?fieldValidation=Strict", ctMerge, `{"spec":{"bogus":1}}`, 400, kmetav1.StatusReasonBadRequest},
		{"bad fieldValidation", "PATCH", podPath + "?fieldValidation=Loose", ctMerge, `{}`, 422, kmetav1.StatusReasonInvalid},
		{"force on a merge patch", "PATCH", podPath + "?force=true", ctMerge, `{}`, 422, kmetav1.StatusReasonInvalid},
		{"dry run", "PATCH", podPath + "?dryRun=All", ctMerge, `{}`, 400, kmetav1.StatusReasonBadRequest},
		{"rename", "PATCH", podPath, ctMerge, `{"metadata":{"name":"x"}}`, 400, kmetav1.StatusReasonBadRequest},
		{"missing object", "PATCH", "/api/v1/namespaces/default/pods/nothing", ctMerge, `{}`, 404, kmetav1.StatusReasonNotFound},
		{"missing namespace", "PATCH", "/api/v1/namespaces/nowhere/pods/web", ctStrategic, `{}`, 404, kmetav1.StatusReasonNotFound},
		{"unknown resource", "PATCH", "/api/v1/namespaces/default/widgets/w", ctMerge, `{}`, 404, kmetav1.StatusReasonNotFound},
		{"no scale for pods", "PATCH", podPath + "/scale", ctMerge, `{}`, 404, kmetav1.StatusReasonNotFound},
		{"collection", "PATCH", "/api/v1/namespaces/default/pods", ctMerge, `{}`, 405, kmetav1.StatusReasonMethodNotAllowed},
		{"not a patch", "GET", podPath, "", "", 405, kmetav1.StatusReasonMethodNotAllowed},
		{"json patch copies past the limit", "PATCH", podPath, ctJSON, copyBomb(16), 422, kmetav1.StatusReasonInvalid},
		{"body too large", "PATCH", podPath, ctMerge, `{"metadata":{"annotations":{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}}}`, 413, kmetav1.StatusReasonRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.contentType, tc.body)
			r.status(t, tc.code, tc.reason)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}

	t.Run("content type parameters", func(t *testing.T) {
		var pod kcorev1.Pod
		e.patch(podPath, ctMerge+"; charset=utf-8", `{"metadata":{"labels":{"cs":"1"}}}`).ok(t, 200, &pod)
		if pod.Labels["cs"] != "1" {
			t.Errorf("labels %v", pod.Labels)
		}
	})
	t.Run("unknown fields warn by default", func(t *testing.T) {
		var pod kcorev1.Pod
		r := e.patch(podPath, ctMerge, `{"metadata":{"labels":{"w":"1"}},"spec":{"bogus":1}}`)
		r.ok(t, 200, &pod)
		if w := r.header.Values("Warning"); len(w) != 1 || w[0] != `299 - "unknown field \"spec.bogus\""` || pod.Labels["w"] != "1" {
			t.Errorf("warnings %q, labels %v", w, pod.Labels)
		}
		r = e.patch(podPath+"?fieldValidation=Ignore", ctMerge, `{"metadata":{"labels":{"w":"2"}},"spec":{"bogus":1}}`)
		r.ok(t, 200, &pod)
		if w := r.header.Values("Warning"); len(w) != 0 || pod.Labels["w"] != "2" {
			t.Errorf("warnings %q, labels %v", w, pod.Labels)
		}
	})
}

// copyBomb is a JSON patch that doubles the Pod's spec n times.
func copyBomb(n int) string {
	ops := make([]string, n)
	for i := range ops {
		ops[i] = fmt.Sprintf(`{"op":"copy","from":"/spec","path":"/spec/x%d"}`, i)
	}
	return "[" + strings.Join(ops, ",") + "]"
}
