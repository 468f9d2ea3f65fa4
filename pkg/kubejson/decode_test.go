package kubejson_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		into proto.Message
		want proto.Message
	}{{
		name: "JSON names, int64, IntOrString, timestamps",
		in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","generation":2,"creationTimestamp":"2024-01-02T05:04:05+02:00"},
			"spec":{"hostIPC":true,"terminationGracePeriodSeconds":30,"containers":[{"name":"c","ports":[{"containerPort":80,"hostIP":"1.2.3.4"}],
			"livenessProbe":{"httpGet":{"port":8080}},"readinessProbe":{"tcpSocket":{"port":"http"}}}]},"status":{"podIP":"10.0.0.1"}}`,
		into: &corev1.Pod{},
		want: &corev1.Pod{
			Metadata: &metav1.ObjectMeta{Name: "a", Generation: 2, CreationTimestamp: &timestamppb.Timestamp{Seconds: 1704164645}},
			Spec: &corev1.PodSpec{HostIpc: true, TerminationGracePeriodSeconds: ptr[int64](30), Containers: []*corev1.Container{{
				Name:           "c",
				Ports:          []*corev1.ContainerPort{{ContainerPort: 80, HostIp: "1.2.3.4"}},
				LivenessProbe:  &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: structpb.NewNumberValue(8080)}},
				ReadinessProbe: &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: structpb.NewStringValue("http")}},
			}}},
			Status: &corev1.PodStatus{PodIp: "10.0.0.1"},
		},
	}, {
		name: "proto names are accepted too",
		in:   `{"spec":{"restart_policy":"Never","host_ipc":true,"containers":[{"image_pull_policy":"Always"}]}}`,
		into: &corev1.Pod{},
		want: &corev1.Pod{Spec: &corev1.PodSpec{RestartPolicy: "Never", HostIpc: true, Containers: []*corev1.Container{{ImagePullPolicy: "Always"}}}},
	}, {
		name: "quantities may be numbers",
		in:   "spec:\n  volumes:\n  - name: v\n    emptyDir: {sizeLimit: 1}\n  containers:\n  - name: c\n    resources:\n      requests: {cpu: 0.5, memory: 128}\n      limits: {cpu: 1, memory: 1e3}\n",
		into: &corev1.Pod{},
		want: &corev1.Pod{Spec: &corev1.PodSpec{
			Volumes: []*corev1.Volume{{Name: "v", EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr("1")}}},
			Containers: []*corev1.Container{{Name: "c", Resources: &corev1.ResourceRequirements{
				Requests: map[string]string{"cpu": "0.5", "memory": "128"},
				Limits:   map[string]string{"cpu": "1", "memory": "1000"},
			}}},
		}},
	}, {
		name: "null means absent; empty objects are kept",
		in:   `{"metadata":null,"spec":{"nodeName":null,"containers":null,"securityContext":{},"volumes":[{"name":"v","emptyDir":{}}]}}`,
		into: &corev1.Pod{},
		want: &corev1.Pod{Spec: &corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{}, Volumes: []*corev1.Volume{{Name: "v", EmptyDir: &corev1.EmptyDirVolumeSource{}}}}},
	}, {
		name: "optional zero is present",
		in:   `{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":0,"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":0}}}}`,
		into: &appsv1.Deployment{},
		want: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Replicas: ptr[int32](0), Strategy: &appsv1.DeploymentStrategy{
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: structpb.NewStringValue("25%"), MaxUnavailable: structpb.NewNumberValue(0)},
		}}},
	}, {
		name: "bytes are base64",
		in:   `{"data":{"password":"czNjcjN0"},"stringData":{"user":"me"}}`,
		into: &corev1.Secret{},
		want: &corev1.Secret{Data: map[string][]byte{"password": []byte("s3cr3t")}, StringData: map[string]string{"user": "me"}},
	}, {
		name: "KYAML flow style with trailing commas",
		in:   "---\n{\n  apiVersion: \"v1\",\n  kind: \"ConfigMap\",\n  metadata: {name: \"c\",},\n  data: {a: \"1\",},\n}\n",
		into: &corev1.ConfigMap{},
		want: &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"a": "1"}},
	}, {
		name: "list items may carry apiVersion and kind",
		in:   `{"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"7"},"items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}`,
		into: &corev1.PodList{},
		want: &corev1.PodList{Metadata: &metav1.ListMeta{ResourceVersion: "7"}, Items: []*corev1.Pod{{Metadata: &metav1.ObjectMeta{Name: "a"}}, {Metadata: &metav1.ObjectMeta{Name: "b"}}}},
	}, {
		name: "watch event",
		in:   `{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}}`,
		into: &corev1.PodWatchEvent{},
		want: &corev1.PodWatchEvent{Type: "ADDED", Object: &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "a"}}},
	}, {
		name: "MicroTime fields keep microseconds",
		in:   `{"eventTime":"2024-01-02T03:04:05.123456789Z","firstTimestamp":"2024-01-02T03:04:05.123456789Z"}`,
		into: &corev1.Event{},
		want: &corev1.Event{EventTime: &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 123456000}, FirstTimestamp: &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 123456789}},
	}, {
		name: "null elements are zero values",
		in:   `{"spec":{"containers":[null],"nodeSelector":{"a":null}}}`,
		into: &corev1.Pod{},
		want: &corev1.Pod{Spec: &corev1.PodSpec{Containers: []*corev1.Container{{}}, NodeSelector: map[string]string{"a": ""}}},
	}, {
		name: "empty apiVersion and kind are accepted",
		in:   `{"apiVersion":"","kind":"","spec":{"holderIdentity":"x"}}`,
		into: &coordinationv1.Lease{},
		want: &coordinationv1.Lease{Spec: &coordinationv1.LeaseSpec{HolderIdentity: ptr("x")}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := kubejson.Unmarshal([]byte(tt.in), tt.into); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !proto.Equal(tt.into, tt.want) {
				t.Fatalf("got  %v\nwant %v", tt.into, tt.want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		into proto.Message
		want []string // the field errors, in order
	}{
		{"unknown field", `{"spec":{"containers":[{"name":"a"},{"name":"b","imagee":"x"}]}}`, &corev1.Pod{},
			[]string{`unknown field "spec.containers[1].imagee"`}},
		{"every unknown field", `{"spec":{"foo":1,"template":{"spec":{"containers":[{"imagee":"x"}]}}},"bar":[1]}`, &appsv1.Deployment{},
			[]string{`unknown field "spec.foo"`, `unknown field "spec.template.spec.containers[0].imagee"`, `unknown field "bar"`}},
		{"JSON name of another spelling", `{"spec":{"hostIpc":true}}`, &corev1.Pod{}, []string{`unknown field "spec.hostIpc"`}},
		{"field names are case-sensitive", `{"Spec":{}}`, &corev1.Pod{}, []string{`unknown field "Spec"`}},
		{"apiVersion below the top level", `{"spec":{"template":{"apiVersion":"v1"}}}`, &appsv1.Deployment{}, []string{`unknown field "spec.template.apiVersion"`}},
		{"duplicate field", `{"metadata":{"name":"a","name":"b"}}`, &corev1.Pod{}, []string{`duplicate field "metadata.name"`}},
		{"duplicate through proto name", `{"status":{"podIP":"1.1.1.1","pod_ip":"1.1.1.2"}}`, &corev1.Pod{}, []string{`duplicate field "status.pod_ip"`}},
		{"duplicate map key", `{"metadata":{"labels":{"a":"1","a":"2"}}}`, &corev1.Pod{}, []string{`duplicate field "metadata.labels[a]"`}},
		{"duplicate unknown field", `{"x":1,"x":2}`, &corev1.Pod{}, []string{`unknown field "x"`, `duplicate field "x"`, `unknown field "x"`}},
		{"integer as string", `{"spec":{"replicas":"three"}}`, &appsv1.Deployment{}, []string{`spec.replicas: expected integer, got string "three"`}},
		{"integer as float", `{"spec":{"replicas":3.5}}`, &appsv1.Deployment{}, []string{`spec.replicas: expected integer, got number 3.5`}},
		{"integer with a fraction", `{"spec":{"replicas":3.0}}`, &appsv1.Deployment{}, []string{`spec.replicas: expected integer, got number 3.0`}},
		{"int32 range", `{"spec":{"replicas":3000000000}}`, &appsv1.Deployment{}, []string{`spec.replicas: integer 3000000000 out of range for int32`}},
		{"int64 as string", `{"spec":{"terminationGracePeriodSeconds":"30"}}`, &corev1.Pod{}, []string{`spec.terminationGracePeriodSeconds: expected integer, got string "30"`}},
		{"string as number", `{"metadata":{"name":5}}`, &corev1.Pod{}, []string{`metadata.name: expected string, got number 5`}},
		{"label value as number", "metadata:\n  labels:\n    version: 1.0\n", &corev1.Pod{}, []string{`metadata.labels[version]: expected string, got number 1`}},
		{"label value as YAML boolean", "metadata:\n  labels:\n    enabled: yes\n", &corev1.Pod{}, []string{`metadata.labels[enabled]: expected string, got boolean true`}},
		{"number in a map that holds no quantities", `{"spec":{"nodeSelector":{"cpu":1}}}`, &corev1.Pod{}, []string{`spec.nodeSelector[cpu]: expected string, got number 1`}},
		{"bool as string", `{"spec":{"hostNetwork":"true"}}`, &corev1.Pod{}, []string{`spec.hostNetwork: expected boolean, got string "true"`}},
		{"IntOrString float", `{"spec":{"ports":[{"port":80,"targetPort":80.5}]}}`, &corev1.Service{}, []string{`spec.ports[0].targetPort: expected integer or string, got number 80.5`}},
		{"IntOrString bool", `{"spec":{"ports":[{"targetPort":true}]}}`, &corev1.Service{}, []string{`spec.ports[0].targetPort: expected integer or string, got boolean true`}},
		{"IntOrString object", `{"spec":{"ports":[{"targetPort":{"a":1}}]}}`, &corev1.Service{}, []string{`spec.ports[0].targetPort: expected integer or string, got object`}},
		{"IntOrString list", `{"spec":{"ports":[{"targetPort":[80]}]}}`, &corev1.Service{}, []string{`spec.ports[0].targetPort: expected integer or string, got array`}},
		{"IntOrString range", `{"spec":{"ports":[{"targetPort":4294967296}]}}`, &corev1.Service{}, []string{`spec.ports[0].targetPort: integer 4294967296 out of range for int32`}},
		{"list as object", `{"spec":{"containers":{"name":"a"}}}`, &corev1.Pod{}, []string{`spec.containers: expected array, got object`}},
		{"object as string", `{"spec":"x"}`, &corev1.Pod{}, []string{`spec: expected object, got string "x"`}},
		{"map as list", `{"metadata":{"labels":["a"]}}`, &corev1.Pod{}, []string{`metadata.labels: expected object, got array`}},
		{"list element of wrong type", `{"spec":{"containers":["a"]}}`, &corev1.Pod{}, []string{`spec.containers[0]: expected object, got string "a"`}},
		{"bad timestamp", `{"metadata":{"creationTimestamp":"yesterday"}}`, &corev1.Pod{}, []string{`metadata.creationTimestamp: expected RFC 3339 time (2006-01-02T15:04:05Z), got string "yesterday"`}},
		{"timestamp out of range", `{"metadata":{"creationTimestamp":"0000-01-01T00:00:00Z"}}`, &corev1.Pod{}, []string{`metadata.creationTimestamp: expected RFC 3339 time (2006-01-02T15:04:05Z), got string "0000-01-01T00:00:00Z"`}},
		{"bad base64", `{"data":{"password":"not base64!"}}`, &corev1.Secret{}, []string{`data[password]: invalid base64 data: at input byte 3`}},
		{"wrong kind", `{"apiVersion":"v1","kind":"Service"}`, &corev1.Pod{}, []string{`kind: expected "Pod", got "Service"`}},
		{"wrong apiVersion", `{"apiVersion":"apps/v1","kind":"Pod"}`, &corev1.Pod{}, []string{`apiVersion: expected "v1", got "apps/v1"`}},
		{"kind as number", `{"kind":1}`, &corev1.Pod{}, []string{`kind: expected string, got number 1`}},
		{"wrong kind of list item", `{"items":[{"kind":"Service"}]}`, &corev1.PodList{}, []string{`items[0].kind: expected "Pod", got "Service"`}},
		{"type meta on a message without one", `{"kind":"ObjectMeta"}`, &metav1.ObjectMeta{}, []string{`unknown field "kind"`}},
		{"not an object", `["a"]`, &corev1.Pod{}, []string{`expected object, got array`}},
		{"empty document", ``, &corev1.Pod{}, []string{`empty document`}},
		{"errors and good fields mixed", `{"metadata":{"name":"a","x":1},"spec":{"replicas":"2","paused":1}}`, &appsv1.Deployment{},
			[]string{`unknown field "metadata.x"`, `spec.replicas: expected integer, got string "2"`, `spec.paused: expected boolean, got number 1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := kubejson.Unmarshal([]byte(tt.in), tt.into)
			var de *kubejson.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Unmarshal error %v (%T), want a *DecodeError", err, err)
			}
			var got []string
			for _, fe := range de.Errors {
				got = append(got, fe.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err.Error() != strings.Join(tt.want, ", ") {
				t.Fatalf("Error() = %q", err.Error())
			}
			if !proto.Equal(tt.into, tt.into.ProtoReflect().Type().New().Interface()) {
				t.Fatalf("message not left empty on error: %v", tt.into)
			}
		})
	}
}

func TestUnmarshalSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"JSON", "{\n  \"metadata\": {\n    \"name\" \"a\"\n  }\n}", "invalid JSON at line 3, column 12: invalid character '\"' after object key"},
		{"truncated JSON", `{"metadata": {`, "invalid JSON at line 1, column 14: unexpected end of JSON input"},
		{"YAML", "metadata:\n  name: a\n  labels: {a: b\nspec: {}\n", "invalid YAML at line 3: did not find expected ',' or '}'"},
		{"YAML tabs", "metadata:\n\tname: a\n", "invalid YAML at line 2: found character that cannot start any token"},
		{"YAML duplicate key", "metadata:\n  name: a\n  name: b\n", `invalid YAML at line 3: key "name" already set in map`},
		{"trailing data", `{"metadata":{}} {"spec":{}}`, "invalid JSON at line 1, column 17: invalid character '{' after top-level value"},
		{"second document", "# one\nmetadata: {name: a}\n---\n# empty\n---\nmetadata: {name: b}\n", "invalid YAML at line 6: a second document; expected exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := kubejson.Unmarshal([]byte(tt.in), &corev1.Pod{})
			var se *kubejson.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *SyntaxError", err, err)
			}
			if err.Error() != tt.want {
				t.Fatalf("error %q\nwant  %q", err, tt.want)
			}
		})
	}
}

func TestUnmarshalObject(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantKind string
		wantErr  string
	}{
		{"deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n", "Deployment", ""},
		{"lease", `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease"}`, "Lease", ""},
		{"no apiVersion", "kind: Pod\n", "", "apiVersion: Required value"},
		{"no kind", "apiVersion: v1\n", "", "kind: Required value"},
		{"kind not served", "apiVersion: apps/v1\nkind: StatefulSet\n", "", `kind: Unsupported value: "StatefulSet" (apiVersion apps/v1): Berth serves ConfigMap, Deployment,`},
		{"old apiVersion", "apiVersion: extensions/v1beta1\nkind: Deployment\n", "", `apiVersion: Unsupported value: "extensions/v1beta1": kind Deployment is served as apps/v1`},
		{"apiVersion not a string", "apiVersion: 1\nkind: Pod\n", "", "apiVersion: expected string, got number 1"},
		{"not an object", "- a\n- b\n", "", "expected object, got array"},
		{"empty", "# nothing\n", "", "empty document: apiVersion and kind are required"},
		{"unknown field", "apiVersion: v1\nkind: Pod\nspec: {nodename: a}\n", "", `unknown field "spec.nodename"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, res, err := kubejson.UnmarshalObject([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalObject: %v", err)
			}
			if res.Kind != tt.wantKind || scheme.ForObject(obj) != res || obj.GetMetadata() == nil {
				t.Fatalf("got %T, resource %s", obj, res.Kind)
			}
		})
	}
}
