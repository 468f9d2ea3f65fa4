package podworker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-dev/berth/agent/runtime"
	"github.com/berth-dev/berth/agent/runtime/docker"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// The tests in this file run Pods on the real Docker Engine, with the images `make images`
// builds. They skip when no engine answers, except under CI=1, where they fail.

const (
	testappImage = "berth-testapp:latest"
	shellImage   = "berth-shell:latest"
)

// dockerRuntime returns a Docker runtime for a node of this test alone, and removes
// everything the test made on it when the test ends.
func dockerRuntime(t *testing.T) (*docker.Runtime, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("Docker tests skipped in -short mode")
	}
	node := fmt.Sprintf("a2-podworker-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	rt, err := docker.New(docker.Options{NodeName: node, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := rt.Info(ctx); err != nil {
		if os.Getenv("CI") == "1" {
			t.Fatalf("CI=1 and no Docker Engine answers: %v", err)
		}
		t.Skipf("no Docker Engine answers: %v", err)
	}
	for _, img := range []string{testappImage, shellImage, docker.DefaultPauseImage} {
		if _, err := rt.EnsureImage(ctx, img, "Never"); err != nil {
			if os.Getenv("CI") == "1" {
				t.Fatalf("image %s is missing (make images): %v", img, err)
			}
			t.Skipf("image %s is missing (make images): %v", img, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cs, _ := rt.ListContainers(ctx)
		for _, c := range cs {
			_ = rt.StopContainer(ctx, c.ID, 0)
			_ = rt.RemoveContainer(ctx, c.ID)
		}
		sbs, _ := rt.ListSandboxes(ctx)
		for _, s := range sbs {
			_ = rt.StopSandbox(ctx, s.ID, 0)
			_ = rt.RemoveSandbox(ctx, s.ID)
		}
		_ = rt.Close()
	})
	return rt, node
}

// eventually polls cond every 100ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func running(e *env, pod *corev1.Pod) func() bool {
	return func() bool {
		st := e.sink.last(pod.Metadata.Uid)
		return st != nil && st.Phase == "Running" && condition(st, "Ready") == "True"
	}
}

func TestDockerContainersShareLocalhostHostnameAndEmptyDir(t *testing.T) {
	rt, node := dockerRuntime(t)
	e := start(t, rt, node)
	web := &corev1.Container{Name: "web", Image: testappImage, ImagePullPolicy: "IfNotPresent",
		Env: []*corev1.EnvVar{{Name: "PORT", Value: "8080"}}}
	client := &corev1.Container{Name: "client", Image: shellImage, ImagePullPolicy: "IfNotPresent",
		Command: []string{"sh", "-c", `hostname > /shared/client-hostname
until wget -qO /shared/web.json http://localhost:8080/; do sleep 0.2; done
exec sleep 3600`},
		VolumeMounts: []*corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}}}
	pod := newPod("share", "Always", web, client)
	pod.Spec.Volumes = []*corev1.Volume{{Name: "shared", EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	pod.Spec.TerminationGracePeriodSeconds = proto.Int64(1)
	e.m.Update(pod)
	eventually(t, 30*time.Second, "pod running", running(e, pod))

	dir := filepath.Join(e.root, "pods", pod.Metadata.Uid, "volumes", "empty-dir", "shared")
	var answer struct {
		Hostname string `json:"hostname"`
		PodIP    string `json:"podIP"`
	}
	eventually(t, 20*time.Second, "client reaches web on localhost", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "web.json"))
		return err == nil && json.Unmarshal(b, &answer) == nil && answer.Hostname != ""
	})
	clientHost, err := os.ReadFile(filepath.Join(dir, "client-hostname"))
	if err != nil {
		t.Fatal(err)
	}
	st := e.sink.last(pod.Metadata.Uid)
	if strings.TrimSpace(string(clientHost)) != "share" || answer.Hostname != "share" {
		t.Errorf("hostnames: client %q, web %q, want both the Pod's name", clientHost, answer.Hostname)
	}
	if answer.PodIP != st.PodIp {
		t.Errorf("web sees IP %s, the status says %s", answer.PodIP, st.PodIp)
	}
	for _, cs := range st.ContainerStatuses {
		if !strings.HasPrefix(cs.ContainerId, "docker://") || cs.ImageId == "" || !cs.Ready {
			t.Errorf("container status %v", cs)
		}
	}
}

