package deployment

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func num(n float64) *structpb.Value       { return structpb.NewNumberValue(n) }
func pct(s string) *structpb.Value        { return structpb.NewStringValue(s) }
func t0(sec int64) *timestamppb.Timestamp { return timestamppb.New(time.Unix(1700000000+sec, 0)) }

// deploy is a rolling Deployment of n replicas with the given bounds.
func deploy(n int32, surge, unavailable *structpb.Value) *appsv1.Deployment {
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Generation: 1},
		Spec: &appsv1.DeploymentSpec{
			Replicas: proto.Int32(n),
			Strategy: &appsv1.DeploymentStrategy{Type: StrategyRollingUpdate, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: surge, MaxUnavailable: unavailable}},
			Template: template("app:v1"),
		},
		Status: &appsv1.DeploymentStatus{},
	}
}

func template(image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: image}}},
	}
}

// rs is a ReplicaSet created at second age, with spec replicas and available replicas.
func rs(name string, age int64, spec, available int32, annotations ...string) *appsv1.ReplicaSet {
	a := map[string]string{}
	for i := 0; i+1 < len(annotations); i += 2 {
		a[annotations[i]] = annotations[i+1]
	}
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Name: name, Uid: name, CreationTimestamp: t0(age), Annotations: a},
		Spec:     &appsv1.ReplicaSetSpec{Replicas: proto.Int32(spec), Template: template("app:" + name)},
		Status:   &appsv1.ReplicaSetStatus{Replicas: spec, AvailableReplicas: available, ReadyReplicas: available},
	}
}

func TestResolveFenceposts(t *testing.T) {
	for _, tc := range []struct {
		name                string
		surge, unavailable  *structpb.Value
		desired             int32
		wantSurge, wantUnav int32
	}{
		{"default percentages of 10", pct("25%"), pct("25%"), 10, 3, 2},
		{"surge rounds up, unavailable down", pct("25%"), pct("25%"), 3, 1, 0},
		{"numbers", num(2), num(1), 10, 2, 1},
		{"both zero make unavailable 1", num(0), num(0), 5, 0, 1},
		{"zero percentages make unavailable 1", pct("0%"), pct("0%"), 5, 0, 1},
		{"unset is zero", nil, num(1), 4, 0, 1},
		{"half of 3", pct("50%"), pct("50%"), 3, 2, 1},
		{"all of 0 replicas", pct("100%"), pct("100%"), 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, u, err := resolveFenceposts(&appsv1.RollingUpdateDeployment{MaxSurge: tc.surge, MaxUnavailable: tc.unavailable}, tc.desired)
			if err != nil {
				t.Fatal(err)
			}
			if s != tc.wantSurge || u != tc.wantUnav {
				t.Errorf("surge, unavailable = %d, %d; want %d, %d", s, u, tc.wantSurge, tc.wantUnav)
			}
		})
	}
	if _, _, err := resolveFenceposts(&appsv1.RollingUpdateDeployment{MaxSurge: pct("many")}, 3); err == nil {
		t.Error("a string that is not a percentage resolved")
	}
}

func TestMaxUnavailableCappedAndZeroForRecreate(t *testing.T) {
	d := deploy(2, num(0), num(5))
	if got := maxUnavailable(d); got != 2 {
		t.Errorf("maxUnavailable = %d, want replicas 2", got)
	}
	d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: StrategyRecreate}
	if maxUnavailable(d) != 0 || maxSurge(d) != 0 {
		t.Errorf("Recreate: maxUnavailable %d maxSurge %d, want 0 0", maxUnavailable(d), maxSurge(d))
	}
}

