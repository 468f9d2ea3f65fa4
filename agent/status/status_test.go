package status

import (
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/agent/runtime"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var (
	t0  = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	t1  = t0.Add(time.Minute)
	now = t0.Add(time.Hour)
)

func pod(policy string, inits []string, apps ...string) *corev1.Pod {
	spec := &corev1.PodSpec{RestartPolicy: policy}
	for _, n := range inits {
		spec.InitContainers = append(spec.InitContainers, &corev1.Container{Name: n, Image: "img-" + n})
	}
	for _, n := range apps {
		spec.Containers = append(spec.Containers, &corev1.Container{Name: n, Image: "img-" + n})
	}
	return &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns", Uid: "u"}, Spec: spec}
}

func running(name string, attempt int) runtime.ContainerStatus {
	return runtime.ContainerStatus{ID: name + "-" + strconv.Itoa(attempt), Name: name, Attempt: attempt, State: runtime.ContainerRunning, StartedAt: t0, ImageID: "sha256:abc"}
}

func exited(name string, attempt, code int) runtime.ContainerStatus {
	return runtime.ContainerStatus{ID: name + "-" + strconv.Itoa(attempt), Name: name, Attempt: attempt, State: runtime.ContainerExited, ExitCode: code, StartedAt: t0, FinishedAt: t1, ImageID: "sha256:abc"}
}

// state summarizes a container status as "waiting:Reason", "running" or "terminated:Reason:code".
func state(cs *corev1.ContainerState) string {
	switch {
	case cs.GetWaiting() != nil:
		return "waiting:" + cs.GetWaiting().GetReason()
	case cs.GetRunning() != nil:
		return "running"
	case cs.GetTerminated() != nil:
		return "terminated:" + cs.GetTerminated().GetReason() + ":" + strconv.Itoa(int(cs.GetTerminated().GetExitCode()))
	}
	return ""
}

