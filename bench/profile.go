package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// The load generators run under the profiler label role=clients (set in main); the servers'
// goroutines carry no label. That tells the servers' CPU from the clients' in one process.
const (
	roleLabel   = "role"
	roleClients = "clients"
)

// Roles a CPU sample is charged to.
const (
	roleServer  = "apiserver and etcd"
	roleClient  = "benchmark clients"
	roleRuntime = "Go runtime, shared (GC workers, scheduler)"
)

// profileSummary says where the CPU time of a profiled run went.
type profileSummary struct {
	name string
	path string
	// wall is the run's duration; total the CPU time sampled during it.
	wall, total time.Duration
	roles       map[string]time.Duration
	// components split the servers' CPU by the code that spent it.
	components []share
	// berth is the cumulative CPU of the servers' Berth functions: each function with
	// everything it calls.
	berth []share
	// berthAll is the cumulative CPU of every Berth function, wrappers included.
	berthAll []share
	// protobuf is the servers' cumulative CPU in protobuf's entry points, by protobufCalls.
	protobuf map[string]time.Duration
	// flat is the CPU of the servers' hottest functions, themselves only.
	flat []share
	// samples and segments are what the summary was made of: the samples of segments profiles.
	samples  []profSample
	segments int
}

// share is the CPU time charged to something; for components, syscall and alloc are the parts
// spent in system calls and in memory allocation.
type share struct {
	name                string
	cpu, syscall, alloc time.Duration
}

// profile CPU-profiles the process while fn runs, keeps the profile as <name>.pprof in the
// profile directory and adds its summary to the report. Profiling a name again adds a segment:
// its samples join the summary, and its profile is kept as <name>-<n>.pprof.
func (r *runner) profile(name string, fn func() error) error {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return fmt.Errorf("start CPU profile: %w", err)
	}
	start := time.Now()
	err := fn()
	pprof.StopCPUProfile()
	wall := time.Since(start)
	if err != nil {
		return err
	}
	samples, err := parseProfile(buf.Bytes())
	if err != nil {
		return err
	}
	prev := r.rep.profileNamed(name)
	segment := 1
	if prev != nil {
		samples, wall, segment = append(prev.samples, samples...), wall+prev.wall, prev.segments+1
	}
	sum := summarizeProfile(name, samples, wall)
	sum.samples, sum.segments = samples, segment
	if err := os.MkdirAll(r.cfg.profileDir, 0o755); err != nil {
		return fmt.Errorf("keep profile: %w", err)
	}
	var file string
	file, sum.path = name+".pprof", filepath.Join(r.cfg.profileDir, name+".pprof")
	if segment > 1 {
		file, sum.path = fmt.Sprintf("%s-%d.pprof", name, segment), filepath.Join(r.cfg.profileDir, name+"*.pprof")
	}
	if err := os.WriteFile(filepath.Join(r.cfg.profileDir, file), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("keep profile: %w", err)
	}
	if i := slices.Index(r.rep.profiles, prev); prev != nil && i >= 0 {
		r.rep.profiles[i] = sum
	} else {
		r.rep.profiles = append(r.rep.profiles, sum)
	}
	return nil
}

