package podworker

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/status"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// The tests in this file run in a synctest bubble: time is fake, and advances when every
// goroutine waits, so minutes of back-off take no time.

func TestInitContainersRunInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		pod := newPod("web", "Always", ctr("app", "serve"))
		pod.Spec.InitContainers = []*corev1.Container{
			{Name: "first", Image: "app:1", ImagePullPolicy: "IfNotPresent", Command: []string{"sleep", "3s"}},
			{Name: "second", Image: "app:1", ImagePullPolicy: "IfNotPresent", Command: []string{"sleep", "5s"}},
		}
		uid := pod.Metadata.Uid
		e.m.Update(pod)

		time.Sleep(2 * time.Second)
		synctest.Wait()
		st := e.sink.last(uid)
		if s, _ := containerState(st, "first"); s != "running" || st.Phase != "Pending" || condition(st, "Initialized") != "False" {
			t.Fatalf("at 2s: first %s, phase %s, Initialized %s", s, st.Phase, condition(st, "Initialized"))
		}
		if s, _ := containerState(st, "app"); s != "waiting:PodInitializing" {
			t.Fatalf("at 2s: app %s, want waiting:PodInitializing", s)
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		st = e.sink.last(uid)
		first, second, app := rt.byName("first"), rt.byName("second"), rt.byName("app")
		if len(first) != 1 || len(second) != 1 || len(app) != 1 {
			t.Fatalf("containers first %d second %d app %d, want one each", len(first), len(second), len(app))
		}
		if second[0].StartedAt.Before(first[0].FinishedAt) || app[0].StartedAt.Before(second[0].FinishedAt) {
			t.Errorf("out of order: first ran %v–%v, second %v–%v, app from %v",
				first[0].StartedAt, first[0].FinishedAt, second[0].StartedAt, second[0].FinishedAt, app[0].StartedAt)
		}
		if st.Phase != "Running" || condition(st, "Initialized") != "True" || condition(st, "Ready") != "True" || st.PodIp == "" || st.HostIp != "192.168.0.10" {
			t.Errorf("status phase %s Initialized %s Ready %s podIP %q hostIP %q", st.Phase, condition(st, "Initialized"), condition(st, "Ready"), st.PodIp, st.HostIp)
		}
		for _, name := range []string{"first", "second"} {
			if s, _ := containerState(st, name); s != "terminated:Completed:0" {
				t.Errorf("%s: %s, want terminated:Completed:0", name, s)
			}
		}
		if cs := st.ContainerStatuses[0]; !strings.HasPrefix(cs.ContainerId, "fake://c") || cs.ImageId != "fake://sha256:app:1" || !cs.GetStarted() || !cs.Ready {
			t.Errorf("app status %v", cs)
		}
		if got := len(e.events.find("Started container")); got != 3 {
			t.Errorf("%d Started events, want 3", got)
		}
	})
}

func TestInitContainerFailure(t *testing.T) {
	tests := []struct {
		policy    string
		wantPhase string
		wantInit  string
		wantRuns  int // of the init container within a minute
	}{
		{"Never", "Failed", "terminated:Error:3", 1},
		{"OnFailure", "Pending", "waiting:CrashLoopBackOff", 4},
		{"Always", "Pending", "waiting:CrashLoopBackOff", 4},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := newFakeRuntime("node-a", "app:1")
				e := start(t, rt, "node-a")
				pod := newPod("job", tt.policy, ctr("app", "serve"))
				pod.Spec.InitContainers = []*corev1.Container{{Name: "init", Image: "app:1", ImagePullPolicy: "IfNotPresent", Command: []string{"exit", "3"}}}
				e.m.Update(pod)
				time.Sleep(time.Minute)
				synctest.Wait()
				st := e.sink.last(pod.Metadata.Uid)
				if s, _ := containerState(st, "init"); s != tt.wantInit || st.Phase != tt.wantPhase {
					t.Errorf("init %s phase %s, want %s %s", s, st.Phase, tt.wantInit, tt.wantPhase)
				}
				if s, _ := containerState(st, "app"); s != "waiting:PodInitializing" || len(rt.byName("app")) != 0 {
					t.Errorf("app %s with %d containers, want waiting:PodInitializing and none", s, len(rt.byName("app")))
				}
				if got := len(rt.startTimes("init")); got != tt.wantRuns {
					t.Errorf("init ran %d times, want %d", got, tt.wantRuns)
				}
			})
		})
	}
}

