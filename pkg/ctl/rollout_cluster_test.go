package ctl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/ctl"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// These tests play the Deployment controller where they need its work (ReplicaSets with
// revisions, the Deployment's status), so that they check berthctl alone.

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
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
        image: berth-testapp:v1
`

// deploy creates the web Deployment and returns it.
func (c *cluster) deploy() *appsv1.Deployment {
	c.t.Helper()
	if r := c.run(webDeployment, "apply", "-f", "-"); r.code != 0 {
		c.t.Fatalf("apply: %s", r.errOut)
	}
	return c.getDeployment("web")
}

func (c *cluster) getDeployment(name string) *appsv1.Deployment {
	c.t.Helper()
	obj, err := c.client().Resource(scheme.Deployments).Get(c.ctx, "default", name)
	if err != nil {
		c.t.Fatal(err)
	}
	return obj.(*appsv1.Deployment)
}

// replicaSet creates a ReplicaSet of revision rev of dep (controlled by the owner given),
// with dep's template but image.
func (c *cluster) replicaSet(owner *appsv1.Deployment, name, rev, image, cause string) {
	c.t.Helper()
	t := proto.Clone(owner.GetSpec().GetTemplate()).(*corev1.PodTemplateSpec)
	t.Spec.Containers[0].Image = image
	t.Metadata.Labels["pod-template-hash"] = name
	ann := map[string]string{"deployment.kubernetes.io/revision": rev}
	if cause != "" {
		ann["kubernetes.io/change-cause"] = cause
	}
	rs := &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{
			Namespace: "default", Name: name, Labels: t.GetMetadata().GetLabels(), Annotations: ann,
			OwnerReferences: []*metav1.OwnerReference{controllerref.New(owner)},
		},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas: proto.Int32(0), Template: t,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": name}},
		},
	}
	if _, err := c.client().Resource(scheme.ReplicaSets).Create(c.ctx, rs); err != nil {
		c.t.Fatal(err)
	}
}

func TestRolloutHistoryUndo(t *testing.T) {
	c := newCluster(t)
	c.fails("error: required resource not specified", "rollout", "history")
	dep := c.deploy()
	if out := c.ok("rollout", "history", "deployment/web"); out != "deployment.apps/web \nNo rollout history found.\n" {
		t.Errorf("history without ReplicaSets:\n%q", out)
	}
	c.replicaSet(dep, "web-1", "1", "berth-testapp:v0", "")
	c.replicaSet(dep, "web-2", "2", "berth-testapp:v1", "kubectl set image deployment/web web=berth-testapp:v1")
	stranger := proto.Clone(dep).(*appsv1.Deployment)
	stranger.Metadata.Uid = "another-uid"
	c.replicaSet(stranger, "web-9", "9", "berth-testapp:v9", "not ours")

	want := "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         kubectl set image deployment/web web=berth-testapp:v1\n\n"
	if out := c.ok("rollout", "history", "deploy", "web"); out != want {
		t.Errorf("history:\n%s\nwant:\n%s", out, want)
	}
	out := c.ok("rollout", "history", "deployment/web", "--revision=1")
	for _, want := range []string{"deployment.apps/web with revision #1\nPod Template:\n", "pod-template-hash=web-1", "Image:", "berth-testapp:v0"} {
		if !strings.Contains(out, want) {
			t.Errorf("history --revision=1 lacks %q:\n%s", want, out)
		}
	}
	c.fails("error: unable to find the specified revision", "rollout", "history", "deployment/web", "--revision=9")
	c.fails(`error: no history viewer has been implemented for "ReplicaSet.apps"`, "rollout", "history", "rs/web-1")
	c.fails(`Error from server (NotFound): deployments.apps "nope" not found`, "rollout", "history", "deploy/nope")

	// Undo: to the revision before the newest, then to a named one.
	if out := c.ok("rollout", "undo", "deployment/web"); out != "deployment.apps/web rolled back\n" {
		t.Errorf("undo printed %q", out)
	}
	got := c.getDeployment("web")
	if img := got.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); img != "berth-testapp:v0" {
		t.Errorf("after undo the image is %q, want revision 1's berth-testapp:v0", img)
	}
	if l := got.GetSpec().GetTemplate().GetMetadata().GetLabels(); len(l) != 1 || l["app"] != "web" {
		t.Errorf("after undo the template's labels are %v, want app=web only", l)
	}
	if _, ok := got.GetMetadata().GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"]; !ok {
		t.Error("undo dropped the Deployment's last-applied-configuration")
	}
	if out := c.ok("rollout", "undo", "deployment/web", "--to-revision=1"); out != "deployment.apps/web skipped rollback (current template already matches revision 1)\n" {
		t.Errorf("undo to the current revision printed %q", out)
	}
	c.fails("error: unable to find specified revision 7 in history", "rollout", "undo", "deployment/web", "--to-revision=7")
	if out := c.ok("rollout", "undo", "deployment/web", "--to-revision=2"); out != "deployment.apps/web rolled back\n" {
		t.Errorf("undo to revision 2 printed %q", out)
	}
	got = c.getDeployment("web")
	if cause := got.GetMetadata().GetAnnotations()["kubernetes.io/change-cause"]; cause != "kubectl set image deployment/web web=berth-testapp:v1" {
		t.Errorf("undo to revision 2 left the change cause %q", cause)
	}

	// Pause, resume, restart.
	if out := c.ok("rollout", "pause", "deployment/web"); out != "deployment.apps/web paused\n" {
		t.Errorf("pause printed %q", out)
	}
	if !c.getDeployment("web").GetSpec().GetPaused() {
		t.Error("pause left spec.paused false")
	}
	c.fails(`error: deployments.apps "web" is already paused`, "rollout", "pause", "deployment/web")
	c.fails("error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again", "rollout", "undo", "deployment/web")
	c.fails(`error: deployments.apps "web" can't restart paused deployment (run rollout resume first)`, "rollout", "restart", "deployment/web")
	if out := c.ok("rollout", "resume", "deployment/web"); out != "deployment.apps/web resumed\n" {
		t.Errorf("resume printed %q", out)
	}
	c.fails(`error: deployments.apps "web" is not paused`, "rollout", "resume", "deployment/web")
	before := time.Now().Truncate(time.Second)
	if out := c.ok("rollout", "restart", "deployment/web"); out != "deployment.apps/web restarted\n" {
		t.Errorf("restart printed %q", out)
	}
	at, err := time.Parse(time.RFC3339, c.getDeployment("web").GetSpec().GetTemplate().GetMetadata().GetAnnotations()["kubectl.kubernetes.io/restartedAt"])
	if err != nil || at.Before(before) {
		t.Errorf("restartedAt: %v, %v (want a time from %v on)", at, err, before)
	}
	c.fails(`error: replicasets.apps "web-1" pausing is not supported`, "rollout", "pause", "rs/web-1")
}

