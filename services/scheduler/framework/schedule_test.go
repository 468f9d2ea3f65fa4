package framework_test

import (
	"errors"
	"fmt"
	"testing"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/scheduler/framework"
	"github.com/berth-dev/berth/services/scheduler/plugins"
)

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tc := range []struct {
		percentage int32
		all, want  int
	}{
		{0, 10, 10},
		{0, 99, 99},
		{0, 100, 100},
		{0, 200, 100},     // 48% is 96: at least 100
		{0, 1000, 420},    // 50 - 8 = 42%
		{0, 5000, 500},    // 50 - 40 = 10%
		{0, 6000, 300},    // 50 - 48 = 2%: at least 5%
		{0, 10000, 500},   // 5%
		{30, 1000, 300},   // configured
		{30, 200, 100},    // configured, at least 100
		{100, 5000, 5000}, // every Node
		{50, 50, 50},      // below 100 Nodes: all
	} {
		if got := framework.NumFeasibleNodesToFind(tc.percentage, tc.all); got != tc.want {
			t.Errorf("NumFeasibleNodesToFind(%d, %d) = %d, want %d", tc.percentage, tc.all, got, tc.want)
		}
	}
}

func TestFitErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		fe   framework.FitError
		want string
	}{
		{framework.FitError{NumAllNodes: 3, Reasons: map[string]int{"Insufficient cpu": 2, "node(s) didn't match Pod's node affinity/selector": 1}},
			"0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu."},
		{framework.FitError{NumAllNodes: 12, Reasons: map[string]int{"Insufficient cpu": 12, "Insufficient memory": 2, "Too many pods": 1}},
			"0/12 nodes are available: 1 Too many pods, 12 Insufficient cpu, 2 Insufficient memory."},
		{framework.FitError{NumAllNodes: 5, PreFilterMsg: "topologySpreadConstraints zone: bad selector"},
			"0/5 nodes are available: topologySpreadConstraints zone: bad selector."},
	} {
		if got := tc.fe.Error(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func mkNode(name string, cpu string, labels ...string) *framework.NodeInfo {
	l := map[string]string{framework.LabelHostname: name}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return framework.NewNodeInfo(&corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: name, Labels: l},
		Status: &corev1.NodeStatus{
			Allocatable: map[string]string{"cpu": cpu, "memory": "8Gi", "pods": "110"},
			Conditions:  []*corev1.NodeCondition{{Type: "Ready", Status: "True"}},
		},
	})
}

func mkPod(name, cpu string) *framework.PodInfo {
	return framework.NewPodInfo(&corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Uid: "uid-" + name},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Resources: &corev1.ResourceRequirements{
			Requests: map[string]string{"cpu": cpu},
		}}}},
	})
}

