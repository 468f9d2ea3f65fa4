package ctl

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func deployment(generation, observed int64, replicas int32, st *appsv1.DeploymentStatus, annotations map[string]string) *appsv1.Deployment {
	st.ObservedGeneration = observed
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Generation: generation, Annotations: annotations},
		Spec:     &appsv1.DeploymentSpec{Replicas: proto.Int32(replicas)},
		Status:   st,
	}
}

func TestDeploymentStatus(t *testing.T) {
	deadline := &appsv1.DeploymentCondition{Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded"}
	progressing := &appsv1.DeploymentCondition{Type: "Progressing", Status: "True", Reason: "ReplicaSetUpdated"}
	rev2 := map[string]string{revisionAnnotation: "2"}
	for _, tc := range []struct {
		name     string
		dep      *appsv1.Deployment
		revision int64
		want     string
		done     bool
		err      string
	}{
		{"not observed", deployment(2, 1, 3, &appsv1.DeploymentStatus{}, nil), 0, "Waiting for deployment spec update to be observed...\n", false, ""},
		{"new replicas", deployment(1, 1, 3, &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, Conditions: []*appsv1.DeploymentCondition{progressing}}, nil), 0,
			"Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...\n", false, ""},
		{"old replicas", deployment(1, 1, 3, &appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3}, nil), 0,
			"Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...\n", false, ""},
		{"available", deployment(1, 1, 3, &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}, nil), 0,
			"Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...\n", false, ""},
		{"done", deployment(1, 1, 3, &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}, nil), 0,
			"deployment \"web\" successfully rolled out\n", true, ""},
		{"scaled to zero", deployment(3, 3, 0, &appsv1.DeploymentStatus{}, nil), 0, "deployment \"web\" successfully rolled out\n", true, ""},
		{"deadline", deployment(1, 1, 3, &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, Conditions: []*appsv1.DeploymentCondition{deadline}}, nil), 0,
			"", false, "deployment \"web\" exceeded its progress deadline"},
		{"deadline not yet observed", deployment(2, 1, 3, &appsv1.DeploymentStatus{Conditions: []*appsv1.DeploymentCondition{deadline}}, nil), 0,
			"Waiting for deployment spec update to be observed...\n", false, ""},
		{"pinned revision", deployment(1, 1, 1, &appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}, rev2), 2,
			"deployment \"web\" successfully rolled out\n", true, ""},
		{"other revision", deployment(1, 1, 1, &appsv1.DeploymentStatus{}, rev2), 3,
			"", false, "desired revision (3) is different from the running revision (2)"},
		{"bad revision", deployment(1, 1, 1, &appsv1.DeploymentStatus{}, map[string]string{revisionAnnotation: "x"}), 1,
			"", false, `cannot get the revision of deployment "web"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, done, err := deploymentStatus(tc.dep, tc.revision)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || msg != tc.want || done != tc.done {
				t.Fatalf("got %q, %v, %v; want %q, %v", msg, done, err, tc.want, tc.done)
			}
		})
	}
}

func template(image string, labels map[string]string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: labels},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: image}}},
	}
}

func replicaSet(name, rev, image, cause string) *appsv1.ReplicaSet {
	ann := map[string]string{}
	if rev != "" {
		ann[revisionAnnotation] = rev
	}
	if cause != "" {
		ann[changeCauseAnnotation] = cause
	}
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: name, Annotations: ann},
		Spec:     &appsv1.ReplicaSetSpec{Template: template(image, map[string]string{"app": "web", podTemplateHashLabel: name})},
	}
}

func TestReplicaSetOfRevision(t *testing.T) {
	rss := []*appsv1.ReplicaSet{
		replicaSet("r3", "3", "v3", ""), replicaSet("r1", "1", "v1", ""), replicaSet("r4", "4", "v4", ""),
		replicaSet("bad", "x", "vx", ""), replicaSet("r2", "2", "v2", ""),
	}
	for _, tc := range []struct {
		name string
		rss  []*appsv1.ReplicaSet
		rev  int64
		want string
		err  string
	}{
		{"previous", rss, 0, "r3", ""},
		{"named", rss, 1, "r1", ""},
		{"latest by name", rss, 4, "r4", ""},
		{"missing", rss, 7, "", "unable to find specified revision 7 in history"},
		{"only one", rss[:1], 0, "", `no rollout history found for deployment "web"`},
		{"none", nil, 0, "", `no rollout history found for deployment "web"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := replicaSetOfRevision(tc.rss, tc.rev, "web")
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || rs.GetMetadata().GetName() != tc.want {
				t.Fatalf("got %v, %v; want %s", rs.GetMetadata().GetName(), err, tc.want)
			}
		})
	}
}

