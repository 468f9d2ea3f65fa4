//go:build e2e

package e2e

import (
	"context"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/leaderelection"
	"github.com/berth-dev/berth/pkg/scheme"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	"github.com/berth-dev/berth/test/e2e/e2eutil"
)

// Leader election of the controller manager (issue 6, point 6): two `berth controller`
// processes against one `berth apiserver`, with the default timings (a 12s Lease).

// identityRE finds a candidate's identity in its log.
var identityRE = regexp.MustCompile(`msg="attempting to acquire leader lease".* identity=(\S+)`)

func TestControllerLeaderElection(t *testing.T) {
	srv := e2eutil.StartServer(t, e2eutil.ServerOptions{Role: "apiserver", Args: []string{"--data-dir", t.TempDir()}})
	ctl := srv.Berthctl(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, srv.GRPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lease := func() *coordinationv1.Lease {
		t.Helper()
		obj, err := c.Resource(scheme.Leases).Get(ctx, "kube-system", "berth-controller-manager")
		if err != nil {
			t.Fatalf("get lease: %v", err)
		}
		return obj.(*coordinationv1.Lease)
	}

	start := func() *e2eutil.Process {
		return e2eutil.StartProcess(t, e2eutil.Binary(t, "berth"),
			[]string{"controller", "--server", srv.GRPCAddr, "--http-addr", e2eutil.FreeAddr(t)},
			e2eutil.ProcessOptions{Combined: true})
	}
	procs := []*e2eutil.Process{start(), start()}
	ids := make([]string, 2)
	for i, p := range procs {
		p.WaitForOutput(t, "attempting to acquire leader lease", 30*time.Second)
		m := identityRE.FindStringSubmatch(p.Stdout())
		if m == nil {
			t.Fatalf("no identity in the log of controller %d:\n%s", i, p.Stdout())
		}
		ids[i] = m[1]
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range procs {
				t.Logf("controller %d (%s) log:\n%s", i, ids[i], p.Stdout())
			}
		}
	})

	// Exactly one leads: the Lease names it, only its log says it started the controllers,
	// and the other knows it as the leader.
	var leader int
	deadline := time.Now().Add(30 * time.Second)
	for {
		holder := ""
		if obj, err := c.Resource(scheme.Leases).Get(ctx, "kube-system", "berth-controller-manager"); err == nil {
			holder = obj.(*coordinationv1.Lease).GetSpec().GetHolderIdentity()
		} else if !kerrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if holder == ids[0] || holder == ids[1] {
			if holder == ids[1] {
				leader = 1
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease holder %q after 30s, want one of %v", holder, ids)
		}
		time.Sleep(100 * time.Millisecond)
	}
	follower := 1 - leader
	procs[leader].WaitForOutput(t, "controllers started", 10*time.Second)
	procs[follower].WaitForOutput(t, "new leader elected", 10*time.Second)
	time.Sleep(3 * time.Second) // a renewal or two later, still one leader
	if strings.Contains(procs[follower].Stdout(), "controllers started") {
		t.Fatalf("the follower started its controllers too:\n%s", procs[follower].Stdout())
	}
	if h := lease().GetSpec().GetHolderIdentity(); h != ids[leader] {
		t.Fatalf("lease holder changed to %q without a failure", h)
	}
	if out := ctl.Run(t, "get", "leases", "-n", "kube-system"); !strings.Contains(out, ids[leader]) {
		t.Errorf("berthctl get leases does not show the holder %s:\n%s", ids[leader], out)
	}

	// kill -9 the leader: it cannot release the Lease, so the follower takes over once the
	// Lease has not been renewed for its 12s.
	if err := procs[leader].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-procs[leader].Done()
	last := lease().GetSpec()
	if last.GetHolderIdentity() != ids[leader] {
		t.Fatalf("lease holder %q right after the kill, want the dead leader", last.GetHolderIdentity())
	}
	var took time.Duration
	var spec *coordinationv1.LeaseSpec
	for {
		spec = lease().GetSpec()
		took = time.Since(killed)
		if spec.GetHolderIdentity() == ids[follower] {
			break
		}
		if took > 30*time.Second {
			t.Fatalf("lease still held by %q %s after the leader was killed", spec.GetHolderIdentity(), took)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sinceRenewal := spec.GetAcquireTime().AsTime().Sub(last.GetRenewTime().AsTime())
	t.Logf("the follower took over %s after the kill, %s after the dead leader's last renewal", took, sinceRenewal)
	// The Lease expires DefaultLeaseDuration after the dead leader's last renewal, which came
	// before the kill; the follower sees that renewal through its watch as it happens.
	d := leaderelection.DefaultLeaseDuration
	if sinceRenewal < d-time.Second || sinceRenewal > d+500*time.Millisecond {
		t.Errorf("took over %s after the last renewal, want the %s lease duration", sinceRenewal, d)
	}
	if took > 15*time.Second {
		t.Errorf("took over %s after the kill, want within 15s", took)
	}
	if spec.GetLeaseTransitions() != last.GetLeaseTransitions()+1 {
		t.Errorf("leaseTransitions %d after the takeover, want %d", spec.GetLeaseTransitions(), last.GetLeaseTransitions()+1)
	}
	procs[follower].WaitForOutput(t, "controllers started", 10*time.Second)

	// The new leader's namespace controller works: a deleted Namespace disappears.
	ctl.RunStdin(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: after-failover\n", "apply", "-f", "-")
	ctl.Run(t, "delete", "namespace", "after-failover", "--timeout=60s")
	if r := ctl.Exec(t, "", "get", "namespace", "after-failover"); r.ExitCode == 0 || !strings.Contains(r.Stderr, "NotFound") {
		t.Errorf("namespace after-failover still there: %s %s", r.Stdout, r.Stderr)
	}

	// A clean stop releases the Lease at once.
	if err := procs[follower].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-procs[follower].Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the controller did not stop on SIGTERM")
	}
	if code := procs[follower].ExitCode(); code != 0 {
		t.Errorf("controller exit code %d after SIGTERM", code)
	}
	if spec := lease().GetSpec(); spec.GetHolderIdentity() != "" {
		t.Errorf("lease held by %q after a clean stop, want released", spec.GetHolderIdentity())
	}
}
