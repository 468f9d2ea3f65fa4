package e2eutil

import (
	"os"
	"strings"
	"testing"
)

func TestKubectl(t *testing.T) {
	t.Setenv("KUBECTL", os.Args[0])
	k := NewKubectl(t, "127.0.0.1:8080")
	k.Env = append(k.Env, "E2EUTIL_FAKE=ctl")
	if k.Server != "http://127.0.0.1:8080" {
		t.Errorf("Server = %q", k.Server)
	}
	if out := k.Run(t, "get", "pods"); !strings.Contains(out, `args: ["--server" "http://127.0.0.1:8080" "get" "pods"]`) {
		t.Errorf("Run() stdout = %q, want the arguments with --server first", out)
	}
	if out := k.RunStdin(t, "kind: Pod\n", "apply", "-f", "-"); !strings.Contains(out, `stdin: "kind: Pod\n"`) {
		t.Errorf("RunStdin() stdout = %q, want the input echoed", out)
	}
	if r := k.Exec(t, "", "fail"); r.ExitCode != 4 || strings.TrimSpace(r.Stderr) != "boom" {
		t.Errorf("Exec() of a failing command = %+v, want exit 4 and stderr boom", r)
	}
	var home, kubeconfig string
	for _, e := range k.Env {
		if v, ok := strings.CutPrefix(e, "HOME="); ok {
			home = v
		}
		if v, ok := strings.CutPrefix(e, "KUBECONFIG="); ok {
			kubeconfig = v
		}
	}
	if home == "" || !strings.HasPrefix(kubeconfig, home) {
		t.Errorf("HOME %q, KUBECONFIG %q: want a fresh home holding the kubeconfig", home, kubeconfig)
	}
	if b, err := os.ReadFile(kubeconfig); err != nil || len(b) != 0 {
		t.Errorf("kubeconfig: %q, %v; want an empty file", b, err)
	}
}
