package validation_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func template() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{
			Name: "app", Image: "nginx:1.25", Ports: []*corev1.ContainerPort{{ContainerPort: 80}},
		}}},
	}
}

func validRC() *corev1.ReplicationController {
	return defaulted(&corev1.ReplicationController{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:     &corev1.ReplicationControllerSpec{Replicas: proto.Int32(3), Template: template()},
	})
}

func TestReplicationController(t *testing.T) {
	runCases(t, validRC, []tcase[*corev1.ReplicationController]{
		{"name", func(rc *corev1.ReplicationController) { rc.Metadata.Name = "Web" }, []fe{{"metadata.name", invalid}}},
		{"no selector", func(rc *corev1.ReplicationController) { rc.Spec.Selector = nil }, []fe{{"spec.selector", required}}},
		{"selector not matching", func(rc *corev1.ReplicationController) { rc.Spec.Selector = map[string]string{"app": "db"} }, []fe{{"spec.template.metadata.labels", invalid}}},
		{"negative replicas", func(rc *corev1.ReplicationController) { rc.Spec.Replicas = proto.Int32(-1) }, []fe{{"spec.replicas", invalid}}},
		{"negative minReadySeconds", func(rc *corev1.ReplicationController) { rc.Spec.MinReadySeconds = -1 }, []fe{{"spec.minReadySeconds", invalid}}},
		{"no template", func(rc *corev1.ReplicationController) { rc.Spec.Template = nil }, []fe{{"spec.template", required}}},
		{"restart policy", func(rc *corev1.ReplicationController) { rc.Spec.Template.Spec.RestartPolicy = "OnFailure" }, []fe{{"spec.template.spec.restartPolicy", notSupported}}},
		{"active deadline", func(rc *corev1.ReplicationController) {
			rc.Spec.Template.Spec.ActiveDeadlineSeconds = proto.Int64(10)
		}, []fe{{"spec.template.spec.activeDeadlineSeconds", forbidden}}},
		{"template image", func(rc *corev1.ReplicationController) { rc.Spec.Template.Spec.Containers[0].Image = "" }, []fe{{"spec.template.spec.containers[0].image", required}}},
	})
}

func validReplicaSet() *appsv1.ReplicaSet {
	return defaulted(&appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: "web-5d9f", Namespace: "default"},
		Spec: &appsv1.ReplicaSetSpec{
			Replicas: proto.Int32(2),
			Selector: &metav1.LabelSelector{
				MatchLabels:      map[string]string{"app": "web"},
				MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"front", "back"}}},
			},
			Template: template(),
		},
	})
}

func TestReplicaSet(t *testing.T) {
	runCases(t, validReplicaSet, []tcase[*appsv1.ReplicaSet]{
		{"no selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = nil }, []fe{{"spec.selector", required}}},
		{"empty selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = &metav1.LabelSelector{} }, []fe{{"spec.selector", invalid}}},
		{"selector not matching", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector.MatchLabels["app"] = "db" }, []fe{{"spec.template.metadata.labels", invalid}}},
		{"selector operator", func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector.MatchExpressions[0].Operator = "Like"
		}, []fe{{"spec.selector.matchExpressions[0].operator", invalid}, {"spec.selector", invalid}}},
		{"negative replicas", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = proto.Int32(-1) }, []fe{{"spec.replicas", invalid}}},
		{"template label", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Metadata.Labels["bad key"] = "x" }, []fe{{"spec.template.labels", invalid}}},
		{"restart policy", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = "Never" }, []fe{{"spec.template.spec.restartPolicy", notSupported}}},
		{"unsupported field in template", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.HostIpc = true }, []fe{{"spec.template.spec.hostIPC", forbidden}}},
	})
	runUpdateCases(t, validReplicaSet, []updateCase[*appsv1.ReplicaSet]{
		{"replicas", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = proto.Int32(5) }, nil},
		{"selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector.MatchExpressions = nil }, []fe{{"spec.selector", invalid}}},
	})
}

