package nodelifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func conds(kv ...string) *corev1.NodeStatus {
	s := &corev1.NodeStatus{}
	for i := 0; i < len(kv); i += 2 {
		s.Conditions = append(s.Conditions, &corev1.NodeCondition{
			Type: kv[i], Status: kv[i+1], Reason: "Kubelet", LastHeartbeatTime: timestamppb.New(t0),
		})
	}
	return s
}

// summary prints conditions as "Type=Status/Reason" for comparison.
func summary(s *corev1.NodeStatus) string {
	var parts []string
	for _, c := range s.GetConditions() {
		parts = append(parts, c.GetType()+"="+c.GetStatus()+"/"+c.GetReason())
	}
	return strings.Join(parts, " ")
}

func TestMarkUnknown(t *testing.T) {
	now := t0.Add(time.Minute)
	tests := []struct {
		name        string
		status      *corev1.NodeStatus
		want        string
		wantChanged bool
	}{
		{
			"ready node", conds("MemoryPressure", "False", "DiskPressure", "False", "PIDPressure", "False", "Ready", "True"),
			"MemoryPressure=Unknown/NodeStatusUnknown DiskPressure=Unknown/NodeStatusUnknown PIDPressure=Unknown/NodeStatusUnknown Ready=Unknown/NodeStatusUnknown", true,
		},
		{
			"not ready node", conds("Ready", "False", "MemoryPressure", "False", "DiskPressure", "False", "PIDPressure", "False", "NetworkUnavailable", "False"),
			"Ready=Unknown/NodeStatusUnknown MemoryPressure=Unknown/NodeStatusUnknown DiskPressure=Unknown/NodeStatusUnknown PIDPressure=Unknown/NodeStatusUnknown NetworkUnavailable=False/Kubelet", true,
		},
		{
			"already unknown", conds("Ready", "Unknown", "MemoryPressure", "Unknown", "DiskPressure", "Unknown", "PIDPressure", "Unknown"),
			"Ready=Unknown/Kubelet MemoryPressure=Unknown/Kubelet DiskPressure=Unknown/Kubelet PIDPressure=Unknown/Kubelet", false,
		},
		{
			"never posted", &corev1.NodeStatus{},
			"Ready=Unknown/NodeStatusNeverUpdated MemoryPressure=Unknown/NodeStatusNeverUpdated DiskPressure=Unknown/NodeStatusNeverUpdated PIDPressure=Unknown/NodeStatusNeverUpdated", true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := timestamppb.New(t0.Add(-time.Hour))
			changed := markUnknown(tt.status, created, now)
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if got := summary(tt.status); got != tt.want {
				t.Errorf("conditions\n got %s\nwant %s", got, tt.want)
			}
			for _, c := range tt.status.Conditions {
				switch c.GetReason() {
				case ReasonStatusUnknown:
					if c.GetMessage() != MessageStatusUnknown || !c.GetLastTransitionTime().AsTime().Equal(now) || !c.GetLastHeartbeatTime().AsTime().Equal(t0) {
						t.Errorf("%s: %v", c.GetType(), c)
					}
				case ReasonStatusNeverUpdated:
					if c.GetMessage() != MessageStatusNeverUpdated || !c.GetLastHeartbeatTime().AsTime().Equal(created.AsTime()) {
						t.Errorf("%s: %v", c.GetType(), c)
					}
				}
			}
		})
	}
}

func taint(key, effect string) *corev1.Taint { return &corev1.Taint{Key: key, Effect: effect} }