func TestDockerLivenessFailureRestarts(t *testing.T) {
	rt, node := dockerRuntime(t)
	e := start(t, rt, node)
	web := &corev1.Container{Name: "web", Image: testappImage, ImagePullPolicy: "IfNotPresent",
		Env:   []*corev1.EnvVar{{Name: "PORT", Value: "8080"}},
		Ports: []*corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}},
		LivenessProbe: &corev1.Probe{
			HttpGet:       &corev1.HTTPGetAction{Path: "/healthz", Port: structpb.NewStringValue("http"), Scheme: "HTTP"},
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 2,
		},
		ReadinessProbe: &corev1.Probe{
			HttpGet:       &corev1.HTTPGetAction{Path: "/healthz", Port: structpb.NewNumberValue(8080), Scheme: "HTTP"},
			PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
		},
	}
	pod := newPod("live", "Always", web)
	pod.Spec.TerminationGracePeriodSeconds = proto.Int64(2)
	e.m.Update(pod)
	eventually(t, 30*time.Second, "pod ready", running(e, pod))
	ip := e.sink.last(pod.Metadata.Uid).PodIp

	resp, err := http.Post("http://"+ip+":8080/fail", "text/plain", nil)
	if err != nil {
		t.Fatalf("POST /fail: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	eventually(t, 30*time.Second, "restarted after the liveness probe failed", func() bool {
		st := e.sink.last(pod.Metadata.Uid)
		cs := st.GetContainerStatuses()
		return len(cs) == 1 && cs[0].RestartCount == 1 && cs[0].State.GetRunning() != nil && cs[0].Ready
	})
	st := e.sink.last(pod.Metadata.Uid)
	if last := st.ContainerStatuses[0].LastState.GetTerminated(); last == nil || last.FinishedAt == nil {
		t.Errorf("lastState %v, want the killed container", st.ContainerStatuses[0].LastState)
	}
	if len(e.events.find("Liveness probe failed: HTTP probe failed with statuscode: 500")) == 0 || len(e.events.find("failed liveness probe, will be restarted")) != 1 {
		t.Errorf("events %v", e.events.events)
	}
}

func TestDockerDeleteSendsSIGTERM(t *testing.T) {
	rt, node := dockerRuntime(t)
	e := start(t, rt, node)
	out := t.TempDir()
	c := &corev1.Container{Name: "app", Image: shellImage, ImagePullPolicy: "IfNotPresent",
		Command:      []string{"sh", "-c", `trap 'echo received SIGTERM > /out/term; exit 0' TERM; while true; do sleep 0.2; done`},
		VolumeMounts: []*corev1.VolumeMount{{Name: "out", MountPath: "/out"}}}
	pod := newPod("term", "Always", c)
	pod.Spec.Volumes = []*corev1.Volume{{Name: "out", HostPath: &corev1.HostPathVolumeSource{Path: out, Type: proto.String("Directory")}}}
	e.m.Update(pod)
	eventually(t, 30*time.Second, "pod running", running(e, pod))

	began := time.Now()
	e.m.Update(deleting(pod, 20))
	eventually(t, 30*time.Second, "teardown finished", func() bool { return len(e.sink.finishedUIDs()) == 1 })
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("teardown took %v: the container did not stop on SIGTERM", took)
	}
	b, err := os.ReadFile(filepath.Join(out, "term"))
	if err != nil || strings.TrimSpace(string(b)) != "received SIGTERM" {
		t.Errorf("the app did not see SIGTERM: %q %v", b, err)
	}
	final := e.sink.last(pod.Metadata.Uid)
	if final.Phase != "Succeeded" || final.ContainerStatuses[0].State.GetTerminated().GetExitCode() != 0 {
		t.Errorf("final status %v", final)
	}
	ctx := context.Background()
	cs, _ := rt.ListContainers(ctx)
	sbs, _ := rt.ListSandboxes(ctx)
	if len(cs) != 0 || len(sbs) != 0 {
		t.Errorf("left in Docker: %d containers, %d sandboxes", len(cs), len(sbs))
	}
}