func TestRestartPolicies(t *testing.T) {
	tests := []struct {
		name         string
		policy, code string
		wantPhase    string
		wantState    string
		wantRestarts int32
	}{
		{"Never, success", "Never", "0", "Succeeded", "terminated:Completed:0", 0},
		{"Never, failure", "Never", "1", "Failed", "terminated:Error:1", 0},
		{"OnFailure, success", "OnFailure", "0", "Succeeded", "terminated:Completed:0", 0},
		{"OnFailure, failure", "OnFailure", "1", "Running", "waiting:CrashLoopBackOff", 3},
		{"Always, success", "Always", "0", "Running", "waiting:CrashLoopBackOff", 3},
		{"Always, failure", "Always", "2", "Running", "waiting:CrashLoopBackOff", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := newFakeRuntime("node-a", "app:1")
				e := start(t, rt, "node-a")
				pod := newPod("p", tt.policy, ctr("c", "exit", tt.code))
				e.m.Update(pod)
				time.Sleep(50 * time.Second)
				synctest.Wait()
				st := e.sink.last(pod.Metadata.Uid)
				state, restarts := containerState(st, "c")
				if st.Phase != tt.wantPhase || state != tt.wantState || restarts != tt.wantRestarts {
					t.Errorf("phase %s state %s restarts %d, want %s %s %d", st.Phase, state, restarts, tt.wantPhase, tt.wantState, tt.wantRestarts)
				}
				if tt.wantPhase == "Succeeded" || tt.wantPhase == "Failed" {
					// A finished Pod keeps its (stopped) containers and stops its sandbox.
					if n := len(rt.byName("c")); n != 1 {
						t.Errorf("%d containers left, want the finished one", n)
					}
					sbs, _ := rt.ListSandboxes(t.Context())
					if len(sbs) != 1 || sbs[0].State != runtime.SandboxNotReady {
						t.Errorf("sandboxes %+v, want one stopped", sbs)
					}
				} else if n := len(rt.byName("c")); n != keepAttempts {
					t.Errorf("%d attempts kept, want %d", n, keepAttempts)
				}
				if tt.wantState == "waiting:CrashLoopBackOff" {
					c := st.ContainerStatuses[0]
					if c.LastState.GetTerminated() == nil || !strings.Contains(c.State.Waiting.Message, "back-off 40s restarting failed container=c pod=p_default(") {
						t.Errorf("container status %v", c)
					}
					if len(e.events.find("Warning BackOff: Back-off restarting failed container c in pod p_default(")) == 0 {
						t.Error("no BackOff event")
					}
				}
			})
		})
	}
}

func TestCrashLoopBackOffTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		pod := newPod("crash", "Always", ctr("c", "exit", "1"))
		e.m.Update(pod)
		time.Sleep(12 * time.Minute)
		synctest.Wait()
		starts := rt.startTimes("c")
		// Restarts: at once, then 10s, 20s, 40s, 80s, 160s, 300s, 300s, ... after each crash
		// (the fake's containers crash the moment they start).
		want := []time.Duration{0, 10, 20, 40, 80, 160, 300}
		if len(starts) < len(want)+1 {
			t.Fatalf("%d starts in 12 minutes, want at least %d", len(starts), len(want)+1)
		}
		for i, w := range want {
			gap := starts[i+1].Sub(starts[i])
			if gap < w*time.Second || gap > w*time.Second+2*time.Second {
				t.Errorf("restart %d came %v after the crash before it, want %ds (+ up to 2s of relist)", i+1, gap, w)
			}
		}
		if _, restarts := containerState(e.sink.last(pod.Metadata.Uid), "c"); int(restarts) != len(starts)-1 {
			t.Errorf("restartCount %d, want %d", restarts, len(starts)-1)
		}
	})
}