func TestReconcileTaints(t *testing.T) {
	user := &corev1.Taint{Key: "example.com/gpu", Value: "a100", Effect: "NoExecute"}
	tests := []struct {
		name          string
		status        *corev1.NodeStatus
		unschedulable bool
		taints        []*corev1.Taint
		want          string
	}{
		{"ready, none", conds("Ready", "True"), false, nil, ""},
		{"unreachable", conds("Ready", "Unknown"), false, nil,
			"node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute"},
		{"not ready", conds("Ready", "False"), false, nil,
			"node.kubernetes.io/not-ready:NoSchedule node.kubernetes.io/not-ready:NoExecute"},
		{"not ready becomes unreachable", conds("Ready", "Unknown"), false,
			[]*corev1.Taint{taint(TaintNotReady, "NoSchedule"), taint(TaintNotReady, "NoExecute")},
			"node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute"},
		{"ready again keeps the user's taints", conds("Ready", "True"), false,
			[]*corev1.Taint{taint(TaintUnreachable, "NoSchedule"), user, taint(TaintUnreachable, "NoExecute")},
			"example.com/gpu=a100:NoExecute"},
		{"pressure and cordon", conds("Ready", "True", "MemoryPressure", "True", "DiskPressure", "True", "PIDPressure", "True", "NetworkUnavailable", "True"), true, nil,
			"node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/network-unavailable:NoSchedule node.kubernetes.io/pid-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule"},
		{"uncordoned", conds("Ready", "True"), false, []*corev1.Taint{taint(TaintUnschedulable, "NoSchedule")}, ""},
		{"a managed key with another effect is the user's", conds("Ready", "True"), false,
			[]*corev1.Taint{taint(TaintUnreachable, "PreferNoSchedule")}, "node.kubernetes.io/unreachable:PreferNoSchedule"},
		{"no Ready condition keeps NoExecute", &corev1.NodeStatus{}, false,
			[]*corev1.Taint{taint(TaintUnreachable, "NoExecute"), taint(TaintUnreachable, "NoSchedule")}, "node.kubernetes.io/unreachable:NoExecute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := &corev1.Node{
				Metadata: &metav1.ObjectMeta{Name: "n"},
				Spec:     &corev1.NodeSpec{Unschedulable: tt.unschedulable, Taints: tt.taints},
				Status:   tt.status,
			}
			got, changed := reconcileTaints(node, t0, false, true)
			if s := strings.Join(taintList(got), " "); s != tt.want {
				t.Fatalf("taints\n got %s\nwant %s", s, tt.want)
			}
			if want := strings.Join(taintList(tt.taints), " ") != tt.want; changed != want {
				t.Errorf("changed = %v, want %v", changed, want)
			}
			for _, tn := range got {
				if !slices.Contains(tt.taints, tn) && !tn.GetTimeAdded().AsTime().Equal(t0) {
					t.Errorf("new taint %s without timeAdded", tn.GetKey())
				}
			}
			// Applying it again changes nothing.
			node.Spec.Taints = got
			if _, again := reconcileTaints(node, t0.Add(time.Hour), false, true); again {
				t.Error("not idempotent")
			}
		})
	}
}

func TestTolerates(t *testing.T) {
	tn := &corev1.Taint{Key: "k", Value: "v", Effect: "NoExecute"}
	tests := []struct {
		tol  *corev1.Toleration
		want bool
	}{
		{&corev1.Toleration{Key: "k", Operator: "Equal", Value: "v", Effect: "NoExecute"}, true},
		{&corev1.Toleration{Key: "k", Value: "v"}, true},
		{&corev1.Toleration{Key: "k", Value: "w"}, false},
		{&corev1.Toleration{Key: "k", Operator: "Exists"}, true},
		{&corev1.Toleration{Key: "k", Operator: "Exists", Effect: "NoSchedule"}, false},
		{&corev1.Toleration{Operator: "Exists"}, true},
		{&corev1.Toleration{Key: "other", Operator: "Exists"}, false},
	}
	for _, tt := range tests {
		if got := tolerates(tt.tol, tn); got != tt.want {
			t.Errorf("tolerates(%v) = %v, want %v", tt.tol, got, tt.want)
		}
	}
}

