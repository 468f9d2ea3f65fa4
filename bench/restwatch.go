package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// restWatchNS is the namespace of the HTTP watch benchmark's Pods.
const restWatchNS = "rest-watch"

// restWatch measures watch-event delivery over HTTP: cfg.watchers ?watch=true streams of one
// namespace's Pods, each on a connection of its own, while a writer creates cfg.rate Pods/s
// for cfg.duration, each Pod carrying its send time. It is the fan-out benchmark with the
// gateway between the watchers and the apiserver: every HTTP watch is a gRPC watch of the
// gateway's, and every event is encoded as Kubernetes JSON once per watcher. The run is
// CPU-profiled from the first write to the end of the drain.
func (r *runner) restWatch(ctx context.Context, g *gatewayEnv, cfg restConfig) (*fanoutResult, error) {
	const ns = restWatchNS
	if err := r.env.createNamespace(ctx, ns); err != nil {
		return nil, err
	}
	// The watches start at the namespace's current resourceVersion, so that each receives every
	// write that follows, however late it is established.
	_, lm, err := r.env.apiConns[0].Resource(scheme.Pods).List(ctx, &metav1.ListOptions{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list pods of %s: %w", ns, err)
	}
	path := fmt.Sprintf("%s/api/v1/namespaces/%s/pods?watch=true&resourceVersion=%s", g.base, ns, lm.GetResourceVersion())
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: -1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	planned := int(float64(cfg.rate) * cfg.duration.Seconds())
	wctx, stopWatchers := context.WithCancel(ctx)
	defer stopWatchers()
	watchers := make([]*watcher, cfg.watchers)
	bodies := make([]io.ReadCloser, cfg.watchers)
	err = parallel(ctx, cfg.watchers, 50, func(_ context.Context, i int) error {
		lat := make([]int32, planned)
		for j := range lat {
			lat[j] = -1
		}
		watchers[i] = &watcher{lat: lat}
		req, err := http.NewRequestWithContext(wctx, http.MethodGet, path, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			resp.Body.Close()
			return fmt.Errorf("watch: %s: %s", resp.Status, b)
		}
		bodies[i] = resp.Body
		return nil
	})
	if err != nil {
		for _, b := range bodies {
			if b != nil {
				b.Close()
			}
		}
		return nil, fmt.Errorf("start %d HTTP watchers: %w", cfg.watchers, err)
	}
	var wg sync.WaitGroup
	for i, w := range watchers {
		wg.Add(1)
		go func() { defer wg.Done(); defer bodies[i].Close(); w.runHTTP(wctx, bodies[i]) }()
	}

	res := &fanoutResult{cfg: fanoutConfig{watchers: cfg.watchers, conns: cfg.watchers, rate: cfg.rate, duration: cfg.duration}}
	runtime.GC()
	debug.FreeOSMemory()
	res.peakKnown = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	before, err := readUsage()
	if err != nil {
		return nil, err
	}
	var ackDelay []time.Duration
	start := time.Now()
	err = r.profile("rest-watch", func() error {
		ackDelay = r.paceWrites(ctx, ns, planned, cfg.rate, cfg.duration+writeGrace, res)
		res.writeTime = time.Since(start)
		expected := int64(res.writes) * int64(cfg.watchers)
		for deadline := time.Now().Add(drainTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var got int64
			for _, w := range watchers {
				got += w.received.Load()
			}
			if got >= expected {
				break
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	res.wall = time.Since(start)
	after, err := readUsage()
	if err != nil {
		return nil, err
	}
	stopWatchers()
	wg.Wait()
	res.cpu, res.rssBefore, res.rssAfter, res.peak = after.cpu-before.cpu, before.rss, after.rss, after.peakRSS
	res.summarize(watchers, ackDelay, start)
	return res, nil
}

// runHTTP reads a watch stream's lines until it ends, recording each Pod's latency from its
// send time, as run does for gRPC streams.
func (w *watcher) runHTTP(ctx context.Context, body io.Reader) {
	br := bufio.NewReaderSize(body, 64<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil {
			if ctx.Err() == nil {
				w.err = fmt.Errorf("watch ended: %w", err)
			}
			return
		}
		now := time.Now().UnixNano()
		ev, err := scanJSONPodEvent(line)
		if err != nil {
			w.err = err
			return
		}
		switch string(ev.typ) {
		case "ADDED":
		case "ERROR":
			w.err = fmt.Errorf("watch ended with an ERROR event: %.300s", line)
			return
		default:
			continue
		}
		seq, ok := nameSeq(ev.name)
		sent, ok2 := parseUint(ev.sent)
		if !ok || !ok2 || seq >= len(w.lat) {
			w.err = fmt.Errorf("pod %q: %w", ev.name, errNoSent)
			return
		}
		us := (now - sent) / 1e3
		w.lat[seq] = int32(min(max(us, 0), math.MaxInt32-1))
		w.last = now
		w.received.Add(1)
	}
}

// scanJSONPodEvent reads the type, the Pod's name and its sent annotation from one line of a
// Kubernetes watch stream, {"object":{...},"type":"ADDED"}, without decoding the rest: the
// watchers share the CPUs with the servers they measure (see frames.go). Strings are returned
// as they are written, between their quotes, escapes and all. A line framed as the gateway
// frames its events (kubejson's order: the object first, the type last) is read up to the
// object's metadata and at its end; any other is read whole.
func scanJSONPodEvent(line []byte) (podEvent, error) {
	if ev, ok := scanFramedEvent(line); ok {
		return ev, nil
	}
	return scanWholeEvent(line)
}

// Framing of the gateway's watch lines.
var (
	framePrefix = []byte(`{"object":{`)
	frameType   = []byte(`},"type":"`)
)

// errMetadataRead stops the scan of a framed event's object once its metadata is read.
var errMetadataRead = errors.New("metadata read")

// scanFramedEvent reads an event framed as {"object":{...},"type":"TYPE"} (TYPE in capital
// letters): the type at the end, the name and sent annotation from the object's metadata.
func scanFramedEvent(line []byte) (podEvent, bool) {
	b := bytes.TrimRight(line, " \t\r\n")
	if !bytes.HasPrefix(b, framePrefix) || len(b) < len(framePrefix)+len(frameType)+2 || !bytes.HasSuffix(b, []byte(`"}`)) {
		return podEvent{}, false
	}
	at := bytes.LastIndex(b, frameType)
	if at < len(framePrefix)-1 {
		return podEvent{}, false
	}
	typ := b[at+len(frameType) : len(b)-2]
	if len(typ) == 0 || bytes.ContainsFunc(typ, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return podEvent{}, false
	}
	ev := podEvent{typ: typ}
	s := &jsonScanner{b: b[:at+1], i: len(framePrefix) - 1}
	err := s.object(func(key []byte) error {
		if string(key) != "metadata" {
			return s.skip()
		}
		if err := scanJSONMeta(s, &ev); err != nil {
			return err
		}
		return errMetadataRead
	})
	if err != nil && !errors.Is(err, errMetadataRead) {
		return podEvent{}, false
	}
	return ev, true
}

// scanWholeEvent reads an event in any framing, checking all of it.
func scanWholeEvent(line []byte) (podEvent, error) {
	var ev podEvent
	s := &jsonScanner{b: line}
	err := s.object(func(key []byte) (err error) {
		switch string(key) {
		case "type":
			ev.typ, err = s.str()
		case "object":
			err = s.object(func(key []byte) error {
				if string(key) != "metadata" {
					return s.skip()
				}
				return scanJSONMeta(s, &ev)
			})
		default:
			err = s.skip()
		}
		return err
	})
	if err == nil {
		s.space()
		if s.i != len(s.b) {
			err = s.fail("trailing data")
		}
	}
	if err != nil {
		return podEvent{}, fmt.Errorf("watch event: %w", err)
	}
	return ev, nil
}

func scanJSONMeta(s *jsonScanner, ev *podEvent) error {
	return s.object(func(key []byte) (err error) {
		switch string(key) {
		case "name":
			ev.name, err = s.str()
		case "annotations":
			err = s.object(func(key []byte) (err error) {
				if string(key) != sentAnnotation {
					return s.skip()
				}
				ev.sent, err = s.str()
				return err
			})
		default:
			err = s.skip()
		}
		return err
	})
}

// jsonScanner walks JSON text: objects key by key, strings, and any value skipped whole.
type jsonScanner struct {
	b []byte
	i int
}

// maxJSONDepth bounds the nesting skip follows.
const maxJSONDepth = 100

func (s *jsonScanner) fail(what string) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", s.i, what)
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// object reads an object, calling member at each key, with the scanner on the key's value,
// which member must consume.
func (s *jsonScanner) object(member func(key []byte) error) error {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.fail("want an object")
	}
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		key, err := s.str()
		if err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("want ':'")
		}
		s.i++
		if err := member(key); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.fail("unterminated object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("want ',' or '}'")
		}
	}
}

// str reads a string and returns what its quotes enclose.
func (s *jsonScanner) str() ([]byte, error) {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, s.fail("want a string")
	}
	start := s.i + 1
	for j := start; ; {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			return nil, s.fail("unterminated string")
		}
		j += k
		// The quote is escaped if an odd number of backslashes precedes it.
		n := 0
		for j-1-n >= start && s.b[j-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			s.i = j + 1
			return s.b[start:j], nil
		}
		j++
	}
}

// skip passes over one value of any kind. Numbers and literals are passed over, not checked.
func (s *jsonScanner) skip() error {
	depth := 0
	for {
		s.space()
		if s.i >= len(s.b) {
			return s.fail("unexpected end")
		}
		switch c := s.b[s.i]; c {
		case '"':
			if _, err := s.str(); err != nil {
				return err
			}
		case '{', '[':
			if depth++; depth > maxJSONDepth {
				return s.fail("too deep")
			}
			s.i++
			continue
		case '}', ']':
			if depth == 0 {
				return s.fail("unexpected " + string(c))
			}
			depth--
			s.i++
		case ',', ':':
			if depth == 0 {
				return s.fail("unexpected " + string(c))
			}
			s.i++
			continue
		default:
			start := s.i
			for s.i < len(s.b) && bytes.IndexByte([]byte(",:]} \t\r\n\"{["), s.b[s.i]) < 0 {
				s.i++
			}
			if s.i == start {
				return s.fail("want a value")
			}
		}
		if depth == 0 {
			return nil
		}
	}
}
