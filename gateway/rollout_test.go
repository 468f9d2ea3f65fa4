package gateway

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

const rolloutDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
"spec":{"containers":[{"name":"web","image":"berth-testapp:v1"}]}}}}`

const deploymentsPath = "/apis/apps/v1/namespaces/default/deployments"

// readDeployment reads the web Deployment over gRPC.
func (e *env) readDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	obj, err := e.client.Resource(scheme.Deployments).Get(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*appsv1.Deployment)
}

// revisionReplicaSet creates a ReplicaSet of the Deployment, as its controller would, of
// revision rev with image.
func (e *env) revisionReplicaSet(t *testing.T, dep *appsv1.Deployment, name, rev, image string) {
	t.Helper()
	tpl := proto.Clone(dep.GetSpec().GetTemplate()).(*corev1.PodTemplateSpec)
	tpl.Spec.Containers[0].Image = image
	tpl.Metadata.Labels["pod-template-hash"] = name
	rs := &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{
			Namespace: "default", Name: name, Labels: tpl.GetMetadata().GetLabels(),
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": rev, "kubernetes.io/change-cause": "image " + image},
			OwnerReferences: []*metav1.OwnerReference{controllerref.New(dep)},
		},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas: proto.Int32(0), Template: tpl,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": name}},
		},
	}
	if _, err := e.client.Resource(scheme.ReplicaSets).Create(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

// TestKubectlScaleAndRolloutRequests sends the requests kubectl v1.32 sends for scale and
// rollout pause|resume|restart|undo, byte for byte (as `kubectl -v=8` shows them).
func TestKubectlScaleAndRolloutRequests(t *testing.T) {
	e := start(t)
	if r := e.post(t, deploymentsPath, rolloutDeployment); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	const smp, merge, jsonPatch = "application/strategic-merge-patch+json", "application/merge-patch+json", "application/json-patch+json"
	for _, tc := range []struct {
		name, path, contentType, body string
		check                         func(*appsv1.Deployment) bool
	}{
		{"scale", "/web/scale", merge, `{"spec":{"replicas":5}}`, func(d *appsv1.Deployment) bool { return d.GetSpec().GetReplicas() == 5 }},
		{"pause", "/web?fieldManager=kubectl-rollout", smp, `{"spec":{"paused":true}}`, func(d *appsv1.Deployment) bool { return d.GetSpec().GetPaused() }},
		{"resume", "/web?fieldManager=kubectl-rollout", smp, `{"spec":{"paused":null}}`, func(d *appsv1.Deployment) bool { return !d.GetSpec().GetPaused() }},
		{"restart", "/web?fieldManager=kubectl-rollout", smp, `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-12-06T20:04:26Z"}}}}}`,
			func(d *appsv1.Deployment) bool {
				return d.GetSpec().GetTemplate().GetMetadata().GetAnnotations()["kubectl.kubernetes.io/restartedAt"] == "2026-12-06T20:04:26Z"
			}},
		{"undo", "/web", jsonPatch, `[{"op":"replace","path":"/spec/template","value":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},` +
			`"spec":{"containers":[{"name":"web","image":"berth-testapp:v0","resources":{},"terminationMessagePath":"/dev/termination-log",` +
			`"terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,` +
			`"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},` +
			`{"op":"replace","path":"/metadata/annotations","value":{"kubernetes.io/change-cause":"image berth-testapp:v0"}}]`,
			func(d *appsv1.Deployment) bool {
				t := d.GetSpec().GetTemplate()
				return t.GetSpec().GetContainers()[0].GetImage() == "berth-testapp:v0" && len(t.GetMetadata().GetAnnotations()) == 0 &&
					d.GetMetadata().GetAnnotations()["kubernetes.io/change-cause"] == "image berth-testapp:v0"
			}},
	} {
		r := e.do(t, http.MethodPatch, deploymentsPath+tc.path, tc.contentType, tc.body)
		if r.code != http.StatusOK {
			t.Errorf("%s: PATCH %s: %d %s", tc.name, tc.path, r.code, r.body)
			continue
		}
		if d := e.readDeployment(t); !tc.check(d) {
			t.Errorf("%s: the Deployment after the patch: %v", tc.name, d)
		}
	}
	// kubectl scale --current-replicas reads the scale, then PUTs it back with its
	// resourceVersion.
	r := e.get(t, deploymentsPath+"/web/scale")
	if r.code != http.StatusOK || !bytes.Contains(r.body, []byte(`"kind":"Scale"`)) {
		t.Fatalf("get scale: %d %s", r.code, r.body)
	}
	body := strings.Replace(string(r.body), `"replicas":5`, `"replicas":2`, 1)
	if r := e.put(t, deploymentsPath+"/web/scale", body); r.code != http.StatusOK {
		t.Errorf("put scale: %d %s", r.code, r.body)
	}
	if r := e.put(t, deploymentsPath+"/web/scale", body); r.code != http.StatusConflict {
		t.Errorf("put scale with a stale resourceVersion: %d %s", r.code, r.body)
	}
}

