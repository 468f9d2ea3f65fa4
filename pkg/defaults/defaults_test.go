package defaults_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func num(n float64) *structpb.Value { return structpb.NewNumberValue(n) }
func str(s string) *structpb.Value  { return structpb.NewStringValue(s) }

// defaultedSpec is the PodSpec Kubernetes stores for a spec naming only its containers.
func defaultedSpec(containers ...*corev1.Container) *corev1.PodSpec {
	return &corev1.PodSpec{
		Containers:                    containers,
		RestartPolicy:                 "Always",
		DnsPolicy:                     "ClusterFirst",
		SchedulerName:                 "default-scheduler",
		TerminationGracePeriodSeconds: proto.Int64(30),
		SecurityContext:               &corev1.PodSecurityContext{},
	}
}

// defaultedContainer is a container as Kubernetes stores it when it names only name and image.
func defaultedContainer(name, image, pullPolicy string) *corev1.Container {
	return &corev1.Container{
		Name: name, Image: image, ImagePullPolicy: pullPolicy,
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: "File",
		Resources: &corev1.ResourceRequirements{},
	}
}

func TestObject(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want scheme.Object
	}{
		{
			name: "pod",
			in: &corev1.Pod{Spec: &corev1.PodSpec{Containers: []*corev1.Container{{
				Name: "app", Image: "nginx:1.25",
				Ports: []*corev1.ContainerPort{{ContainerPort: 80}},
				Env:   []*corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
				Resources: &corev1.ResourceRequirements{
					Limits:   map[string]string{"cpu": "0.5", "memory": "1.5Gi"},
					Requests: map[string]string{"cpu": "0.0001"},
				},
				LivenessProbe:  &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: num(80)}},
				ReadinessProbe: &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: str("http")}, PeriodSeconds: 5},
				Lifecycle:      &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HttpGet: &corev1.HTTPGetAction{Port: num(80)}}},
			}}}},
			want: &corev1.Pod{Spec: func() *corev1.PodSpec {
				c := defaultedContainer("app", "nginx:1.25", "IfNotPresent")
				c.Ports = []*corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}}
				c.Env = []*corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{ApiVersion: "v1", FieldPath: "metadata.name"}}}}
				c.Resources = &corev1.ResourceRequirements{
					Limits:   map[string]string{"cpu": "500m", "memory": "1536Mi"},
					Requests: map[string]string{"cpu": "1m", "memory": "1536Mi"},
				}
				c.LivenessProbe = &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/", Port: num(80), Scheme: "HTTP"},
					TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
				c.ReadinessProbe = &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: str("http")},
					TimeoutSeconds: 1, PeriodSeconds: 5, SuccessThreshold: 1, FailureThreshold: 3}
				c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HttpGet: &corev1.HTTPGetAction{Path: "/", Port: num(80), Scheme: "HTTP"}}}
				s := defaultedSpec(c)
				s.EnableServiceLinks = proto.Bool(true)
				return s
			}()},
		},
		{
			name: "pod keeps what it sets",
			in: &corev1.Pod{Spec: &corev1.PodSpec{
				RestartPolicy: "Never", DnsPolicy: "Default", SchedulerName: "other",
				TerminationGracePeriodSeconds: proto.Int64(0), EnableServiceLinks: proto.Bool(false),
				SecurityContext: &corev1.PodSecurityContext{RunAsUser: proto.Int64(1000)},
				Containers: []*corev1.Container{{
					Name: "app", Image: "nginx", ImagePullPolicy: "Never",
					TerminationMessagePath: "/tmp/msg", TerminationMessagePolicy: "FallbackToLogsOnError",
				}},
			}},
			want: &corev1.Pod{Spec: &corev1.PodSpec{
				RestartPolicy: "Never", DnsPolicy: "Default", SchedulerName: "other",
				TerminationGracePeriodSeconds: proto.Int64(0), EnableServiceLinks: proto.Bool(false),
				SecurityContext: &corev1.PodSecurityContext{RunAsUser: proto.Int64(1000)},
				Containers: []*corev1.Container{{
					Name: "app", Image: "nginx", ImagePullPolicy: "Never",
					TerminationMessagePath: "/tmp/msg", TerminationMessagePolicy: "FallbackToLogsOnError",
					Resources: &corev1.ResourceRequirements{},
				}},
			}},
		},
		{
			name: "pod deprecated serviceAccount",
			in:   &corev1.Pod{Spec: &corev1.PodSpec{ServiceAccount: "builder"}},
			want: &corev1.Pod{Spec: func() *corev1.PodSpec {
				s := defaultedSpec()
				s.ServiceAccountName, s.ServiceAccount, s.EnableServiceLinks = "builder", "builder", proto.Bool(true)
				return s
			}()},
		},
		{
			name: "pod volumes",
			in: &corev1.Pod{Spec: &corev1.PodSpec{Volumes: []*corev1.Volume{
				{Name: "scratch"},
				{Name: "cfg", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cfg"}},
				{Name: "creds", Secret: &corev1.SecretVolumeSource{SecretName: "creds", DefaultMode: proto.Int32(0o400)}},
				{Name: "host", HostPath: &corev1.HostPathVolumeSource{Path: "/srv"}},
				{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: proto.String("0.5Gi")}},
			}}},
			want: &corev1.Pod{Spec: func() *corev1.PodSpec {
				s := defaultedSpec()
				s.EnableServiceLinks = proto.Bool(true)
				s.Volumes = []*corev1.Volume{
					{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{}},
					{Name: "cfg", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cfg", DefaultMode: proto.Int32(0o644)}},
					{Name: "creds", Secret: &corev1.SecretVolumeSource{SecretName: "creds", DefaultMode: proto.Int32(0o400)}},
					{Name: "host", HostPath: &corev1.HostPathVolumeSource{Path: "/srv", Type: proto.String("")}},
					{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: proto.String("512Mi")}},
				}
				return s
			}()},
		},
		{
			name: "deployment template: PodSpec defaults only",
			in: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{
				Containers: []*corev1.Container{{Name: "app", Image: "nginx:latest", Resources: &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "1"}}}},
			}}}},
			want: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{
				Replicas: proto.Int32(1),
				Strategy: &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: str("25%"), MaxSurge: str("25%"),
				}},
				RevisionHistoryLimit:    proto.Int32(10),
				ProgressDeadlineSeconds: proto.Int32(600),
				Template: &corev1.PodTemplateSpec{Spec: func() *corev1.PodSpec {
					c := defaultedContainer("app", "nginx:latest", "Always")
					c.Resources = &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "1"}}
					return defaultedSpec(c)
				}()},
			}},
		},
		{
			name: "deployment keeps its strategy",
			in: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{
				Replicas:             proto.Int32(0),
				Strategy:             &appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: num(0), MaxUnavailable: structpb.NewNullValue()}},
				RevisionHistoryLimit: proto.Int32(0), ProgressDeadlineSeconds: proto.Int32(60),
			}},
			want: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{
				Replicas:             proto.Int32(0),
				Strategy:             &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: num(0), MaxUnavailable: str("25%")}},
				RevisionHistoryLimit: proto.Int32(0), ProgressDeadlineSeconds: proto.Int32(60),
			}},
		},
		{
			name: "deployment Recreate",
			in:   &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Strategy: &appsv1.DeploymentStrategy{Type: "Recreate"}}},
			want: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{
				Replicas: proto.Int32(1), Strategy: &appsv1.DeploymentStrategy{Type: "Recreate"},
				RevisionHistoryLimit: proto.Int32(10), ProgressDeadlineSeconds: proto.Int32(600),
			}},
		},
		{
			name: "replicaset",
			in: &appsv1.ReplicaSet{Spec: &appsv1.ReplicaSetSpec{Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{
				Containers: []*corev1.Container{{Name: "app", Image: "registry.example.com:5000/team/app"}},
			}}}},
			want: &appsv1.ReplicaSet{Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(1), Template: &corev1.PodTemplateSpec{
				Spec: defaultedSpec(defaultedContainer("app", "registry.example.com:5000/team/app", "Always")),
			}}},
		},
		{
			name: "replicationcontroller takes selector and labels from its template",
			in: &corev1.ReplicationController{Spec: &corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{
				Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:     &corev1.PodSpec{},
			}}},
			want: &corev1.ReplicationController{
				Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: &corev1.ReplicationControllerSpec{
					Replicas: proto.Int32(1), Selector: map[string]string{"app": "web"},
					Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: defaultedSpec()},
				},
			},
		},
		{
			name: "replicationcontroller keeps its selector and labels",
			in: &corev1.ReplicationController{
				Metadata: &metav1.ObjectMeta{Labels: map[string]string{"team": "a"}},
				Spec: &corev1.ReplicationControllerSpec{Replicas: proto.Int32(0), Selector: map[string]string{"app": "web"}, Template: &corev1.PodTemplateSpec{
					Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web", "v": "2"}},
				}},
			},
			want: &corev1.ReplicationController{
				Metadata: &metav1.ObjectMeta{Labels: map[string]string{"team": "a"}},
				Spec: &corev1.ReplicationControllerSpec{Replicas: proto.Int32(0), Selector: map[string]string{"app": "web"}, Template: &corev1.PodTemplateSpec{
					Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web", "v": "2"}}, Spec: defaultedSpec(),
				}},
			},
		},
		{
			name: "service",
			in: &corev1.Service{Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{
				{Name: "http", Port: 80},
				{Name: "dns", Port: 53, Protocol: "UDP", TargetPort: str("dns")},
				{Name: "zero", Port: 8080, TargetPort: num(0)},
			}}},
			want: &corev1.Service{Spec: &corev1.ServiceSpec{
				Type: "ClusterIP", SessionAffinity: "None", InternalTrafficPolicy: proto.String("Cluster"),
				Ports: []*corev1.ServicePort{
					{Name: "http", Port: 80, Protocol: "TCP", TargetPort: num(80)},
					{Name: "dns", Port: 53, Protocol: "UDP", TargetPort: str("dns")},
					{Name: "zero", Port: 8080, Protocol: "TCP", TargetPort: num(8080)},
				},
			}},
		},
		{
			name: "service ClientIP",
			in:   &corev1.Service{Spec: &corev1.ServiceSpec{SessionAffinity: "ClientIP", ClusterIp: "10.0.0.1"}},
			want: &corev1.Service{Spec: &corev1.ServiceSpec{
				Type: "ClusterIP", SessionAffinity: "ClientIP", InternalTrafficPolicy: proto.String("Cluster"),
				ClusterIp: "10.0.0.1", ClusterIps: []string{"10.0.0.1"},
				SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIp: &corev1.ClientIPConfig{TimeoutSeconds: proto.Int32(10800)}},
			}},
		},
		{
			name: "service None drops the affinity config",
			in:   &corev1.Service{Spec: &corev1.ServiceSpec{SessionAffinityConfig: &corev1.SessionAffinityConfig{}}},
			want: &corev1.Service{Spec: &corev1.ServiceSpec{Type: "ClusterIP", SessionAffinity: "None", InternalTrafficPolicy: proto.String("Cluster")}},
		},
		{
			name: "service LoadBalancer",
			in:   &corev1.Service{Spec: &corev1.ServiceSpec{Type: "LoadBalancer"}},
			want: &corev1.Service{Spec: &corev1.ServiceSpec{
				Type: "LoadBalancer", SessionAffinity: "None", InternalTrafficPolicy: proto.String("Cluster"),
				ExternalTrafficPolicy: "Cluster", AllocateLoadBalancerNodePorts: proto.Bool(true),
			}},
		},
		{
			name: "service ExternalName",
			in:   &corev1.Service{Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com"}},
			want: &corev1.Service{Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com", SessionAffinity: "None"}},
		},
		{
			name: "endpoints",
			in:   &corev1.Endpoints{Subsets: []*corev1.EndpointSubset{{Ports: []*corev1.EndpointPort{{Port: 80}, {Port: 53, Protocol: "UDP"}}}}},
			want: &corev1.Endpoints{Subsets: []*corev1.EndpointSubset{{Ports: []*corev1.EndpointPort{{Port: 80, Protocol: "TCP"}, {Port: 53, Protocol: "UDP"}}}}},
		},
		{
			name: "secret",
			in: &corev1.Secret{
				Data:       map[string][]byte{"user": []byte("old"), "keep": []byte("k")},
				StringData: map[string]string{"user": "admin", "extra": "e"},
			},
			want: &corev1.Secret{Type: "Opaque", Data: map[string][]byte{"user": []byte("admin"), "keep": []byte("k"), "extra": []byte("e")}},
		},
		{
			name: "secret keeps its type",
			in:   &corev1.Secret{Type: "kubernetes.io/tls"},
			want: &corev1.Secret{Type: "kubernetes.io/tls"},
		},
		{
			name: "namespace",
			in:   &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "dev"}},
			want: &corev1.Namespace{
				Metadata: &metav1.ObjectMeta{Name: "dev", Labels: map[string]string{"kubernetes.io/metadata.name": "dev"}},
				Spec:     &corev1.NamespaceSpec{Finalizers: []string{"kubernetes"}},
				Status:   &corev1.NamespaceStatus{Phase: "Active"},
			},
		},
		{
			name: "node",
			in:   &corev1.Node{Status: &corev1.NodeStatus{Capacity: map[string]string{"cpu": "4", "memory": "8192Mi"}}},
			want: &corev1.Node{Status: &corev1.NodeStatus{
				Capacity:    map[string]string{"cpu": "4", "memory": "8Gi"},
				Allocatable: map[string]string{"cpu": "4", "memory": "8Gi"},
			}},
		},
		{
			name: "configmap, event and lease have no defaults",
			in:   &corev1.ConfigMap{Data: map[string]string{"a": "b"}},
			want: &corev1.ConfigMap{Data: map[string]string{"a": "b"}},
		},
		{name: "event", in: &corev1.Event{Reason: "x"}, want: &corev1.Event{Reason: "x"}},
		{name: "lease", in: &coordinationv1.Lease{}, want: &coordinationv1.Lease{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := proto.Clone(tc.in).(scheme.Object)
			defaults.Object(got)
			if !proto.Equal(got, tc.want) {
				t.Errorf("got  %s\nwant %s", protojson.Format(got), protojson.Format(tc.want))
			}
			again := proto.Clone(got).(scheme.Object)
			defaults.Object(again)
			if !proto.Equal(got, again) {
				t.Errorf("defaulting is not idempotent: %s", protojson.Format(again))
			}
		})
	}
}

