package informer

import (
	"context"
	"sync"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
)

// Factory hands out one shared informer per resource, so the controllers of a process share
// one list, one watch and one cache of each resource.
type Factory struct {
	client *client.Client
	opts   Options

	mu        sync.Mutex
	informers map[*scheme.Resource]*Informer
	started   map[*scheme.Resource]bool
	wg        sync.WaitGroup
}

// NewFactory returns a factory of informers through c, each configured with opts.
func NewFactory(c *client.Client, opts Options) *Factory {
	return &Factory{
		client: c, opts: opts,
		informers: map[*scheme.Resource]*Informer{},
		started:   map[*scheme.Resource]bool{},
	}
}

// For returns the informer of r, creating it on first use. Call Start after asking for every
// informer; For after Start returns an informer that the next Start runs.
func (f *Factory) For(r *scheme.Resource) *Informer {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.informers[r]
	if !ok {
		i = New(f.client, r, f.opts)
		f.informers[r] = i
	}
	return i
}

// Start runs every informer not yet started, each on its own goroutine, until ctx ends.
func (f *Factory) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for r, i := range f.informers {
		if f.started[r] {
			continue
		}
		f.started[r] = true
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			_ = i.Run(ctx) // fails only when already running, which started rules out
		}()
	}
}

// WaitForSync waits until every started informer has synced; false if ctx ended first.
func (f *Factory) WaitForSync(ctx context.Context) bool {
	f.mu.Lock()
	var infs []*Informer
	for r, i := range f.informers {
		if f.started[r] {
			infs = append(infs, i)
		}
	}
	f.mu.Unlock()
	return WaitForSync(ctx, infs...)
}

// Wait blocks until every informer Start started has stopped (after their ctx ended).
func (f *Factory) Wait() { f.wg.Wait() }