// TestKubectlScaleAndRollout runs the stock kubectl, when one is installed, against the
// gateway: scale and every rollout subcommand, with kubectl's own output.
func TestKubectlScaleAndRollout(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: the requests it sends are checked by TestKubectlScaleAndRolloutRequests")
	}
	e := start(t)
	cfg := filepath.Join(t.TempDir(), "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: berth\n  cluster:\n    server: " + e.url +
		"\ncontexts:\n- name: berth\n  context:\n    cluster: berth\n    namespace: default\ncurrent-context: berth\n"
	if err := os.WriteFile(cfg, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", cfg, "--cache-dir", filepath.Join(filepath.Dir(cfg), "cache")}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	if r := e.post(t, deploymentsPath, rolloutDeployment); r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	dep := e.readDeployment(t)
	e.revisionReplicaSet(t, dep, "web-0", "1", "berth-testapp:v0")
	e.revisionReplicaSet(t, dep, "web-1", "2", "berth-testapp:v1")
	for _, tc := range []struct {
		args          []string
		stdout, error string
	}{
		{[]string{"scale", "deployment/web", "--replicas=5"}, "deployment.apps/web scaled\n", ""},
		{[]string{"scale", "deployment/web", "--replicas=3", "--current-replicas=5"}, "deployment.apps/web scaled\n", ""},
		{[]string{"scale", "deployment/web", "--replicas=3", "--current-replicas=5"}, "", "error: Expected replicas to be 5, was 3\n"},
		{[]string{"rollout", "history", "deployment/web"}, "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         image berth-testapp:v0\n2         image berth-testapp:v1\n\n", ""},
		{[]string{"rollout", "pause", "deployment/web"}, "deployment.apps/web paused\n", ""},
		{[]string{"rollout", "pause", "deployment/web"}, "", "error: deployments.apps \"web\" is already paused\n"},
		{[]string{"rollout", "undo", "deployment/web"}, "", "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again\n"},
		{[]string{"rollout", "resume", "deployment/web"}, "deployment.apps/web resumed\n", ""},
		{[]string{"rollout", "undo", "deployment/web", "--to-revision=7"}, "", "error: unable to find specified revision 7 in history\n"},
		{[]string{"rollout", "undo", "deployment/web"}, "deployment.apps/web rolled back\n", ""},
		{[]string{"rollout", "undo", "deployment/web", "--to-revision=1"}, "deployment.apps/web skipped rollback (current template already matches revision 1)\n", ""},
		{[]string{"rollout", "restart", "deployment/web"}, "deployment.apps/web restarted\n", ""},
		{[]string{"rollout", "status", "deployment/web", "--watch=false"}, "Waiting for deployment spec update to be observed...\n", ""},
	} {
		out, errOut, err := run(tc.args...)
		if (err != nil) != (tc.error != "") || out != tc.stdout || errOut != tc.error {
			t.Errorf("kubectl %s: %v\nstdout %q, want %q\nstderr %q, want %q", strings.Join(tc.args, " "), err, out, tc.stdout, errOut, tc.error)
		}
	}
	d := e.readDeployment(t)
	if img := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); img != "berth-testapp:v0" || d.GetSpec().GetReplicas() != 3 {
		t.Errorf("after the commands: image %q, replicas %d; want berth-testapp:v0 and 3", img, d.GetSpec().GetReplicas())
	}
}
