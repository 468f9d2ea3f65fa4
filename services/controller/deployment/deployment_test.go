package deployment_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/testlog"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller/controllertest"
	"github.com/berth-dev/berth/services/controller/deployment"
	"github.com/berth-dev/berth/services/controller/replicaset"
)

const ns = "default"

// env is an apiserver with the Deployment and ReplicaSet controllers running against it.
type env struct {
	t   *testing.T
	c   *client.Client
	ctx context.Context
}

func setup(t *testing.T) *env {
	t.Helper()
	c, ctx := controllertest.Start(t)
	log := testlog.NewAt(t, slog.LevelInfo)
	controllertest.Go(t, ctx, "deployment controller", func(ctx context.Context) error {
		return controller.RunStandalone(ctx, c, log, func(env controller.Env) controller.Runner {
			return controllertest.Together(
				deployment.New(c, env.Factory, deployment.Options{Logger: log, Recorder: env.Recorder(deployment.Name)}),
				replicaset.New(c, env.Factory, replicaset.Options{Logger: log}),
			)
		})
	})
	return &env{t: t, c: c, ctx: ctx}
}

func newDeployment(name string, replicas int32, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{
			"kubernetes.io/change-cause":                       "create " + image,
			"kubectl.kubernetes.io/last-applied-configuration": "{}",
		}},
		Spec: &appsv1.DeploymentSpec{
			Replicas: proto.Int32(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: &corev1.PodTemplateSpec{
				Metadata: &metav1.ObjectMeta{Labels: labels},
				Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

func (e *env) create(d *appsv1.Deployment) *appsv1.Deployment {
	e.t.Helper()
	out, err := e.c.Resource(scheme.Deployments).Create(e.ctx, d)
	if err != nil {
		e.t.Fatalf("create deployment: %v", err)
	}
	return out.(*appsv1.Deployment)
}

func (e *env) get(name string) *appsv1.Deployment {
	e.t.Helper()
	out, err := e.c.Resource(scheme.Deployments).Get(e.ctx, ns, name)
	if err != nil {
		e.t.Fatalf("get deployment: %v", err)
	}
	return out.(*appsv1.Deployment)
}

// change applies mutate to the Deployment, retrying on conflicts.
func (e *env) change(name string, mutate func(d *appsv1.Deployment)) {
	e.t.Helper()
	for range 20 {
		d := e.get(name)
		mutate(d)
		_, err := e.c.Resource(scheme.Deployments).Update(e.ctx, d)
		if err == nil {
			return
		}
		if !kerrors.IsConflict(err) {
			e.t.Fatalf("update deployment: %v", err)
		}
	}
	e.t.Fatal("update deployment: too many conflicts")
}

// replicaSets are the ReplicaSets d controls, by name.
func (e *env) replicaSets(d *appsv1.Deployment) map[string]*appsv1.ReplicaSet {
	e.t.Helper()
	items, _, err := e.c.Resource(scheme.ReplicaSets).ListAll(e.ctx, &metav1.ListOptions{Namespace: ns})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]*appsv1.ReplicaSet{}
	for _, o := range items {
		if controllerref.IsControlledBy(o, d.GetMetadata().GetUid()) {
			out[o.GetMetadata().GetName()] = o.(*appsv1.ReplicaSet)
		}
	}
	return out
}

// pods are the Pods labeled app=name.
func (e *env) pods(name string) []*corev1.Pod {
	e.t.Helper()
	items, _, err := e.c.Resource(scheme.Pods).ListAll(e.ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: "app=" + name})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*corev1.Pod
	for _, o := range items {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

// kubelet plays the node agent: it makes up to n Pods of app=name Running and Ready (all
// when n < 0) and returns how many it made ready.
func (e *env) kubelet(name string, n int) int {
	e.t.Helper()
	done := 0
	for _, p := range e.pods(name) {
		if n >= 0 && done >= n {
			break
		}
		if controllertest.IsReady(p) || p.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		since := time.Now().Add(-time.Second).Truncate(time.Second)
		if controllertest.SetRunning(e.ctx, e.t, e.c, ns, p.GetMetadata().GetName(), controllertest.Running{Ready: true, Since: since}) {
			done++
		}
	}
	return done
}

func condition(d *appsv1.Deployment, typ string) *appsv1.DeploymentCondition {
	for _, c := range d.GetStatus().GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

func hasCondition(d *appsv1.Deployment, typ, status, reason, message string) bool {
	c := condition(d, typ)
	return c != nil && c.GetStatus() == status && c.GetReason() == reason && (message == "" || c.GetMessage() == message)
}

// complete reports whether d's rollout finished: every replica updated and available.
func complete(d *appsv1.Deployment) bool {
	st, want := d.GetStatus(), d.GetSpec().GetReplicas()
	return st.GetObservedGeneration() >= d.GetMetadata().GetGeneration() && st.GetUpdatedReplicas() == want &&
		st.GetReplicas() == want && st.GetAvailableReplicas() == want
}

func (e *env) hasEvent(name, reason, message string) bool {
	e.t.Helper()
	items, _, err := e.c.Resource(scheme.Events).ListAll(e.ctx, &metav1.ListOptions{Namespace: ns})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range items {
		ev := o.(*corev1.Event)
		if ev.GetInvolvedObject().GetKind() == "Deployment" && ev.GetInvolvedObject().GetName() == name && ev.GetReason() == reason && ev.GetMessage() == message {
			return true
		}
	}
	return false
}

// onlyRS returns the one ReplicaSet of d, failing when there are others.
func (e *env) onlyRS(d *appsv1.Deployment) *appsv1.ReplicaSet {
	e.t.Helper()
	rss := e.replicaSets(d)
	if len(rss) != 1 {
		e.t.Fatalf("%d replica sets, want 1", len(rss))
	}
	for _, rs := range rss {
		return rs
	}
	return nil
}

// TestCreateMakesAReplicaSetAndReportsAvailability creates a Deployment: one ReplicaSet named
// after the template hash, labeled, annotated and owned as Kubernetes does it, with three
// Pods; once they are Ready the Deployment is Available and complete.
func TestCreateMakesAReplicaSetAndReportsAvailability(t *testing.T) {
	e := setup(t)
	d := e.create(newDeployment("web", 3, "berth-testapp:v1"))
	controllertest.Eventually(t, "a replica set with 3 pods", func() bool {
		return len(e.replicaSets(d)) == 1 && len(e.pods("web")) == 3
	})
	rs := e.onlyRS(d)
	hash := rs.GetMetadata().GetLabels()["pod-template-hash"]
	if hash == "" || rs.GetMetadata().GetName() != "web-"+hash {
		t.Fatalf("replica set %s, hash label %q", rs.GetMetadata().GetName(), hash)
	}
	if rs.GetSpec().GetSelector().GetMatchLabels()["pod-template-hash"] != hash || rs.GetSpec().GetTemplate().GetMetadata().GetLabels()["pod-template-hash"] != hash {
		t.Errorf("selector %v, template labels %v: want pod-template-hash=%s", rs.GetSpec().GetSelector(), rs.GetSpec().GetTemplate().GetMetadata().GetLabels(), hash)
	}
	a := rs.GetMetadata().GetAnnotations()
	for k, v := range map[string]string{
		"deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "3",
		"deployment.kubernetes.io/max-replicas": "4", "kubernetes.io/change-cause": "create berth-testapp:v1",
	} {
		if a[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, a[k], v)
		}
	}
	if _, ok := a["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("last-applied-configuration copied to the replica set")
	}
	if ref := controllerref.Of(rs); ref == nil || ref.GetKind() != "Deployment" || ref.GetUid() != d.GetMetadata().GetUid() {
		t.Errorf("controller ref %v", ref)
	}
	for _, p := range e.pods("web") {
		if p.GetMetadata().GetLabels()["pod-template-hash"] != hash {
			t.Errorf("pod %s labels %v", p.GetMetadata().GetName(), p.GetMetadata().GetLabels())
		}
	}
	controllertest.Eventually(t, "deployment revision 1", func() bool {
		return e.get("web").GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"] == "1"
	})
	controllertest.Eventually(t, "Available False before the pods are ready", func() bool {
		return hasCondition(e.get("web"), "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
	})

	e.kubelet("web", -1)
	controllertest.Eventually(t, "the deployment to be complete", func() bool { return complete(e.get("web")) })
	cur := e.get("web")
	st := cur.GetStatus()
	if st.GetReadyReplicas() != 3 || st.GetUnavailableReplicas() != 0 || st.GetObservedGeneration() != cur.GetMetadata().GetGeneration() {
		t.Errorf("status %v", st)
	}
	if !hasCondition(cur, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.") {
		t.Errorf("Available %v", condition(cur, "Available"))
	}
	want := fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs.GetMetadata().GetName())
	controllertest.Eventually(t, "Progressing NewReplicaSetAvailable", func() bool {
		return hasCondition(e.get("web"), "Progressing", "True", "NewReplicaSetAvailable", want)
	})
	controllertest.Eventually(t, "a ScalingReplicaSet event", func() bool {
		return e.hasEvent("web", "ScalingReplicaSet", fmt.Sprintf("Scaled up replica set %s from 0 to 3", rs.GetMetadata().GetName()))
	})
}

// rollOut drives a rolling update to its end, one Pod made Ready per step, checking on every
// step that the Pods never exceed replicas+maxSurge and the Ready ones never drop below
// replicas-maxUnavailable.
func (e *env) rollOut(name string, maxPods, minReady int) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pods := e.pods(name)
		nReady := 0
		for _, p := range pods {
			if controllertest.IsReady(p) && p.GetMetadata().GetDeletionTimestamp() == nil {
				nReady++
			}
		}
		if len(pods) > maxPods {
			e.t.Fatalf("%d pods, more than replicas+maxSurge %d", len(pods), maxPods)
		}
		if nReady < minReady {
			e.t.Fatalf("%d ready pods, fewer than replicas-maxUnavailable %d", nReady, minReady)
		}
		d := e.get(name)
		if complete(d) && len(pods) == int(d.GetSpec().GetReplicas()) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("rollout did not complete: status %v", d.GetStatus())
		}
		e.kubelet(name, 1)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRollingUpdateAndUndo changes the image: a second ReplicaSet takes over within the
// surge and availability bounds; writing the old template back (kubectl rollout undo)
// brings the first ReplicaSet back as revision 3.
func TestRollingUpdateAndUndo(t *testing.T) {
	e := setup(t)
	d := e.create(newDeployment("web", 3, "berth-testapp:v1"))
	controllertest.Eventually(t, "3 pods", func() bool { return len(e.pods("web")) == 3 })
	e.kubelet("web", -1)
	controllertest.Eventually(t, "the first rollout", func() bool { return complete(e.get("web")) })
	first := e.onlyRS(d)
	oldTemplate := proto.Clone(e.get("web").GetSpec().GetTemplate()).(*corev1.PodTemplateSpec)

	e.change("web", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "berth-testapp:v2"
		d.Metadata.Annotations["kubernetes.io/change-cause"] = "image v2"
	})
	e.rollOut("web", 4, 3) // 25% of 3: maxSurge 1, maxUnavailable 0
	rss := e.replicaSets(d)
	if len(rss) != 2 {
		t.Fatalf("%d replica sets after the update, want 2", len(rss))
	}
	var second *appsv1.ReplicaSet
	for name, rs := range rss {
		if name != first.GetMetadata().GetName() {
			second = rs
		}
	}
	controllertest.Eventually(t, "the old replica set at 0", func() bool {
		return e.replicaSets(d)[first.GetMetadata().GetName()].GetSpec().GetReplicas() == 0
	})
	if got := second.GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"]; got != "2" {
		t.Errorf("new replica set revision %q, want 2", got)
	}
	if got := second.GetMetadata().GetAnnotations()["kubernetes.io/change-cause"]; got != "image v2" {
		t.Errorf("new replica set change-cause %q", got)
	}
	controllertest.Eventually(t, "deployment revision 2", func() bool {
		return e.get("web").GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"] == "2"
	})
	controllertest.Eventually(t, "scale-down events", func() bool {
		return e.hasEvent("web", "ScalingReplicaSet", fmt.Sprintf("Scaled down replica set %s from 1 to 0", first.GetMetadata().GetName()))
	})

	// kubectl rollout undo writes the old template back.
	e.change("web", func(d *appsv1.Deployment) { d.Spec.Template = oldTemplate })
	e.rollOut("web", 4, 3)
	rss = e.replicaSets(d)
	if len(rss) != 2 {
		t.Fatalf("%d replica sets after the undo, want the same 2", len(rss))
	}
	controllertest.Eventually(t, "the first replica set back as revision 3", func() bool {
		a := e.replicaSets(d)[first.GetMetadata().GetName()].GetMetadata().GetAnnotations()
		return a["deployment.kubernetes.io/revision"] == "3" && a["deployment.kubernetes.io/revision-history"] == "1"
	})
	controllertest.Eventually(t, "the second replica set at 0 and deployment revision 3", func() bool {
		return e.replicaSets(d)[second.GetMetadata().GetName()].GetSpec().GetReplicas() == 0 &&
			e.get("web").GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"] == "3"
	})
}