func TestSchedule(t *testing.T) {
	f := plugins.DefaultFramework()
	t.Run("empty cluster", func(t *testing.T) {
		_, err := f.Schedule(framework.NewSnapshot(), mkPod("p", "1"), framework.Cursor{})
		if !errors.Is(err, framework.ErrNoNodesAvailable) || err.Error() != "no nodes available to schedule pods" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("the only Node that fits", func(t *testing.T) {
		snap := framework.NewSnapshot(mkNode("small", "1"), mkNode("big", "8"), mkNode("tiny", "500m"))
		res, err := f.Schedule(snap, mkPod("p", "2"), framework.Cursor{})
		if err != nil || res.Node != "big" || res.Feasible != 1 || res.Evaluated != 3 {
			t.Fatalf("res %+v, err %v; want big of 1 feasible among 3", res, err)
		}
	})
	t.Run("none fits", func(t *testing.T) {
		snap := framework.NewSnapshot(mkNode("a", "1"), mkNode("b", "1", "disk", "hdd"))
		p := mkPod("p", "2")
		_, err := f.Schedule(snap, p, framework.Cursor{})
		var fe *framework.FitError
		if !errors.As(err, &fe) || fe.Error() != "0/2 nodes are available: 2 Insufficient cpu." {
			t.Fatalf("err %v", err)
		}
		if len(fe.Plugins) != 1 || fe.Plugins[0] != plugins.NodeResourcesFitName {
			t.Errorf("plugins %v", fe.Plugins)
		}
	})
	t.Run("the least allocated Node", func(t *testing.T) {
		busy := mkNode("busy", "4")
		busy.AddPod(mkPod("x", "3").WithNode("busy"))
		snap := framework.NewSnapshot(busy, mkNode("idle", "4"))
		res, err := f.Schedule(snap, mkPod("p", "500m"), framework.Cursor{Last: -1})
		if err != nil || res.Node != "idle" {
			t.Fatalf("res %+v, err %v; want idle", res, err)
		}
	})
	t.Run("ties are broken round-robin", func(t *testing.T) {
		snap := framework.NewSnapshot(mkNode("n1", "4"), mkNode("n2", "4"), mkNode("n3", "4"))
		cur := framework.Cursor{Last: -1}
		var got []string
		for i := range 6 {
			res, err := f.Schedule(snap, mkPod(fmt.Sprint(i), ""), cur)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, res.Node)
			cur = res.Next
		}
		if fmt.Sprint(got) != "[n1 n2 n3 n1 n2 n3]" {
			t.Errorf("placements %v, want n1 n2 n3 in turn", got)
		}
	})
	t.Run("the search starts where the last stopped", func(t *testing.T) {
		var nodes []*framework.NodeInfo
		for i := range 300 {
			nodes = append(nodes, mkNode(fmt.Sprintf("n%03d", i), "4"))
		}
		snap := framework.NewSnapshot(nodes...)
		res, err := f.Schedule(snap, mkPod("p", "100m"), framework.Cursor{})
		if err != nil {
			t.Fatal(err)
		}
		// 300 Nodes: 50 - 2 = 48% is 144 Nodes to find.
		if res.Feasible != 144 || res.Evaluated != 144 || res.Next.Start != 144 {
			t.Fatalf("res %+v, want 144 feasible of 144 evaluated, next start 144", res)
		}
		res, err = f.Schedule(snap, mkPod("q", "100m"), res.Next)
		if err != nil || res.Next.Start != 288 {
			t.Fatalf("res %+v, err %v; want next start 288", res, err)
		}
		res, err = f.Schedule(snap, mkPod("r", "100m"), res.Next)
		if err != nil || res.Next.Start != (288+144)%300 {
			t.Fatalf("res %+v, err %v; want the search to wrap around", res, err)
		}
	})
}

// The parallel search finds what the sequential one does.
func TestParallelSearch(t *testing.T) {
	var nodes []*framework.NodeInfo
	for i := range 1000 {
		cpu := "1"
		if i%7 == 0 {
			cpu = "8" // only every seventh Node fits
		}
		nodes = append(nodes, mkNode(fmt.Sprintf("n%04d", i), cpu, framework.LabelZone, fmt.Sprint("z", i%3)))
	}
	snap := framework.NewSnapshot(nodes...)
	build := func(parallelism int32) *framework.Framework {
		c := plugins.DefaultConfig()
		c.Parallelism = parallelism
		f, err := framework.New(c, plugins.Registry())
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	seq, par := build(1), build(4)
	curS, curP := framework.Cursor{Last: -1}, framework.Cursor{Last: -1}
	for i := range 20 {
		p := mkPod(fmt.Sprint(i), "2")
		a, errA := seq.Schedule(snap, p, curS)
		b, errB := par.Schedule(snap, p, curP)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if a != b {
			t.Fatalf("pod %d: sequential %+v, parallel %+v", i, a, b)
		}
		curS, curP = a.Next, b.Next
	}
	// And the same reasons when nothing fits.
	_, errA := seq.Schedule(snap, mkPod("huge", "100"), framework.Cursor{})
	_, errB := par.Schedule(snap, mkPod("huge", "100"), framework.Cursor{})
	if errA == nil || errB == nil || errA.Error() != errB.Error() || errA.Error() != "0/1000 nodes are available: 1000 Insufficient cpu." {
		t.Fatalf("sequential %v, parallel %v", errA, errB)
	}
}

// errPlugin fails its Filter with an Error status.
type errPlugin struct{}

func (errPlugin) Name() string { return "Broken" }
func (errPlugin) Filter(*framework.CycleState, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	return framework.AsStatus(errors.New("disk on fire"))
}

// scorePlugin gives every Node the same out-of-range score.
type scorePlugin struct{ score int64 }

func (scorePlugin) Name() string { return "Constant" }
func (p scorePlugin) Score(*framework.CycleState, *framework.PodInfo, *framework.NodeInfo) (int64, *framework.Status) {
	return p.score, nil
}

func TestPluginErrors(t *testing.T) {
	reg := plugins.Registry()
	reg["Broken"] = framework.Registration{New: func() framework.Plugin { return errPlugin{} }}
	reg["Constant"] = framework.Registration{New: func() framework.Plugin { return scorePlugin{score: 101} }}
	snap := framework.NewSnapshot(mkNode("a", "1"), mkNode("b", "1"))
	for _, tc := range []struct {
		name string
		cfg  framework.Config
		want string
	}{
		{"filter error", framework.Config{Plugins: framework.Plugins{Filter: []framework.PluginRef{{Name: "Broken"}}}},
			"filter plugin Broken on node a: disk on fire"},
		{"score out of range", framework.Config{Plugins: framework.Plugins{Score: []framework.PluginRef{{Name: "Constant"}}}},
			"score plugin Constant gave node a the score 101, outside [0, 100]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := framework.New(tc.cfg, reg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Schedule(snap, mkPod("p", ""), framework.Cursor{})
			var fe *framework.FitError
			if err == nil || errors.As(err, &fe) || err.Error() != tc.want {
				t.Fatalf("err %v, want %q (not a FitError)", err, tc.want)
			}
		})
	}
}

func TestInterleaveZones(t *testing.T) {
	names := []string{"a2", "b1", "a1", "c1", "a3", "none"}
	zones := map[string]string{"a1": "za", "a2": "za", "a3": "za", "b1": "zb", "c1": "zc"}
	got := framework.InterleaveZones(names, zones)
	if fmt.Sprint(got) != "[none a1 b1 c1 a2 a3]" {
		t.Errorf("order %v", got)
	}
}