func TestNewRSNewReplicas(t *testing.T) {
	for _, tc := range []struct {
		name     string
		d        *appsv1.Deployment
		old, new int32
		want     int32
	}{
		{"first step of 10 with surge 3", deploy(10, num(3), num(2)), 10, 0, 3},
		{"at the surge limit", deploy(10, num(3), num(2)), 8, 5, 5},
		{"room for 2 more", deploy(10, num(3), num(2)), 6, 5, 7},
		{"never beyond replicas", deploy(10, num(3), num(2)), 0, 9, 10},
		{"percent surge of 3 (1)", deploy(3, pct("25%"), pct("25%")), 3, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldRS, newRS := rs("old", 0, tc.old, tc.old), rs("new", 1, tc.new, 0)
			got, err := newRSNewReplicas(tc.d, []*appsv1.ReplicaSet{oldRS, newRS}, newRS)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("new replicas = %d, want %d", got, tc.want)
			}
		})
	}
	d := deploy(4, nil, nil)
	d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: StrategyRecreate}
	if got, _ := newRSNewReplicas(d, nil, rs("new", 0, 0, 0)); got != 4 {
		t.Errorf("Recreate new replicas = %d, want 4", got)
	}
}

func TestOldReplicaSetScaleDowns(t *testing.T) {
	for _, tc := range []struct {
		name          string
		d             *appsv1.Deployment
		old           []*appsv1.ReplicaSet
		newRS         *appsv1.ReplicaSet
		wantMax       int32
		wantUnhealthy map[string]int32
		wantAvailable map[string]int32
	}{
		{
			name: "new pods unavailable block further scale down",
			d:    deploy(10, num(3), num(2)), old: []*appsv1.ReplicaSet{rs("a", 0, 8, 8)}, newRS: rs("new", 9, 5, 0),
			wantMax: 0, wantAvailable: map[string]int32{},
		},
		{
			name: "unhealthy old replicas go first, oldest first",
			d:    deploy(10, num(3), num(2)), old: []*appsv1.ReplicaSet{rs("b", 5, 3, 1), rs("a", 0, 7, 7)}, newRS: rs("new", 9, 3, 3),
			wantMax: 5, wantUnhealthy: map[string]int32{"b": 1},
		},
		{
			name: "available beyond the minimum are scaled down, oldest first",
			d:    deploy(4, num(1), num(1)), old: []*appsv1.ReplicaSet{rs("b", 5, 2, 2), rs("a", 0, 2, 2)}, newRS: rs("new", 9, 1, 1),
			wantMax: 2, wantAvailable: map[string]int32{"a": 0},
		},
		{
			name: "at minimum availability nothing goes",
			d:    deploy(4, num(1), num(1)), old: []*appsv1.ReplicaSet{rs("a", 0, 3, 3)}, newRS: rs("new", 9, 2, 0),
			wantMax: 0, wantAvailable: map[string]int32{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := append(append([]*appsv1.ReplicaSet(nil), tc.old...), tc.newRS)
			if got := maxScaledDown(all, tc.newRS, tc.d); got != tc.wantMax {
				t.Errorf("maxScaledDown = %d, want %d", got, tc.wantMax)
			}
			if tc.wantUnhealthy != nil {
				checkSteps(t, "unhealthy", unhealthyScaleDowns(tc.old, tc.wantMax), tc.wantUnhealthy)
			}
			if tc.wantAvailable != nil {
				checkSteps(t, "available", availableScaleDowns(all, tc.old, tc.d), tc.wantAvailable)
			}
		})
	}
}

func checkSteps(t *testing.T, what string, steps []scaleStep, want map[string]int32) {
	t.Helper()
	got := map[string]int32{}
	for _, s := range steps {
		got[s.rs.GetMetadata().GetName()] = s.to
	}
	if len(got) != len(want) {
		t.Errorf("%s steps %v, want %v", what, got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s steps %v, want %v", what, got, want)
		}
	}
}

