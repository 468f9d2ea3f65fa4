package apiserver

import (
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func TestPodContainer(t *testing.T) {
	pod := func(names []string, inits ...string) *corev1.Pod {
		p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "web"}, Spec: &corev1.PodSpec{}}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: n})
		}
		for _, n := range inits {
			p.Spec.InitContainers = append(p.Spec.InitContainers, &corev1.Container{Name: n})
		}
		return p
	}
	tests := []struct {
		name      string
		pod       *corev1.Pod
		container string
		want      string
		wantErr   string
	}{
		{"the only container", pod([]string{"app"}), "", "app", ""},
		{"named", pod([]string{"app", "side"}), "side", "side", ""},
		{"an init container", pod([]string{"app"}, "setup"), "setup", "setup", ""},
		{"ambiguous", pod([]string{"app", "side"}), "", "", "a container name must be specified for pod web, choose one of: [app side]"},
		{"ambiguous with inits", pod([]string{"app", "side"}, "setup"), "", "", "a container name must be specified for pod web, choose one of: [app side] or one of the init containers: [setup]"},
		{"unknown", pod([]string{"app"}), "db", "", "container db is not valid for pod web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podContainer(tt.pod, tt.container)
			if tt.wantErr != "" {
				if !kerrors.IsBadRequest(err) || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want BadRequest %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("podContainer = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAgentAddress(t *testing.T) {
	node := func(port int32, addrs ...string) *corev1.Node {
		n := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}, Status: &corev1.NodeStatus{
			DaemonEndpoints: &corev1.NodeDaemonEndpoints{KubeletEndpoint: &corev1.DaemonEndpoint{Port: port}},
		}}
		for i := 0; i+1 < len(addrs); i += 2 {
			n.Status.Addresses = append(n.Status.Addresses, &corev1.NodeAddress{Type: addrs[i], Address: addrs[i+1]})
		}
		return n
	}
	tests := []struct {
		name    string
		node    *corev1.Node
		want    string
		wantErr string
	}{
		{"internal IP first", node(10250, "Hostname", "h1", "ExternalIP", "1.2.3.4", "InternalIP", "10.0.0.1"), "10.0.0.1:10250", ""},
		{"external IP next", node(10250, "Hostname", "h1", "ExternalIP", "1.2.3.4"), "1.2.3.4:10250", ""},
		{"hostname last", node(1234, "Hostname", "h1"), "h1:1234", ""},
		{"IPv6", node(10250, "InternalIP", "fd00::1"), "[fd00::1]:10250", ""},
		{"no port", node(0, "InternalIP", "10.0.0.1"), "", "node n1 advertises no agent port (status.daemonEndpoints.kubeletEndpoint.Port)"},
		{"no address", node(10250), "", "node n1 has no address (status.addresses)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agentAddress(tt.node)
			if tt.wantErr != "" {
				if !kerrors.IsServiceUnavailable(err) || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want ServiceUnavailable %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("agentAddress = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
