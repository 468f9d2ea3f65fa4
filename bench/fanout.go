package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/berth-dev/berth/pkg/client"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// fanoutConfig sizes the fan-out benchmark.
type fanoutConfig struct {
	// watchers watch Pods over conns gRPC connections.
	watchers, conns int
	// rate is the writer's target in Pod creates per second, for duration.
	rate     int
	duration time.Duration
}

// Bounds of the fan-out run, so that an overloaded server cannot stretch it: writes not sent
// by the end of the writing time plus writeGrace are abandoned, and the watchers get drainTimeout
// after the last write to receive their events.
const (
	writeGrace   = 5 * time.Second
	drainTimeout = 15 * time.Second
)

// undelivered stands, among latencies, for an event a watcher never received.
const undelivered = time.Duration(math.MaxInt64)

// fanoutResult is the outcome of the fan-out benchmark.
type fanoutResult struct {
	cfg fanoutConfig
	// writes counts the Pods created (acknowledged) in writeTime; failed the creates that
	// failed and unsent those abandoned; ack is the distribution of create latencies.
	writes, failed, unsent int
	writeErr               error
	writeTime              time.Duration
	ack                    stats
	// expected counts one event per acknowledged write per watcher; delivered those received.
	expected, delivered int64
	// deliveryTime runs from the first write to the last event received.
	deliveryTime time.Duration
	// fromAck is the latency from the write's acknowledgement to each watcher's receipt of its
	// event (0 when the event arrived first); fromSend from the moment the writer sent it.
	// Events never received count as undelivered.
	fromAck, fromSend latencies
	// dropped counts watchers whose stream ended before the benchmark closed it; incomplete those
	// that missed events.
	dropped, incomplete int
	dropErr             error
	// Process usage: CPU consumed during the writes and the drain, resident memory at the
	// start, at the end and at its peak during the run.
	cpu, wall                 time.Duration
	rssBefore, rssAfter, peak int64
	peakKnown                 bool
	// The resident memory split into anonymous memory (heaps, stacks) and mapped files (etcd's
	// database), before and after.
	anonBefore, anonAfter, fileBefore, fileAfter int64
}

// latencies summarises a latency distribution; a percentile may be undelivered. The delivered
// percentiles leave the undelivered events out.
type latencies struct {
	p50, p99, max              time.Duration
	deliveredP99, deliveredMax time.Duration
}

// watcher is one fan-out watcher's state.
type watcher struct {
	// lat[seq] is the time from send to receipt of Pod seq's event in microseconds, -1 until then.
	lat      []int32
	received atomic.Int64
	// last is when the last event arrived (Unix nanoseconds); err why the stream ended early.
	last int64
	err  error
}

// fanout measures the apiserver's fan-out: many watchers of Pods, served from its single etcd
// watch per resource, while a paced writer creates Pods that carry their send time. The run is
// CPU-profiled from the first write to the end of the drain.
func (r *runner) fanout(ctx context.Context) error {
	cfg := r.cfg.fanout
	const ns = "fanout"
	if err := r.env.createNamespace(ctx, ns); err != nil {
		return err
	}
	conns := make([]*grpc.ClientConn, cfg.conns)
	for i := range conns {
		c, err := client.Dial(ctx, r.env.api.Addr(), client.WithBlock())
		if err != nil {
			return err
		}
		defer c.Close()
		conns[i] = c.Conn()
	}

	planned := int(float64(cfg.rate) * cfg.duration.Seconds())
	wctx, stopWatchers := context.WithCancel(ctx)
	defer stopWatchers()
	watchers := make([]*watcher, cfg.watchers)
	streams := make([]grpc.ClientStream, cfg.watchers)
	err := parallel(ctx, cfg.watchers, 50, func(_ context.Context, i int) error {
		lat := make([]int32, planned)
		for j := range lat {
			lat[j] = -1
		}
		watchers[i] = &watcher{lat: lat}
		s, err := watchFrames(wctx, conns[i%len(conns)], &metav1.ListOptions{Namespace: ns, ResourceVersion: "0"})
		streams[i] = s
		return err
	})
	if err != nil {
		return fmt.Errorf("start %d watchers: %w", cfg.watchers, err)
	}
	var wg sync.WaitGroup
	for i, w := range watchers {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(wctx, streams[i]) }()
	}

	res := &fanoutResult{cfg: cfg}
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets the peak resident size (VmHWM) to the current one.
	res.peakKnown = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	before, err := readUsage()
	if err != nil {
		return err
	}
	var ackDelay []time.Duration // per Pod, from send to acknowledgement; 0 if not acknowledged
	start := time.Now()
	err = r.profile("fanout", func() error {
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
		return err
	}
	res.wall = time.Since(start)
	after, err := readUsage()
	if err != nil {
		return err
	}
	stopWatchers()
	wg.Wait()
	res.cpu, res.rssBefore, res.rssAfter, res.peak = after.cpu-before.cpu, before.rss, after.rss, after.peakRSS
	res.anonBefore, res.anonAfter, res.fileBefore, res.fileAfter = before.rssAnon, after.rssAnon, before.rssFile, after.rssFile

	res.summarize(watchers, ackDelay, start)
	r.rep.fanout = res
	return r.cleanup(ctx, podKeyPrefix+ns+"/")
}

