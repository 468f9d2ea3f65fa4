package printers

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func meta(name string, d time.Duration) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(d)}
}

func i32(v int32) *int32 { return &v }

func template(images ...string) *corev1.PodTemplateSpec {
	t := &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{}}
	for i, im := range images {
		t.Spec.Containers = append(t.Spec.Containers, &corev1.Container{Name: []string{"web", "log"}[i], Image: im})
	}
	return t
}

func TestRows(t *testing.T) {
	lbSvc := &corev1.Service{Metadata: meta("lb", time.Hour), Spec: &corev1.ServiceSpec{
		Type: "LoadBalancer", ClusterIps: []string{"10.0.0.5"},
		Ports: []*corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: "TCP", TargetPort: structpb.NewStringValue("http")}},
	}}
	tests := []struct {
		name   string
		r      *scheme.Resource
		obj    scheme.Object
		opts   Options
		header string
		row    string
	}{
		{
			name: "pod wide", r: scheme.Pods, opts: Options{Wide: true},
			obj: &corev1.Pod{Metadata: meta("nginx", 90*time.Second), Spec: &corev1.PodSpec{NodeName: "n1", Containers: []*corev1.Container{{Name: "c"}}},
				Status: &corev1.PodStatus{Phase: "Running", PodIps: []*corev1.PodIP{{Ip: "10.1.0.4"}}, ContainerStatuses: []*corev1.ContainerStatus{running(true, 0)}}},
			header: "NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES",
			row:    "nginx|1/1|Running|0|90s|10.1.0.4|n1|<none>|<none>",
		},
		{
			name: "pod all namespaces with labels", r: scheme.Pods, opts: Options{WithNamespace: true, ShowLabels: true},
			obj:    &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns1", Labels: map[string]string{"b": "2", "a": "1"}}},
			header: "NAMESPACE|NAME|READY|STATUS|RESTARTS|AGE|LABELS",
			row:    "ns1|p|0/0||0|<unknown>|a=1,b=2",
		},
		{
			name: "deployment", r: scheme.Deployments,
			obj: &appsv1.Deployment{Metadata: meta("web", 3*time.Hour+10*time.Minute), Spec: &appsv1.DeploymentSpec{Replicas: i32(3)},
				Status: &appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 1}},
			header: "NAME|READY|UP-TO-DATE|AVAILABLE|AGE",
			row:    "web|2/3|3|1|3h10m",
		},
		{
			name: "deployment wide, replicas defaulted", r: scheme.Deployments, opts: Options{Wide: true},
			obj: &appsv1.Deployment{Metadata: meta("web", 50*time.Hour), Spec: &appsv1.DeploymentSpec{
				Template: template("nginx:1.27", "busybox"),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "tier", Operator: "In", Values: []string{"b", "a"}}}},
			}},
			header: "NAME|READY|UP-TO-DATE|AVAILABLE|AGE|CONTAINERS|IMAGES|SELECTOR",
			row:    "web|0/1|0|0|2d2h|web,log|nginx:1.27,busybox|app=web,tier in (a,b)",
		},
		{
			name: "replicaset", r: scheme.ReplicaSets,
			obj:    &appsv1.ReplicaSet{Metadata: meta("web-abc", 400*24*time.Hour), Spec: &appsv1.ReplicaSetSpec{Replicas: i32(2)}, Status: &appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1}},
			header: "NAME|DESIRED|CURRENT|READY|AGE",
			row:    "web-abc|2|2|1|400d",
		},
		{
			name: "replication controller wide", r: scheme.ReplicationControllers, opts: Options{Wide: true},
			obj: &corev1.ReplicationController{Metadata: meta("rc", time.Minute), Spec: &corev1.ReplicationControllerSpec{Replicas: i32(0), Selector: map[string]string{"app": "x"}, Template: template("img")},
				Status: &corev1.ReplicationControllerStatus{}},
			header: "NAME|DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR",
			row:    "rc|0|0|0|60s|web|img|app=x",
		},
		{
			name: "cluster IP service", r: scheme.Services, opts: Options{Wide: true},
			obj: &corev1.Service{Metadata: meta("web", 5*time.Minute), Spec: &corev1.ServiceSpec{
				Type: "ClusterIP", ClusterIp: "10.0.0.10", ClusterIps: []string{"10.0.0.10"}, Selector: map[string]string{"app": "web"},
				Ports: []*corev1.ServicePort{{Port: 80, Protocol: "TCP"}, {Port: 53, Protocol: "UDP"}},
			}},
			header: "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE|SELECTOR",
			row:    "web|ClusterIP|10.0.0.10|<none>|80/TCP,53/UDP|5m|app=web",
		},
		{
			name: "pending load balancer", r: scheme.Services, obj: lbSvc,
			header: "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE",
			row:    "lb|LoadBalancer|10.0.0.5|<pending>|80:30080/TCP|60m",
		},
		{
			name: "headless external name", r: scheme.Services,
			obj:    &corev1.Service{Metadata: meta("ext", time.Minute), Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "example.com"}},
			header: "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE",
			row:    "ext|ExternalName|<none>|example.com|<none>|60s",
		},
		{
			name: "node", r: scheme.Nodes, opts: Options{Wide: true},
			obj: &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1", CreationTimestamp: ago(time.Hour), Labels: map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker"}},
				Spec: &corev1.NodeSpec{Unschedulable: true},
				Status: &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "MemoryPressure", Status: "False"}, {Type: "Ready", Status: "True"}},
					Addresses: []*corev1.NodeAddress{{Type: "InternalIP", Address: "192.168.1.2"}},
					NodeInfo:  &corev1.NodeSystemInfo{KubeletVersion: "v0.1.0", OsImage: "Debian", ContainerRuntimeVersion: "docker://27.0"}}},
			header: "NAME|STATUS|ROLES|AGE|VERSION|INTERNAL-IP|EXTERNAL-IP|OS-IMAGE|KERNEL-VERSION|CONTAINER-RUNTIME",
			row:    "n1|Ready,SchedulingDisabled|control-plane,worker|60m|v0.1.0|192.168.1.2|<none>|Debian|<unknown>|docker://27.0",
		},
		{
			name: "node not ready", r: scheme.Nodes,
			obj:    &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n2"}, Status: &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "Unknown"}}}},
			header: "NAME|STATUS|ROLES|AGE|VERSION",
			row:    "n2|NotReady|<none>|<unknown>|",
		},
		{
			name: "node without conditions", r: scheme.Nodes,
			obj:    &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n3"}},
			header: "NAME|STATUS|ROLES|AGE|VERSION",
			row:    "n3|Unknown|<none>|<unknown>|",
		},
		{
			name: "namespace", r: scheme.Namespaces,
			obj:    &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "kube-system", CreationTimestamp: ago(10 * 24 * time.Hour)}, Status: &corev1.NamespaceStatus{Phase: "Active"}},
			header: "NAME|STATUS|AGE", row: "kube-system|Active|10d",
		},
		{
			name: "namespace with kind", r: scheme.Namespaces, opts: Options{WithNamespace: true, WithKind: true},
			obj:    &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "x"}, Status: &corev1.NamespaceStatus{Phase: "Terminating"}},
			header: "NAME|STATUS|AGE", row: "namespace/x|Terminating|<unknown>",
		},
		{
			name: "configmap", r: scheme.ConfigMaps,
			obj:    &corev1.ConfigMap{Metadata: meta("cfg", 2*time.Second), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}},
			header: "NAME|DATA|AGE", row: "cfg|3|2s",
		},
		{
			name: "secret", r: scheme.Secrets,
			obj:    &corev1.Secret{Metadata: meta("s", time.Minute), Type: "Opaque", Data: map[string][]byte{"k": []byte("v")}},
			header: "NAME|TYPE|DATA|AGE", row: "s|Opaque|1|60s",
		},
		{
			name: "endpoints", r: scheme.Endpoints,
			obj: &corev1.Endpoints{Metadata: meta("web", time.Minute), Subsets: []*corev1.EndpointSubset{{
				Addresses: []*corev1.EndpointAddress{{Ip: "10.1.0.1"}, {Ip: "10.1.0.2"}},
				Ports:     []*corev1.EndpointPort{{Port: 80}, {Port: 443}},
			}}},
			header: "NAME|ENDPOINTS|AGE", row: "web|10.1.0.1:80,10.1.0.2:80,10.1.0.1:443 + 1 more...|60s",
		},
		{
			name: "endpoints empty", r: scheme.Endpoints, obj: &corev1.Endpoints{Metadata: meta("none", time.Minute)},
			header: "NAME|ENDPOINTS|AGE", row: "none|<none>|60s",
		},
		{
			name: "endpoints without ports", r: scheme.Endpoints,
			obj:    &corev1.Endpoints{Metadata: meta("hl", time.Minute), Subsets: []*corev1.EndpointSubset{{Addresses: []*corev1.EndpointAddress{{Ip: "fd00::1"}}}}},
			header: "NAME|ENDPOINTS|AGE", row: "hl|fd00::1|60s",
		},
		{
			name: "event", r: scheme.Events,
			obj: &corev1.Event{Metadata: meta("nginx.1", time.Minute), Type: "Normal", Reason: "Scheduled", Message: " Successfully assigned default/nginx to n1\n",
				InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "nginx"}, FirstTimestamp: ago(time.Minute), LastTimestamp: ago(30 * time.Second)},
			header: "LAST SEEN|TYPE|REASON|OBJECT|MESSAGE",
			row:    "30s|Normal|Scheduled|pod/nginx|Successfully assigned default/nginx to n1",
		},
		{
			name: "event wide", r: scheme.Events, opts: Options{Wide: true},
			obj: &corev1.Event{Metadata: meta("nginx.2", time.Minute), Type: "Warning", Reason: "BackOff", Count: 4,
				InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "nginx", FieldPath: "spec.containers{web}"},
				Source:         &corev1.EventSource{Component: "agent", Host: "n1"}, EventTime: ago(2 * time.Minute)},
			header: "LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME",
			row:    "2m|Warning|BackOff|pod/nginx|spec.containers{web}|agent, n1||2m|4|nginx.2",
		},
		{
			name: "lease", r: scheme.Leases,
			obj:    &coordinationv1.Lease{Metadata: meta("n1", 10*time.Second), Spec: &coordinationv1.LeaseSpec{HolderIdentity: func() *string { s := "n1"; return &s }()}},
			header: "NAME|HOLDER|AGE", row: "n1|n1|10s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = now
			if got := strings.Join(Columns(tt.r, tt.opts), "|"); got != tt.header {
				t.Errorf("Columns = %q, want %q", got, tt.header)
			}
			if got := strings.Join(Row(tt.r, tt.obj, tt.opts), "|"); got != tt.row {
				t.Errorf("Row = %q, want %q", got, tt.row)
			}
		})
	}
}

