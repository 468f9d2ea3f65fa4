package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	kcorev1 "k8s.io/api/core/v1"

	"github.com/berth-dev/berth/pkg/kubejson"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// TestRESTBenchmark runs the REST benchmark at a tiny size against real servers and checks its
// results and its report.
func TestRESTBenchmark(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, the apiserver and the gateway")
	}
	cfg := config{
		clients:    []int{1, 2, 64},
		timing:     timing{warmup: 20 * time.Millisecond, measure: 150 * time.Millisecond},
		listSizes:  []int{10, 20},
		fanout:     fanoutConfig{watchers: 6, conns: 2, rate: 50, duration: time.Second},
		profileDir: t.TempDir(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	selected, err := selectBenchmarks("^rest$")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := runBenchmarks(ctx, cfg, selected)
	if err != nil {
		t.Fatal(err)
	}
	res := rep.rest
	if res == nil {
		t.Fatalf("no REST result (failures: %+v)", rep.failed)
	}
	// get, list and create at 1 and 2 clients (64 is over the REST benchmark's 16).
	if len(res.rows) != 3*2 {
		t.Fatalf("%d rows, want 6: %+v", len(res.rows), res.rows)
	}
	for _, row := range res.rows {
		if row.rest.ops == 0 || row.grpc.ops == 0 || row.rest.bytes == 0 {
			t.Errorf("%s at %d clients: %d REST and %d gRPC operations, %d REST bytes", row.op, row.clients, row.rest.ops, row.grpc.ops, row.rest.bytes)
		}
	}
	if res.listBytes < 20*1000 {
		t.Errorf("the JSON list of 20 Pods is %d bytes", res.listBytes)
	}
	f := res.watch
	if f == nil {
		t.Fatal("no HTTP watch result")
	}
	if f.expected != 6*50 || f.delivered != f.expected || f.dropped != 0 || f.incomplete != 0 {
		t.Errorf("HTTP watch: %d of %d events, %d dropped, %d incomplete (%v)", f.delivered, f.expected, f.dropped, f.incomplete, f.dropErr)
	}
	if f.fromSend.p50 <= 0 || f.fromSend.max < f.fromSend.p99 || f.fromAck.p99 > f.fromSend.p99 {
		t.Errorf("HTTP watch latencies: from send %+v, from ack %+v", f.fromSend, f.fromAck)
	}
	for _, name := range []string{"rest", "rest-watch"} {
		p := rep.profileNamed(name)
		if p == nil || p.total <= 0 || p.roles[roleServer] <= 0 {
			t.Errorf("profile %s: %+v", name, p)
		}
		if _, err := os.Stat(filepath.Join(cfg.profileDir, name+".pprof")); err != nil {
			t.Errorf("profile %s not kept: %v", name, err)
		}
	}
	md := string(rep.markdown())
	for _, want := range []string{"## REST gateway against gRPC", "### Watch over HTTP", "Pod list 20 through REST within 1.5× of gRPC"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report has no %q", want)
		}
	}
	if strings.Contains(md, "%!") {
		t.Errorf("report:\n%s", md)
	}
}

func TestRESTConfigFor(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		want restConfig
	}{
		{"full", defaultConfig(false), restConfig{clients: []int{1, 16}, listSize: 1000, watchers: 500, rate: 200, duration: 15 * time.Second}},
		{"quick", defaultConfig(true), restConfig{clients: []int{1, 16}, listSize: 1000, watchers: 100, rate: 200, duration: 5 * time.Second}},
		{"tiny", config{clients: []int{1, 2}, listSizes: []int{10, 20}, fanout: fanoutConfig{watchers: 6, rate: 50, duration: time.Second}},
			restConfig{clients: []int{1, 2}, listSize: 20, watchers: 6, rate: 50, duration: time.Second}},
	}
	for _, tt := range tests {
		got := restConfigFor(tt.cfg)
		if !slices.Equal(got.clients, tt.want.clients) || got.listSize != tt.want.listSize || got.watchers != tt.want.watchers ||
			got.rate != tt.want.rate || got.duration != tt.want.duration {
			t.Errorf("%s: restConfigFor = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestStatsMerge(t *testing.T) {
	a := stats{ops: 2, elapsed: time.Second, lat: []time.Duration{1, 5}, bytes: 10}
	b := stats{ops: 3, elapsed: 2 * time.Second, lat: []time.Duration{2, 3, 9}, bytes: 20}
	m := (stats{}).merge(a).merge(b)
	if m.ops != 5 || m.elapsed != 3*time.Second || m.bytes != 30 || m.rate() != 5.0/3 {
		t.Errorf("merged %+v", m)
	}
	if got := fmtDurs(m.lat); got != "1 2 3 5 9" {
		t.Errorf("merged latencies %s, want them sorted", got)
	}
	if got := fmtDurs(a.lat); got != "1 5" {
		t.Errorf("merge changed its receiver's latencies: %s", got)
	}
}

func fmtDurs(d []time.Duration) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = strings.TrimSuffix(v.String(), "ns")
	}
	return strings.Join(s, " ")
}

