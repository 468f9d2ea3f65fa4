package ctl

import (
	"strings"
	"testing"
)

func TestPodName(t *testing.T) {
	tests := []struct{ arg, want, wantErr string }{
		{"web", "web", ""},
		{"pod/web", "web", ""},
		{"pods/web", "web", ""},
		{"po/web", "web", ""},
		{"", "", "a pod name is required"},
		{"pod/", "", "pod/ names no pod"},
		{"pod/a/b", "", "pod/a/b names no pod"},
		{"deployment/web", "", "deployment/web is not a pod"},
		{"nosuchkind/web", "", "nosuchkind/web is not a pod"},
	}
	for _, tt := range tests {
		got, err := podName(tt.arg)
		if tt.wantErr != "" {
			if err == nil || !isUsageError(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("podName(%q) = %q, %v; want usage error %q", tt.arg, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("podName(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
		}
	}
}

// FuzzPodName checks that a pod argument either fails as a usage error or names one pod.
func FuzzPodName(f *testing.F) {
	for _, s := range []string{"web", "pod/web", "po/x", "", "/", "pod/", "a/b/c", "Pods/x", "deploy/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		name, err := podName(arg)
		if err != nil {
			if !isUsageError(err) {
				t.Fatalf("podName(%q): %v is not a usage error", arg, err)
			}
			return
		}
		if name == "" || strings.Contains(name, "/") {
			t.Fatalf("podName(%q) = %q", arg, name)
		}
	})
}