func TestImagePullPolicy(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct{ image, want string }{
		{"nginx", "Always"},
		{"nginx:latest", "Always"},
		{"nginx:1.25", "IfNotPresent"},
		{"library/nginx:1.25-alpine", "IfNotPresent"},
		{"nginx@" + digest, "IfNotPresent"},
		{"nginx:latest@" + digest, "Always"},
		{"localhost:5000/app", "Always"},
		{"localhost:5000/app:v1", "IfNotPresent"},
		{"registry.example.com/team/app:latest", "Always"},
		{"[::1]:5000/app", "Always"},
		{"berth-testapp:latest", "Always"},
		{"", "IfNotPresent"},
		{"Nginx", "IfNotPresent"},
		{"nginx:bad tag", "IfNotPresent"},
		{"nginx@sha256:short", "IfNotPresent"},
	} {
		t.Run(tc.image, func(t *testing.T) {
			c := &corev1.Container{Image: tc.image}
			defaults.Container(c)
			if c.ImagePullPolicy != tc.want {
				t.Errorf("imagePullPolicy of %q = %s, want %s", tc.image, c.ImagePullPolicy, tc.want)
			}
		})
	}
}

func TestPodHostNetworkPorts(t *testing.T) {
	p := &corev1.Pod{Spec: &corev1.PodSpec{HostNetwork: true, Containers: []*corev1.Container{{
		Ports: []*corev1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 81, HostPort: 8081}},
	}}}}
	defaults.Pod(p)
	if got := p.Spec.Containers[0].Ports; got[0].HostPort != 80 || got[1].HostPort != 8081 {
		t.Errorf("host ports %d, %d; want 80, 8081", got[0].HostPort, got[1].HostPort)
	}
}