func TestCrashLoopBackOffResetsAfterTenMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		// Each attempt runs 11 minutes, then exits: the back-off never grows.
		e.m.Update(newPod("slow", "Always", ctr("c", "sleep", "11m")))
		time.Sleep(34*time.Minute + 30*time.Second)
		synctest.Wait()
		starts := rt.startTimes("c")
		if len(starts) != 4 {
			t.Fatalf("%d starts, want 4", len(starts))
		}
		for i := 1; i < len(starts); i++ {
			if gap := starts[i].Sub(starts[i-1]); gap > 11*time.Minute+2*time.Second {
				t.Errorf("restart %d after %v, want right after the 11 minutes run", i, gap)
			}
		}
	})
}

func TestImagePull(t *testing.T) {
	tests := []struct {
		name, image, policy string
		wait                time.Duration
		wantState           string
		wantMsg             string
		wantPulls           int
	}{
		{"missing: ImagePullBackOff after the first failure", "nope:1", "IfNotPresent", 5 * time.Second, "waiting:ImagePullBackOff", `Back-off pulling image "nope:1": ErrImagePull: pull nope:1: pull access denied`, 1},
		{"missing: then ImagePullBackOff", "nope:1", "IfNotPresent", 15 * time.Second, "waiting:ErrImagePull", "pull access denied", 2},
		{"missing: back-off doubles", "nope:1", "IfNotPresent", 35 * time.Second, "waiting:ErrImagePull", "pull access denied", 3},
		{"missing: in back-off", "nope:1", "IfNotPresent", 45 * time.Second, "waiting:ImagePullBackOff", `Back-off pulling image "nope:1": ErrImagePull: pull nope:1: pull access denied`, 3},
		{"present, IfNotPresent: no pull", "app:1", "IfNotPresent", 5 * time.Second, "running", "", 0},
		{"present, Always: the pull fails, the local image runs", "app:1", "Always", 5 * time.Second, "running", "", 1},
		{"missing, Never", "nope:1", "Never", 5 * time.Second, "waiting:ErrImageNeverPull", `Container image "nope:1" is not present with pull policy of Never`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := newFakeRuntime("node-a", "app:1")
				e := start(t, rt, "node-a")
				pod := newPod("img", "Always", &corev1.Container{Name: "c", Image: tt.image, ImagePullPolicy: tt.policy})
				e.m.Update(pod)
				time.Sleep(tt.wait)
				synctest.Wait()
				st := e.sink.last(pod.Metadata.Uid)
				state, _ := containerState(st, "c")
				if state != tt.wantState || !strings.Contains(st.ContainerStatuses[0].State.GetWaiting().GetMessage(), tt.wantMsg) {
					t.Errorf("state %s %q, want %s %q", state, st.ContainerStatuses[0].State.GetWaiting().GetMessage(), tt.wantState, tt.wantMsg)
				}
				if got := rt.count("EnsureImage/" + tt.policy); tt.policy != "Never" && got != tt.wantPulls {
					t.Errorf("%d pulls, want %d", got, tt.wantPulls)
				}
				if st.Phase != "Pending" && state != "running" {
					t.Errorf("phase %s", st.Phase)
				}
				if tt.image == "nope:1" && tt.policy != "Never" {
					// ErrImagePull shows first, with the reason.
					for _, h := range e.sink.history(pod.Metadata.Uid) {
						w := h.ContainerStatuses[0].State.GetWaiting()
						if w.GetReason() == status.ContainerCreating {
							continue
						}
						if w.GetReason() != status.ErrImagePull || w.GetMessage() != "pull nope:1: pull access denied, repository does not exist: image pull failed" {
							t.Errorf("first waiting state %v, want ErrImagePull with the pull's error", w)
						}
						break
					}
				}
			})
		})
	}
}

func TestLivenessFailureRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		var firstID atomic.Value
		rt.exec = func(id string, cmd []string) (int, string) {
			if firstID.CompareAndSwap(nil, id) || firstID.Load() == id {
				return 1, "unhealthy"
			}
			return 0, ""
		}
		e := start(t, rt, "node-a")
		c := ctr("app", "serve")
		c.LivenessProbe = &corev1.Probe{
			Exec: &corev1.ExecAction{Command: []string{"check"}}, InitialDelaySeconds: 5,
			PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
		}
		pod := newPod("live", "Always", c)
		e.m.Update(pod)
		time.Sleep(20 * time.Second) // two failures: not yet
		synctest.Wait()
		if _, restarts := containerState(e.sink.last(pod.Metadata.Uid), "app"); restarts != 0 {
			t.Fatalf("restarted after two failures")
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		st := e.sink.last(pod.Metadata.Uid)
		state, restarts := containerState(st, "app")
		if state != "running" || restarts != 1 {
			t.Errorf("state %s restarts %d, want running 1", state, restarts)
		}
		cs := rt.byName("app")
		if len(cs) != 2 || len(cs[0].stopped) != 1 || cs[0].stopped[0] != 30*time.Second {
			t.Errorf("first container stopped %v, want once with the 30s grace period", cs[0].stopped)
		}
		if n := len(e.events.find("Warning Unhealthy: Liveness probe failed: unhealthy")); n != 3 {
			t.Errorf("%d Unhealthy events, want 3", n)
		}
		if len(e.events.find("Normal Killing: Container app failed liveness probe, will be restarted")) != 1 {
			t.Errorf("no Killing event: %v", e.events.find("Killing"))
		}
	})
}

func TestStartupHoldsProbesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		var startupCalls, otherCalls atomic.Int32
		var startupDoneAt atomic.Int64
		rt.exec = func(id string, cmd []string) (int, string) {
			if cmd[0] == "started" {
				if startupCalls.Add(1) < 3 {
					return 1, "not yet"
				}
				startupDoneAt.Store(time.Now().UnixNano())
				return 0, ""
			}
			if startupDoneAt.Load() == 0 {
				t.Errorf("%s probe ran before the startup probe succeeded", cmd[0])
			}
			otherCalls.Add(1)
			return 0, ""
		}
		e := start(t, rt, "node-a")
		c := ctr("app", "serve")
		probe := func(cmd string) *corev1.Probe {
			return &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{cmd}}, PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 10}
		}
		c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = probe("started"), probe("live"), probe("ready")
		pod := newPod("slowstart", "Always", c)
		e.m.Update(pod)
		time.Sleep(7 * time.Second)
		synctest.Wait()
		st := e.sink.last(pod.Metadata.Uid)
		if cs := st.ContainerStatuses[0]; cs.GetStarted() || cs.Ready || condition(st, "Ready") != "False" {
			t.Fatalf("before startup: started %v ready %v Ready %s", cs.GetStarted(), cs.Ready, condition(st, "Ready"))
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		st = e.sink.last(pod.Metadata.Uid)
		if cs := st.ContainerStatuses[0]; !cs.GetStarted() || !cs.Ready || condition(st, "Ready") != "True" || condition(st, "ContainersReady") != "True" {
			t.Errorf("after startup: started %v ready %v Ready %s", cs.GetStarted(), cs.Ready, condition(st, "Ready"))
		}
		if otherCalls.Load() < 2 {
			t.Errorf("liveness and readiness probed %d times after startup, want both", otherCalls.Load())
		}
	})
}

func TestReadinessFlips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		var healthy atomic.Bool
		healthy.Store(true)
		rt.exec = func(string, []string) (int, string) {
			if healthy.Load() {
				return 0, ""
			}
			return 1, "HTTP probe failed with statuscode: 500"
		}
		e := start(t, rt, "node-a")
		c := ctr("app", "serve")
		c.ReadinessProbe = &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"ready"}}, PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
		pod := newPod("ready", "Always", c)
		e.m.Update(pod)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if st := e.sink.last(pod.Metadata.Uid); condition(st, "Ready") != "True" {
			t.Fatalf("Ready %s, want True", condition(st, "Ready"))
		}
		readySince := e.sink.last(pod.Metadata.Uid).Conditions[1].LastTransitionTime.AsTime()
		healthy.Store(false)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		st := e.sink.last(pod.Metadata.Uid)
		if condition(st, "Ready") != "False" || st.ContainerStatuses[0].Ready {
			t.Fatalf("Ready %s, want False after a failed readiness probe", condition(st, "Ready"))
		}
		if s, _ := containerState(st, "app"); s != "running" {
			t.Errorf("a readiness failure touched the container: %s", s)
		}
		if !st.Conditions[1].LastTransitionTime.AsTime().After(readySince) {
			t.Error("Ready's lastTransitionTime did not move")
		}
	})
}

