package podworker

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/agent/runtime/fake"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// The project's fake runtime (hollow Nodes) under the workers: Pods run, crash, fail and go as
// on Docker.
func TestOnFakeRuntime(t *testing.T) {
	envc := func(name string, env ...string) *corev1.Container {
		c := &corev1.Container{Name: name, Image: "berth-testapp:latest", ImagePullPolicy: "Always"}
		for i := 0; i+1 < len(env); i += 2 {
			c.Env = append(c.Env, &corev1.EnvVar{Name: env[i], Value: env[i+1]})
		}
		return c
	}
	tests := []struct {
		name      string
		policy    string
		c         *corev1.Container
		failImage bool
		wantPhase string
		wantState string
		wantMsg   string
		restarts  int32
	}{
		{name: "runs", policy: "Always", c: envc("app"), wantPhase: "Running", wantState: "running"},
		{name: "completes", policy: "OnFailure", c: envc("app", fake.EnvRunFor, "5s"), wantPhase: "Succeeded", wantState: "terminated:Completed:0"},
		{name: "crash loops", policy: "Always", c: envc("app", fake.EnvExitCode, "3", fake.EnvRunFor, "2s"), wantPhase: "Running", wantState: "waiting:CrashLoopBackOff", wantMsg: "back-off 40s restarting failed container=app", restarts: 3},
		{name: "OOMKilled", policy: "Never", c: envc("app", fake.EnvOOM, "true"), wantPhase: "Failed", wantState: "terminated:OOMKilled:137"},
		{name: "cannot start", policy: "Never", c: envc("app", fake.EnvStartError, `exec: "nope": executable file not found in $PATH`), wantPhase: "Failed", wantState: "terminated:ContainerCannotRun:128"},
		{name: "image cannot be pulled", policy: "Always", c: envc("app"), failImage: true, wantPhase: "Pending", wantState: "waiting:ImagePullBackOff", wantMsg: "pull access denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := fake.New(fake.Config{NodeName: "hollow-0"})
				if tt.failImage {
					rt.FailImage(tt.c.Image, "")
				}
				e := start(t, rt, "hollow-0")
				pod := newPod("p", tt.policy, tt.c)
				e.m.Update(pod)
				time.Sleep(time.Minute)
				synctest.Wait()
				st := e.sink.last(pod.Metadata.Uid)
				state, restarts := containerState(st, "app")
				msg := st.ContainerStatuses[0].State.GetWaiting().GetMessage()
				if st.Phase != tt.wantPhase || state != tt.wantState || restarts != tt.restarts || !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("phase %s state %s (%q) restarts %d, want %s %s (%q) %d", st.Phase, state, msg, restarts, tt.wantPhase, tt.wantState, tt.wantMsg, tt.restarts)
				}
				if tt.wantState == "running" && (st.PodIp == "" || condition(st, "Ready") != "True") {
					t.Errorf("podIP %q Ready %s", st.PodIp, condition(st, "Ready"))
				}

				e.m.Update(deleting(pod, 30))
				time.Sleep(time.Minute)
				synctest.Wait()
				if f := e.sink.finishedUIDs(); len(f) != 1 {
					t.Errorf("finished %v", f)
				}
				sbs, _ := rt.ListSandboxes(t.Context())
				cs, _ := rt.ListContainers(t.Context())
				if len(sbs) != 0 || len(cs) != 0 {
					t.Errorf("left %d sandboxes, %d containers", len(sbs), len(cs))
				}
			})
		})
	}
}