func TestServiceUpdate(t *testing.T) {
	old := &corev1.Service{Spec: &corev1.ServiceSpec{
		Type: "NodePort", ClusterIp: "10.0.0.7", ClusterIps: []string{"10.0.0.7"},
		IpFamilies: []string{"IPv4"}, IpFamilyPolicy: proto.String("SingleStack"),
		Ports: []*corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30080}, {Name: "https", Port: 443, NodePort: 30443}},
	}}
	for _, tc := range []struct {
		name   string
		in     *corev1.ServiceSpec
		wantIP string
		wantNP []int32
	}{
		{"re-applied manifest keeps allocations",
			&corev1.ServiceSpec{Type: "NodePort", Ports: []*corev1.ServicePort{{Name: "http", Port: 80}, {Name: "https", Port: 443}}},
			"10.0.0.7", []int32{30080, 30443}},
		{"explicit nodePort wins and is not reused",
			&corev1.ServiceSpec{Type: "NodePort", Ports: []*corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30443}, {Name: "https", Port: 443}}},
			"10.0.0.7", []int32{30443, 0}},
		{"ClusterIP keeps the IP, drops nodePorts",
			&corev1.ServiceSpec{Ports: []*corev1.ServicePort{{Name: "http", Port: 80}}},
			"10.0.0.7", []int32{0}},
		{"ExternalName keeps nothing",
			&corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com"},
			"", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &corev1.Service{Spec: tc.in}
			defaults.ObjectUpdate(n, old)
			if n.Spec.ClusterIp != tc.wantIP {
				t.Errorf("clusterIP %q, want %q", n.Spec.ClusterIp, tc.wantIP)
			}
			if tc.wantIP != "" && (len(n.Spec.ClusterIps) != 1 || n.Spec.ClusterIps[0] != tc.wantIP || len(n.Spec.IpFamilies) != 1) {
				t.Errorf("clusterIPs %v, ipFamilies %v", n.Spec.ClusterIps, n.Spec.IpFamilies)
			}
			var nps []int32
			for _, p := range n.Spec.Ports {
				nps = append(nps, p.NodePort)
			}
			if len(nps) != len(tc.wantNP) {
				t.Fatalf("nodePorts %v, want %v", nps, tc.wantNP)
			}
			for i := range nps {
				if nps[i] != tc.wantNP[i] {
					t.Errorf("nodePorts %v, want %v", nps, tc.wantNP)
				}
			}
		})
	}
}

func TestNamespaceUpdate(t *testing.T) {
	stored := func(deleting bool) *corev1.Namespace {
		ns := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "dev"}}
		defaults.Object(ns)
		if deleting {
			ns.Metadata.DeletionTimestamp = timestamppb.Now()
		}
		return ns
	}
	for _, tc := range []struct {
		name       string
		deleting   bool
		finalizers []string
		want       []string
	}{
		{"re-applied manifest keeps the finalizer", false, nil, []string{"kubernetes"}},
		{"namespace controller removes it once deleting", true, nil, nil},
		{"explicit finalizers are kept", false, []string{"example.com/x"}, []string{"example.com/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "dev"}, Spec: &corev1.NamespaceSpec{Finalizers: tc.finalizers}}
			defaults.ObjectUpdate(n, stored(tc.deleting))
			if !slices.Equal(n.Spec.Finalizers, tc.want) {
				t.Errorf("finalizers %q, want %q", n.Spec.Finalizers, tc.want)
			}
			if n.Metadata.Labels["kubernetes.io/metadata.name"] != "dev" {
				t.Errorf("labels %v", n.Metadata.Labels)
			}
		})
	}
}
