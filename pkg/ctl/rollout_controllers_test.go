package ctl_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/controller"
)

// startControllers runs the controller manager against the cluster, and plays the kubelet:
// every Pod that appears is reported Running and Ready. Both stop with the test.
func (c *cluster) startControllers() {
	c.t.Helper()
	ctx, cancel := context.WithCancel(c.ctx)
	cl := c.client()
	var wg sync.WaitGroup
	c.t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := controller.Run(ctx, controller.Config{Client: cl, NoLeaderElection: true}); err != nil && ctx.Err() == nil {
			c.t.Errorf("controller manager: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		playKubelet(ctx, cl.Resource(scheme.Pods))
	}()
}

// playKubelet marks every Pod Running and Ready, until ctx ends.
func playKubelet(ctx context.Context, pods *client.ResourceClient) {
	for ctx.Err() == nil {
		objs, _, err := pods.List(ctx, &metav1.ListOptions{Namespace: "default"})
		for _, o := range objs {
			p := o.(*corev1.Pod)
			if err != nil || p.GetStatus().GetPhase() == "Running" || p.GetMetadata().GetDeletionTimestamp() != nil {
				continue
			}
			now := timestamppb.Now()
			p.Status = &corev1.PodStatus{
				Phase: "Running", StartTime: now,
				Conditions: []*corev1.PodCondition{{Type: "Ready", Status: "True", LastTransitionTime: now}},
			}
			_, _ = pods.UpdateStatus(ctx, p) // a conflict or a deleted Pod: the next round sees it anew
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// image is the image of the web Deployment's container.
func image(d *appsv1.Deployment) string {
	return d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage()
}

// TestRolloutWithControllers drives rollouts of a Deployment through the real ReplicaSet and
// Deployment controllers, the test playing the kubelet.
func TestRolloutWithControllers(t *testing.T) {
	c := newCluster(t)
	c.startControllers()
	c.deploy()

	rolledOut := func() {
		t.Helper()
		out := c.ok("rollout", "status", "deployment/web", "--timeout=40s")
		if !strings.HasSuffix(out, "deployment \"web\" successfully rolled out\n") {
			t.Fatalf("rollout status printed:\n%s", out)
		}
	}
	rolledOut()
	if out := c.ok("rollout", "history", "deployment/web"); out != "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n\n" {
		t.Errorf("history after the first rollout:\n%s", out)
	}

	// A new template, with a change cause: revision 2.
	v2 := strings.Replace(webDeployment, "  labels:\n    app: web\nspec:", "  labels:\n    app: web\n  annotations:\n    kubernetes.io/change-cause: image v2\nspec:", 1)
	v2 = strings.Replace(v2, "berth-testapp:v1", "berth-testapp:v2", 1)
	if r := c.run(v2, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("apply v2: %s", r.errOut)
	}
	rolledOut()
	if out := c.ok("rollout", "history", "deployment/web"); out != "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         image v2\n\n" {
		t.Errorf("history after the second rollout:\n%s", out)
	}

	// Undo: revision 1 comes back as revision 3.
	if out := c.ok("rollout", "undo", "deployment/web"); out != "deployment.apps/web rolled back\n" {
		t.Errorf("undo printed %q", out)
	}
	rolledOut()
	if img := image(c.getDeployment("web")); img != "berth-testapp:v1" {
		t.Errorf("image after undo: %q", img)
	}
	if out := c.ok("rollout", "history", "deployment/web"); out != "deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         image v2\n3         <none>\n\n" {
		t.Errorf("history after undo:\n%s", out)
	}
	if out := c.ok("rollout", "undo", "deployment/web", "--to-revision=3"); !strings.Contains(out, "skipped rollback (current template already matches revision 3)") {
		t.Errorf("undo to the current revision printed %q", out)
	}

	// Scale, waiting for the replicas.
	if out := c.ok("scale", "deployment/web", "--replicas=5", "--timeout=40s"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale printed %q", out)
	}
	rolledOut()

	// Pause holds a restart back; resume lets it through as revision 4.
	c.ok("rollout", "pause", "deployment/web")
	c.fails("can't restart paused deployment (run rollout resume first)", "rollout", "restart", "deployment/web")
	c.ok("rollout", "resume", "deployment/web")
	if out := c.ok("rollout", "restart", "deployment/web"); out != "deployment.apps/web restarted\n" {
		t.Errorf("restart printed %q", out)
	}
	rolledOut()
	out := c.ok("rollout", "history", "deployment/web", "--revision=4")
	if !strings.Contains(out, "deployment.apps/web with revision #4\nPod Template:\n") || !strings.Contains(out, "kubectl.kubernetes.io/restartedAt") {
		t.Errorf("history of the restart:\n%s", out)
	}
	d := c.getDeployment("web")
	if st := d.GetStatus(); st.GetReplicas() != 5 || st.GetUpdatedReplicas() != 5 || st.GetAvailableReplicas() != 5 {
		t.Errorf("status after the restart: %v", st)
	}
}