func TestDockerMissingImage(t *testing.T) {
	rt, node := dockerRuntime(t)
	e := start(t, rt, node)
	pod := newPod("missing", "Always", &corev1.Container{Name: "c", Image: "berth-a2-no-such-image:v1", ImagePullPolicy: "IfNotPresent"})
	e.m.Update(pod)
	eventually(t, 40*time.Second, "ImagePullBackOff", func() bool {
		st := e.sink.last(pod.Metadata.Uid)
		return st != nil && st.ContainerStatuses[0].State.GetWaiting().GetReason() == "ImagePullBackOff"
	})
	seen := false
	for _, st := range e.sink.history(pod.Metadata.Uid) {
		if w := st.ContainerStatuses[0].State.GetWaiting(); w.GetReason() == "ErrImagePull" && w.GetMessage() != "" {
			seen = true
		}
	}
	if !seen {
		t.Error("no ErrImagePull with a message before ImagePullBackOff")
	}
	if st := e.sink.last(pod.Metadata.Uid); st.Phase != "Pending" {
		t.Errorf("phase %s", st.Phase)
	}
}

var _ runtime.Runtime = (*docker.Runtime)(nil)

// TestDockerBadInput: each mistake ends as a clear container state and Event, and the agent
// keeps running the Node's other Pods.
func TestDockerBadInput(t *testing.T) {
	rt, node := dockerRuntime(t)
	e := start(t, rt, node)
	healthy := newPod("healthy", "Always", &corev1.Container{Name: "c", Image: testappImage, ImagePullPolicy: "IfNotPresent"})
	healthy.Spec.TerminationGracePeriodSeconds = proto.Int64(1)
	e.m.Update(healthy)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		c          *corev1.Container
		vol        *corev1.Volume
		wantStates []string // any of these waiting reasons
		wantMsg    string
		wantEvent  string
	}{
		{
			name:       "command not found",
			c:          &corev1.Container{Name: "c", Image: shellImage, ImagePullPolicy: "IfNotPresent", Command: []string{"/no/such/command"}},
			wantStates: []string{"RunContainerError", "CrashLoopBackOff"},
			wantMsg:    "/no/such/command", wantEvent: "Warning Failed: Error:",
		},
		{
			name:       "hostPath that cannot be mounted",
			c:          &corev1.Container{Name: "c", Image: shellImage, ImagePullPolicy: "IfNotPresent", Command: []string{"sleep", "3600"}, VolumeMounts: []*corev1.VolumeMount{{Name: "h", MountPath: "/h"}}},
			vol:        &corev1.Volume{Name: "h", HostPath: &corev1.HostPathVolumeSource{Path: file, Type: proto.String("Directory")}},
			wantStates: []string{"ContainerCreating"},
			wantMsg:    "is not a directory", wantEvent: "Warning FailedMount: MountVolume.SetUp failed for volume \"h\"",
		},
		{
			name: "memory limit too small to start",
			c: &corev1.Container{Name: "c", Image: shellImage, ImagePullPolicy: "IfNotPresent", Command: []string{"sleep", "3600"},
				Resources: &corev1.ResourceRequirements{Limits: map[string]string{"memory": "1Mi"}}},
			wantStates: []string{"CreateContainerError", "RunContainerError", "CrashLoopBackOff"},
			wantMsg:    "memory", wantEvent: "Warning Failed: Error:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := newPod("bad", "Always", tt.c)
			pod.Spec.TerminationGracePeriodSeconds = proto.Int64(1)
			if tt.vol != nil {
				pod.Spec.Volumes = []*corev1.Volume{tt.vol}
			}
			e.m.Update(pod)
			var last *corev1.PodStatus
			eventually(t, 30*time.Second, "a clear waiting state", func() bool {
				last = e.sink.last(pod.Metadata.Uid)
				if last == nil {
					return false
				}
				w := last.ContainerStatuses[0].State.GetWaiting()
				ok := false
				for _, r := range tt.wantStates {
					ok = ok || w.GetReason() == r
				}
				msg := w.GetMessage() + last.ContainerStatuses[0].LastState.GetTerminated().GetMessage()
				return ok && strings.Contains(msg, tt.wantMsg) && msg != ""
			})
			t.Logf("status: %v", last.ContainerStatuses[0])
			if len(e.events.find(tt.wantEvent)) == 0 {
				t.Errorf("no event %q", tt.wantEvent)
			}
			e.m.Update(deleting(pod, 1))
			eventually(t, 30*time.Second, "deleted", func() bool {
				for _, uid := range e.sink.finishedUIDs() {
					if uid == pod.Metadata.Uid {
						return true
					}
				}
				return false
			})
		})
	}
	if s, _ := containerState(e.sink.last(healthy.Metadata.Uid), "c"); s != "running" {
		t.Errorf("the healthy pod is %s", s)
	}
}