func TestEvictAfter(t *testing.T) {
	secs := func(s int64) *int64 { return &s }
	unreachable := taint(TaintUnreachable, "NoExecute")
	notReady := taint(TaintNotReady, "NoExecute")
	user := taint("example.com/maintenance", "NoExecute")
	const timeout = 5 * time.Minute
	started := func(*corev1.Taint) time.Time { return t0 }
	tests := []struct {
		name      string
		now       time.Time
		tols      []*corev1.Toleration
		taints    []*corev1.Taint
		wantAfter time.Duration
		wantNever bool
	}{
		{"no taints", t0, nil, nil, 0, true},
		{"unreachable, untolerated: the eviction timeout", t0.Add(time.Minute), nil, []*corev1.Taint{unreachable}, 4 * time.Minute, false},
		{"unreachable, timeout passed", t0.Add(6 * time.Minute), nil, []*corev1.Taint{unreachable}, 0, false},
		{"not ready, tolerated 60s", t0.Add(10 * time.Second), []*corev1.Toleration{{Key: TaintNotReady, Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs(60)}}, []*corev1.Taint{notReady}, 50 * time.Second, false},
		{"tolerated forever", t0.Add(time.Hour), []*corev1.Toleration{{Key: TaintUnreachable, Operator: "Exists", Effect: "NoExecute"}}, []*corev1.Taint{unreachable}, 0, true},
		{"tolerated longer than the timeout", t0.Add(6 * time.Minute), []*corev1.Toleration{{Key: TaintUnreachable, Operator: "Exists", TolerationSeconds: secs(600)}}, []*corev1.Taint{unreachable}, 4 * time.Minute, false},
		{"negative seconds: now", t0, []*corev1.Toleration{{Operator: "Exists", TolerationSeconds: secs(-5)}}, []*corev1.Taint{unreachable}, 0, false},
		{"a user taint not tolerated: now", t0, nil, []*corev1.Taint{user}, 0, false},
		{"a user taint tolerated forever", t0, []*corev1.Toleration{{Key: "example.com/maintenance", Operator: "Exists"}}, []*corev1.Taint{user}, 0, true},
		{"one tolerated forever, one for 30s", t0, []*corev1.Toleration{
			{Key: "example.com/maintenance", Operator: "Exists"},
			{Key: TaintUnreachable, Operator: "Exists", TolerationSeconds: secs(30)},
		}, []*corev1.Taint{user, unreachable}, 30 * time.Second, false},
		{"one tolerated forever, one untolerated", t0, []*corev1.Toleration{{Key: TaintUnreachable, Operator: "Exists"}}, []*corev1.Taint{unreachable, user}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, never := evictAfter(tt.tols, tt.taints, started, tt.now, timeout)
			if after != tt.wantAfter || never != tt.wantNever {
				t.Errorf("evictAfter = %v, never %v; want %v, never %v", after, never, tt.wantAfter, tt.wantNever)
			}
		})
	}
}

// TestObserve checks that heartbeats are timed on the controller's clock from when they are
// seen to change, whatever time they carry.
func TestObserve(t *testing.T) {
	n := &Controller{health: map[string]*health{}}
	node := func(beat time.Time) *corev1.Node {
		st := conds("Ready", "True")
		st.Conditions[0].LastHeartbeatTime = timestamppb.New(beat)
		return &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n"}, Status: st}
	}
	lease := func(renew time.Time) *coordinationv1.Lease {
		return &coordinationv1.Lease{Spec: &coordinationv1.LeaseSpec{RenewTime: timestamppb.New(renew)}}
	}
	skewed := t0.Add(-24 * time.Hour) // the agent's clock is a day behind
	steps := []struct {
		name  string
		node  *corev1.Node
		lease *coordinationv1.Lease
		now   time.Time
		want  time.Time
	}{
		{"first seen", node(skewed), lease(skewed), t0, t0},
		{"nothing new", node(skewed), lease(skewed), t0.Add(time.Minute), t0},
		{"lease renewed", node(skewed), lease(skewed.Add(10 * time.Second)), t0.Add(2 * time.Minute), t0.Add(2 * time.Minute)},
		{"status posted", node(skewed.Add(20 * time.Second)), lease(skewed.Add(10 * time.Second)), t0.Add(3 * time.Minute), t0.Add(3 * time.Minute)},
		{"lease gone", node(skewed.Add(20 * time.Second)), nil, t0.Add(4 * time.Minute), t0.Add(3 * time.Minute)},
		{"lease back, older", node(skewed.Add(20 * time.Second)), lease(skewed), t0.Add(5 * time.Minute), t0.Add(5 * time.Minute)},
	}
	for _, s := range steps {
		if got := n.observe(s.node, s.lease, s.now); !got.Equal(s.want) {
			t.Errorf("%s: last heartbeat %v, want %v", s.name, got, s.want)
		}
	}
}