// TestPauseStopsTheRollout pauses a Deployment, changes its image (nothing happens but the
// DeploymentPaused condition), then resumes it (the rollout goes on).
func TestPauseStopsTheRollout(t *testing.T) {
	e := setup(t)
	d := e.create(newDeployment("web", 2, "berth-testapp:v1"))
	controllertest.Eventually(t, "2 pods", func() bool { return len(e.pods("web")) == 2 })
	e.kubelet("web", -1)
	controllertest.Eventually(t, "the first rollout", func() bool { return complete(e.get("web")) })

	e.change("web", func(d *appsv1.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "berth-testapp:v2"
	})
	controllertest.Eventually(t, "Progressing DeploymentPaused", func() bool {
		return hasCondition(e.get("web"), "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
	})
	// Scaling still works while paused; the template does not roll out.
	e.change("web", func(d *appsv1.Deployment) { d.Spec.Replicas = proto.Int32(3) })
	controllertest.Eventually(t, "the paused deployment scaled to 3", func() bool {
		return e.onlyRS(d).GetSpec().GetReplicas() == 3 && e.get("web").GetStatus().GetObservedGeneration() == e.get("web").GetMetadata().GetGeneration()
	})
	if n := len(e.replicaSets(d)); n != 1 {
		t.Fatalf("%d replica sets while paused, want 1", n)
	}
	controllertest.Eventually(t, "3 pods", func() bool { return len(e.pods("web")) == 3 })
	e.kubelet("web", -1)
	controllertest.Eventually(t, "3 available", func() bool { return e.get("web").GetStatus().GetAvailableReplicas() == 3 })

	e.change("web", func(d *appsv1.Deployment) { d.Spec.Paused = false })
	controllertest.Eventually(t, "a second replica set after resuming", func() bool { return len(e.replicaSets(d)) == 2 })
	e.rollOut("web", 4, 3)
	if c := condition(e.get("web"), "Progressing"); c.GetReason() == "DeploymentPaused" {
		t.Errorf("Progressing still %v after resuming", c)
	}
}

// TestRecreate scales the old ReplicaSet to 0 and creates the new one only once the old Pods
// are gone.
func TestRecreate(t *testing.T) {
	e := setup(t)
	nd := newDeployment("batch", 2, "berth-testapp:v1")
	nd.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "Recreate"}
	d := e.create(nd)
	controllertest.Eventually(t, "2 pods", func() bool { return len(e.pods("batch")) == 2 })
	e.kubelet("batch", -1)
	controllertest.Eventually(t, "the first rollout", func() bool { return complete(e.get("batch")) })
	first := e.onlyRS(d)

	e.change("batch", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "berth-testapp:v2" })
	deadline := time.Now().Add(30 * time.Second)
	for {
		rss, pods := e.replicaSets(d), e.pods("batch")
		oldPods, newPods := 0, 0
		for _, p := range pods {
			if controllerref.IsControlledBy(p, first.GetMetadata().GetUid()) {
				oldPods++
			} else {
				newPods++
			}
		}
		if oldPods > 0 && newPods > 0 {
			t.Fatalf("%d old and %d new pods at once", oldPods, newPods)
		}
		if oldPods > 0 && len(rss) > 1 {
			t.Fatalf("new replica set created while %d old pods remain", oldPods)
		}
		if cur := e.get("batch"); len(rss) == 2 && complete(cur) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recreate did not complete: %v", e.get("batch").GetStatus())
		}
		e.kubelet("batch", -1)
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.replicaSets(d)[first.GetMetadata().GetName()].GetSpec().GetReplicas(); got != 0 {
		t.Errorf("old replica set at %d, want 0", got)
	}
}

