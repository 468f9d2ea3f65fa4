package printers

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var now = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func ago(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(-d)) }

func running(ready bool, restarts int32) *corev1.ContainerStatus {
	return &corev1.ContainerStatus{Name: "c", Ready: ready, RestartCount: restarts,
		State: &corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(time.Minute)}}}
}

func waiting(reason string) *corev1.ContainerStatus {
	return &corev1.ContainerStatus{Name: "c", State: &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(reason string, code, signal int32) *corev1.ContainerStatus {
	return &corev1.ContainerStatus{Name: "c", State: &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}}}
}

func pod(containers, inits int, st *corev1.PodStatus) *corev1.Pod {
	p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p"}, Spec: &corev1.PodSpec{}, Status: st}
	for range containers {
		p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: "c"})
	}
	for range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, &corev1.Container{Name: "i"})
	}
	return p
}

func TestPodStatus(t *testing.T) {
	readyCond := []*corev1.PodCondition{{Type: "Ready", Status: "True"}}
	crashed := running(false, 3)
	crashed.State = &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	crashed.LastState = &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(5 * time.Minute)}}
	deleting := pod(1, 0, &corev1.PodStatus{Phase: "Running", ContainerStatuses: []*corev1.ContainerStatus{running(true, 0)}})
	deleting.Metadata.DeletionTimestamp = ago(0)
	deletedDone := pod(1, 0, &corev1.PodStatus{Phase: "Succeeded", ContainerStatuses: []*corev1.ContainerStatus{terminated("Completed", 0, 0)}})
	deletedDone.Metadata.DeletionTimestamp = ago(0)
	lost := pod(1, 0, &corev1.PodStatus{Phase: "Running", Reason: "NodeLost"})
	lost.Metadata.DeletionTimestamp = ago(0)

	tests := []struct {
		name string
		pod  *corev1.Pod
		want PodSummary
	}{
		{"pending, no status", pod(1, 0, &corev1.PodStatus{Phase: "Pending"}), PodSummary{"0/1", "Pending", "0"}},
		{"no status at all", pod(2, 0, nil), PodSummary{"0/2", "", "0"}},
		{"container creating", pod(1, 0, &corev1.PodStatus{Phase: "Pending", ContainerStatuses: []*corev1.ContainerStatus{waiting("ContainerCreating")}}), PodSummary{"0/1", "ContainerCreating", "0"}},
		{"running and ready", pod(2, 0, &corev1.PodStatus{Phase: "Running", ContainerStatuses: []*corev1.ContainerStatus{running(true, 0), running(true, 0)}}), PodSummary{"2/2", "Running", "0"}},
		{"running, one not ready", pod(2, 0, &corev1.PodStatus{Phase: "Running", ContainerStatuses: []*corev1.ContainerStatus{running(true, 0), running(false, 0)}}), PodSummary{"1/2", "Running", "0"}},
		{"crash loop with last restart", pod(1, 0, &corev1.PodStatus{Phase: "Running", ContainerStatuses: []*corev1.ContainerStatus{crashed}}), PodSummary{"0/1", "CrashLoopBackOff", "3 (5m ago)"}},
		{"restarts without time", pod(1, 0, &corev1.PodStatus{Phase: "Running", ContainerStatuses: []*corev1.ContainerStatus{running(true, 2)}}), PodSummary{"1/1", "Running", "2"}},
		{"completed", pod(1, 0, &corev1.PodStatus{Phase: "Succeeded", ContainerStatuses: []*corev1.ContainerStatus{terminated("Completed", 0, 0)}}), PodSummary{"0/1", "Completed", "0"}},
		{"error", pod(1, 0, &corev1.PodStatus{Phase: "Failed", ContainerStatuses: []*corev1.ContainerStatus{terminated("Error", 1, 0)}}), PodSummary{"0/1", "Error", "0"}},
		{"exit code without reason", pod(1, 0, &corev1.PodStatus{Phase: "Failed", ContainerStatuses: []*corev1.ContainerStatus{terminated("", 2, 0)}}), PodSummary{"0/1", "ExitCode:2", "0"}},
		{"signal without reason", pod(1, 0, &corev1.PodStatus{Phase: "Failed", ContainerStatuses: []*corev1.ContainerStatus{terminated("", 137, 9)}}), PodSummary{"0/1", "Signal:9", "0"}},
		{"completed sidecar, other running and Ready", pod(2, 0, &corev1.PodStatus{Phase: "Running", Conditions: readyCond, ContainerStatuses: []*corev1.ContainerStatus{running(true, 0), terminated("Completed", 0, 0)}}), PodSummary{"1/2", "Running", "0"}},
		{"completed sidecar, other running, not Ready", pod(2, 0, &corev1.PodStatus{Phase: "Running", ContainerStatuses: []*corev1.ContainerStatus{running(true, 0), terminated("Completed", 0, 0)}}), PodSummary{"1/2", "NotReady", "0"}},
		{"pod reason wins over phase", pod(1, 0, &corev1.PodStatus{Phase: "Failed", Reason: "Evicted"}), PodSummary{"0/1", "Evicted", "0"}},
		{"scheduling gated", pod(1, 0, &corev1.PodStatus{Phase: "Pending", Conditions: []*corev1.PodCondition{{Type: "PodScheduled", Status: "False", Reason: "SchedulingGated"}}}), PodSummary{"0/1", "SchedulingGated", "0"}},
		{"init 0/2", pod(1, 2, &corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []*corev1.ContainerStatus{running(false, 0), waiting("PodInitializing")}}), PodSummary{"0/1", "Init:0/2", "0"}},
		{"init 1/2", pod(1, 2, &corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []*corev1.ContainerStatus{terminated("Completed", 0, 0), running(false, 0)}}), PodSummary{"0/1", "Init:1/2", "0"}},
		{"init waiting reason", pod(1, 1, &corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []*corev1.ContainerStatus{waiting("ErrImagePull")}}), PodSummary{"0/1", "Init:ErrImagePull", "0"}},
		{"init failed", pod(1, 1, &corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []*corev1.ContainerStatus{terminated("Error", 1, 0)}}), PodSummary{"0/1", "Init:Error", "0"}},
		{"init exit code", pod(1, 1, &corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []*corev1.ContainerStatus{terminated("", 3, 0)}}), PodSummary{"0/1", "Init:ExitCode:3", "0"}},
		{"init signal", pod(1, 1, &corev1.PodStatus{Phase: "Pending", InitContainerStatuses: []*corev1.ContainerStatus{terminated("", 143, 15)}}), PodSummary{"0/1", "Init:Signal:15", "0"}},
		{"init done", pod(1, 1, &corev1.PodStatus{Phase: "Running", InitContainerStatuses: []*corev1.ContainerStatus{terminated("Completed", 0, 0)}, ContainerStatuses: []*corev1.ContainerStatus{running(true, 1)}}), PodSummary{"1/1", "Running", "1"}},
		{"terminating", deleting, PodSummary{"1/1", "Terminating", "0"}},
		{"deleted after success stays Completed", deletedDone, PodSummary{"0/1", "Completed", "0"}},
		{"node lost", lost, PodSummary{"0/1", "Unknown", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodStatus(tt.pod, now); got != tt.want {
				t.Errorf("PodStatus = %+v, want %+v", got, tt.want)
			}
		})
	}
}
