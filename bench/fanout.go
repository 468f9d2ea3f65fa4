package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
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

// drainTimeout bounds the wait, after the last write, for every watcher to receive every event.
const drainTimeout = 15 * time.Second

// fanoutResult is the outcome of the fan-out benchmark.
type fanoutResult struct {
	cfg fanoutConfig
	// writes is the number of Pods created, in writeTime; ack their create latencies.
	writes    int
	writeTime time.Duration
	ack       stats
	// expected and delivered count events: one per write per watcher is expected.
	expected, delivered int64
	// deliveryTime runs from the first write to the last event received.
	deliveryTime time.Duration
	// fromAck is the latency from the write's acknowledgement to each watcher's receipt of its
	// event (0 when the event arrived first); fromSend from the moment the writer sent it.
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
}

// latencies summarises a latency distribution.
type latencies struct {
	p50, p99, max time.Duration
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
// CPU-profiled from the first write to the last event.
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

	writes := int(float64(cfg.rate) * cfg.duration.Seconds())
	wctx, stopWatchers := context.WithCancel(ctx)
	defer stopWatchers()
	watchers := make([]*watcher, cfg.watchers)
	streams := make([]grpc.ClientStream, cfg.watchers)
	err := parallel(ctx, cfg.watchers, 50, func(_ context.Context, i int) error {
		lat := make([]int32, writes)
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

	res := &fanoutResult{cfg: cfg, writes: writes, expected: int64(writes) * int64(cfg.watchers)}
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets the peak resident size (VmHWM) to the current one.
	res.peakKnown = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	before, err := readUsage()
	if err != nil {
		return err
	}
	var ackDelay []time.Duration
	start := time.Now()
	err = r.profile("fanout", func() error {
		var err error
		ackDelay, res.ack, err = r.paceWrites(ctx, ns, writes, cfg.rate)
		if err != nil {
			return err
		}
		res.writeTime = time.Since(start)
		deadline := time.Now().Add(drainTimeout)
		for time.Now().Before(deadline) && res.delivered < res.expected {
			time.Sleep(20 * time.Millisecond)
			res.delivered = 0
			for _, w := range watchers {
				res.delivered += w.received.Load()
			}
		}
		return nil
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

	res.summarize(watchers, ackDelay, start)
	r.rep.fanout = res
	return nil
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
		w.lat[seq] = int32(min(max(us, 0), math.MaxInt32))
		w.last = now
		w.received.Add(1)
	}
}

// paceWrites creates n Pods in namespace ns at rate per second, from a pool of writers so that
// a slow create does not delay the next, each Pod carrying the time it was sent. It returns,
// per Pod, the time from send to acknowledgement, and their distribution.
func (r *runner) paceWrites(ctx context.Context, ns string, n, rate int) ([]time.Duration, stats, error) {
	interval := time.Second / time.Duration(rate)
	seqs := make(chan int, n)
	start := time.Now()
	go func() {
		defer close(seqs)
		for i := range n {
			time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
			if ctx.Err() != nil {
				return
			}
			seqs <- i
		}
	}()
	ack := make([]time.Duration, n)
	err := parallel(ctx, 32, 32, func(ctx context.Context, w int) error {
		for seq := range seqs {
			p := newPod(ns, podName("fanout", seq))
			sent := time.Now()
			p.Metadata.Annotations[sentAnnotation] = strconv.FormatInt(sent.UnixNano(), 10)
			if _, err := r.env.podClient(w).Create(ctx, p); err != nil {
				return fmt.Errorf("create pod %d: %w", seq, err)
			}
			ack[seq] = time.Since(sent)
		}
		return nil
	})
	if err != nil {
		return nil, stats{}, err
	}
	s := stats{ops: n, elapsed: time.Since(start), lat: slices.Clone(ack)}
	slices.Sort(s.lat)
	return ack, s, nil
}

// summarize computes delivery, drops and latency percentiles from the watchers' records.
func (res *fanoutResult) summarize(watchers []*watcher, ackDelay []time.Duration, start time.Time) {
	fromSend := make([]int32, 0, res.expected)
	fromAck := make([]int32, 0, res.expected)
	var last int64
	res.delivered = 0
	for _, w := range watchers {
		if w.err != nil {
			res.dropped++
			if res.dropErr == nil {
				res.dropErr = w.err
			}
		}
		got := w.received.Load()
		res.delivered += got
		if got < int64(len(w.lat)) {
			res.incomplete++
		}
		for seq, us := range w.lat {
			if us < 0 {
				continue
			}
			fromSend = append(fromSend, us)
			a := int64(us) - ackDelay[seq].Microseconds()
			fromAck = append(fromAck, int32(max(a, 0)))
		}
		last = max(last, w.last)
	}
	if last > 0 {
		res.deliveryTime = time.Unix(0, last).Sub(start)
	}
	res.fromSend, res.fromAck = summarizeMicros(fromSend), summarizeMicros(fromAck)
}

// summarizeMicros sorts microsecond latencies and returns their p50, p99 and maximum.
func summarizeMicros(us []int32) latencies {
	if len(us) == 0 {
		return latencies{}
	}
	slices.Sort(us)
	d := func(v int32) time.Duration { return time.Duration(v) * time.Microsecond }
	return latencies{p50: d(percentile(us, 0.50)), p99: d(percentile(us, 0.99)), max: d(us[len(us)-1])}
}