// components name the code that spends CPU, by the prefix of its functions' names. A sample is
// charged to the first function from its leaf that is not in Go's standard library, so that
// time in the runtime, in allocation or in system calls goes to the code that asked for it.
var components = []struct{ prefix, name string }{
	{"github.com/berth-dev/berth/services/apiserver", "Berth apiserver (registry, watch cache, gRPC adapter)"},
	{"github.com/berth-dev/berth/pkg/validation", "Berth validation"},
	{"github.com/berth-dev/berth/pkg/defaults", "Berth defaulting"},
	{"github.com/berth-dev/berth/services/scheduler", "Berth scheduler"},
	{"github.com/berth-dev/berth/", "Berth, other packages"},
	{"go.etcd.io/etcd/server/", "etcd server (raft, WAL, MVCC, bbolt)"},
	{"go.etcd.io/raft/", "etcd server (raft, WAL, MVCC, bbolt)"},
	{"go.etcd.io/bbolt", "etcd server (raft, WAL, MVCC, bbolt)"},
	{"go.etcd.io/etcd/pkg/", "etcd server (raft, WAL, MVCC, bbolt)"},
	// The file utilities etcd's WAL syncs with live in the client module.
	{"go.etcd.io/etcd/client/pkg/", "etcd server (raft, WAL, MVCC, bbolt)"},
	{"go.etcd.io/etcd/client/", "etcd client (in-process)"},
	{"go.etcd.io/etcd/api/", "etcd API messages (gogo protobuf)"},
	{"github.com/gogo/protobuf", "etcd API messages (gogo protobuf)"},
	{"google.golang.org/grpc", "gRPC and HTTP/2, with their socket I/O"},
	{"golang.org/x/net/http2", "gRPC and HTTP/2, with their socket I/O"},
	{"google.golang.org/protobuf", "protobuf encoding and cloning"},
	{"k8s.io/", "Kubernetes apimachinery (labels, fields, quantities)"},
	{"github.com/prometheus/", "metrics"},
	{"go.uber.org/zap", "logging"},
}

// protobufCalls name protobuf's entry points by what they do, to tell encoding from decoding
// and cloning in the servers' CPU. "size" is proto.Size called on its own, as gRPC's codec does
// before it encodes a message (encoding computes the sizes of nested messages again).
var protobufCalls = []struct{ fn, what string }{
	{"google.golang.org/protobuf/proto.MarshalOptions.marshal", "encode"},
	{"google.golang.org/protobuf/proto.MarshalOptions.size", "size"},
	{"google.golang.org/protobuf/proto.UnmarshalOptions.unmarshal", "decode"},
	{"google.golang.org/protobuf/proto.Clone", "clone"},
}

// summarizeProfile charges each sample to a role and, for the servers' samples, to a component
// and to the Berth functions on its stack.
func summarizeProfile(name string, samples []profSample, wall time.Duration) *profileSummary {
	sum := &profileSummary{name: name, wall: wall, roles: map[string]time.Duration{}, protobuf: map[string]time.Duration{}}
	comps := map[string]*share{}
	berth := map[string]time.Duration{}
	// through[f][g] is the CPU of Berth function f spent in its nearest Berth callee g.
	through := map[string]map[string]time.Duration{}
	flat := map[string]time.Duration{}
	for _, s := range samples {
		cpu := time.Duration(s.cpu)
		sum.total += cpu
		role := sampleRole(s)
		sum.roles[role] += cpu
		if role != roleServer {
			continue
		}
		c := comps[sampleComponent(s.stack)]
		if c == nil {
			c = &share{name: sampleComponent(s.stack)}
			comps[c.name] = c
		}
		c.cpu += cpu
		if hasFrame(s.stack, "syscall.", "internal/runtime/syscall.", "golang.org/x/sys/unix.") {
			c.syscall += cpu
		}
		if hasFrame(s.stack, "runtime.mallocgc") {
			c.alloc += cpu
		}
		seen := map[string]bool{}
		callee := ""
		for _, f := range s.stack {
			if !strings.HasPrefix(f, "github.com/berth-dev/berth/") {
				continue
			}
			f = shortName(f)
			if !seen[f] {
				seen[f] = true
				berth[f] += cpu
				if callee != "" {
					if through[f] == nil {
						through[f] = map[string]time.Duration{}
					}
					through[f][callee] += cpu
				}
			}
			callee = f
		}
		if len(s.stack) > 0 {
			flat[shortName(s.stack[0])] += cpu
		}
		for _, pc := range protobufCalls {
			if slices.Contains(s.stack, pc.fn) {
				sum.protobuf[pc.what] += cpu
			}
		}
	}
	for _, c := range comps {
		sum.components = append(sum.components, *c)
	}
	sum.components = topShares(sum.components, len(sum.components))
	sum.berthAll = toShares(berth)
	// A wrapper that spends nearly all its time in one Berth callee (an interceptor, a generated
	// handler) says nothing its callee does not: only the callee is listed.
	for f, callees := range through {
		for _, cpu := range callees {
			if float64(cpu) >= 0.95*float64(berth[f]) {
				delete(berth, f)
			}
		}
	}
	sum.berth = topShares(toShares(berth), 10)
	sum.flat = topShares(toShares(flat), 8)
	return sum
}