func TestScale(t *testing.T) {
	c := newCluster(t)
	dep := c.deploy()
	c.replicaSet(dep, "web-1", "1", "berth-testapp:v0", "")
	c.replicaSet(dep, "web-2", "2", "berth-testapp:v2", "")

	if out := c.ok("scale", "deployment/web", "--replicas=5"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale printed %q", out)
	}
	if n := c.getDeployment("web").GetSpec().GetReplicas(); n != 5 {
		t.Errorf("replicas %d after scale, want 5", n)
	}
	c.fails("error: Expected replicas to be 3, was 5", "scale", "deploy", "web", "--replicas=2", "--current-replicas=3")
	if out := c.ok("scale", "deploy", "web", "--replicas=2", "--current-replicas=5"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale with the right precondition printed %q", out)
	}
	rv := c.getDeployment("web").GetMetadata().GetResourceVersion()
	c.fails("error: Expected resource version to be 1, was "+rv, "scale", "deploy/web", "--replicas=1", "--resource-version=1")
	c.ok("scale", "deploy/web", "--replicas=1", "--resource-version="+rv)
	c.fails("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0", "scale", "deploy/web", "--replicas=-1")
	c.fails(`error: required flag(s) "replicas" not set`, "scale", "deploy/web")
	c.fails("error: resource(s) were provided, but no name was specified", "scale", "rs", "--replicas=1")
	c.fails("error: cannot use --resource-version with multiple resources", "scale", "rs", "--all", "--replicas=1", "--resource-version=3")
	c.fails(`Error from server (NotFound): deployments.apps "nope" not found`, "scale", "deploy/nope", "--replicas=1")

	// Several objects: by selector, by --all, by file, with -o name.
	if out := c.ok("scale", "rs", "-l", "app=web", "--replicas=2"); out != "replicaset.apps/web-1 scaled\nreplicaset.apps/web-2 scaled\n" {
		t.Errorf("scale -l printed %q", out)
	}
	if out := c.ok("scale", "rs", "--all", "--replicas=0", "-o", "name"); out != "replicaset.apps/web-1\nreplicaset.apps/web-2\n" {
		t.Errorf("scale --all -o name printed %q", out)
	}
	rc := "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: legacy\nspec:\n  replicas: 1\n  selector:\n    app: legacy\n" +
		"  template:\n    metadata:\n      labels:\n        app: legacy\n    spec:\n      containers:\n      - name: c\n        image: berth-testapp:v1\n"
	file := filepath.Join(t.TempDir(), "rc.yaml")
	if err := os.WriteFile(file, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("apply", "-f", file)
	if out := c.ok("scale", "-f", file, "--replicas=4"); out != "replicationcontroller/legacy scaled\n" {
		t.Errorf("scale -f printed %q", out)
	}
	obj, err := c.client().Resource(scheme.ReplicationControllers).Get(c.ctx, "default", "legacy")
	if err != nil || obj.(*corev1.ReplicationController).GetSpec().GetReplicas() != 4 {
		t.Errorf("the ReplicationController after scale -f: %v, %v", obj, err)
	}

	// --timeout waits for status.replicas (the test plays the controller).
	r := c.run("", "scale", "deploy/web", "--replicas=3", "--timeout=1500ms")
	if r.code != 1 || r.errOut != "error: timed out waiting for \"web\" to be synced\n" {
		t.Errorf("scale --timeout without a controller: exit %d, %q", r.code, r.errOut)
	}
	d := c.getDeployment("web")
	d.Status = &appsv1.DeploymentStatus{Replicas: 3}
	if _, err := c.client().Resource(scheme.Deployments).UpdateStatus(c.ctx, d); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("scale", "deploy/web", "--replicas=3", "--timeout=10s"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale --timeout printed %q", out)
	}
}

// runStreams runs berthctl with the streams given and returns its exit code.
func (c *cluster) runStreams(args []string, out, errOut *syncBuffer) int {
	return ctl.Run(c.ctx, args, ctl.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, c.addr)
}

// setStatus writes the Deployment's status as its controller would, having observed its
// current generation.
func setStatus(t *testing.T, rc *client.ResourceClient, c *cluster, st *appsv1.DeploymentStatus) {
	t.Helper()
	d := c.getDeployment("web")
	st.ObservedGeneration = d.GetMetadata().GetGeneration()
	d.Status = st
	if _, err := rc.UpdateStatus(c.ctx, d); err != nil {
		t.Fatal(err)
	}
}

// waitOutput polls until the command's output contains want.
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q:\n%s", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRolloutStatus(t *testing.T) {
	c := newCluster(t)
	c.replicaSet(c.deploy(), "web-1", "1", "berth-testapp:v1", "")
	rc := c.client().Resource(scheme.Deployments)

	if out := c.ok("rollout", "status", "deployment/web", "--watch=false"); out != "Waiting for deployment spec update to be observed...\n" {
		t.Errorf("status before the controller saw the Deployment: %q", out)
	}
	r := c.run("", "rollout", "status", "deployment/web", "--timeout=300ms")
	if r.code != 1 || r.errOut != "error: timed out waiting for the condition\n" {
		t.Errorf("status --timeout: exit %d, %q", r.code, r.errOut)
	}
	c.fails("error: no status viewer has been implemented for ReplicaSet.apps", "rollout", "status", "rs/web-1")
	c.fails("error: revision must be a positive integer: -1", "rollout", "status", "deploy/web", "--revision=-1")

	// A watched rollout: each status the controller writes is printed, until success.
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- c.runStreams([]string{"rollout", "status", "deploy/web"}, out, errOut)
	}()
	waitOutput(t, out, "Waiting for deployment spec update to be observed...\n")
	steps := []struct {
		st   *appsv1.DeploymentStatus
		want string
	}{
		{&appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1}, `Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`},
		{&appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3, AvailableReplicas: 1}, `Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...`},
		{&appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}, `Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...`},
		{&appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}, `deployment "web" successfully rolled out`},
	}
	for _, s := range steps {
		setStatus(t, rc, c, s.st)
		waitOutput(t, out, s.want+"\n")
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("status exited %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("status did not end after the rollout finished")
	}

	// The progress deadline ends the watch with an error.
	if out := c.ok("rollout", "status", "deploy/web"); out != "deployment \"web\" successfully rolled out\n" {
		t.Errorf("status of a finished rollout: %q", out)
	}
	setStatus(t, rc, c, &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, Conditions: []*appsv1.DeploymentCondition{{
		Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "web-x" has timed out progressing.`,
	}}})
	c.fails(`error: deployment "web" exceeded its progress deadline`, "rollout", "status", "deploy/web")
}