// The framed scan of the gateway's lines reads what the whole scan reads.
func TestScanFramedEvent(t *testing.T) {
	for i, annotations := range []map[string]string{
		{sentAnnotation: "1"},
		{"a": `quote " and brace } and "type":"X"}`, sentAnnotation: "22", "z": "<&>"},
		{"before": "},\"type\":\"ADDED\"}", sentAnnotation: "333"},
	} {
		pod := newPod("ns", fmt.Sprintf("fanout-%d", i))
		pod.Metadata.Annotations = annotations
		for _, typ := range []string{"ADDED", "MODIFIED", "DELETED"} {
			line, err := kubejson.MarshalWatchEvent(typ, pod)
			if err != nil {
				t.Fatal(err)
			}
			line = append(line, '\n')
			framed, ok := scanFramedEvent(line)
			if !ok {
				t.Fatalf("not framed: %s", line)
			}
			whole, err := scanWholeEvent(line)
			if err != nil {
				t.Fatal(err)
			}
			if string(framed.typ) != string(whole.typ) || string(framed.name) != string(whole.name) || string(framed.sent) != string(whole.sent) {
				t.Errorf("framed %q %q %q, whole %q %q %q", framed.typ, framed.name, framed.sent, whole.typ, whole.name, whole.sent)
			}
			if string(framed.typ) != typ || string(framed.sent) != annotations[sentAnnotation] {
				t.Errorf("read %q %q from %s", framed.typ, framed.sent, line)
			}
		}
	}
	for _, line := range []string{`{"type":"ADDED","object":{}}`, `{"object":{},"type":"added"}`, `{"object":{"metadata":5},"type":"ADDED"}`, `{"object":{`} {
		if _, ok := scanFramedEvent([]byte(line)); ok {
			t.Errorf("%s read as framed", line)
		}
	}
}

// The create bodies are the template Pod under the name asked for, as Kubernetes' Pod.
func TestCreateBodies(t *testing.T) {
	c, err := newCreateBodies("ns")
	if err != nil {
		t.Fatal(err)
	}
	var p kcorev1.Pod
	dec := json.NewDecoder(strings.NewReader(string(c.rest("rest-r3-w1-7"))))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "rest-r3-w1-7" || p.Namespace != "ns" || p.Kind != "Pod" || len(p.Spec.Containers) != 1 {
		t.Errorf("decoded %s/%s kind %q with %d containers", p.Namespace, p.Name, p.Kind, len(p.Spec.Containers))
	}
}

func TestScanJSONPodEvent(t *testing.T) {
	pod := newPod("ns", "fanout-12")
	pod.Metadata.Annotations[sentAnnotation] = "1700000000000000000"
	line, err := kubejson.MarshalWatchEvent("ADDED", pod)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, line         string
		typ, podName, sent string
		wantErr            bool
	}{
		{name: "kubejson's event", line: string(line) + "\n", typ: "ADDED", podName: "fanout-12", sent: "1700000000000000000"},
		{name: "keys in another order, spaces", line: ` { "type" : "MODIFIED" , "object" : { "spec" : { "x" : [ 1 , { "name" : "no" } ] } , "metadata" : { "name" : "p-3" , "annotations" : { "a" : "b" , "` + sentAnnotation + `" : "42" } } } } `,
			typ: "MODIFIED", podName: "p-3", sent: "42"},
		{name: "escaped quotes are skipped", line: `{"object":{"metadata":{"labels":{"k":"a\"b\\\\"},"name":"n-1"}},"type":"DELETED"}`, typ: "DELETED", podName: "n-1"},
		{name: "bookmark", line: `{"object":{"kind":"Pod","metadata":{"resourceVersion":"9"}},"type":"BOOKMARK"}`, typ: "BOOKMARK"},
		{name: "error status", line: `{"object":{"kind":"Status","code":410,"details":null,"ok":true},"type":"ERROR"}`, typ: "ERROR"},
		{name: "empty", line: ``, wantErr: true},
		{name: "not an object", line: `["type"]`, wantErr: true},
		{name: "truncated", line: `{"object":{"metadata":{"name":"x"`, wantErr: true},
		{name: "unterminated string", line: `{"type":"ADD`, wantErr: true},
		{name: "trailing data", line: `{"type":"ADDED"} {}`, wantErr: true},
		{name: "name not a string", line: `{"object":{"metadata":{"name":5}},"type":"ADDED"}`, wantErr: true},
		{name: "stray bracket", line: `{"object":]}`, wantErr: true},
	}
	for _, tt := range tests {
		ev, err := scanJSONPodEvent([]byte(tt.line))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v", tt.name, err)
			continue
		}
		if string(ev.typ) != tt.typ || string(ev.name) != tt.podName || string(ev.sent) != tt.sent {
			t.Errorf("%s: got type %q name %q sent %q", tt.name, ev.typ, ev.name, ev.sent)
		}
	}
}

// FuzzScanJSONPodEvent checks the scanner against encoding/json on any input: what the whole
// scan reads from a valid event is what encoding/json reads, and nothing makes either scan
// panic.
func FuzzScanJSONPodEvent(f *testing.F) {
	pod := newPod("ns", "fanout-1")
	pod.Metadata.Annotations[sentAnnotation] = "17"
	line, err := kubejson.Marshal(&corev1.PodWatchEvent{Type: "ADDED", Object: pod})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(line), `{"type":"X"}`, `{"object":{"metadata":{"name":"a\"b"}}}`, `{`, `[]`, `{"a":[{},[],"",1e5,true,null]}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = scanJSONPodEvent(data) // never panics
		ev, err := scanWholeEvent(data)
		var doc map[string]any
		if err != nil || !utf8.Valid(data) || json.Unmarshal(data, &doc) != nil {
			return
		}
		// Both read it: they agree, on strings without escapes (the scanner leaves them).
		check := func(what string, got []byte, want any) {
			s, ok := want.(string)
			if !ok || strings.Contains(string(got), `\`) {
				return
			}
			if string(got) != s {
				t.Errorf("%s %q, encoding/json %q", what, got, s)
			}
		}
		check("type", ev.typ, doc["type"])
		obj, _ := doc["object"].(map[string]any)
		md, _ := obj["metadata"].(map[string]any)
		check("name", ev.name, md["name"])
		ann, _ := md["annotations"].(map[string]any)
		check("sent", ev.sent, ann[sentAnnotation])
	})
}