func validDeployment() *appsv1.Deployment {
	return defaulted(&appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template(),
		},
	})
}

func rollingUpdate(d *appsv1.Deployment) *appsv1.RollingUpdateDeployment {
	return d.Spec.Strategy.RollingUpdate
}

func TestDeployment(t *testing.T) {
	runCases(t, validDeployment, []tcase[*appsv1.Deployment]{
		{"name", func(d *appsv1.Deployment) { d.Metadata.Name = "web_1" }, []fe{{"metadata.name", invalid}}},
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, []fe{{"spec.selector", required}}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = nil }, []fe{{"spec.selector", invalid}}},
		{"selector not matching", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels["tier"] = "back" }, []fe{{"spec.template.metadata.labels", invalid}}},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = proto.Int32(-1) }, []fe{{"spec.replicas", invalid}}},
		{"strategy type", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, []fe{{"spec.strategy.type", notSupported}}},
		{"Recreate with rollingUpdate", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "Recreate" }, []fe{{"spec.strategy.rollingUpdate", forbidden}}},
		{"Recreate", func(d *appsv1.Deployment) { d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "Recreate"} }, nil},
		{"maxSurge number", func(d *appsv1.Deployment) { rollingUpdate(d).MaxSurge = num(2) }, nil},
		{"negative maxSurge", func(d *appsv1.Deployment) { rollingUpdate(d).MaxSurge = num(-1) }, []fe{{"spec.strategy.rollingUpdate.maxSurge", invalid}}},
		{"maxSurge not a percentage", func(d *appsv1.Deployment) { rollingUpdate(d).MaxSurge = str("lots") }, []fe{{"spec.strategy.rollingUpdate.maxSurge", invalid}}},
		{"maxSurge neither int nor string", func(d *appsv1.Deployment) { rollingUpdate(d).MaxSurge = boolean(true) }, []fe{{"spec.strategy.rollingUpdate.maxSurge", invalid}}},
		{"maxUnavailable over 100%", func(d *appsv1.Deployment) { rollingUpdate(d).MaxUnavailable = str("150%") }, []fe{{"spec.strategy.rollingUpdate.maxUnavailable", invalid}}},
		{"both zero", func(d *appsv1.Deployment) {
			rollingUpdate(d).MaxUnavailable, rollingUpdate(d).MaxSurge = num(0), str("0%")
		}, []fe{{"spec.strategy.rollingUpdate.maxUnavailable", invalid}}},
		{"negative revisionHistoryLimit", func(d *appsv1.Deployment) { d.Spec.RevisionHistoryLimit = proto.Int32(-1) }, []fe{{"spec.revisionHistoryLimit", invalid}}},
		{"progress deadline not above minReadySeconds", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = 600 }, []fe{{"spec.progressDeadlineSeconds", invalid}}},
		{"negative minReadySeconds", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = -1 }, []fe{{"spec.minReadySeconds", invalid}}},
		{"template active deadline", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.ActiveDeadlineSeconds = proto.Int64(30)
		}, []fe{{"spec.template.spec.activeDeadlineSeconds", invalid}}},
		{"template container name", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Name = "App" }, []fe{{"spec.template.spec.containers[0].name", invalid}}},
		{"template hostNetwork", func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true }, []fe{{"spec.template.spec.hostNetwork", forbidden}}},
		{"no template", func(d *appsv1.Deployment) { d.Spec.Template = nil }, []fe{{"spec.template", required}}},
	})
	runUpdateCases(t, validDeployment, []updateCase[*appsv1.Deployment]{
		{"template image", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:1.26" }, nil},
		{"selector", func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchLabels["tier"] = "front"
		}, []fe{{"spec.selector", invalid}}},
		{"namespace", func(d *appsv1.Deployment) { d.Metadata.Namespace = "prod" }, []fe{{"metadata.namespace", invalid}}},
	})
}
