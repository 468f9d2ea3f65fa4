package main

import (
	"context"
	"sync"
	"time"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// svcWatch follows the service benchmark's Pods and its Service's Endpoints through watches:
// when each Pod was first seen Running and Ready and first listed as a ready address.
type svcWatch struct {
	pods, eps *nsWatch
	// changed is signalled after an event of either watch.
	changed chan struct{}

	mu sync.Mutex
	// live are the Pods that exist and are not terminating.
	live map[string]bool
	// readyAt is when each Pod was first seen Running and Ready.
	readyAt map[string]time.Time
	// ready maps the Pods the Endpoints list ready now to their IPs; listedAt is when each
	// Pod was first listed ready.
	ready    map[string]string
	listedAt map[string]time.Time
}

// startSvcWatch watches the Pods of ns and the Endpoints named svc.
func startSvcWatch(ctx context.Context, c *client.Client, ns, svc string) (*svcWatch, error) {
	w := &svcWatch{changed: make(chan struct{}, 1), live: map[string]bool{}, readyAt: map[string]time.Time{},
		ready: map[string]string{}, listedAt: map[string]time.Time{}}
	var err error
	w.pods, err = startWatch(ctx, c.Resource(scheme.Pods), ns, func(ev client.Event, at time.Time) {
		if p, ok := ev.Object.(*corev1.Pod); ok {
			w.pod(ev.Type, p, at)
		}
	})
	if err != nil {
		return nil, err
	}
	w.eps, err = startWatch(ctx, c.Resource(scheme.Endpoints), ns, func(ev client.Event, at time.Time) {
		if e, ok := ev.Object.(*corev1.Endpoints); ok && e.GetMetadata().GetName() == svc {
			w.endpointsEvent(ev.Type, e, at)
		}
	})
	if err != nil {
		w.pods.stop()
		return nil, err
	}
	return w, nil
}

func (w *svcWatch) stop() {
	w.pods.stop()
	w.eps.stop()
}

func (w *svcWatch) signal() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *svcWatch) pod(typ string, p *corev1.Pod, at time.Time) {
	defer w.signal()
	w.mu.Lock()
	defer w.mu.Unlock()
	name := p.GetMetadata().GetName()
	if typ == client.Deleted {
		delete(w.live, name)
		return
	}
	w.live[name] = p.GetMetadata().GetDeletionTimestamp() == nil
	if _, seen := w.readyAt[name]; !seen && podReady(p) {
		w.readyAt[name] = at
	}
}

func (w *svcWatch) endpointsEvent(typ string, e *corev1.Endpoints, at time.Time) {
	defer w.signal()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ready = map[string]string{}
	if typ == client.Deleted {
		return
	}
	for _, ss := range e.GetSubsets() {
		for _, a := range ss.GetAddresses() {
			name := a.GetTargetRef().GetName()
			w.ready[name] = a.GetIp()
			if _, seen := w.listedAt[name]; !seen {
				w.listedAt[name] = at
			}
		}
	}
}

// endpoints returns the Pods the Endpoints list ready now, and their IPs.
func (w *svcWatch) endpoints() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.ready))
	for k, v := range w.ready {
		out[k] = v
	}
	return out
}

// podNames returns the Pods that exist now, terminating or not.
func (w *svcWatch) podNames() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]bool, len(w.live))
	for k := range w.live {
		out[k] = true
	}
	return out
}

// newReady returns a Pod not in before that was seen Ready, and when; "" when none is.
func (w *svcWatch) newReady(before map[string]bool) (string, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for name := range w.live {
		if at, ok := w.readyAt[name]; ok && !before[name] {
			return name, at
		}
	}
	return "", time.Time{}
}

// endpointsAt is when the Endpoints first listed pod ready; zero before.
func (w *svcWatch) endpointsAt(pod string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.listedAt[pod]
}

// settled says whether exactly n Pods exist, none terminating, and the Endpoints list
// exactly them ready.
func (w *svcWatch) settled(n int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.live) != n || len(w.ready) != n {
		return false
	}
	for name, active := range w.live {
		if _, ok := w.ready[name]; !active || !ok {
			return false
		}
	}
	return true
}

// firstAnswers records when each Pod first answered the load generator.
type firstAnswers struct {
	mu sync.Mutex
	at map[string]time.Time
}

// record is an answerFunc.
func (f *firstAnswers) record(host string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev, ok := f.at[host]; !ok || at.Before(prev) {
		f.at[host] = at
	}
}

func (f *firstAnswers) get(host string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at[host]
}