func TestEqualIgnoreHash(t *testing.T) {
	withResources := template("v1", map[string]string{"app": "web"})
	withResources.Spec.Containers[0].Resources = &corev1.ResourceRequirements{}
	for _, tc := range []struct {
		name string
		a, b *corev1.PodTemplateSpec
		want bool
	}{
		{"hash only", template("v1", map[string]string{"app": "web", podTemplateHashLabel: "abc"}), template("v1", map[string]string{"app": "web"}), true},
		{"image", template("v1", map[string]string{"app": "web"}), template("v2", map[string]string{"app": "web"}), false},
		{"labels", template("v1", map[string]string{"app": "web", "tier": "x"}), template("v1", map[string]string{"app": "web"}), false},
		{"empty message", withResources, template("v1", map[string]string{"app": "web"}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := equalIgnoreHash(tc.a, tc.b); got != tc.want {
				t.Errorf("equalIgnoreHash = %v, want %v", got, tc.want)
			}
			if tc.a.GetMetadata().GetLabels()[podTemplateHashLabel] != "" && len(tc.a.GetMetadata().GetLabels()) != 2 {
				t.Errorf("the input template was modified: %v", tc.a.GetMetadata().GetLabels())
			}
		})
	}
}

func TestRollBack(t *testing.T) {
	dep := &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Annotations: map[string]string{
			revisionAnnotation: "3", "kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a", changeCauseAnnotation: "v3",
		}},
		Spec: &appsv1.DeploymentSpec{Template: template("v3", map[string]string{"app": "web"})},
	}
	rs := replicaSet("r1", "1", "v1", "v1 please")
	rs.Metadata.Annotations["deployment.kubernetes.io/desired-replicas"] = "3"
	rs.Metadata.Annotations["owner"] = "b"
	rollBack(dep, rs)
	want := map[string]string{
		revisionAnnotation: "3", "kubectl.kubernetes.io/last-applied-configuration": "{}", changeCauseAnnotation: "v1 please", "owner": "b",
	}
	if got := dep.GetMetadata().GetAnnotations(); !equalMaps(got, want) {
		t.Errorf("annotations %v, want %v", got, want)
	}
	if img := dep.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); img != "v1" {
		t.Errorf("image %q, want v1", img)
	}
	if l := dep.GetSpec().GetTemplate().GetMetadata().GetLabels(); !equalMaps(l, map[string]string{"app": "web"}) {
		t.Errorf("template labels %v, want only app=web", l)
	}
	if rs.GetSpec().GetTemplate().GetMetadata().GetLabels()[podTemplateHashLabel] != "r1" {
		t.Error("the ReplicaSet's template lost its hash label")
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestHistory(t *testing.T) {
	rss := []*appsv1.ReplicaSet{replicaSet("r2", "2", "v2", "kubectl set image v2"), replicaSet("r10", "10", "v10", ""), replicaSet("r1", "1", "v1", "")}
	templates := revisionTemplates(rss)
	want := "REVISION  CHANGE-CAUSE\n1         <none>\n2         kubectl set image v2\n10        <none>\n"
	if got := historyTable(templates); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if rss[0].GetSpec().GetTemplate().GetMetadata().GetAnnotations() != nil {
		t.Error("the ReplicaSet's template was modified")
	}
	got := describeTemplate(templates[2])
	for _, want := range []string{"Pod Template:\n", "  Labels:", "app=web", "pod-template-hash=r2", "kubernetes.io/change-cause: kubectl set image v2", "  Containers:\n", "   web:\n", "Image:", "v2"} {
		if !strings.Contains(got, want) {
			t.Errorf("template description lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Events") || strings.Contains(got, "Name:") {
		t.Errorf("template description has more than the template:\n%s", got)
	}
}

func TestRolloutChanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change rolloutChange
		paused bool
		err    string
		check  func(*appsv1.Deployment) bool
	}{
		{"pause", pauseChange, false, "", func(d *appsv1.Deployment) bool { return d.GetSpec().GetPaused() }},
		{"pause paused", pauseChange, true, "is already paused", nil},
		{"resume", resumeChange, true, "", func(d *appsv1.Deployment) bool { return !d.GetSpec().GetPaused() }},
		{"resume running", resumeChange, false, "is not paused", nil},
		{"restart", restartChange, false, "", func(d *appsv1.Deployment) bool {
			at, err := time.Parse(time.RFC3339, d.GetSpec().GetTemplate().GetMetadata().GetAnnotations()[restartedAtAnnotation])
			return err == nil && time.Since(at) < time.Minute
		}},
		{"restart paused", restartChange, true, "can't restart paused deployment (run rollout resume first)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{Metadata: &metav1.ObjectMeta{Name: "web"}, Spec: &appsv1.DeploymentSpec{Paused: tc.paused, Template: &corev1.PodTemplateSpec{}}}
			err := tc.change.change(d)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(d) {
				t.Fatalf("change: %v; deployment %v", err, d)
			}
		})
	}
}

func TestScalePreconditions(t *testing.T) {
	s := &autoscalingv1.Scale{Metadata: &metav1.ObjectMeta{ResourceVersion: "42"}, Spec: &autoscalingv1.ScaleSpec{Replicas: 3}}
	for _, tc := range []struct {
		size int
		rv   string
		err  string
	}{
		{-1, "", ""},
		{3, "42", ""},
		{2, "", "Expected replicas to be 2, was 3"},
		{-1, "41", "Expected resource version to be 41, was 42"},
	} {
		err := checkScalePreconditions(s, tc.size, tc.rv)
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("size %d rv %q: error %v, want %q", tc.size, tc.rv, err, tc.err)
		}
	}
}
