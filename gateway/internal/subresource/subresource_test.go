package subresource

import (
	"fmt"
	"strings"
	"testing"

	"github.com/berth-dev/berth/pkg/scheme"
)

func TestOf(t *testing.T) {
	tests := []struct {
		r    *scheme.Resource
		want string
	}{
		{scheme.Pods, "binding:/v1/Binding:create,exec:/v1/PodExecOptions:create+get,log:/v1/Pod:get,status:/v1/Pod:get+patch+update"},
		{scheme.Deployments, "scale:autoscaling/v1/Scale:get+patch+update,status:apps/v1/Deployment:get+patch+update"},
		{scheme.ReplicationControllers, "scale:autoscaling/v1/Scale:get+patch+update,status:/v1/ReplicationController:get+patch+update"},
		{scheme.ConfigMaps, ""},
		{scheme.Leases, ""},
		{scheme.Nodes, "status:/v1/Node:get+patch+update"},
	}
	for _, tt := range tests {
		var parts []string
		for _, s := range Of(tt.r) {
			parts = append(parts, fmt.Sprintf("%s:%s/%s/%s:%s", s.Name, s.Group, s.Version, s.Kind, strings.Join(s.Verbs, "+")))
		}
		if got := strings.Join(parts, ","); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.r.Kind, got, tt.want)
		}
	}
}

// TestMatchesScheme checks the table against the scheme's own flags.
func TestMatchesScheme(t *testing.T) {
	for _, r := range scheme.All {
		has := map[string]bool{}
		for _, s := range Of(r) {
			has[s.Name] = true
		}
		if has["status"] != r.HasStatus || has["scale"] != r.HasScale {
			t.Errorf("%s: subresources %v, scheme says status %v scale %v", r.Kind, has, r.HasStatus, r.HasScale)
		}
	}
}
