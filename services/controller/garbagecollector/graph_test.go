package garbagecollector

import (
	"maps"
	"slices"
	"sort"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

func rs(uid string, finalizers ...string) *appsv1.ReplicaSet {
	md := &metav1.ObjectMeta{Namespace: "default", Name: "rs-" + uid, Uid: uid, Finalizers: finalizers}
	if len(finalizers) > 0 {
		md.DeletionTimestamp = timestamppb.Now()
	}
	return &appsv1.ReplicaSet{Metadata: md}
}

func owned(uid string, block bool, owners ...string) *corev1.Pod {
	md := &metav1.ObjectMeta{Namespace: "default", Name: "pod-" + uid, Uid: uid}
	for _, o := range owners {
		md.OwnerReferences = append(md.OwnerReferences, &metav1.OwnerReference{
			ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + o, Uid: o, BlockOwnerDeletion: &block,
		})
	}
	return &corev1.Pod{Metadata: md}
}

// TestGraphEnqueues checks what each change an informer reports enqueues: setup builds the
// graph, then only the enqueues of change count.
func TestGraphEnqueues(t *testing.T) {
	pods, rss := scheme.Pods, scheme.ReplicaSets
	tests := []struct {
		name   string
		setup  func(g *graph)
		change func(g *graph)
		want   []string
		nodes  int
	}{{
		name:   "a dependent seen before its owner makes a virtual owner to verify",
		change: func(g *graph) { g.observe(pods, owned("p1", true, "o")) },
		want:   []string{"o"}, nodes: 2,
	}, {
		name:   "the owner seen afterwards needs nothing",
		setup:  func(g *graph) { g.observe(pods, owned("p1", true, "o")) },
		change: func(g *graph) { g.observe(rss, rs("o")) },
		nodes:  2,
	}, {
		name:   "a dependent of an owner seen needs nothing",
		setup:  func(g *graph) { g.observe(rss, rs("o")) },
		change: func(g *graph) { g.observe(pods, owned("p1", true, "o")) },
		nodes:  2,
	}, {
		name: "an owner deleted in the foreground enqueues itself and its dependents",
		setup: func(g *graph) {
			g.observe(rss, rs("o"))
			g.observe(pods, owned("p1", true, "o"))
			g.observe(pods, owned("p2", false, "o"))
		},
		change: func(g *graph) { g.observe(rss, rs("o", FinalizerForeground)) },
		want:   []string{"o", "p1", "p2"}, nodes: 3,
	}, {
		name: "an owner deleted with orphan enqueues only itself",
		setup: func(g *graph) {
			g.observe(rss, rs("o"))
			g.observe(pods, owned("p1", true, "o"))
		},
		change: func(g *graph) { g.observe(rss, rs("o", FinalizerOrphan)) },
		want:   []string{"o"}, nodes: 2,
	}, {
		name: "a dependent gone enqueues its owner waiting for it",
		setup: func(g *graph) {
			g.observe(rss, rs("o", FinalizerForeground))
			g.observe(rss, rs("other"))
			g.observe(pods, owned("p1", true, "o", "other"))
		},
		change: func(g *graph) { g.forget(owned("p1", true, "o", "other")) },
		want:   []string{"o"}, nodes: 2,
	}, {
		name: "an owner gone enqueues its dependents",
		setup: func(g *graph) {
			g.observe(rss, rs("o"))
			g.observe(pods, owned("p1", true, "o"))
			g.observe(pods, owned("p2", true, "o"))
		},
		change: func(g *graph) { g.forget(rs("o")) },
		want:   []string{"p1", "p2"}, nodes: 2,
	}, {
		name: "a dependent that stops blocking enqueues its waiting owner",
		setup: func(g *graph) {
			g.observe(rss, rs("o", FinalizerForeground))
			g.observe(pods, owned("p1", true, "o"))
		},
		change: func(g *graph) { g.observe(pods, owned("p1", false, "o")) },
		want:   []string{"o", "p1"}, nodes: 2,
	}, {
		name: "a dependent that drops its reference enqueues its waiting owner",
		setup: func(g *graph) {
			g.observe(rss, rs("o", FinalizerForeground))
			g.observe(pods, owned("p1", true, "o"))
		},
		change: func(g *graph) { g.observe(pods, owned("p1", true)) },
		want:   []string{"o"}, nodes: 2,
	}, {
		name:   "a virtual owner no longer referenced is dropped",
		setup:  func(g *graph) { g.observe(pods, owned("p1", true, "o")) },
		change: func(g *graph) { g.observe(pods, owned("p1", true)) },
		nodes:  1,
	}, {
		name:   "a virtual owner confirmed absent enqueues its dependents",
		setup:  func(g *graph) { g.observe(pods, owned("p1", true, "o")) },
		change: func(g *graph) { g.removeVirtual("o") },
		want:   []string{"p1"}, nodes: 1,
	}, {
		name: "an owner seen meanwhile is not removed as virtual",
		setup: func(g *graph) {
			g.observe(pods, owned("p1", true, "o"))
			g.observe(rss, rs("o"))
		},
		change: func(g *graph) { g.removeVirtual("o") },
		nodes:  2,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			record := false
			g := newGraph(func(uid string) {
				if record {
					got = append(got, uid)
				}
			})
			if tc.setup != nil {
				tc.setup(g)
			}
			record = true
			tc.change(g)
			sort.Strings(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("enqueued %q, want %q", got, tc.want)
			}
			if n := g.len(); n != tc.nodes {
				t.Errorf("graph holds %d nodes, want %d", n, tc.nodes)
			}
		})
	}
}

