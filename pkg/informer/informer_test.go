package informer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

func dial(t *testing.T, addr string) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run runs inf until the test ends and checks that Run returns.
func run(t *testing.T, inf *Informer) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return ctx
}

// testLogger logs through t.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func waitSynced(t *testing.T, infs ...*Informer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !WaitForSync(ctx, infs...) {
		t.Fatal("informers did not sync")
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a Handler that writes down what it is told, as "add ns/name" etc.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

func (r *recorder) OnAdd(o scheme.Object) { r.add("add " + KeyOf(o)) }
func (r *recorder) OnUpdate(old, o scheme.Object) {
	if KeyOf(old) != KeyOf(o) {
		r.add(fmt.Sprintf("update of %s with %s", KeyOf(old), KeyOf(o)))
		return
	}
	r.add("update " + KeyOf(o))
}
func (r *recorder) OnDelete(o scheme.Object) { r.add("delete " + KeyOf(o)) }

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) has(e string) bool { return slices.Contains(r.get(), e) }

func configMap(ns, name, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"v": value}}
}

// state is what the apiserver holds: key → data value.
func state(t *testing.T, c *client.Client) map[string]string {
	t.Helper()
	items, _, err := c.Resource(scheme.ConfigMaps).ListAll(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range items {
		out[KeyOf(o)] = o.(*corev1.ConfigMap).Data["v"]
	}
	return out
}

func cached(inf *Informer) map[string]string {
	out := map[string]string{}
	for _, o := range inf.Store().List() {
		out[KeyOf(o)] = o.(*corev1.ConfigMap).Data["v"]
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestListsPagesThenWatches(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := context.Background()
	cms := c.Resource(scheme.ConfigMaps)
	for i := range 23 {
		ns := []string{"default", "kube-system"}[i%2]
		if _, err := cms.Create(ctx, configMap(ns, fmt.Sprintf("cm-%02d", i), "0")); err != nil {
			t.Fatal(err)
		}
	}
	inf := New(c, scheme.ConfigMaps, Options{PageSize: 5, Logger: testLogger(t)})
	rec := &recorder{}
	inf.AddHandler(rec)
	if inf.HasSynced() {
		t.Fatal("HasSynced before Run")
	}
	run(t, inf)
	waitSynced(t, inf)

	if got := len(rec.get()); got != 23 {
		t.Fatalf("first list: %d events, want 23 adds: %v", got, rec.get())
	}
	if !equalMaps(cached(inf), state(t, c)) {
		t.Fatalf("cache %v differs from the server %v", cached(inf), state(t, c))
	}
	lister := NewLister[*corev1.ConfigMap](inf)
	if got := len(lister.ByNamespace("default")); got != 12 {
		t.Errorf("ByNamespace(default) = %d objects, want 12", got)
	}
	if got, ok := lister.Get("kube-system", "cm-01"); !ok || got.GetData()["v"] != "0" {
		t.Errorf("Get(kube-system/cm-01) = %v, %v", got, ok)
	}

	// Changes after the list arrive through the watch, in order.
	rec.mu.Lock()
	rec.events = nil
	rec.mu.Unlock()
	created, err := cms.Create(ctx, configMap("default", "new", "1"))
	if err != nil {
		t.Fatal(err)
	}
	upd := proto.Clone(created).(*corev1.ConfigMap)
	upd.Data["v"] = "2"
	if _, err := cms.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "cm-00"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"add default/new", "update default/new", "delete default/cm-00"}
	eventually(t, "the watch events", func() bool { return len(rec.get()) >= len(want) })
	if got := rec.get(); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if got, _ := lister.Get("default", "new"); got.GetData()["v"] != "2" {
		t.Errorf("cached default/new = %v, want v=2", got)
	}
	if inf.lists.Load() != 1 {
		t.Errorf("%d lists, want 1", inf.lists.Load())
	}
}

// TestRelistsWhenWatchExpires holds the informer between its list and its watch while more
// changes happen than the apiserver's watch cache (16 events) keeps: the watch from the
// list's resourceVersion is refused as expired, and the informer lists again and reports the
// difference.
func TestRelistsWhenWatchExpires(t *testing.T) {
	srv := apiservertest.StartWith(t, apiservertest.Options{CacheCapacity: 16})
	c := dial(t, srv.Addr)
	ctx := context.Background()
	cms := c.Resource(scheme.ConfigMaps)
	for _, name := range []string{"keep", "change", "drop"} {
		if _, err := cms.Create(ctx, configMap("default", name, "0")); err != nil {
			t.Fatal(err)
		}
	}
	inf := New(c, scheme.ConfigMaps, Options{Logger: testLogger(t)})
	rec := &recorder{}
	inf.AddHandler(rec)
	hold, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	inf.beforeWatch = func(ctx context.Context) {
		once.Do(func() {
			close(hold)
			select {
			case <-release:
			case <-ctx.Done():
			}
		})
	}
	run(t, inf)
	<-hold
	for i := range 40 {
		cur, err := cms.Get(ctx, "default", "change")
		if err != nil {
			t.Fatal(err)
		}
		cur.(*corev1.ConfigMap).Data["v"] = fmt.Sprint(i + 1)
		if _, err := cms.Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cms.Delete(ctx, &metav1.DeleteRequest{Namespace: "default", Name: "drop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, configMap("default", "added", "x")); err != nil {
		t.Fatal(err)
	}
	close(release)

	want := state(t, c)
	eventually(t, "the cache to catch up", func() bool { return equalMaps(cached(inf), want) })
	if n := inf.lists.Load(); n != 2 {
		t.Errorf("%d lists, want 2 (the first, and one after the watch expired)", n)
	}
	for _, e := range []string{"update default/change", "delete default/drop", "add default/added"} {
		if !rec.has(e) {
			t.Errorf("handler was not told %q; got %v", e, rec.get())
		}
	}
	if rec.has("update default/keep") {
		t.Error("the re-list reported an unchanged object as updated")
	}
	// And the watch after the re-list works.
	if _, err := cms.Create(ctx, configMap("default", "after", "y")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an event after the re-list", func() bool { return rec.has("add default/after") })
}

// TestResumesWhenWatchEnds lets the server end each watch after a second: the informer
// watches again from where it was, without listing again, and misses nothing.
func TestResumesWhenWatchEnds(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := context.Background()
	inf := New(c, scheme.ConfigMaps, Options{Logger: testLogger(t)})
	inf.watchTimeout = func() time.Duration { return time.Second }
	var watches sync.WaitGroup
	watches.Add(3)
	var n int
	var mu sync.Mutex
	inf.beforeWatch = func(context.Context) {
		mu.Lock()
		defer mu.Unlock()
		if n++; n <= 3 {
			watches.Done()
		}
	}
	rec := &recorder{}
	inf.AddHandler(rec)
	run(t, inf)
	waitSynced(t, inf)
	if _, err := c.Resource(scheme.ConfigMaps).Create(ctx, configMap("default", "one", "1")); err != nil {
		t.Fatal(err)
	}
	watches.Wait() // two watches ended and a third started
	if _, err := c.Resource(scheme.ConfigMaps).Create(ctx, configMap("default", "two", "2")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both adds", func() bool { return rec.has("add default/one") && rec.has("add default/two") })
	if n := inf.lists.Load(); n != 1 {
		t.Errorf("%d lists, want 1: a watch that ends cleanly is resumed, not re-listed", n)
	}
	if got := rec.get(); len(got) != 2 {
		t.Errorf("events %v, want exactly the two adds", got)
	}
}

func TestAddHandlerLateReplaysTheCache(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	if _, err := c.Resource(scheme.ConfigMaps).Create(context.Background(), configMap("default", "x", "1")); err != nil {
		t.Fatal(err)
	}
	inf := New(c, scheme.ConfigMaps, Options{Logger: testLogger(t)})
	run(t, inf)
	waitSynced(t, inf)
	rec := &recorder{}
	inf.AddHandler(rec)
	if got := rec.get(); !slices.Equal(got, []string{"add default/x"}) {
		t.Errorf("late handler got %v, want the cached object as an add", got)
	}
}

func TestSelectorsAndNamespace(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := context.Background()
	cms := c.Resource(scheme.ConfigMaps)
	for _, o := range []*corev1.ConfigMap{
		configMap("default", "a", "1"), configMap("default", "b", "1"), configMap("kube-system", "a", "1"),
	} {
		if o.Metadata.Name == "a" {
			o.Metadata.Labels = map[string]string{"app": "web"}
		}
		if _, err := cms.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		opts Options
		want []string
	}{
		{Options{}, []string{"default/a", "default/b", "kube-system/a"}},
		{Options{Namespace: "default"}, []string{"default/a", "default/b"}},
		{Options{LabelSelector: "app=web"}, []string{"default/a", "kube-system/a"}},
		{Options{FieldSelector: "metadata.name=b"}, []string{"default/b"}},
	}
	for _, tt := range tests {
		inf := New(c, scheme.ConfigMaps, tt.opts)
		run(t, inf)
		waitSynced(t, inf)
		got := inf.Store().Keys()
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: cached %v, want %v", tt.opts, got, tt.want)
		}
	}
}

func TestFactorySharesInformers(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	f := NewFactory(c, Options{Logger: testLogger(t)})
	pods, nss := f.For(scheme.Pods), f.For(scheme.Namespaces)
	if f.For(scheme.Pods) != pods {
		t.Fatal("For returned a second informer for the same resource")
	}
	if pods.Store().HasIndex(IndexNamespace) == false || nss.Store().HasIndex(IndexNamespace) {
		t.Error("the namespace index belongs to namespaced resources only")
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx)
	f.Start(ctx) // starts nothing twice (a second Run would fail and be reported below)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if !f.WaitForSync(wctx) {
		t.Fatal("factory did not sync")
	}
	names := NewLister[*corev1.Namespace](nss)
	if _, ok := names.Get("", "kube-system"); !ok {
		t.Error("namespace kube-system not in the cache")
	}
	if got := names.ByNamespace("default"); got != nil {
		t.Errorf("ByNamespace of a cluster-scoped resource = %v, want nil", got)
	}
	// An informer asked for after Start runs on the next Start.
	svcs := f.For(scheme.Services)
	f.Start(ctx)
	if !WaitForSync(wctx, svcs) {
		t.Fatal("late informer did not sync")
	}
	if err := pods.Run(ctx); err == nil {
		t.Error("a second Run of a running informer did not fail")
	}
	cancel()
	f.Wait()
}

func TestNewListerChecksTheType(t *testing.T) {
	c := dial(t, "127.0.0.1:1") // never used
	defer func() {
		if recover() == nil {
			t.Error("NewLister of the wrong type did not panic")
		}
	}()
	NewLister[*corev1.Pod](New(c, scheme.ConfigMaps, Options{}))
}

// TestUnpagedList: a negative PageSize lists in one call (from the apiserver's watch cache).
func TestUnpagedList(t *testing.T) {
	c := dial(t, apiservertest.Start(t))
	ctx := context.Background()
	for i := range 7 {
		if _, err := c.Resource(scheme.ConfigMaps).Create(ctx, configMap("default", fmt.Sprintf("cm-%d", i), "0")); err != nil {
			t.Fatal(err)
		}
	}
	inf := New(c, scheme.ConfigMaps, Options{PageSize: -1, Namespace: "default", Logger: testLogger(t)})
	run(t, inf)
	waitSynced(t, inf)
	if !equalMaps(cached(inf), state(t, c)) {
		t.Fatalf("cache %v differs from the server %v", cached(inf), state(t, c))
	}
}
