package main

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestAgentOptionsCheck(t *testing.T) {
	ok := agentOptions{nodeName: "n1", runtime: "docker", nodeCPU: "4", nodeMemory: "16Gi", nodePods: 110}
	tests := []struct {
		name    string
		change  func(o *agentOptions)
		wantErr string
	}{
		{"defaults", func(*agentOptions) {}, ""},
		{"fake", func(o *agentOptions) { o.runtime = "fake" }, ""},
		{"hollow", func(o *agentOptions) { o.runtime, o.hollow = "fake", 1000 }, ""},
		{"hollow on docker", func(o *agentOptions) { o.hollow = 2 }, "--hollow-nodes needs --runtime fake"},
		{"unknown runtime", func(o *agentOptions) { o.runtime = "podman" }, `--runtime: "podman" is not docker or fake`},
		{"bad cpu", func(o *agentOptions) { o.nodeCPU = "four" }, `--node-cpu: "four" is not a quantity`},
		{"bad memory", func(o *agentOptions) { o.nodeMemory = "16GB" }, `--node-memory: "16GB" is not a quantity`},
		{"no name", func(o *agentOptions) { o.nodeName = "" }, "--node-name is required"},
		{"labels", func(o *agentOptions) { o.nodeLabels = "zone=a,example.com/tier=" }, ""},
		{"label without =", func(o *agentOptions) { o.nodeLabels = "zone" }, `--node-labels: "zone" is not key=value`},
		{"bad label key", func(o *agentOptions) { o.nodeLabels = "-x=1" }, `--node-labels: key "-x"`},
		{"bad label value", func(o *agentOptions) { o.nodeLabels = "x=a b" }, `--node-labels: value "a b" of x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.change(&o)
			err := o.check()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("check: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzNodeLabels checks that --node-labels either fails or yields labels Kubernetes accepts.
func FuzzNodeLabels(f *testing.F) {
	for _, s := range []string{"", "a=b", "zone=a,example.com/tier=", "a", "=", "a=b=c", "a/b/c=d", ",,", "x=" + strings.Repeat("v", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o := agentOptions{nodeLabels: s}
		labels, err := o.labels()
		if err != nil {
			return
		}
		for k, v := range labels {
			if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
				t.Fatalf("accepted %q=%q from %q", k, v, s)
			}
		}
	})
}