func TestPhaseAndStates(t *testing.T) {
	sandbox := &runtime.Sandbox{ID: "sb", State: runtime.SandboxReady, IP: "10.0.0.7"}
	tests := []struct {
		name       string
		pod        *corev1.Pod
		containers []runtime.ContainerStatus
		waiting    map[string]Waiting
		probed     map[string]Probed
		terminal   bool
		reason     string
		oldPhase   string

		wantPhase  string
		wantInit   []string // init container states
		wantApps   []string // app container states
		wantReady  string   // Ready condition status
		wantInitOK string   // Initialized condition status
	}{
		{
			name: "nothing created yet", pod: pod("Always", nil, "a"),
			wantPhase: PodPending, wantApps: []string{"waiting:ContainerCreating"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "init containers make everyone PodInitializing", pod: pod("Always", []string{"i1", "i2"}, "a"),
			wantPhase: PodPending, wantInit: []string{"waiting:PodInitializing", "waiting:PodInitializing"},
			wantApps: []string{"waiting:PodInitializing"}, wantReady: "False", wantInitOK: "False",
		},
		{
			name: "second init container runs", pod: pod("Always", []string{"i1", "i2"}, "a"),
			containers: []runtime.ContainerStatus{exited("i1", 0, 0), running("i2", 0)},
			wantPhase:  PodPending, wantInit: []string{"terminated:Completed:0", "running"},
			wantApps: []string{"waiting:PodInitializing"}, wantReady: "False", wantInitOK: "False",
		},
		{
			name: "initialized and running", pod: pod("Always", []string{"i1"}, "a", "b"),
			containers: []runtime.ContainerStatus{exited("i1", 0, 0), running("a", 0), running("b", 0)},
			wantPhase:  PodRunning, wantInit: []string{"terminated:Completed:0"},
			wantApps: []string{"running", "running"}, wantReady: "True", wantInitOK: "True",
		},
		{
			name: "readiness probe not passed", pod: pod("Always", nil, "a", "b"),
			containers: []runtime.ContainerStatus{running("a", 0), running("b", 0)},
			probed:     map[string]Probed{"b": {Ready: false, Started: true}},
			wantPhase:  PodRunning, wantApps: []string{"running", "running"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "readiness probe not reported yet", pod: withReadinessProbe(pod("Always", nil, "a"), "a"),
			containers: []runtime.ContainerStatus{running("a", 0)},
			wantPhase:  PodRunning, wantApps: []string{"running"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "init container fails, restartPolicy Never", pod: pod("Never", []string{"i1"}, "a"),
			containers: []runtime.ContainerStatus{exited("i1", 0, 1)},
			wantPhase:  PodFailed, wantInit: []string{"terminated:Error:1"}, wantApps: []string{"waiting:PodInitializing"},
			wantReady: "False", wantInitOK: "False",
		},
		{
			name: "init container crash-looping, restartPolicy Always", pod: pod("Always", []string{"i1"}, "a"),
			containers: []runtime.ContainerStatus{exited("i1", 2, 1)},
			waiting:    map[string]Waiting{"i1": {Reason: CrashLoopBackOff, Message: "back-off"}},
			wantPhase:  PodPending, wantInit: []string{"waiting:CrashLoopBackOff"}, wantApps: []string{"waiting:PodInitializing"},
			wantReady: "False", wantInitOK: "False",
		},
		{
			name: "all succeeded under Never", pod: pod("Never", nil, "a", "b"),
			containers: []runtime.ContainerStatus{exited("a", 0, 0), exited("b", 0, 0)},
			wantPhase:  PodSucceeded, wantApps: []string{"terminated:Completed:0", "terminated:Completed:0"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "one failed under Never", pod: pod("Never", nil, "a", "b"),
			containers: []runtime.ContainerStatus{exited("a", 0, 0), exited("b", 0, 2)},
			wantPhase:  PodFailed, wantApps: []string{"terminated:Completed:0", "terminated:Error:2"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "one still runs under Never", pod: pod("Never", nil, "a", "b"),
			containers: []runtime.ContainerStatus{running("a", 0), exited("b", 0, 2)},
			wantPhase:  PodRunning, wantApps: []string{"running", "terminated:Error:2"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "failed under OnFailure restarts: Running", pod: pod("OnFailure", nil, "a"),
			containers: []runtime.ContainerStatus{exited("a", 0, 1)},
			wantPhase:  PodRunning, wantApps: []string{"terminated:Error:1"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "succeeded under OnFailure", pod: pod("OnFailure", nil, "a"),
			containers: []runtime.ContainerStatus{exited("a", 3, 0), exited("a", 2, 1)},
			wantPhase:  PodSucceeded, wantApps: []string{"terminated:Completed:0"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "crash loop under Always", pod: pod("Always", nil, "a"),
			containers: []runtime.ContainerStatus{exited("a", 4, 1), exited("a", 3, 1)},
			waiting:    map[string]Waiting{"a": {Reason: CrashLoopBackOff}},
			wantPhase:  PodRunning, wantApps: []string{"waiting:CrashLoopBackOff"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "image pull failing", pod: pod("Always", nil, "a"),
			waiting:   map[string]Waiting{"a": {Reason: ErrImagePull, Message: "not found"}},
			wantPhase: PodPending, wantApps: []string{"waiting:ErrImagePull"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "OOM killed", pod: pod("Never", nil, "a"),
			containers: []runtime.ContainerStatus{func() runtime.ContainerStatus {
				c := exited("a", 0, 137)
				c.Reason = OOMKilled
				return c
			}()},
			wantPhase: PodFailed, wantApps: []string{"terminated:OOMKilled:137"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "deleted: stopped by SIGTERM, exit 0", pod: pod("Always", nil, "a"), terminal: true,
			containers: []runtime.ContainerStatus{exited("a", 0, 0)},
			wantPhase:  PodSucceeded, wantApps: []string{"terminated:Completed:0"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "deleted: killed", pod: pod("Always", nil, "a", "b"), terminal: true,
			containers: []runtime.ContainerStatus{exited("a", 0, 0), exited("b", 0, 143)},
			wantPhase:  PodFailed, wantApps: []string{"terminated:Completed:0", "terminated:Error:143"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "deadline exceeded", pod: pod("Always", nil, "a"), reason: "DeadlineExceeded",
			containers: []runtime.ContainerStatus{exited("a", 0, 137)},
			wantPhase:  PodFailed, wantApps: []string{"terminated:Error:137"}, wantReady: "False", wantInitOK: "True",
		},
		{
			name: "a finished Pod stays finished", pod: pod("Always", nil, "a"), oldPhase: PodSucceeded,
			containers: []runtime.ContainerStatus{running("a", 1)},
			wantPhase:  PodSucceeded, wantApps: []string{"running"}, wantReady: "False", wantInitOK: "True",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.pod
			if tt.oldPhase != "" {
				p.Status = &corev1.PodStatus{Phase: tt.oldPhase}
			}
			st := Compute(Input{
				Pod: p, Sandbox: sandbox, Containers: tt.containers, Waiting: tt.waiting, Probed: tt.probed,
				Terminal: tt.terminal, Reason: tt.reason, HostIP: "192.168.1.2", Now: now,
			})
			if st.Phase != tt.wantPhase {
				t.Errorf("phase %s, want %s", st.Phase, tt.wantPhase)
			}
			var inits, apps []string
			for _, cs := range st.InitContainerStatuses {
				inits = append(inits, state(cs.State))
			}
			for _, cs := range st.ContainerStatuses {
				apps = append(apps, state(cs.State))
			}
			if !equal(inits, tt.wantInit) || !equal(apps, tt.wantApps) {
				t.Errorf("states init %v apps %v, want %v %v", inits, apps, tt.wantInit, tt.wantApps)
			}
			conds := map[string]string{}
			for _, c := range st.Conditions {
				conds[c.Type] = c.Status
			}
			if conds[Ready] != tt.wantReady || conds[ContainersReady] != tt.wantReady || conds[Initialized] != tt.wantInitOK || conds[PodScheduled] != "True" {
				t.Errorf("conditions %v, want Ready/ContainersReady %s Initialized %s PodScheduled True", conds, tt.wantReady, tt.wantInitOK)
			}
			if st.PodIp != "10.0.0.7" || len(st.PodIps) != 1 || st.HostIp != "192.168.1.2" || len(st.HostIps) != 1 {
				t.Errorf("IPs pod %s %v host %s %v", st.PodIp, st.PodIps, st.HostIp, st.HostIps)
			}
		})
	}
}

func TestContainerStatusDetails(t *testing.T) {
	p := pod("Always", nil, "a", "b")
	prev := exited("a", 2, 1)
	prev.Message = "boom"
	cur := running("a", 3)
	st := Compute(Input{
		Pod: p, Containers: []runtime.ContainerStatus{exited("a", 1, 1), cur, prev, exited("b", 0, 0)},
		Waiting:     map[string]Waiting{"a": {Reason: CrashLoopBackOff}, "b": {Reason: CrashLoopBackOff, Message: "back-off 10s restarting failed container=b pod=p_ns(u)"}},
		Probed:      map[string]Probed{"a": {Ready: true, Started: false}},
		RuntimeName: "docker", Now: now,
	})
	want := `name:"a" state:{running:{started_at:{seconds:1735787045}}} last_state:{terminated:{exit_code:1 reason:"Error" message:"boom" started_at:{seconds:1735787045} finished_at:{seconds:1735787105} container_id:"docker://a-2"}} restart_count:3 image:"img-a" image_id:"docker://sha256:abc" container_id:"docker://a-3" started:false`
	if got := prototext.Format(st.ContainerStatuses[0]); normalize(got) != normalize(want) {
		t.Errorf("a: %s\nwant %s", got, want)
	}
	// b exited and waits to restart: waiting CrashLoopBackOff, lastState its exit.
	b := st.ContainerStatuses[1]
	if b.State.GetWaiting().GetMessage() != "back-off 10s restarting failed container=b pod=p_ns(u)" || b.LastState.GetTerminated().GetContainerId() != "docker://b-0" || b.Ready || b.GetStarted() {
		t.Errorf("b: %v", b)
	}
}

func TestLastStateKeptWhenOldContainerIsGone(t *testing.T) {
	p := pod("Always", nil, "a")
	old := &corev1.PodStatus{ContainerStatuses: []*corev1.ContainerStatus{{
		Name: "a", RestartCount: 5, LastState: &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}},
	}}}
	st := Compute(Input{Pod: p, Old: old, Containers: []runtime.ContainerStatus{running("a", 5)}, Now: now})
	if st.ContainerStatuses[0].LastState.GetTerminated().GetExitCode() != 2 {
		t.Errorf("lastState %v, want the old one kept", st.ContainerStatuses[0].LastState)
	}
	st = Compute(Input{Pod: p, Old: old, Containers: []runtime.ContainerStatus{running("a", 6)}, Now: now})
	if st.ContainerStatuses[0].LastState.GetTerminated() != nil {
		t.Errorf("lastState %v of an older restart carried over", st.ContainerStatuses[0].LastState)
	}
}

func TestFinishedPodKeepsStatusesOfGoneContainers(t *testing.T) {
	p := pod("Never", []string{"i"}, "a")
	done := &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: Completed, ContainerId: "docker://x"}}
	p.Status = &corev1.PodStatus{
		Phase:                 PodSucceeded,
		InitContainerStatuses: []*corev1.ContainerStatus{{Name: "i", State: done, Ready: true}},
		ContainerStatuses:     []*corev1.ContainerStatus{{Name: "a", State: done, ImageId: "docker://sha256:1"}},
	}
	st := Compute(Input{Pod: p, Now: now}) // the runtime has nothing left
	if st.Phase != PodSucceeded || !proto.Equal(st.ContainerStatuses[0], p.Status.ContainerStatuses[0]) || !proto.Equal(st.InitContainerStatuses[0], p.Status.InitContainerStatuses[0]) {
		t.Errorf("status %v, want the old container statuses kept", st)
	}
}

func TestConditionTransitions(t *testing.T) {
	p := pod("Always", nil, "a")
	earlier := timestamppb.New(t0)
	p.Status = &corev1.PodStatus{
		StartTime: earlier,
		Conditions: []*corev1.PodCondition{
			{Type: PodScheduled, Status: "True", LastTransitionTime: earlier},
			{Type: Ready, Status: "False", LastTransitionTime: earlier, Reason: ContainersNotReady},
			{Type: ContainersReady, Status: "False", LastTransitionTime: earlier},
			{Type: Initialized, Status: "True", LastTransitionTime: earlier},
			{Type: "DisruptionTarget", Status: "True", LastTransitionTime: earlier},
		},
	}
	st := Compute(Input{Pod: p, Containers: []runtime.ContainerStatus{running("a", 0)}, Now: now})
	got := map[string]*corev1.PodCondition{}
	var order []string
	for _, c := range st.Conditions {
		got[c.Type] = c
		order = append(order, c.Type)
	}
	if want := []string{Initialized, Ready, ContainersReady, PodScheduled, "DisruptionTarget"}; !equal(order, want) {
		t.Errorf("condition order %v, want %v", order, want)
	}
	wantTimes := map[string]time.Time{
		PodScheduled: t0, Initialized: t0, "DisruptionTarget": t0, // unchanged: kept
		Ready: now, ContainersReady: now, // False → True: now
	}
	for typ, wantTime := range wantTimes {
		if c := got[typ]; !c.LastTransitionTime.AsTime().Equal(wantTime) {
			t.Errorf("%s lastTransitionTime %v, want %v", typ, c.LastTransitionTime.AsTime(), wantTime)
		}
	}
	if !st.StartTime.AsTime().Equal(t0) {
		t.Errorf("startTime %v, want the old one", st.StartTime.AsTime())
	}
	// Unchanged input: the same status (what makes the worker skip a write).
	p.Status = st
	if again := Compute(Input{Pod: p, Containers: []runtime.ContainerStatus{running("a", 0)}, Now: now.Add(time.Hour)}); !proto.Equal(again, st) {
		t.Errorf("recomputed status differs:\n%v\n%v", again, st)
	}
}

func TestQOSClass(t *testing.T) {
	c := func(req, lim map[string]string) *corev1.Container {
		return &corev1.Container{Resources: &corev1.ResourceRequirements{Requests: req, Limits: lim}}
	}
	tests := []struct {
		name       string
		containers []*corev1.Container
		want       string
	}{
		{"nothing", []*corev1.Container{{}}, "BestEffort"},
		{"zero quantities", []*corev1.Container{c(map[string]string{"cpu": "0"}, nil)}, "BestEffort"},
		{"requests equal limits", []*corev1.Container{c(map[string]string{"cpu": "1", "memory": "1Gi"}, map[string]string{"cpu": "1000m", "memory": "1Gi"})}, "Guaranteed"},
		{"limits only", []*corev1.Container{c(nil, map[string]string{"cpu": "1", "memory": "1Gi"})}, "Guaranteed"},
		{"memory limit only", []*corev1.Container{c(nil, map[string]string{"memory": "1Gi"})}, "Burstable"},
		{"one container without", []*corev1.Container{c(nil, map[string]string{"cpu": "1", "memory": "1Gi"}), {}}, "Burstable"},
		{"request below limit", []*corev1.Container{c(map[string]string{"cpu": "500m", "memory": "1Gi"}, map[string]string{"cpu": "1", "memory": "1Gi"})}, "Burstable"},
	}
	for _, tt := range tests {
		if got := QOSClass(&corev1.PodSpec{Containers: tt.containers}); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// normalize drops the spaces and newlines of prototext's output, which vary.
func normalize(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\n' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// withReadinessProbe gives the named container of p a readiness probe.
func withReadinessProbe(p *corev1.Pod, name string) *corev1.Pod {
	for _, c := range p.GetSpec().GetContainers() {
		if c.GetName() == name {
			c.ReadinessProbe = &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"true"}}}
		}
	}
	return p
}