// TestRevisionHistoryLimit keeps one old ReplicaSet: older ones are deleted.
func TestRevisionHistoryLimit(t *testing.T) {
	e := setup(t)
	nd := newDeployment("web", 1, "berth-testapp:v1")
	nd.Spec.RevisionHistoryLimit = proto.Int32(1)
	d := e.create(nd)
	for _, image := range []string{"v2", "v3", "v4"} {
		if image != "v2" {
			e.change("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "berth-testapp:" + image })
		}
		e.rollOut("web", 2, 0)
	}
	controllertest.Eventually(t, "2 replica sets (new and one old)", func() bool { return len(e.replicaSets(d)) == 2 })
	revs := map[string]bool{}
	for _, rs := range e.replicaSets(d) {
		revs[rs.GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"]] = true
	}
	if !revs["3"] || !revs["2"] {
		t.Errorf("revisions %v kept, want 2 and 3", revs)
	}
}

// TestProgressDeadlineExceeded never makes the Pods Ready: after progressDeadlineSeconds the
// Deployment reports ProgressDeadlineExceeded.
func TestProgressDeadlineExceeded(t *testing.T) {
	e := setup(t)
	nd := newDeployment("stuck", 2, "berth-testapp:v1")
	nd.Spec.ProgressDeadlineSeconds = proto.Int32(2)
	nd.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{
		MaxSurge: structpb.NewNumberValue(1), MaxUnavailable: structpb.NewNumberValue(0),
	}}
	d := e.create(nd)
	controllertest.Eventually(t, "a replica set", func() bool { return len(e.replicaSets(d)) == 1 })
	name := e.onlyRS(d).GetMetadata().GetName()
	// Created, then progressing as the Pods are created (never Ready): either reason.
	controllertest.Eventually(t, "Progressing True", func() bool {
		cur := e.get("stuck")
		return hasCondition(cur, "Progressing", "True", "NewReplicaSetCreated", fmt.Sprintf("Created new replica set %q", name)) ||
			hasCondition(cur, "Progressing", "True", "ReplicaSetUpdated", fmt.Sprintf("ReplicaSet %q is progressing.", name)) ||
			hasCondition(cur, "Progressing", "False", "ProgressDeadlineExceeded", "")
	})
	start := time.Now()
	controllertest.Eventually(t, "ProgressDeadlineExceeded", func() bool {
		return hasCondition(e.get("stuck"), "Progressing", "False", "ProgressDeadlineExceeded", fmt.Sprintf("ReplicaSet %q has timed out progressing.", name))
	})
	if time.Since(start) > 10*time.Second {
		t.Errorf("the deadline of 2s was reported after %v", time.Since(start))
	}
}
