package podworker

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/agent/runtime"
)

// podRecord is what the runtime has of one Pod.
type podRecord struct {
	Sandboxes  []runtime.Sandbox
	Containers []runtime.ContainerStatus
}

// empty reports whether the runtime has nothing of the Pod.
func (r podRecord) empty() bool { return len(r.Sandboxes) == 0 && len(r.Containers) == 0 }

// fingerprint changes whenever anything a worker acts on changes.
func (r podRecord) fingerprint() string {
	parts := make([]string, 0, len(r.Sandboxes)+len(r.Containers))
	for _, s := range r.Sandboxes {
		parts = append(parts, fmt.Sprintf("s/%s/%s/%s", s.ID, s.State, s.IP))
	}
	for _, c := range r.Containers {
		parts = append(parts, fmt.Sprintf("c/%s/%s/%d/%d", c.ID, c.State, c.ExitCode, c.FinishedAt.UnixNano()))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// listTimeout bounds one list of the runtime.
const listTimeout = time.Minute

// podCache is the runtime's state grouped by Pod, refreshed by lists that every caller
// shares. Workers bump the cache's epoch after each change they make, and ask for a state at
// least as new as their last bump, so they always see their own changes; lists are
// single-flight, so fifty workers asking at once cost one list.
type podCache struct {
	rt       runtime.Runtime
	node     string
	onChange func(uid string)

	mu       sync.Mutex
	epoch    uint64 // bumped after every change to the runtime
	listed   uint64 // epoch at the start of the last successful list
	valid    bool
	pods     map[string]podRecord
	prints   map[string]string
	inflight *listCall
}

type listCall struct {
	epoch uint64
	done  chan struct{}
	err   error
}

func newPodCache(rt runtime.Runtime, node string, onChange func(uid string)) *podCache {
	return &podCache{rt: rt, node: node, onChange: onChange, pods: map[string]podRecord{}, prints: map[string]string{}}
}

// bump records a change to the runtime and returns the epoch a later get must reach to see it.
func (c *podCache) bump() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	return c.epoch
}

// get returns the Pod's record from a list that started after the change of epoch min.
func (c *podCache) get(ctx context.Context, uid string, min uint64) (podRecord, error) {
	if err := c.wait(ctx, min); err != nil {
		return podRecord{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pods[uid], nil
}

// all returns every Pod's record from a list at least as new as epoch min.
func (c *podCache) all(ctx context.Context, min uint64) (map[string]podRecord, error) {
	if err := c.wait(ctx, min); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]podRecord, len(c.pods))
	for k, v := range c.pods {
		out[k] = v
	}
	return out, nil
}

// refresh lists now (joining a list that is just starting) and returns every record.
func (c *podCache) refresh(ctx context.Context) (map[string]podRecord, error) {
	return c.all(ctx, c.bump())
}

func (c *podCache) wait(ctx context.Context, min uint64) error {
	c.mu.Lock()
	for {
		if c.valid && c.listed >= min {
			c.mu.Unlock()
			return nil
		}
		if c.inflight == nil {
			c.inflight = &listCall{epoch: c.epoch, done: make(chan struct{})}
			go c.list(c.inflight)
		}
		call := c.inflight
		c.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if call.err != nil && call.epoch >= min {
			return call.err
		}
		c.mu.Lock()
	}
}

// list lists the runtime and replaces the cache; Pods whose record changed are reported to
// onChange.
func (c *podCache) list(call *listCall) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	pods := map[string]podRecord{}
	sandboxes, err := c.rt.ListSandboxes(ctx)
	if err == nil {
		var containers []runtime.ContainerStatus
		containers, err = c.rt.ListContainers(ctx)
		for _, s := range sandboxes {
			if c.ours(s.Labels) && s.Pod.UID != "" {
				r := pods[s.Pod.UID]
				r.Sandboxes = append(r.Sandboxes, s)
				pods[s.Pod.UID] = r
			}
		}
		for _, ct := range containers {
			if c.ours(ct.Labels) && ct.Pod.UID != "" {
				r := pods[ct.Pod.UID]
				r.Containers = append(r.Containers, ct)
				pods[ct.Pod.UID] = r
			}
		}
	}
	var changed []string
	c.mu.Lock()
	if err != nil {
		call.err = fmt.Errorf("list the runtime's pods: %w", err)
	} else {
		prints := make(map[string]string, len(pods))
		for uid, r := range pods {
			prints[uid] = r.fingerprint()
			if prints[uid] != c.prints[uid] {
				changed = append(changed, uid)
			}
		}
		for uid := range c.prints {
			if _, ok := prints[uid]; !ok {
				changed = append(changed, uid)
			}
		}
		c.pods, c.prints, c.listed, c.valid = pods, prints, call.epoch, true
	}
	c.inflight = nil
	close(call.done)
	c.mu.Unlock()
	if c.onChange != nil {
		for _, uid := range changed {
			c.onChange(uid)
		}
	}
}

// ours reports whether a runtime object belongs to this Node (objects without a node label
// are taken as the runtime's answer for this Node).
func (c *podCache) ours(labels map[string]string) bool {
	n, ok := labels[runtime.LabelNode]
	return !ok || n == c.node
}