func TestProportionalScaling(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		rss  []*appsv1.ReplicaSet
		want map[string]int32
		op   string
	}{
		{
			// 10 → 20 replicas, surge 1: 11 more spread 6:4, the leftover to the largest.
			name: "scale up mid-rollout", d: deploy(20, num(1), num(0)),
			rss:  []*appsv1.ReplicaSet{rs("old", 0, 6, 6, MaxReplicasAnnotation, "11"), rs("new", 5, 4, 0, MaxReplicasAnnotation, "11")},
			want: map[string]int32{"old": 13, "new": 8}, op: "up",
		},
		{
			// 10 → 5 replicas, surge 1: 5 fewer, the older first among equals.
			name: "scale down mid-rollout", d: deploy(5, num(1), num(0)),
			rss:  []*appsv1.ReplicaSet{rs("old", 0, 5, 5, MaxReplicasAnnotation, "11"), rs("new", 5, 6, 0, MaxReplicasAnnotation, "11")},
			want: map[string]int32{"old": 3, "new": 3}, op: "down",
		},
		{
			name: "scale to zero", d: deploy(0, num(1), num(0)),
			rss:  []*appsv1.ReplicaSet{rs("old", 0, 5, 5, MaxReplicasAnnotation, "11"), rs("new", 5, 6, 0, MaxReplicasAnnotation, "11")},
			want: map[string]int32{"old": 0, "new": 0}, op: "down",
		},
		{
			name: "nothing to add", d: deploy(10, num(1), num(0)),
			rss:  []*appsv1.ReplicaSet{rs("old", 0, 5, 5, MaxReplicasAnnotation, "11"), rs("new", 5, 6, 0, MaxReplicasAnnotation, "11")},
			want: map[string]int32{"old": 5, "new": 6}, op: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, sizes, op := proportionalSizes(tc.d, tc.rss)
			if op != tc.op {
				t.Errorf("op %q, want %q", op, tc.op)
			}
			for k, v := range tc.want {
				if sizes[k] != v {
					t.Errorf("sizes %v, want %v", sizes, tc.want)
					break
				}
			}
		})
	}
}

func TestFindActiveOrLatest(t *testing.T) {
	a, b, n := rs("a", 0, 0, 0), rs("b", 5, 0, 0), rs("n", 9, 0, 0)
	if got := findActiveOrLatest(nil, []*appsv1.ReplicaSet{a, b}); got != b {
		t.Errorf("no active: got %v, want the newest old", got.GetMetadata().GetName())
	}
	if got := findActiveOrLatest(n, []*appsv1.ReplicaSet{a, b}); got != n {
		t.Errorf("no active: got %v, want the new one", got.GetMetadata().GetName())
	}
	a2 := rs("a", 0, 3, 3)
	if got := findActiveOrLatest(n, []*appsv1.ReplicaSet{a2, b}); got != a2 {
		t.Errorf("one active: got %v, want a", got.GetMetadata().GetName())
	}
	if got := findActiveOrLatest(rs("n", 9, 1, 0), []*appsv1.ReplicaSet{a2}); got != nil {
		t.Errorf("two active: got %v, want nil", got.GetMetadata().GetName())
	}
}

func TestHistoryToDelete(t *testing.T) {
	old := []*appsv1.ReplicaSet{
		rs("r3", 3, 0, 0, RevisionAnnotation, "3"),
		rs("r1", 1, 0, 0, RevisionAnnotation, "1"),
		rs("r4", 4, 2, 2, RevisionAnnotation, "4"),
		rs("r2", 2, 0, 0, RevisionAnnotation, "2"),
	}
	for _, tc := range []struct {
		limit int32
		want  []string
	}{
		{10, nil},
		{4, nil},
		{2, []string{"r1", "r2"}},
		{0, []string{"r1", "r2", "r3"}}, // r4 still has replicas
	} {
		var got []string
		for _, rs := range historyToDelete(old, tc.limit) {
			got = append(got, rs.GetMetadata().GetName())
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("limit %d: delete %v, want %v", tc.limit, got, tc.want)
		}
	}
	unobserved := rs("r0", 0, 0, 0, RevisionAnnotation, "0")
	unobserved.Metadata.Generation = 2
	if got := historyToDelete([]*appsv1.ReplicaSet{unobserved}, 0); len(got) != 0 {
		t.Error("a ReplicaSet whose scale-down is not observed yet was deleted")
	}
}

func TestComputeHash(t *testing.T) {
	a, b := template("app:v1"), template("app:v1")
	if computeHash(a, nil) != computeHash(b, nil) {
		t.Error("equal templates hash differently")
	}
	for i := 0; i < 20; i++ { // map order must not matter
		if computeHash(template("app:v1"), nil) != computeHash(a, nil) {
			t.Fatal("hash is not stable")
		}
	}
	if computeHash(template("app:v2"), nil) == computeHash(a, nil) {
		t.Error("a new image kept the hash")
	}
	one := int32(1)
	if computeHash(a, &one) == computeHash(a, nil) {
		t.Error("collisionCount did not change the hash")
	}
	h := computeHash(a, nil)
	if strings.Trim(h, "bcdfghjklmnpqrstvwxz2456789") != "" || len(h) == 0 || len(h) > 10 {
		t.Errorf("hash %q is not a SafeEncodeString of a 32-bit number", h)
	}
	withHash := template("app:v1")
	withHash.Metadata.Labels[PodTemplateHashLabel] = h
	if !equalIgnoreHash(withHash, a) || equalIgnoreHash(template("app:v2"), a) {
		t.Error("equalIgnoreHash does not ignore exactly the hash label")
	}
}

