package main

import (
	"bytes"
	"context"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"
)

// spun keeps spin's work observable.
var spun int

// spin burns d of the process's CPU time (however busy the machine is); it is what the profile
// test looks for.
//
//go:noinline
func spin(d time.Duration) {
	start, err := readUsage()
	if err != nil {
		panic(err)
	}
	n := 0
	for {
		for i := range 1000000 {
			n += i * i
		}
		if u, err := readUsage(); err != nil || u.cpu-start.cpu >= d {
			break
		}
	}
	spun += n
}

func TestParseProfileReadsStacksAndLabels(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("CPU profiling unavailable: %v", err)
	}
	pprof.Do(context.Background(), pprof.Labels(roleLabel, roleClients), func(context.Context) { spin(300 * time.Millisecond) })
	pprof.StopCPUProfile()

	samples, err := parseProfile(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var inSpin, labelled time.Duration
	for _, s := range samples {
		if s.cpu <= 0 {
			t.Errorf("sample of %d ns", s.cpu)
		}
		if slices.ContainsFunc(s.stack, func(f string) bool { return strings.HasSuffix(f, "bench.spin") || f == "main.spin" }) {
			inSpin += time.Duration(s.cpu)
			if s.labels[roleLabel] == roleClients {
				labelled += time.Duration(s.cpu)
			}
		}
	}
	if inSpin < 100*time.Millisecond {
		t.Fatalf("found %v of CPU in spin, want most of 300ms (samples: %d)", inSpin, len(samples))
	}
	if labelled != inSpin {
		t.Errorf("%v of spin's %v carries the label", labelled, inSpin)
	}
}

func TestParseProfileRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{{0x1f, 0x8b, 0x00}, {0x12, 0x7f}, {0xff, 0xff}} {
		if _, err := parseProfile(b); err == nil {
			t.Errorf("parseProfile(%x) succeeded", b)
		}
	}
}

// FuzzParseProfile checks that no input makes the decoder panic or loop.
func FuzzParseProfile(f *testing.F) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err == nil {
		spin(50 * time.Millisecond)
		pprof.StopCPUProfile()
		f.Add(buf.Bytes())
	}
	f.Add([]byte{})
	// One sample (locations 1, 2 packed; value 7) and a string table.
	f.Add([]byte{0x12, 0x06, 0x0a, 0x02, 0x01, 0x02, 0x10, 0x07, 0x32, 0x00, 0x32, 0x03, 'c', 'p', 'u'})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseProfile(b)
	})
}

