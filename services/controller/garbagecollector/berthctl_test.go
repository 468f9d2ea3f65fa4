package garbagecollector_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/berth-dev/berth/pkg/ctl"
	"github.com/berth-dev/berth/services/controller/controllertest"
)

// berthctl runs berthctl against the test's apiserver and fails the test unless it exits 0.
func (e *env) berthctl(args ...string) string {
	e.t.Helper()
	var out, errOut bytes.Buffer
	if code := ctl.Run(e.ctx, args, ctl.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, e.addr); code != 0 {
		e.t.Fatalf("berthctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	return out.String()
}

// TestBerthctlDeleteCascades runs the three cascades through berthctl delete, which waits
// until the object is gone.
func TestBerthctlDeleteCascades(t *testing.T) {
	e := newEnv(t)
	fg := e.replicaSet("default", "fg")
	fgPods := e.pods(fg, "fg", 3)
	orphan := e.replicaSet("default", "orphan")
	orphanPods := e.pods(orphan, "orphan", 3)
	bg := e.replicaSet("default", "bg")
	bgPods := e.pods(bg, "bg", 3)
	e.startGC() // once the dependents exist (see startGC)

	if out := e.berthctl("delete", "rs", "fg", "--cascade=foreground"); !strings.Contains(out, `replicaset.apps "fg" deleted`) {
		t.Errorf("berthctl delete said %q", out)
	}
	if !allGone(e, fgPods) {
		t.Error("the ReplicaSet went before its Pods with --cascade=foreground")
	}

	e.berthctl("delete", "rs", "orphan", "--cascade=orphan")
	for _, p := range orphanPods {
		if uids := e.ownerUIDs(p); len(uids) != 0 {
			t.Errorf("Pod %s kept ownerReferences %v after --cascade=orphan", p.GetMetadata().GetName(), uids)
		}
	}

	e.berthctl("delete", "rs", "bg")
	controllertest.Eventually(t, "the Pods to be collected after --cascade=background", func() bool { return allGone(e, bgPods) })
}