func TestSetNewReplicaSetAnnotations(t *testing.T) {
	d := deploy(3, pct("25%"), pct("25%"))
	d.Metadata.Annotations = map[string]string{
		"kubernetes.io/change-cause": "image v2", LastAppliedConfigAnnotation: "{}", RevisionAnnotation: "7",
	}
	r := rs("new", 0, 0, 0)
	if !setNewReplicaSetAnnotations(d, r, "1", false, maxRevHistoryLengthInChars) {
		t.Fatal("nothing changed on a new ReplicaSet")
	}
	a := r.Metadata.Annotations
	if a[RevisionAnnotation] != "1" || a["kubernetes.io/change-cause"] != "image v2" || a[DesiredReplicasAnnotation] != "3" || a[MaxReplicasAnnotation] != "4" {
		t.Errorf("annotations %v", a)
	}
	if _, ok := a[LastAppliedConfigAnnotation]; ok {
		t.Error("last-applied-configuration was copied")
	}
	if _, ok := a[RevisionHistoryAnnotation]; ok {
		t.Error("a first revision has a history")
	}
	// Brought back twice: its earlier revisions pile up in the history.
	setNewReplicaSetAnnotations(d, r, "3", true, maxRevHistoryLengthInChars)
	setNewReplicaSetAnnotations(d, r, "5", true, maxRevHistoryLengthInChars)
	if a[RevisionAnnotation] != "5" || a[RevisionHistoryAnnotation] != "1,3" {
		t.Errorf("revision %q history %q, want 5 and 1,3", a[RevisionAnnotation], a[RevisionHistoryAnnotation])
	}
	// A lower revision never lowers it.
	if setNewReplicaSetAnnotations(d, r, "2", true, maxRevHistoryLengthInChars) || a[RevisionAnnotation] != "5" {
		t.Errorf("revision lowered to %q", a[RevisionAnnotation])
	}
}

func TestProgressConditions(t *testing.T) {
	now := time.Unix(1700000100, 0)
	d := deploy(3, pct("25%"), pct("25%"))
	d.Spec.ProgressDeadlineSeconds = proto.Int32(10)
	d.Status.Conditions = []*appsv1.DeploymentCondition{newCondition(ConditionProgressing, "True", ReasonReplicaSetUpdated, "x", now.Add(-11*time.Second))}
	if !deploymentTimedOut(d, d.Status, now) {
		t.Error("11s without progress under a 10s deadline did not time out")
	}
	if deploymentTimedOut(d, d.Status, now.Add(-2*time.Second)) {
		t.Error("9s without progress timed out")
	}
	st := calculateStatus([]*appsv1.ReplicaSet{rs("a", 0, 3, 2)}, nil, d, now)
	if c := getCondition(st, ConditionAvailable); c.GetStatus() != "False" || c.GetReason() != ReasonMinimumReplicasUnavailable {
		t.Errorf("2 of 3 available with maxUnavailable 0 (25%% of 3 rounds down): %v", c)
	}
	if st.GetUnavailableReplicas() != 1 || st.GetAvailableReplicas() != 2 || st.GetObservedGeneration() != 1 {
		t.Errorf("status %v", st)
	}
	d.Spec.Strategy.RollingUpdate.MaxUnavailable = num(1)
	st = calculateStatus([]*appsv1.ReplicaSet{rs("a", 0, 3, 2)}, nil, d, now)
	if c := getCondition(st, ConditionAvailable); c.GetStatus() != "True" || c.GetReason() != ReasonMinimumReplicasAvailable {
		t.Errorf("2 of 3 available with maxUnavailable 1: %v", c)
	}
}
