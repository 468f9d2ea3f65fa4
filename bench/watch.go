package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// burstTxnOps is the number of puts per transaction of a write burst (etcd allows 128).
const burstTxnOps = 100

// burstStats is the outcome of a watch run: events and bytes the watchers received, and the
// time the bursts took to reach them.
type burstStats struct {
	events, bytes int64
	elapsed       time.Duration
}

// rate is the throughput in events per second.
func (s burstStats) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.events) / s.elapsed.Seconds()
}

// byteRate is the throughput in bytes per second.
func (s burstStats) byteRate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.bytes) / s.elapsed.Seconds()
}

// watchFn starts a watch as worker w and returns once it is established; recv then receives
// events until it has n of them (or fails), and returns the bytes received and when the last
// event arrived.
type watchFn func(ctx context.Context, w int) (recv func(n int) (int64, time.Time, error), err error)

// watch measures watch-event throughput. N watchers of the namespace "watch" are established,
// then a burst of writes puts the namespace's Pods straight into etcd, in transactions of
// burstTxnOps puts sent in parallel, so that events are produced as fast as etcd can commit them
// and the watchers, not the writer, are the bottleneck. Berth's watchers are served by the
// apiserver's watch cache, which follows those keys; raw etcd watchers watch the same values
// under another prefix through the network client. A round lasts from the start of the
// burst to the last event received by the last watcher; rounds repeat for the measured time.
// Berth streams one message per event; etcd batches the events of a revision. Berth's rounds
// are CPU-profiled.
func (r *runner) watch(ctx context.Context) error {
	n := r.cfg.watchEvents
	if err := r.env.createNamespace(ctx, "watch"); err != nil {
		return err
	}
	// Raw etcd's burst goes to keys the apiserver does not follow, so that its watch cache does
	// not work during the raw runs.
	const rawPrefix = "/bench/watch/"
	rawBurst, err := r.burstTxns(rawPrefix, n)
	if err != nil {
		return err
	}
	berthBurst, err := r.burstTxns(podKeyPrefix+"watch/", n)
	if err != nil {
		return err
	}
	rawWatch := func(ctx context.Context, w int) (func(int) (int64, time.Time, error), error) {
		wc := r.env.etcdClient(w).Watch(ctx, rawPrefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
		if resp, ok := <-wc; !ok || !resp.Created {
			return nil, fmt.Errorf("etcd watch not created: %v", resp.Err())
		}
		return func(n int) (int64, time.Time, error) {
			var (
				bytes int64
				last  time.Time
				got   int
			)
			for resp := range wc {
				if err := resp.Err(); err != nil {
					return bytes, last, err
				}
				last = time.Now()
				for _, ev := range resp.Events {
					bytes += int64(len(ev.Kv.Key) + len(ev.Kv.Value))
				}
				if got += len(resp.Events); got >= n {
					return bytes, last, nil
				}
			}
			return bytes, last, fmt.Errorf("etcd watch ended after %d of %d events", got, n)
		}, nil
	}
	berthWatch := func(ctx context.Context, w int) (func(int) (int64, time.Time, error), error) {
		s, err := watchFrames(ctx, r.env.apiConns[w%poolSize].Conn(), &metav1.ListOptions{Namespace: "watch", ResourceVersion: "0", SendInitialEvents: proto.Bool(false)})
		if err != nil {
			return nil, err
		}
		return func(n int) (int64, time.Time, error) {
			var (
				buf   []byte
				bytes int64
				last  time.Time
			)
			for got := 0; got < n; {
				if err := s.RecvMsg(&buf); err != nil {
					return bytes, last, fmt.Errorf("pod watch ended after %d of %d events: %w", got, n, err)
				}
				last = time.Now()
				bytes += int64(len(buf))
				ev, err := scanPodEvent(buf)
				if err != nil {
					return bytes, last, err
				}
				if string(ev.typ) != "BOOKMARK" {
					got++
				}
			}
			return bytes, last, nil
		}, nil
	}
	for _, c := range r.cfg.clients {
		raw, err := r.bursts(ctx, c, n, rawBurst, rawWatch)
		if err != nil {
			return fmt.Errorf("etcd watch, %d watchers: %w", c, err)
		}
		err = r.profile("watch", func() error {
			berth, err := r.bursts(ctx, c, n, berthBurst, berthWatch)
			if err != nil {
				return fmt.Errorf("pod watch, %d watchers: %w", c, err)
			}
			r.rep.watch = append(r.rep.watch, watchRow{watchers: c, events: n, berth: berth, raw: raw})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return r.cleanup(ctx, rawPrefix, podKeyPrefix+"watch/")
}

// burstTxns returns the transactions that put n Pods of the namespace "watch", as the apiserver
// stores them, under the key prefix.
func (r *runner) burstTxns(prefix string, n int) ([][]clientv3.Op, error) {
	var tmpl corev1.Pod
	if err := proto.Unmarshal(r.stored, &tmpl); err != nil {
		return nil, fmt.Errorf("decode the stored template pod: %w", err)
	}
	var txns [][]clientv3.Op
	for i := range n {
		if i%burstTxnOps == 0 {
			txns = append(txns, nil)
		}
		p := proto.Clone(&tmpl).(*corev1.Pod)
		p.Metadata.Namespace, p.Metadata.Name = "watch", podName("pod", i)
		b, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode pod: %w", err)
		}
		txns[len(txns)-1] = append(txns[len(txns)-1], clientv3.OpPut(prefix+p.Metadata.Name, string(b)))
	}
	return txns, nil
}

// bursts runs rounds: establish watchers watches, write a burst, wait for every watcher to
// receive its n events. Rounds run during the warm-up, then until the measured time has passed
// (at least one); those that start after the warm-up are measured.
func (r *runner) bursts(ctx context.Context, watchers, n int, burst [][]clientv3.Op, watch watchFn) (burstStats, error) {
	var s burstStats
	measureFrom := time.Now().Add(r.cfg.timing.warmup)
	for {
		began := time.Now()
		if s.events > 0 && began.Sub(measureFrom) >= r.cfg.timing.measure {
			return s, nil
		}
		bytes, elapsed, err := r.burstRound(ctx, watchers, n, burst, watch)
		if err != nil {
			return s, err
		}
		if began.Before(measureFrom) {
			continue
		}
		s.elapsed += elapsed
		s.events += int64(watchers * n)
		s.bytes += bytes
	}
}

// burstRound runs one round and returns the bytes the watchers received and the time from the
// start of the burst to the last event.
func (r *runner) burstRound(ctx context.Context, watchers, n int, burst [][]clientv3.Op, watch watchFn) (int64, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recvs := make([]func(int) (int64, time.Time, error), watchers)
	// The watches live for the round, not for the parallel call that starts them.
	err := parallel(ctx, watchers, 16, func(_ context.Context, w int) error {
		var err error
		recvs[w], err = watch(ctx, w)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("start watchers: %w", err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		bytes    int64
		last     time.Time
		firstErr error
	)
	for w, recv := range recvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, l, err := recv(n)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("watcher %d: %w", w, err)
			}
			bytes += b
			if l.After(last) {
				last = l
			}
		}()
	}
	start := time.Now()
	err = parallel(ctx, len(burst), 8, func(ctx context.Context, i int) error {
		_, err := r.env.etcd.Client.Txn(ctx).Then(burst[i]...).Commit()
		return err
	})
	if err != nil {
		cancel()
		wg.Wait()
		return 0, 0, fmt.Errorf("write the burst: %w", err)
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	return bytes, last.Sub(start), nil
}
