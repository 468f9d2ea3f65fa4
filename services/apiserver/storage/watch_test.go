package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/services/apiserver/etcdserver"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

// Many watches stopping at once while their prefixes are written (the apiserver's watch caches
// at shutdown) all end: none is left waiting on the etcd client.
func TestWatchesStopTogether(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := etcdserver.Start(ctx, etcdserver.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := storage.New(e.Client)
	for round := range 5 {
		wctx, stop := context.WithCancel(ctx)
		var watches []*storage.Watch
		for i := range 40 {
			watches = append(watches, s.Watch(wctx, fmt.Sprintf("/t/%d/%d/", round, i), 0))
		}
		// Writers keep every prefix busy while the watches stop.
		var wg sync.WaitGroup
		wctxW, stopW := context.WithCancel(ctx)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; wctxW.Err() == nil; n++ {
					_, _ = e.Client.Put(wctxW, fmt.Sprintf("/t/%d/%d/k%d", round, i, n%10), "v")
				}
			}()
		}
		// Drain the watches as the watch cache does, until they end.
		ended := make(chan struct{}, len(watches))
		for _, w := range watches {
			go func() {
				for range w.C {
				}
				ended <- struct{}{}
			}()
		}
		time.Sleep(50 * time.Millisecond) // let events flow on every watch
		stop()
		deadline := time.After(15 * time.Second)
		for i := range watches {
			select {
			case <-ended:
			case <-deadline:
				t.Fatalf("round %d: %d of %d watches still running 15s after they were stopped", round, len(watches)-i, len(watches))
			}
		}
		stopW()
		wg.Wait()
	}
}
