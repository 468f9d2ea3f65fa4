package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	kcorev1 "k8s.io/api/core/v1"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/services/apiserver/apiservertest"
)

const podsPath = "/api/v1/namespaces/default/pods"

func podJSON(name string, labels ...string) string {
	l := ""
	for i := 0; i+1 < len(labels); i += 2 {
		if l != "" {
			l += ","
		}
		l += fmt.Sprintf("%q:%q", labels[i], labels[i+1])
	}
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","labels":{` + l + `}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`
}

func (e *env) createPod(t *testing.T, name string, labels ...string) kcorev1.Pod {
	t.Helper()
	r := e.post(t, podsPath, podJSON(name, labels...))
	if r.code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, r.code, r.body)
	}
	var p kcorev1.Pod
	strict(t, r.body, &p)
	return p
}

func podEvent(t *testing.T, s *stream) (string, kcorev1.Pod) {
	t.Helper()
	ev := s.nextEvent(t)
	var p kcorev1.Pod
	strict(t, ev.Object, &p)
	return ev.Type, p
}

func TestWatchStreamsEachEvent(t *testing.T) {
	e := start(t)
	s := e.watch(t, podsPath+"?watch=true&labelSelector=app%3Dw")
	if ct := s.resp.Header.Get("Content-Type"); s.resp.StatusCode != http.StatusOK || ct != "application/json" {
		t.Fatalf("watch answered %d %q", s.resp.StatusCode, ct)
	}
	if te := s.resp.TransferEncoding; len(te) != 1 || te[0] != "chunked" {
		t.Errorf("Transfer-Encoding %v", te)
	}
	// Each event arrives before the next change: the stream is flushed per event.
	for i := range 3 {
		name := fmt.Sprintf("w%d", i)
		e.createPod(t, name, "app", "w")
		typ, p := podEvent(t, s)
		if typ != "ADDED" || p.Name != name {
			t.Fatalf("event %d: %s %s", i, typ, p.Name)
		}
	}
	e.createPod(t, "other", "app", "other")
	if r := e.do(t, http.MethodDelete, podsPath+"/w0", "application/json", `{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0}`); r.code != http.StatusOK {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if typ, p := podEvent(t, s); typ != "DELETED" || p.Name != "w0" {
		t.Fatalf("after delete: %s %s", typ, p.Name)
	}
}

// TestWatchResumes follows a client that loses its watch and comes back with the last
// resourceVersion it saw: it gets exactly what it missed.
func TestWatchResumes(t *testing.T) {
	e := start(t)
	first := e.createPod(t, "r0")
	s := e.watch(t, podsPath+"?watch=1&resourceVersion="+first.ResourceVersion)
	e.createPod(t, "r1")
	_, p := podEvent(t, s)
	if p.Name != "r1" {
		t.Fatalf("got %s", p.Name)
	}
	last := p.ResourceVersion
	s.resp.Body.Close()
	// Missed while disconnected.
	e.createPod(t, "r2")
	e.createPod(t, "r3")
	s = e.watch(t, podsPath+"?watch=1&resourceVersion="+last)
	for _, want := range []string{"r2", "r3"} {
		if typ, p := podEvent(t, s); typ != "ADDED" || p.Name != want {
			t.Fatalf("resumed: %s %s, want ADDED %s", typ, p.Name, want)
		}
	}
	e.createPod(t, "r4")
	if _, p := podEvent(t, s); p.Name != "r4" {
		t.Fatalf("after resume: %s", p.Name)
	}
}

func TestWatchFromNowListsFirst(t *testing.T) {
	e := start(t)
	e.createPod(t, "a")
	// No resourceVersion: the current state first, as ADDED events.
	s := e.watch(t, podsPath+"?watch=true")
	if typ, p := podEvent(t, s); typ != "ADDED" || p.Name != "a" {
		t.Fatalf("%s %s", typ, p.Name)
	}
}

func TestWatchExpired(t *testing.T) {
	inst := apiservertest.StartWith(t, apiservertest.Options{CacheCapacity: 4})
	e := startAt(t, inst.Addr)
	first := e.createPod(t, "e0")
	for i := 1; i < 20; i++ {
		e.createPod(t, fmt.Sprintf("e%d", i))
	}
	s := e.watch(t, podsPath+"?watch=true&resourceVersion="+first.ResourceVersion)
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("expired watch answered %d", s.resp.StatusCode)
	}
	ev := s.nextEvent(t)
	if ev.Type != "ERROR" {
		t.Fatalf("event %s", ev.Type)
	}
	var st kmetav1.Status
	strict(t, ev.Object, &st)
	if st.Code != http.StatusGone || st.Reason != kmetav1.StatusReasonExpired || st.Kind != "Status" {
		t.Errorf("status %+v", st)
	}
	if l := s.next(t); l != "" {
		t.Errorf("stream goes on after the ERROR: %s", l)
	}
}