// run receives events until the stream ends, recording each Pod's latency from its send time.
func (w *watcher) run(ctx context.Context, s grpc.ClientStream) {
	var buf []byte
	for {
		if err := s.RecvMsg(&buf); err != nil {
			if ctx.Err() == nil {
				w.err = fmt.Errorf("watch ended: %w", err)
			}
			return
		}
		now := time.Now().UnixNano()
		ev, err := scanPodEvent(buf)
		if err != nil {
			w.err = err
			return
		}
		if string(ev.typ) != "ADDED" {
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

// paceWrites creates up to n Pods in namespace ns at rate per second, from a pool of writers so
// that a slow create does not delay the next, each Pod carrying the time it was sent. Writes
// not sent within limit are abandoned, and failed creates are counted, not fatal: an overloaded
// server is a result. It records the outcome in res and returns, per Pod, the time from send to
// acknowledgement (0 for Pods not acknowledged).
func (r *runner) paceWrites(ctx context.Context, ns string, n, rate int, limit time.Duration, res *fanoutResult) []time.Duration {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	interval := time.Second / time.Duration(rate)
	seqs := make(chan int, n)
	start := time.Now()
	go func() {
		defer close(seqs)
		for i := range n {
			select {
			case <-time.After(time.Until(start.Add(time.Duration(i) * interval))):
			case <-ctx.Done():
				return
			}
			seqs <- i
		}
	}()
	ack := make([]time.Duration, n)
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
	)
	_ = parallel(ctx, 32, 32, func(_ context.Context, w int) error {
		for seq := range seqs {
			if ctx.Err() != nil {
				continue // abandoned: drain the queue
			}
			p := newPod(ns, podName("fanout", seq))
			sent := time.Now()
			p.Metadata.Annotations[sentAnnotation] = strconv.FormatInt(sent.UnixNano(), 10)
			if _, err := r.env.podClient(w).Create(ctx, p); err != nil {
				if ctx.Err() != nil {
					continue
				}
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = fmt.Errorf("create pod %d: %w", seq, err)
				}
				mu.Unlock()
				continue
			}
			ack[seq] = time.Since(sent)
		}
		return nil
	})
	var acked []time.Duration
	for _, d := range ack {
		if d > 0 {
			acked = append(acked, d)
		}
	}
	slices.Sort(acked)
	res.writes, res.failed, res.unsent, res.writeErr = len(acked), failed, n-len(acked)-failed, firstErr
	res.ack = stats{ops: len(acked), elapsed: time.Since(start), lat: acked}
	return ack
}

// summarize computes delivery, drops and latency percentiles from the watchers' records. Only
// acknowledged writes count: a write that failed may still have been committed.
func (res *fanoutResult) summarize(watchers []*watcher, ackDelay []time.Duration, start time.Time) {
	res.expected = int64(res.writes) * int64(len(watchers))
	fromSend := make([]int32, 0, res.expected)
	fromAck := make([]int32, 0, res.expected)
	var last int64
	for _, w := range watchers {
		if w.err != nil {
			res.dropped++
			if res.dropErr == nil {
				res.dropErr = w.err
			}
		}
		missed := false
		for seq, us := range w.lat {
			if ackDelay[seq] == 0 {
				continue
			}
			if us < 0 {
				missed = true
				fromSend = append(fromSend, math.MaxInt32)
				fromAck = append(fromAck, math.MaxInt32)
				continue
			}
			res.delivered++
			fromSend = append(fromSend, us)
			fromAck = append(fromAck, int32(max(int64(us)-ackDelay[seq].Microseconds(), 0)))
		}
		if missed {
			res.incomplete++
		}
		last = max(last, w.last)
	}
	if last > 0 {
		res.deliveryTime = time.Unix(0, last).Sub(start)
	}
	res.fromSend, res.fromAck = summarizeMicros(fromSend), summarizeMicros(fromAck)
}

// summarizeMicros sorts microsecond latencies, where math.MaxInt32 marks an undelivered event,
// and returns their p50, p99 and maximum.
func summarizeMicros(us []int32) latencies {
	if len(us) == 0 {
		return latencies{}
	}
	slices.Sort(us)
	d := func(v int32) time.Duration {
		if v == math.MaxInt32 {
			return undelivered
		}
		return time.Duration(v) * time.Microsecond
	}
	l := latencies{p50: d(percentile(us, 0.50)), p99: d(percentile(us, 0.99)), max: d(us[len(us)-1])}
	delivered := us[:sort.Search(len(us), func(i int) bool { return us[i] == math.MaxInt32 })]
	if len(delivered) > 0 {
		l.deliveredP99, l.deliveredMax = d(percentile(delivered, 0.99)), d(delivered[len(delivered)-1])
	}
	return l
}

// errNoSent marks an event whose Pod carries no sent annotation.
var errNoSent = errors.New("pod has no " + sentAnnotation + " annotation")