func TestGraphView(t *testing.T) {
	g := newGraph(func(string) {})
	g.observe(scheme.ReplicaSets, rs("o", FinalizerForeground))
	g.observe(scheme.Pods, owned("p1", true, "o"))
	g.observe(scheme.Pods, owned("p2", false, "o"))
	v, ok := g.view("o")
	if !ok || !v.observed || !v.deleting || !v.hasFinalizer(FinalizerForeground) {
		t.Fatalf("view of o = %+v, %v", v, ok)
	}
	blocking := map[string]bool{}
	for _, d := range v.dependents {
		blocking[d.ref.uid] = d.blocking
	}
	if want := map[string]bool{"p1": true, "p2": false}; !maps.Equal(blocking, want) {
		t.Errorf("dependents' blocking = %v, want %v", blocking, want)
	}
	if s := g.owner("o"); s != ownerWaiting {
		t.Errorf("owner(o) = %v, want ownerWaiting", s)
	}
	if s := g.owner("p1"); s != ownerPresent {
		t.Errorf("owner(p1) = %v, want ownerPresent", s)
	}
	if s := g.owner("nope"); s != ownerUnknown {
		t.Errorf("owner(nope) = %v, want ownerUnknown", s)
	}
}

func TestVirtualRef(t *testing.T) {
	tests := []struct {
		apiVersion, kind, ns string
		wantNS               string
		served               bool
	}{
		{"apps/v1", "ReplicaSet", "default", "default", true},
		{"v1", "Node", "kube-node-lease", "", true},
		{"example.com/v1", "Widget", "default", "default", false},
		{"apps/v2", "ReplicaSet", "default", "default", false},
	}
	for _, tc := range tests {
		r := virtualRef(&metav1.OwnerReference{ApiVersion: tc.apiVersion, Kind: tc.kind, Name: "n", Uid: "u"}, tc.ns)
		if r.namespace != tc.wantNS || (r.res != nil) != tc.served {
			t.Errorf("virtualRef(%s %s in %q) = namespace %q, served %v; want %q, %v", tc.apiVersion, tc.kind, tc.ns, r.namespace, r.res != nil, tc.wantNS, tc.served)
		}
	}
}