func TestWatchLegacyPath(t *testing.T) {
	e := start(t)
	s := e.watch(t, "/api/v1/watch/namespaces/default/pods/one")
	e.createPod(t, "two")
	e.createPod(t, "one")
	if typ, p := podEvent(t, s); typ != "ADDED" || p.Name != "one" {
		t.Fatalf("%s %s", typ, p.Name)
	}
	all := e.watch(t, "/api/v1/watch/pods")
	seen := map[string]bool{}
	for range 2 {
		_, p := podEvent(t, all)
		seen[p.Name] = true
	}
	if !seen["one"] || !seen["two"] {
		t.Errorf("watch of every namespace saw %v", seen)
	}
}

func TestWatchTimeout(t *testing.T) {
	e := start(t)
	start := time.Now()
	s := e.watch(t, podsPath+"?watch=true&timeoutSeconds=1")
	if l := s.next(t); l != "" {
		t.Fatalf("unexpected event %s", l)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("watch ended after %v", d)
	}
}

func TestWatchTable(t *testing.T) {
	e := start(t)
	s := e.watch(t, podsPath+"?watch=true", "Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	if ct := s.resp.Header.Get("Content-Type"); !strings.Contains(ct, "as=Table") {
		t.Errorf("Content-Type %q", ct)
	}
	e.createPod(t, "tbl")
	ev := s.nextEvent(t)
	var tbl kmetav1.Table
	strict(t, ev.Object, &tbl)
	if ev.Type != "ADDED" || tbl.Kind != "Table" || len(tbl.Rows) != 1 || len(tbl.ColumnDefinitions) == 0 || tbl.Rows[0].Cells[0] != "tbl" {
		t.Errorf("%s %s", ev.Type, ev.Object)
	}
}

func TestTables(t *testing.T) {
	e := start(t)
	e.createPod(t, "t1")
	accept := "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	for _, p := range []string{podsPath, podsPath + "/t1", "/api/v1/pods"} {
		r := e.do(t, http.MethodGet, p, "", "", "Accept", accept)
		var tbl kmetav1.Table
		strict(t, r.body, &tbl)
		if r.code != http.StatusOK || tbl.Kind != "Table" || len(tbl.Rows) != 1 || tbl.ResourceVersion == "" {
			t.Errorf("%s: %d %s", p, r.code, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json;as=Table;v=v1;g=meta.k8s.io" {
			t.Errorf("%s: Content-Type %q", p, ct)
		}
	}
	// A client that prefers protobuf gets JSON, never a 406.
	r := e.do(t, http.MethodGet, podsPath, "", "", "Accept", "application/vnd.kubernetes.protobuf,application/json")
	var list kcorev1.PodList
	strict(t, r.body, &list)
	if r.code != http.StatusOK || len(list.Items) != 1 {
		t.Errorf("protobuf first: %d %s", r.code, r.body)
	}
	r = e.do(t, http.MethodGet, podsPath+"/t1", "", "", "Accept", "application/vnd.kubernetes.protobuf")
	if r.code != http.StatusOK || !json.Valid(r.body) {
		t.Errorf("protobuf only: %d %s", r.code, r.body)
	}
}
