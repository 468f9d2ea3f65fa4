package podworker

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestDNSConfig(t *testing.T) {
	clusterFirst := &runtime.DNSConfig{
		Nameservers: []string{"10.96.0.10"},
		Searches:    []string{"ns.svc.cluster.local", "svc.cluster.local", "cluster.local"},
		Options:     []string{"ndots:5"},
	}
	tests := []struct {
		name       string
		clusterDNS []string
		policy     string
		extra      *corev1.PodDNSConfig
		want       *runtime.DNSConfig
	}{
		{"ClusterFirst", []string{"10.96.0.10"}, "ClusterFirst", nil, clusterFirst},
		{"ClusterFirst without cluster DNS is the node's", nil, "ClusterFirst", nil, nil},
		{"Default", []string{"10.96.0.10"}, "Default", nil, nil},
		{"None", []string{"10.96.0.10"}, "None", &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"example.com"}}, &runtime.DNSConfig{
			Nameservers: []string{"1.1.1.1"}, Searches: []string{"example.com"},
		}},
		{"ClusterFirst with options", []string{"10.96.0.10"}, "ClusterFirst", &corev1.PodDNSConfig{
			Options: []*corev1.PodDNSConfigOption{{Name: "ndots", Value: proto.String("2")}, {Name: "edns0"}},
		}, &runtime.DNSConfig{Nameservers: clusterFirst.Nameservers, Searches: clusterFirst.Searches, Options: []string{"ndots:2", "edns0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &worker{m: &Manager{cfg: Config{ClusterDNS: tt.clusterDNS, ClusterDomain: DefaultClusterDomain}}}
			pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Spec: &corev1.PodSpec{DnsPolicy: tt.policy, DnsConfig: tt.extra}}
			if got := w.dnsConfig(pod); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("dnsConfig = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestContainerConfig(t *testing.T) {
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p", Uid: "u"},
		Spec:     &corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: proto.Int64(1000), RunAsGroup: proto.Int64(3000)}},
	}
	env := &environment{}
	env.set("GREETING", "hello")
	tests := []struct {
		name    string
		c       *corev1.Container
		check   func(t *testing.T, cfg runtime.ContainerConfig)
		wantErr string
	}{
		{
			name: "command and args expanded, pod user",
			c:    &corev1.Container{Name: "c", Image: "img", Command: []string{"echo", "$(GREETING)"}, Args: []string{"$$(GREETING)", "$(NOPE)"}},
			check: func(t *testing.T, cfg runtime.ContainerConfig) {
				if !reflect.DeepEqual(cfg.Command, []string{"echo", "hello"}) || !reflect.DeepEqual(cfg.Args, []string{"$(GREETING)", "$(NOPE)"}) {
					t.Errorf("command %q args %q", cfg.Command, cfg.Args)
				}
				if cfg.User != "1000:3000" || cfg.Attempt != 2 || cfg.Pod != (runtime.PodRef{UID: "u", Namespace: "ns", Name: "p"}) {
					t.Errorf("user %q attempt %d pod %+v", cfg.User, cfg.Attempt, cfg.Pod)
				}
				if cfg.Labels[runtime.LabelSpecHash] == "" || !reflect.DeepEqual(cfg.Env, []string{"GREETING=hello"}) {
					t.Errorf("labels %v env %v", cfg.Labels, cfg.Env)
				}
			},
		},
		{
			name: "resources and security context",
			c: &corev1.Container{
				Name: "c", Image: "img",
				Resources: &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "1500m", "memory": "64Mi"}, Requests: map[string]string{"cpu": "100m"}},
				SecurityContext: &corev1.SecurityContext{
					RunAsUser: proto.Int64(0), Privileged: proto.Bool(true), ReadOnlyRootFilesystem: proto.Bool(true),
					Capabilities: &corev1.Capabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"ALL"}},
				},
			},
			check: func(t *testing.T, cfg runtime.ContainerConfig) {
				if cfg.Resources != (runtime.Resources{CPUMillis: 1500, CPURequestMillis: 100, MemoryBytes: 64 << 20}) {
					t.Errorf("resources %+v", cfg.Resources)
				}
				if cfg.User != "0:3000" || !cfg.Privileged || !cfg.ReadOnlyRootfs || cfg.CapAdd[0] != "NET_ADMIN" || cfg.CapDrop[0] != "ALL" {
					t.Errorf("security %+v", cfg)
				}
			},
		},
		{
			name:    "runAsNonRoot with user 0",
			c:       &corev1.Container{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: proto.Int64(0), RunAsNonRoot: proto.Bool(true)}},
			wantErr: "breaks non-root policy",
		},
		{
			name:    "bad quantity",
			c:       &corev1.Container{Name: "c", Resources: &corev1.ResourceRequirements{Limits: map[string]string{"memory": "lots"}}},
			wantErr: `resources memory "lots"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &worker{}
			cfg, err := w.containerConfig(pod, tt.c, env, nil, 2)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestSpecHash(t *testing.T) {
	a := &corev1.Container{Name: "c", Image: "app:1"}
	b := &corev1.Container{Name: "c", Image: "app:2"}
	if specHash(a) == specHash(b) || specHash(a) != specHash(proto.Clone(a).(*corev1.Container)) {
		t.Error("the spec hash does not follow the spec")
	}
}

func TestHostname(t *testing.T) {
	long := strings.Repeat("a", 62) + "-b"
	tests := []struct{ name, hostname, want string }{
		{"web-1", "", "web-1"},
		{"web-1", "custom", "custom"},
		{long, "", strings.Repeat("a", 62)},
	}
	for _, tt := range tests {
		pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: tt.name}, Spec: &corev1.PodSpec{Hostname: tt.hostname}}
		if got := hostname(pod); got != tt.want {
			t.Errorf("hostname(%q, %q) = %q, want %q", tt.name, tt.hostname, got, tt.want)
		}
	}
}
