package namespace

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

func TestConditions(t *testing.T) {
	type cond struct{ status, reason, message string }
	tests := []struct {
		name    string
		content content
		want    map[string]cond // only the conditions that are not OK
	}{
		{"empty namespace", content{}, nil},
		{"resources and finalizers remain", content{
			remaining:  map[string]int{"pods.": 2, "deployments.apps": 1, "configmaps.": 1},
			finalizers: map[string]int{"example.com/hold": 1, "foregroundDeletion": 2},
		}, map[string]cond{
			ConditionContentRemaining: {"True", "SomeResourcesRemain",
				"Some resources are remaining: configmaps. has 1 resource instances, deployments.apps has 1 resource instances, pods. has 2 resource instances"},
			ConditionFinalizersRemaining: {"True", "SomeFinalizersRemain",
				"Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances, foregroundDeletion in 2 resource instances"},
		}},
		{"deletion failed", content{errs: []error{errors.New("delete pods x/a: boom"), errors.New("list secrets: down")}},
			map[string]cond{
				ConditionContentFailure: {"True", "ContentDeletionFailed",
					"Failed to delete all resource types, 2 remaining: [delete pods x/a: boom, list secrets: down]"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.content.conditions()
			if len(got) != len(conditionTypes) {
				t.Fatalf("%d conditions, want all %d", len(got), len(conditionTypes))
			}
			for _, typ := range conditionTypes {
				c := got[typ]
				want, bad := tt.want[typ]
				if !bad {
					ok := okConditions[typ]
					want = cond{ok.Status, ok.Reason, ok.Message}
				}
				if c.GetType() != typ || c.GetStatus() != want.status || c.GetReason() != want.reason || c.GetMessage() != want.message {
					t.Errorf("%s = {%s %s %q}, want %+v", typ, c.GetStatus(), c.GetReason(), c.GetMessage(), want)
				}
			}
		})
	}
}

func TestMergeConditions(t *testing.T) {
	t0 := time.Unix(1000, 0)
	t1 := t0.Add(time.Minute)
	remaining := content{remaining: map[string]int{"pods.": 1}}.conditions()
	other := content{remaining: map[string]int{"pods.": 2}}.conditions()
	done := content{}.conditions()

	status := &corev1.NamespaceStatus{Phase: "Terminating"}
	if !mergeConditions(status, remaining, t0) {
		t.Fatal("first merge reported no change")
	}
	if len(status.Conditions) != len(conditionTypes) || status.Phase != "Terminating" {
		t.Fatalf("after first merge: %v", status)
	}
	at := func(typ string) *timestamppb.Timestamp {
		for _, c := range status.Conditions {
			if c.GetType() == typ {
				return c.GetLastTransitionTime()
			}
		}
		t.Fatalf("no condition %s", typ)
		return nil
	}
	if !at(ConditionContentRemaining).AsTime().Equal(t0) {
		t.Errorf("transition time %v, want %v", at(ConditionContentRemaining).AsTime(), t0)
	}
	if mergeConditions(status, remaining, t1) {
		t.Error("merging the same conditions reported a change")
	}
	// A new message with the same status changes the condition but not its transition time.
	if !mergeConditions(status, other, t1) {
		t.Error("a new message was not merged")
	}
	if !at(ConditionContentRemaining).AsTime().Equal(t0) {
		t.Error("the transition time moved although the status did not change")
	}
	// A status change moves the transition time of that condition only.
	if !mergeConditions(status, done, t1) {
		t.Error("a status change was not merged")
	}
	if !at(ConditionContentRemaining).AsTime().Equal(t1) {
		t.Error("the transition time did not move with the status")
	}
	if !at(ConditionDiscoveryFailure).AsTime().Equal(t0) {
		t.Error("an unchanged condition's transition time moved")
	}
	if len(status.Conditions) != len(conditionTypes) {
		t.Errorf("%d conditions after merges, want %d", len(status.Conditions), len(conditionTypes))
	}
}