func TestTablePrinter(t *testing.T) {
	var b strings.Builder
	p := NewTablePrinter(&b, Options{Now: now})
	pods := []scheme.Object{
		pod(1, 0, &corev1.PodStatus{Phase: "Pending"}),
		&corev1.Pod{Metadata: meta("a-much-longer-name", time.Hour), Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c"}}},
			Status: &corev1.PodStatus{Phase: "Running", ContainerStatuses: []*corev1.ContainerStatus{running(true, 0)}}},
	}
	if err := p.Print(scheme.Pods, pods); err != nil {
		t.Fatal(err)
	}
	// A watch line later keeps the widths of the table.
	if err := p.Print(scheme.Pods, []scheme.Object{pod(1, 0, &corev1.PodStatus{Phase: "Failed"})}); err != nil {
		t.Fatal(err)
	}
	if err := p.Print(scheme.ConfigMaps, []scheme.Object{&corev1.ConfigMap{Metadata: meta("c", time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME                 READY   STATUS    RESTARTS   AGE\n" +
		"p                    0/1     Pending   0          <unknown>\n" +
		"a-much-longer-name   1/1     Running   0          60m\n" +
		"p                    0/1     Failed    0          <unknown>\n" +
		"\n" +
		"NAME   DATA   AGE\n" +
		"c      0      60s\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTablePrinterNoHeaders(t *testing.T) {
	var b strings.Builder
	p := NewTablePrinter(&b, Options{Now: now, NoHeaders: true})
	if err := p.Print(scheme.ConfigMaps, []scheme.Object{&corev1.ConfigMap{Metadata: meta("c", time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if want := "c     0     60s\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		r    *scheme.Resource
		want string
	}{
		{scheme.Pods, "pod/x"},
		{scheme.Deployments, "deployment.apps/x"},
		{scheme.Leases, "lease.coordination.k8s.io/x"},
	}
	for _, tt := range tests {
		if got := Name(tt.r, &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "x"}}); got != tt.want {
			t.Errorf("Name(%s) = %q, want %q", tt.r.Kind, got, tt.want)
		}
	}
}
