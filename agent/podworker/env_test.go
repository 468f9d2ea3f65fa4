package podworker

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "alpha", "B": "beta", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"$(A)", "alpha"},
		{"x-$(A)-$(B)-y", "x-alpha-beta-y"},
		{"$(MISSING)", "$(MISSING)"},
		{"$(EMPTY)|", "|"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$alpha"},
		{"$$", "$"},
		{"$A", "$A"},
		{"$(A", "$(A"},
		{"trailing $", "trailing $"},
		{"$()", "$()"},
		{"$(A)$(B)", "alphabeta"},
	}
	for _, tt := range tests {
		if got := Expand(tt.in, lookup); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "$(A)", "$$(A)", "$(A", "$", "a$(B)c$$d", "$()", "$(($(A)))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Expand(s, func(string) (string, bool) { return "", false })
		// With nothing defined, expansion can only drop the "$" of "$$".
		if len(got) > len(s) || (!strings.Contains(s, "$") && got != s) {
			t.Fatalf("Expand(%q) with nothing defined = %q", s, got)
		}
		full := Expand(s, func(n string) (string, bool) { return "<" + n + ">", true })
		if strings.Count(full, "$(") > strings.Count(s, "$(") {
			t.Fatalf("Expand(%q) = %q made references", s, full)
		}
	})
}

func TestContainerEnv(t *testing.T) {
	objs := &objects{
		configMaps: map[string]*corev1.ConfigMap{"ns/cfg": {
			Data: map[string]string{"MODE": "fast", "LEVEL": "3", "1bad": "x"}, BinaryData: map[string][]byte{"BIN": []byte("b")},
		}},
		secrets: map[string]*corev1.Secret{"ns/sec": {Data: map[string][]byte{"PASSWORD": []byte("hunter2")}}},
	}
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{
			Name: "web-1", Namespace: "ns", Uid: "u-1",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": "hi"},
		},
		Spec: &corev1.PodSpec{NodeName: "node-a", ServiceAccountName: "sa"},
	}
	res := &corev1.ResourceRequirements{
		Limits:   map[string]string{"memory": "256Mi", "cpu": "1500m"},
		Requests: map[string]string{"cpu": "250m", "memory": "128Mi"},
	}
	field := func(name, path string) *corev1.EnvVar {
		return &corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	resource := func(name, res, divisor string) *corev1.EnvVar {
		return &corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: res, Divisor: divisor}}}
	}
	tests := []struct {
		name    string
		c       *corev1.Container
		want    []string
		wantErr string
	}{
		{
			name: "values and expansion",
			c: &corev1.Container{Env: []*corev1.EnvVar{
				{Name: "A", Value: "1"}, {Name: "B", Value: "$(A)-2"}, {Name: "C", Value: "$(LATER)"}, {Name: "LATER", Value: "x"}, {Name: "A", Value: "again"},
			}},
			want: []string{"A=again", "B=1-2", "C=$(LATER)", "LATER=x"},
		},
		{
			name: "envFrom with prefix, then env overrides",
			c: &corev1.Container{
				EnvFrom: []*corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "cfg"}}, {Prefix: "S_", SecretRef: &corev1.SecretEnvSource{Name: "sec"}}},
				Env:     []*corev1.EnvVar{{Name: "MODE", Value: "slow"}},
			},
			want: []string{"LEVEL=3", "MODE=slow", "S_PASSWORD=hunter2"},
		},
		{
			name: "key refs",
			c: &corev1.Container{Env: []*corev1.EnvVar{
				{Name: "M", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "cfg", Key: "MODE"}}},
				{Name: "BIN", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "cfg", Key: "BIN"}}},
				{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "sec", Key: "PASSWORD"}}},
				{Name: "OPT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "nope", Key: "x", Optional: proto.Bool(true)}}},
				{Name: "OPTKEY", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "cfg", Key: "nope", Optional: proto.Bool(true)}}},
			}},
			want: []string{"M=fast", "BIN=b", "P=hunter2"},
		},
		{
			name: "optional envFrom that is missing",
			c:    &corev1.Container{EnvFrom: []*corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "nope", Optional: proto.Bool(true)}}}},
			want: nil,
		},
		{
			name: "fields",
			c: &corev1.Container{Env: []*corev1.EnvVar{
				field("NAME", "metadata.name"), field("NS", "metadata.namespace"), field("UID", "metadata.uid"),
				field("APP", "metadata.labels['app']"), field("NOTE", "metadata.annotations['note']"),
				field("LABELS", "metadata.labels"), field("NODE", "spec.nodeName"), field("SA", "spec.serviceAccountName"),
				field("IP", "status.podIP"), field("HOST", "status.hostIP"),
			}},
			want: []string{"NAME=web-1", "NS=ns", "UID=u-1", "APP=web", "NOTE=hi", "LABELS=app=\"web\"\ntier=\"front\"",
				"NODE=node-a", "SA=sa", "IP=10.1.2.3", "HOST=192.168.0.10"},
		},
		{
			name: "resources",
			c: &corev1.Container{Name: "app", Resources: res, Env: []*corev1.EnvVar{
				resource("MEM", "limits.memory", ""), resource("MEM_MI", "limits.memory", "1Mi"), resource("CPU", "limits.cpu", ""),
				resource("CPU_M", "requests.cpu", "1m"), resource("REQ_MEM", "requests.memory", "1Mi"),
			}},
			want: []string{"MEM=268435456", "MEM_MI=256", "CPU=2", "CPU_M=250", "REQ_MEM=128"},
		},
		{
			name: "unset limits are the node's capacity",
			c: &corev1.Container{Name: "app", Env: []*corev1.EnvVar{
				resource("CPU", "limits.cpu", ""), resource("MEM", "limits.memory", "1Gi"),
			}},
			want: []string{"CPU=4", "MEM=8"},
		},
		{name: "missing ConfigMap", c: &corev1.Container{EnvFrom: []*corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "nope"}}}}, wantErr: `configmap "nope" not found`},
		{name: "missing Secret", c: &corev1.Container{Env: []*corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "nope", Key: "k"}}}}}, wantErr: `secret "nope" not found`},
		{name: "missing key", c: &corev1.Container{Env: []*corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "cfg", Key: "k"}}}}}, wantErr: "couldn't find key k in ConfigMap ns/cfg"},
		{name: "missing secret key", c: &corev1.Container{Env: []*corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "sec", Key: "k"}}}}}, wantErr: "couldn't find key k in Secret ns/sec"},
		{name: "bad field", c: &corev1.Container{Env: []*corev1.EnvVar{field("X", "spec.nope")}}, wantErr: `unsupported fieldRef path "spec.nope"`},
		{name: "bad resource", c: &corev1.Container{Env: []*corev1.EnvVar{resource("X", "limits", "")}}, wantErr: `unsupported resourceFieldRef resource "limits"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ec := &envContext{pod: pod, podIP: "10.1.2.3", hostIP: "192.168.0.10", lookup: objs,
				node: runtime.NodeInfo{CPUs: 4, MemoryBytes: 8 << 30}}
			env, err := ec.containerEnv(context.Background(), tt.c)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := env.list(); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("env = %q\nwant  %q", got, tt.want)
			}
		})
	}
}