// sampleRole charges a sample to the shared runtime (GC workers, or the scheduler with no code
// of ours on the stack), to the clients (labelled) or to the servers.
func sampleRole(s profSample) string {
	if hasFrame(s.stack, "runtime.gcBgMarkWorker") {
		return roleRuntime
	}
	if s.labels[roleLabel] == roleClients {
		return roleClient
	}
	for _, f := range s.stack {
		if !isStdlib(f) {
			return roleServer
		}
	}
	if hasFrame(s.stack, "runtime.schedule", "runtime.findRunnable", "runtime.mcall", "runtime.park_m", "runtime.goexit0", "runtime.sysmon") {
		return roleRuntime
	}
	return roleServer
}

// sampleComponent names the component of the first non-standard-library function from the leaf.
func sampleComponent(stack []string) string {
	for _, f := range stack {
		if isStdlib(f) {
			continue
		}
		for _, c := range components {
			if strings.HasPrefix(f, c.prefix) {
				return c.name
			}
		}
		return "other libraries"
	}
	switch {
	case hasFrame(stack, "syscall.", "internal/runtime/syscall."):
		return "Go standard library, system calls"
	case hasFrame(stack, "runtime.mallocgc", "runtime.gcAssistAlloc", "runtime.gcDrain"):
		return "Go runtime, allocation and GC"
	}
	return "Go runtime and standard library, other"
}

// isStdlib tells whether a function belongs to Go's standard library: its package path has no
// dot in its first element ("runtime.mallocgc", "internal/poll.(*FD).Write"), unlike a module's
// ("google.golang.org/grpc...").
func isStdlib(fn string) bool {
	first, _, _ := strings.Cut(fn, "/")
	if strings.Contains(fn, "/") {
		return !strings.Contains(first, ".")
	}
	// A function of a single-element package path: "runtime.mallocgc", "main.foo".
	return !strings.HasPrefix(fn, "main.")
}

// hasFrame tells whether any function on the stack starts with one of the prefixes.
func hasFrame(stack []string, prefixes ...string) bool {
	for _, f := range stack {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
	}
	return false
}

// shortName drops the module path and type arguments from a function name:
// "github.com/berth-dev/berth/services/apiserver/registry.(*Store[go.shape.*uint8]).Create"
// becomes "registry.(*Store[…]).Create".
func shortName(fn string) string {
	var b strings.Builder
	depth := 0
	for _, c := range fn {
		switch {
		case c == '[':
			if depth == 0 {
				b.WriteString("[…]")
			}
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	short := b.String()
	head := short
	if i := strings.IndexAny(short, "(["); i >= 0 {
		head = short[:i]
	}
	if i := strings.LastIndexByte(head, '/'); i >= 0 {
		return short[i+1:]
	}
	return short
}

func toShares(m map[string]time.Duration) []share {
	out := make([]share, 0, len(m))
	for name, cpu := range m {
		out = append(out, share{name: name, cpu: cpu})
	}
	return out
}

// topShares sorts shares by CPU, largest first, and keeps the first n.
func topShares(s []share, n int) []share {
	slices.SortFunc(s, func(a, b share) int {
		return cmp.Or(cmp.Compare(b.cpu, a.cpu), cmp.Compare(a.name, b.name))
	})
	return s[:min(n, len(s))]
}
