package printers

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func describe(t *testing.T, r *scheme.Resource, obj scheme.Object, rel Related) string {
	t.Helper()
	var b strings.Builder
	if err := Describe(&b, r, obj, rel, now); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDescribePod(t *testing.T) {
	p := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "nginx", Namespace: "default", CreationTimestamp: ago(time.Hour),
			Labels:          map[string]string{"app": "web", "tier": "front"},
			Annotations:     map[string]string{LastAppliedAnnotation: "{}"},
			OwnerReferences: []*metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc", Controller: func() *bool { b := true; return &b }()}}},
		Spec: &corev1.PodSpec{
			NodeName: "n1", ServiceAccountName: "default",
			Containers: []*corev1.Container{{
				Name: "web", Image: "nginx:1.27", Ports: []*corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}},
				Args:          []string{"-g", "daemon off;"},
				Env:           []*corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				Resources:     &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "500m", "memory": "128Mi"}},
				VolumeMounts:  []*corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				LivenessProbe: &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/healthz", Port: structpb.NewNumberValue(8080)}, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3},
			}},
			Volumes:     []*corev1.Volume{{Name: "data", EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			Tolerations: []*corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: func() *int64 { v := int64(300); return &v }()}},
		},
		Status: &corev1.PodStatus{
			Phase: "Running", HostIp: "192.168.1.2", PodIp: "10.1.0.4", PodIps: []*corev1.PodIP{{Ip: "10.1.0.4"}},
			StartTime:  ago(time.Hour),
			Conditions: []*corev1.PodCondition{{Type: "Ready", Status: "True"}, {Type: "PodScheduled", Status: "True"}},
			ContainerStatuses: []*corev1.ContainerStatus{{Name: "web", Ready: true, ContainerId: "docker://abc", ImageId: "sha256:def",
				State: &corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(time.Hour)}}}},
		},
	}
	events := []*corev1.Event{
		{Type: "Normal", Reason: "Started", Message: "Started container web", Source: &corev1.EventSource{Component: "agent"}, FirstTimestamp: ago(59 * time.Minute), LastTimestamp: ago(59 * time.Minute), Count: 1},
		{Type: "Normal", Reason: "Scheduled", Message: "Successfully assigned default/nginx to n1", ReportingComponent: "default-scheduler", EventTime: ago(time.Hour)},
		{Type: "Warning", Reason: "Unhealthy", Message: "Liveness probe failed", Source: &corev1.EventSource{Component: "agent"}, FirstTimestamp: ago(30 * time.Minute), LastTimestamp: ago(2 * time.Minute), Count: 3},
	}
	want := `Name:             nginx
Namespace:        default
Service Account:  default
Node:             n1/192.168.1.2
Start Time:       Thu, 02 Jan 2025 02:04:05 +0000
Labels:           app=web
                  tier=front
Annotations:      <none>
Status:           Running
IP:               10.1.0.4
IPs:
  IP:           10.1.0.4
Controlled By:  ReplicaSet/web-abc
Containers:
  web:
    Container ID:  docker://abc
    Image:         nginx:1.27
    Image ID:      sha256:def
    Port:          80/TCP
    Host Port:     0/TCP
    Args:
      -g
      daemon off;
    State:          Running
      Started:      Thu, 02 Jan 2025 02:04:05 +0000
    Ready:          True
    Restart Count:  0
    Limits:
      cpu:     500m
      memory:  128Mi
    Liveness:  http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:
      MODE:  prod
    Mounts:
      /data from data (rw)
Conditions:
  Type           Status
  Ready          True 
  PodScheduled   True 
Volumes:
  data:
    Type:        EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:      
    SizeLimit:   <unset>
QoS Class:       Guaranteed
Node-Selectors:  <none>
Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age               From               Message
  ----     ------     ----              ----               -------
  Normal   Scheduled  60m               default-scheduler  Successfully assigned default/nginx to n1
  Normal   Started    59m               agent              Started container web
  Warning  Unhealthy  2m (x3 over 30m)  agent              Liveness probe failed
`
	if got := describe(t, scheme.Pods, p, Related{Events: events}); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDescribeKinds(t *testing.T) {
	dep := &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: ago(time.Hour), Labels: map[string]string{"app": "web"}},
		Spec: &appsv1.DeploymentSpec{Replicas: i32(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: "nginx"}}}}},
		Status: &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2, UnavailableReplicas: 1,
			Conditions: []*appsv1.DeploymentCondition{{Type: "Available", Status: "True", Reason: "MinimumReplicasAvailable"}}},
	}
	newRS := &appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{Name: "web-2", CreationTimestamp: ago(time.Minute), Labels: map[string]string{"app": "web", "pod-template-hash": "2"}},
		Spec:   &appsv1.ReplicaSetSpec{Replicas: i32(3), Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web", "pod-template-hash": "2"}}, Spec: dep.Spec.Template.Spec}},
		Status: &appsv1.ReplicaSetStatus{Replicas: 3}}
	oldRS := &appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{Name: "web-1", CreationTimestamp: ago(time.Hour), Labels: map[string]string{"app": "web", "pod-template-hash": "1"}},
		Spec:   &appsv1.ReplicaSetSpec{Replicas: i32(1), Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web", "pod-template-hash": "1"}}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: "nginx:old"}}}}},
		Status: &appsv1.ReplicaSetStatus{Replicas: 1}}
	svc := &corev1.Service{Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &corev1.ServiceSpec{Type: "NodePort", ClusterIp: "10.0.0.9", ClusterIps: []string{"10.0.0.9"}, Selector: map[string]string{"app": "web"},
			Ports: []*corev1.ServicePort{{Name: "http", Port: 80, Protocol: "TCP", TargetPort: structpb.NewStringValue("http"), NodePort: 30080}}}}
	ep := &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"}, Subsets: []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: "10.1.0.4"}, {Ip: "10.1.0.5"}}, Ports: []*corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: "TCP"}}}}}
	tests := []struct {
		name string
		r    *scheme.Resource
		obj  scheme.Object
		rel  Related
		want []string
	}{
		{"deployment", scheme.Deployments, dep, Related{ReplicaSets: []*appsv1.ReplicaSet{oldRS, newRS}}, []string{
			"Replicas:               3 desired | 3 updated | 3 total | 2 available | 1 unavailable\n",
			"RollingUpdateStrategy:  25% max unavailable, 25% max surge\n",
			"Pod Template:\n  Labels:  app=web\n  Containers:\n   web:\n    Image:        nginx\n",
			"  Available      True    MinimumReplicasAvailable\n",
			"OldReplicaSets:  web-1 (1/1 replicas created)\n",
			"NewReplicaSet:   web-2 (3/3 replicas created)\n",
			"Events:          <none>\n",
		}},
		{"replicaset", scheme.ReplicaSets, newRS, Related{Pods: []*corev1.Pod{pod(1, 0, &corev1.PodStatus{Phase: "Running"}), pod(1, 0, &corev1.PodStatus{Phase: "Pending"})}}, []string{
			"Replicas:     3 current / 3 desired\n",
			"Pods Status:  1 Running / 1 Waiting / 0 Succeeded / 0 Failed\n",
		}},
		{"service", scheme.Services, svc, Related{Endpoints: ep}, []string{
			"Type:              NodePort\n",
			"Port:              http  80/TCP\n",
			"TargetPort:        http/TCP\n",
			"NodePort:          http  30080/TCP\n",
			"Endpoints:         10.1.0.4:8080,10.1.0.5:8080\n",
			"Session Affinity:  None\n",
		}},
		{"configmap", scheme.ConfigMaps, &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"b": "2", "a": "x=1\ny=2"}}, Related{}, []string{
			"Data\n====\na:\n----\nx=1\ny=2\n\nb:\n----\n2\n\n\nBinaryData\n====\n\nEvents:  <none>\n",
		}},
		{"secret", scheme.Secrets, &corev1.Secret{Metadata: &metav1.ObjectMeta{Name: "s", Namespace: "default"}, Type: "Opaque", Data: map[string][]byte{"password": []byte("hunter2")}}, Related{}, []string{
			"Type:  Opaque\n", "password:  7 bytes\n",
		}},
		{"namespace", scheme.Namespaces, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "dev"}, Status: &corev1.NamespaceStatus{Phase: "Active"}}, Related{}, []string{
			"Name:         dev\nLabels:       <none>\nAnnotations:  <none>\nStatus:       Active\n",
		}},
		{"node", scheme.Nodes, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}, Spec: &corev1.NodeSpec{Taints: []*corev1.Taint{{Key: "k", Value: "v", Effect: "NoSchedule"}}},
			Status: &corev1.NodeStatus{Capacity: map[string]string{"cpu": "2", "memory": "4Gi"}, Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: "192.168.1.2"}}}}, Related{}, []string{
			"Taints:             k=v:NoSchedule\n", "Addresses:\n  InternalIP:  192.168.1.2\nCapacity:\n  cpu:     2\n  memory:  4Gi\n",
		}},
		{"endpoints", scheme.Endpoints, ep, Related{}, []string{"Subsets:\n  Addresses:          10.1.0.4,10.1.0.5\n  NotReadyAddresses:  <none>\n  Ports:\n    Name  Port  Protocol\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(t, tt.r, tt.obj, tt.rel)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