func TestZones(t *testing.T) {
	node := func(ready string, labels map[string]string) *corev1.Node {
		return &corev1.Node{Metadata: &metav1.ObjectMeta{Labels: labels}, Status: conds("Ready", ready)}
	}
	a := map[string]string{labelZone: "a"}
	b := map[string]string{labelZone: "b"}
	type policy struct{ strip, allowNew bool }
	steps := []struct {
		name        string
		node        string
		obj         *corev1.Node // nil: deleted
		wantChanged bool
		wantRecov   bool
		want        map[string]policy // zone labels' key → policy
	}{
		{"a1 ready", "a1", node("True", a), false, false, map[string]policy{"a": {false, true}}},
		{"a2 not ready", "a2", node("False", a), false, false, map[string]policy{"a": {false, true}}},
		{"a1 down: all disrupted", "a1", node("Unknown", a), true, false, map[string]policy{"a": {true, false}}},
		{"b1 ready: recovered", "b1", node("True", b), true, true, map[string]policy{"a": {false, true}, "b": {false, true}}},
		{"b1 heartbeat: nothing", "b1", node("True", b), false, false, map[string]policy{"a": {false, true}}},
		{"a3 down: a fully disrupted, not all", "a3", node("Unknown", a), false, false, map[string]policy{"a": {false, true}}},
		{"a4 ready: a partially disrupted", "a4", node("True", a), true, false, map[string]policy{"a": {false, false}, "b": {false, true}}},
		{"a5 ready: 3 of 5 down, still partial", "a5", node("True", a), false, false, map[string]policy{"a": {false, false}}},
		{"an excluded Node does not count", "a6", node("True", map[string]string{labelZone: "a", LabelExcludeDisruption: ""}), false, false, map[string]policy{"a": {false, false}}},
		{"a7 ready: 3 of 6 down, normal", "a7", node("True", a), true, false, map[string]policy{"a": {false, true}}},
		{"a7 deleted: partial again", "a7", nil, true, false, map[string]policy{"a": {false, false}}},
	}
	z := newZones()
	for _, s := range steps {
		ch := z.set(s.node, s.obj, s.obj == nil)
		if ch.changed != s.wantChanged || ch.recovered != s.wantRecov {
			t.Errorf("%s: change %+v, want changed %v, recovered %v", s.name, ch, s.wantChanged, s.wantRecov)
		}
		for zone, want := range s.want {
			strip, allowNew := z.noExecutePolicy(zoneKey(map[string]string{labelZone: zone}))
			if (policy{strip, allowNew}) != want {
				t.Errorf("%s: zone %s: strip %v, allowNew %v; want %+v", s.name, zone, strip, allowNew, want)
			}
		}
	}
}

func TestReconcileTaintsUnderDisruption(t *testing.T) {
	tests := []struct {
		name            string
		ready           string
		taints          []*corev1.Taint
		strip, allowNew bool
		want            string
	}{
		{"all disrupted: no NoExecute", "Unknown", nil, true, false, "node.kubernetes.io/unreachable:NoSchedule"},
		{"all disrupted: NoExecute removed", "Unknown", []*corev1.Taint{taint(TaintUnreachable, "NoExecute")}, true, false, "node.kubernetes.io/unreachable:NoSchedule"},
		{"partial: none added", "Unknown", nil, false, false, "node.kubernetes.io/unreachable:NoSchedule"},
		{"partial: kept", "Unknown", []*corev1.Taint{taint(TaintUnreachable, "NoExecute")}, false, false, "node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule"},
		{"partial: swapped", "False", []*corev1.Taint{taint(TaintUnreachable, "NoExecute")}, false, false, "node.kubernetes.io/not-ready:NoSchedule node.kubernetes.io/not-ready:NoExecute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n"}, Spec: &corev1.NodeSpec{Taints: tt.taints}, Status: conds("Ready", tt.ready)}
			got, _ := reconcileTaints(node, t0, tt.strip, tt.allowNew)
			if s := strings.Join(taintList(got), " "); s != tt.want {
				t.Errorf("taints\n got %s\nwant %s", s, tt.want)
			}
		})
	}
}
