package controllertest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Running is the status a test, playing the node agent, reports for a running Pod.
type Running struct {
	// Ready is the status of the Ready condition (and of ContainersReady with
	// ContainersReady).
	Ready bool
	// Since is the conditions' lastTransitionTime; now when zero.
	Since time.Time
	// IP, when set, is the Pod's IP (status.podIP and status.podIPs).
	IP string
	// ContainersReady also reports the ContainersReady condition.
	ContainersReady bool
}

// SetRunning writes the status of the Pod namespace/name through UpdateStatus as a node agent
// would: phase Running with the conditions and IP of st, replacing the conditions it had. It
// reads the Pod again on a Conflict. It reports false, writing nothing, when the Pod is gone;
// any other error fails the test.
func SetRunning(ctx context.Context, t testing.TB, c *client.Client, namespace, name string, st Running) bool {
	t.Helper()
	since := st.Since
	if since.IsZero() {
		since = time.Now()
	}
	status := "False"
	if st.Ready {
		status = "True"
	}
	pods := c.Resource(scheme.Pods)
	for {
		obj, err := pods.Get(ctx, namespace, name)
		if kerrors.IsNotFound(err) {
			return false
		}
		if err != nil {
			t.Fatalf("get pod %s/%s: %v", namespace, name, err)
		}
		p := proto.Clone(obj).(*corev1.Pod)
		if p.Status == nil {
			p.Status = &corev1.PodStatus{}
		}
		p.Status.Phase = "Running"
		if st.IP != "" {
			p.Status.PodIp = st.IP
			p.Status.PodIps = []*corev1.PodIP{{Ip: st.IP}}
		}
		ts := timestamppb.New(since)
		p.Status.Conditions = []*corev1.PodCondition{{Type: "Ready", Status: status, LastTransitionTime: ts}}
		if st.ContainersReady {
			p.Status.Conditions = append(p.Status.Conditions, &corev1.PodCondition{Type: "ContainersReady", Status: status, LastTransitionTime: ts})
		}
		_, err = pods.UpdateStatus(ctx, p)
		switch {
		case err == nil:
			return true
		case kerrors.IsConflict(err):
			continue
		case kerrors.IsNotFound(err):
			return false
		default:
			t.Fatalf("update status of pod %s/%s: %v", namespace, name, err)
		}
	}
}

// IsReady reports whether the Pod's Ready condition is True.
func IsReady(p *corev1.Pod) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}