func TestSummarizeProfile(t *testing.T) {
	const (
		handler = "github.com/berth-dev/berth/proto/berth/core/v1._PodService_Create_Handler"
		metrics = "github.com/berth-dev/berth/services/apiserver.(*metrics).unary"
		create  = "github.com/berth-dev/berth/services/apiserver/registry.(*Store[go.shape.*uint8]).Create"
		valid   = "github.com/berth-dev/berth/pkg/validation.Pod"
		marshal = "google.golang.org/protobuf/proto.MarshalOptions.marshal"
	)
	ms := int64(time.Millisecond)
	samples := []profSample{
		// Validation allocating: charged to validation, with allocation.
		{cpu: 10 * ms, stack: []string{"runtime.mallocgc", valid, create, metrics, handler}},
		// Encoding for etcd: charged to protobuf.
		{cpu: 20 * ms, stack: []string{"runtime.memmove", marshal, create, metrics, handler}},
		// The handler decoding its request: charged to protobuf, not under the interceptor.
		{cpu: 5 * ms, stack: []string{"google.golang.org/protobuf/proto.UnmarshalOptions.unmarshal", handler}},
		// etcd writing its WAL.
		{cpu: 30 * ms, stack: []string{"internal/runtime/syscall/linux.Syscall6", "syscall.Fdatasync", "go.etcd.io/etcd/client/pkg/v3/fileutil.Fdatasync", "go.etcd.io/etcd/server/v3/storage/wal.(*WAL).sync"}},
		// The clients.
		{cpu: 15 * ms, stack: []string{"google.golang.org/grpc.(*ClientConn).Invoke"}, labels: map[string]string{roleLabel: roleClients}},
		// GC workers and the idle scheduler.
		{cpu: 8 * ms, stack: []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}},
		{cpu: 2 * ms, stack: []string{"runtime.futex", "runtime.findRunnable", "runtime.schedule"}},
	}
	p := summarizeProfile("create", samples, time.Second)
	if p.total != 90*time.Millisecond {
		t.Errorf("total = %v, want 90ms", p.total)
	}
	wantRoles := map[string]time.Duration{roleServer: 65 * time.Millisecond, roleClient: 15 * time.Millisecond, roleRuntime: 10 * time.Millisecond}
	for role, want := range wantRoles {
		if p.roles[role] != want {
			t.Errorf("role %q = %v, want %v", role, p.roles[role], want)
		}
	}
	comps := map[string]share{}
	for _, c := range p.components {
		comps[c.name] = c
	}
	for name, want := range map[string]share{
		"protobuf encoding and cloning":        {cpu: 25 * time.Millisecond},
		"etcd server (raft, WAL, MVCC, bbolt)": {cpu: 30 * time.Millisecond, syscall: 30 * time.Millisecond},
		"Berth validation":                     {cpu: 10 * time.Millisecond, alloc: 10 * time.Millisecond},
	} {
		got := comps[name]
		if got.cpu != want.cpu || got.syscall != want.syscall || got.alloc != want.alloc {
			t.Errorf("component %q = %+v, want %+v", name, got, want)
		}
	}
	if p.components[0].name != "etcd server (raft, WAL, MVCC, bbolt)" {
		t.Errorf("largest component is %q", p.components[0].name)
	}
	// The interceptor passes all its time to the store, so only the store is listed; the
	// handler also decodes, so it stays.
	var names []string
	for _, s := range p.berth {
		names = append(names, s.name)
	}
	for _, want := range []string{"registry.(*Store[…]).Create", "validation.Pod", "v1._PodService_Create_Handler"} {
		if !slices.Contains(names, want) {
			t.Errorf("cumulative Berth functions %q lack %q", names, want)
		}
	}
	if slices.Contains(names, "apiserver.(*metrics).unary") {
		t.Errorf("the pass-through interceptor is listed: %q", names)
	}
	if got := p.protobuf["encode"]; got != 20*time.Millisecond {
		t.Errorf("protobuf encoding = %v, want 20ms", got)
	}
	if got := p.protobufLine(); got != "encode 22%, decode 5.6%" {
		t.Errorf("protobufLine = %q", got)
	}
	if got := p.berthNamed("apiserver.(*metrics).unary"); got != 30*time.Millisecond {
		t.Errorf("berthNamed(interceptor) = %v, want 30ms", got)
	}
}

func TestShortName(t *testing.T) {
	tests := map[string]string{
		"github.com/berth-dev/berth/services/apiserver/registry.(*Store[go.shape.*uint8]).Create":                             "registry.(*Store[…]).Create",
		"github.com/berth-dev/berth/services/apiserver.resourceServer[go.shape.*uint8,go.shape.struct { a/b.c \"x\" }].Watch": "apiserver.resourceServer[…].Watch",
		"runtime.mallocgc":                                                "runtime.mallocgc",
		"internal/runtime/syscall/linux.Syscall6":                         "linux.Syscall6",
		"google.golang.org/protobuf/internal/impl.(*MessageInfo).marshal": "impl.(*MessageInfo).marshal",
	}
	for in, want := range tests {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsStdlib(t *testing.T) {
	tests := map[string]bool{
		"runtime.mallocgc":                          true,
		"internal/poll.(*FD).Write":                 true,
		"net/http.(*conn).serve":                    true,
		"main.main":                                 false,
		"google.golang.org/grpc.(*Server).Serve":    false,
		"go.etcd.io/bbolt.(*Tx).Commit":             false,
		"github.com/berth-dev/berth/pkg/scheme.New": false,
	}
	for fn, want := range tests {
		if got := isStdlib(fn); got != want {
			t.Errorf("isStdlib(%q) = %v, want %v", fn, got, want)
		}
	}
}