func TestDeletion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		var hookAt atomic.Int64
		rt.exec = func(id string, cmd []string) (int, string) {
			if cmd[0] == "drain" {
				hookAt.Store(time.Now().UnixNano())
			}
			return 0, ""
		}
		e := start(t, rt, "node-a")
		polite := ctr("polite", "serve")
		polite.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"drain"}}}}
		stubborn := ctr("stubborn", "ignore-term")
		pod := newPod("del", "Always", polite, stubborn)
		pod.Spec.Volumes = []*corev1.Volume{{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{}}}
		polite.VolumeMounts = []*corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}
		uid := pod.Metadata.Uid
		e.m.Update(pod)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if st := e.sink.last(uid); st.Phase != "Running" {
			t.Fatalf("phase %s before delete", st.Phase)
		}
		if _, err := os.Stat(e.m.volumes.PodDir(uid)); err != nil {
			t.Fatalf("no pod directory: %v", err)
		}

		began := time.Now()
		e.m.Update(deleting(pod, 7))
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := e.sink.finishedUIDs(); len(got) != 1 || got[0] != uid {
			t.Fatalf("finished %v, want %s", got, uid)
		}
		if sbs, cs := rt.counts(); sbs != 0 || cs != 0 {
			t.Errorf("%d sandboxes and %d containers left", sbs, cs)
		}
		if _, err := os.Stat(e.m.volumes.PodDir(uid)); !os.IsNotExist(err) {
			t.Errorf("pod directory left: %v", err)
		}
		if hookAt.Load() == 0 {
			t.Error("the preStop hook did not run")
		}
		final := e.sink.last(uid)
		if final.Phase != "Failed" {
			t.Errorf("final phase %s, want Failed (stubborn was killed)", final.Phase)
		}
		if s, _ := containerState(final, "polite"); s != "terminated:Completed:0" {
			t.Errorf("polite %s", s)
		}
		if s, _ := containerState(final, "stubborn"); s != "terminated:Error:137" {
			t.Errorf("stubborn %s", s)
		}
		// Both got the stop signal at once, with the deletion's grace period.
		for _, f := range e.events.find("Killing") {
			if !strings.Contains(f, "Stopping container") {
				t.Errorf("event %s", f)
			}
		}
		finishedAt := time.Unix(0, 0)
		for _, st := range e.sink.history(uid) {
			for _, cs := range st.ContainerStatuses {
				if t := cs.State.GetTerminated(); t != nil && t.FinishedAt.AsTime().After(finishedAt) {
					finishedAt = t.FinishedAt.AsTime()
				}
			}
		}
		if d := finishedAt.Sub(began); d < 7*time.Second || d > 8*time.Second {
			t.Errorf("teardown took %v, want the 7s grace period (both stopped at once)", d)
		}
		// The deleted Pod's later versions do not bring it back.
		e.m.Update(deleting(pod, 7))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if sbs, cs := rt.counts(); sbs != 0 || cs != 0 {
			t.Errorf("an update after teardown recreated %d sandboxes, %d containers", sbs, cs)
		}
		if got := len(e.sink.finishedUIDs()); got != 2 {
			t.Errorf("Finish called %d times, want once more for an update after %v", got, finishRetry)
		}
	})
}

func TestRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		pod := newPod("gone", "Always", ctr("c", "serve"))
		e.m.Update(pod)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		statuses := len(e.sink.history(pod.Metadata.Uid))
		e.m.Remove(pod)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if sbs, cs := rt.counts(); sbs != 0 || cs != 0 {
			t.Errorf("%d sandboxes and %d containers left", sbs, cs)
		}
		if len(e.sink.finishedUIDs()) != 0 || len(e.sink.history(pod.Metadata.Uid)) != statuses {
			t.Error("a removed Pod was finished or got a status")
		}
	})
}

func TestFinishedPodStaysStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		pod := newPod("job", "Never", ctr("a", "sleep", "5s"), ctr("b", "serve"))
		pod.Spec.ActiveDeadlineSeconds = proto.Int64(30)
		e.m.Update(pod)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if st := e.sink.last(pod.Metadata.Uid); st.Phase != "Running" {
			t.Fatalf("phase %s, want Running while b runs", st.Phase)
		}
		time.Sleep(20 * time.Second) // past the deadline
		synctest.Wait()
		st := e.sink.last(pod.Metadata.Uid)
		if st.Phase != "Failed" || st.Reason != "DeadlineExceeded" {
			t.Errorf("phase %s reason %s, want Failed DeadlineExceeded", st.Phase, st.Reason)
		}
		if s, _ := containerState(st, "b"); s != "terminated:Completed:0" {
			t.Errorf("b %s, want stopped", s)
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if n := len(rt.startTimes("b")); n != 1 {
			t.Errorf("b started %d times, want once", n)
		}
		if _, cs := rt.counts(); cs != 2 {
			t.Errorf("%d containers, want both kept until deletion", cs)
		}
	})
}

func TestSandboxDeathRestartsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		pod := newPod("sb", "Always", ctr("app", "serve"))
		pod.Spec.InitContainers = []*corev1.Container{{Name: "init", Image: "app:1", ImagePullPolicy: "IfNotPresent", Command: []string{"exit", "0"}}}
		e.m.Update(pod)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		firstIP := e.sink.last(pod.Metadata.Uid).PodIp
		rt.killSandboxes()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		st := e.sink.last(pod.Metadata.Uid)
		if st.Phase != "Running" || st.PodIp == firstIP || st.PodIp == "" {
			t.Errorf("phase %s IP %s (was %s)", st.Phase, st.PodIp, firstIP)
		}
		if n := len(rt.startTimes("init")); n != 2 {
			t.Errorf("init ran %d times, want again in the new sandbox", n)
		}
		if _, restarts := containerState(st, "app"); restarts != 1 {
			t.Errorf("app restarts %d, want 1", restarts)
		}
		if len(e.events.find("SandboxChanged")) != 1 {
			t.Error("no SandboxChanged event")
		}
	})
}

func TestSpecChangeRestartsContainer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1", "app:2")
		e := start(t, rt, "node-a")
		pod := newPod("upd", "Always", ctr("app", "serve"), ctr("side", "serve"))
		e.m.Update(pod)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		pod = proto.Clone(pod).(*corev1.Pod)
		pod.Spec.Containers[0].Image = "app:2"
		e.m.Update(pod)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		st := e.sink.last(pod.Metadata.Uid)
		if state, restarts := containerState(st, "app"); state != "running" || restarts != 1 || st.ContainerStatuses[0].Image != "app:2" {
			t.Errorf("app %s restarts %d image %s", state, restarts, st.ContainerStatuses[0].Image)
		}
		if _, restarts := containerState(st, "side"); restarts != 0 {
			t.Errorf("side restarted %d times", restarts)
		}
		if len(e.events.find("Container app definition changed, will be restarted")) != 1 {
			t.Error("no Killing event for the changed container")
		}
	})
}

func TestAdopt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		kept := newPod("kept", "Always", ctr("app", "serve"))
		gone := newPod("gone", "Always", ctr("app", "serve"))
		// A first agent runs both Pods, then stops.
		first := start(t, rt, "node-a")
		first.m.Update(kept)
		first.m.Update(gone)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		first.stop()
		_, before := rt.counts()
		ids := map[string]bool{}
		for _, c := range rt.byName("app") {
			ids[c.ID] = true
		}

		second := start(t, rt, "node-a", kept)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		cs := rt.byName("app")
		if len(cs) != 1 || !ids[cs[0].ID] || cs[0].Pod.UID != kept.Metadata.Uid || cs[0].State != runtime.ContainerRunning {
			t.Fatalf("after adoption %+v (had %d containers), want kept's container running as it was", cs, before)
		}
		if sbs, _ := rt.counts(); sbs != 1 {
			t.Errorf("%d sandboxes, want kept's", sbs)
		}
		if st := second.sink.last(kept.Metadata.Uid); st.Phase != "Running" || st.ContainerStatuses[0].RestartCount != 0 {
			t.Errorf("adopted pod status %v", st)
		}
		if n := rt.count("CreateContainer"); n != 2 {
			t.Errorf("%d containers created in all, want the first agent's 2", n)
		}
	})
}

func TestHousekeepingLeavesOtherNodesAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		a := start(t, rt, "node-a")
		pod := newPod("mine", "Always", ctr("app", "serve"))
		a.m.Update(pod)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		// An agent of another Node on the same runtime adopts nothing and removes nothing of
		// node-a's.
		start(t, rt, "node-b")
		time.Sleep(time.Minute)
		synctest.Wait()
		if c := rt.byName("app"); len(c) != 1 || c[0].State != runtime.ContainerRunning {
			t.Errorf("node-a's container %+v", c)
		}
	})
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name      string
		pod       func() *corev1.Pod
		wantState string
		wantMsg   string
		wantEvent string
	}{
		{
			name: "executable not found",
			pod: func() *corev1.Pod {
				return newPod("nf", "Always", ctr("c", "notfound"))
			},
			wantState: "waiting:CrashLoopBackOff", wantMsg: "back-off", wantEvent: `Warning Failed: Error: start container`,
		},
		{
			name: "missing ConfigMap in env",
			pod: func() *corev1.Pod {
				c := ctr("c", "serve")
				c.Env = []*corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "cfg", Key: "x"}}}}
				return newPod("cm", "Always", c)
			},
			wantState: "waiting:CreateContainerConfigError", wantMsg: `configmap "cfg" not found`, wantEvent: `Warning Failed: Error: configmap "cfg" not found`,
		},
		{
			name: "hostPath that is not a directory",
			pod: func() *corev1.Pod {
				p := newPod("hp", "Always", ctr("c", "serve"))
				p.Spec.Volumes = []*corev1.Volume{{Name: "h", HostPath: &corev1.HostPathVolumeSource{Path: "/nonexistent/berth-test", Type: proto.String("Directory")}}}
				return p
			},
			wantState: "waiting:ContainerCreating", wantMsg: "hostPath type check failed: /nonexistent/berth-test is not a directory",
			wantEvent: `Warning FailedMount: MountVolume.SetUp failed for volume "h" : hostPath type check failed`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := newFakeRuntime("node-a", "app:1")
				e := start(t, rt, "node-a")
				pod := tt.pod()
				healthy := newPod("healthy", "Always", ctr("c", "serve"))
				e.m.Update(pod)
				e.m.Update(healthy)
				time.Sleep(15 * time.Second)
				synctest.Wait()
				st := e.sink.last(pod.Metadata.Uid)
				state, _ := containerState(st, "c")
				msg := st.ContainerStatuses[0].State.GetWaiting().GetMessage()
				if state != tt.wantState || !strings.Contains(msg, tt.wantMsg) || st.Phase != "Pending" && st.Phase != "Running" {
					t.Errorf("phase %s state %s %q, want %s %q", st.Phase, state, msg, tt.wantState, tt.wantMsg)
				}
				if len(e.events.find(tt.wantEvent)) == 0 {
					t.Errorf("no event %q in %v", tt.wantEvent, e.events.events)
				}
				if s, _ := containerState(e.sink.last(healthy.Metadata.Uid), "c"); s != "running" {
					t.Errorf("the other pod: %s", s)
				}
			})
		})
	}
}

func TestConfigMapCreatedLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		c := ctr("c", "serve")
		c.EnvFrom = []*corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "cfg"}}}
		pod := newPod("later", "Always", c)
		e.m.Update(pod)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if s, _ := containerState(e.sink.last(pod.Metadata.Uid), "c"); s != "waiting:CreateContainerConfigError" {
			t.Fatalf("state %s", s)
		}
		e.objects.setConfigMap(&corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "cfg"}, Data: map[string]string{"MODE": "fast"}})
		time.Sleep(time.Minute)
		synctest.Wait()
		if s, _ := containerState(e.sink.last(pod.Metadata.Uid), "c"); s != "running" {
			t.Fatalf("state %s after the ConfigMap appeared", s)
		}
		if env := rt.byName("c")[0].cfg.Env; len(env) != 1 || env[0] != "MODE=fast" {
			t.Errorf("env %v", env)
		}
	})
}

func TestRuntimeUnavailable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		rt.mu.Lock()
		rt.unavailable = true
		rt.mu.Unlock()
		pod := newPod("wait", "Always", ctr("c", "serve"))
		e.m.Update(pod)
		time.Sleep(time.Minute)
		synctest.Wait()
		rt.mu.Lock()
		rt.unavailable = false
		rt.mu.Unlock()
		time.Sleep(40 * time.Second)
		synctest.Wait()
		if s, _ := containerState(e.sink.last(pod.Metadata.Uid), "c"); s != "running" {
			t.Errorf("state %s once the runtime is back", s)
		}
		if sbs, cs := rt.counts(); sbs != 1 || cs != 1 {
			t.Errorf("%d sandboxes %d containers, want one each", sbs, cs)
		}
	})
}

// TestHTTPProbesAgainstServer probes a real HTTP server, in real time: readiness follows its
// health, and a liveness failure restarts the container.
func TestHTTPProbesAgainstServer(t *testing.T) {
	var healthy, alive atomic.Bool
	healthy.Store(true)
	alive.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := healthy.Load()
		if r.URL.Path == "/live" {
			ok = alive.Load()
		}
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	portNum, _ := strconv.Atoi(port)

	rt := newFakeRuntime("node-a", "app:1")
	e := start(t, rt, "node-a")
	c := ctr("app", "serve")
	c.Ports = []*corev1.ContainerPort{{Name: "http", ContainerPort: int32(portNum), Protocol: "TCP"}}
	c.ReadinessProbe = &corev1.Probe{
		HttpGet:       &corev1.HTTPGetAction{Host: host, Path: "/ready", Port: structpb.NewStringValue("http"), Scheme: "HTTP"},
		PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
	}
	c.LivenessProbe = &corev1.Probe{
		HttpGet:       &corev1.HTTPGetAction{Host: host, Path: "/live", Port: structpb.NewNumberValue(float64(portNum)), Scheme: "HTTP"},
		PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
	}
	pod := newPod("http", "Always", c)
	uid := pod.Metadata.Uid
	e.m.Update(pod)
	waitFor := func(what string, cond func(*corev1.PodStatus) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if st := e.sink.last(uid); st != nil && cond(st) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10s; status %v", what, e.sink.last(uid))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("ready", func(st *corev1.PodStatus) bool { return condition(st, "Ready") == "True" })
	healthy.Store(false)
	waitFor("unready", func(st *corev1.PodStatus) bool { return condition(st, "Ready") == "False" })
	healthy.Store(true)
	waitFor("ready again", func(st *corev1.PodStatus) bool { return condition(st, "Ready") == "True" })
	alive.Store(false)
	waitFor("restarted", func(st *corev1.PodStatus) bool { return st.ContainerStatuses[0].RestartCount >= 1 })
}

// TestContainerRemovedBehindTheAgentsBack: a running container removed from the runtime by
// someone else (`docker rm -f`) is started again as the next attempt, so the Pod reports a
// restart, as the kubelet does.
func TestContainerRemovedBehindTheAgentsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newFakeRuntime("node-a", "app:1")
		e := start(t, rt, "node-a")
		pod := newPod("rm", "Always", ctr("app", "serve"))
		e.m.Update(pod)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		// The agent writes the status to the apiserver; the Pod it gets back carries it.
		pod = proto.Clone(pod).(*corev1.Pod)
		pod.Status = e.sink.last(pod.Metadata.Uid)
		e.m.Update(pod)
		synctest.Wait()
		app := rt.byName("app")
		if len(app) != 1 {
			t.Fatalf("%d app containers, want 1", len(app))
		}
		rt.mu.Lock()
		delete(rt.containers, app[0].ID) // gone, without the agent knowing
		rt.mu.Unlock()
		e.m.Update(pod) // any change makes the worker look again; so does its resync
		time.Sleep(15 * time.Second)
		synctest.Wait()
		st := e.sink.last(pod.Metadata.Uid)
		if s, restarts := containerState(st, "app"); s != "running" || restarts != 1 {
			t.Errorf("app %s with %d restarts, want running with 1", s, restarts)
		}
		if cs := st.ContainerStatuses[0]; cs.ContainerId == pod.Status.ContainerStatuses[0].ContainerId {
			t.Errorf("container id %s unchanged", cs.ContainerId)
		}
	})
}
