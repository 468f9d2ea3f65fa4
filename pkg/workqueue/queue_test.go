package workqueue

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// drain takes every ready key without blocking.
func drain(t *testing.T, q *Queue) []string {
	t.Helper()
	var keys []string
	for q.Len() > 0 {
		k, shutdown := q.Get()
		if shutdown {
			t.Fatal("queue shut down while draining")
		}
		keys = append(keys, k)
	}
	return keys
}

func TestAddDeduplicates(t *testing.T) {
	tests := []struct {
		name string
		adds []string
		want []string
	}{
		{"distinct keys keep their order", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"a repeat is dropped", []string{"a", "b", "a", "a"}, []string{"a", "b"}},
		{"nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New(nil)
			defer q.ShutDown()
			for _, k := range tt.adds {
				q.Add(k)
			}
			if got := q.Len(); got != len(tt.want) {
				t.Fatalf("Len = %d, want %d", got, len(tt.want))
			}
			got := drain(t, q)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got keys %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAddWhileProcessingRequeuesOnDone(t *testing.T) {
	q := New(nil)
	defer q.ShutDown()
	q.Add("a")
	k, _ := q.Get()
	q.Add("a")
	q.Add("a")
	if q.Len() != 0 {
		t.Fatalf("a key being processed was handed out again: Len = %d", q.Len())
	}
	q.Done(k)
	if q.Len() != 1 {
		t.Fatalf("after Done, Len = %d, want 1 (the change seen during processing)", q.Len())
	}
	if k2, _ := q.Get(); k2 != "a" {
		t.Fatalf("Get = %q, want a", k2)
	}
	q.Done("a")
	if q.Len() != 0 {
		t.Fatalf("Done without a new Add requeued: Len = %d", q.Len())
	}
}

// TestNoKeyProcessedTwiceAtOnce runs workers against concurrent adds and checks the queue's
// central promise: a key is never held by two workers, and every added key is processed after
// its last add.
func TestNoKeyProcessedTwiceAtOnce(t *testing.T) {
	q := New(nil)
	const workers, keys, adds = 8, 20, 5000
	var (
		mu        sync.Mutex
		holding   = map[string]bool{}
		lastAdd   = map[string]int{}
		processed = map[string]int{} // the add counter value seen when processing started
		counter   int
	)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, shutdown := q.Get()
				if shutdown {
					return
				}
				mu.Lock()
				if holding[k] {
					t.Errorf("key %s handed to two workers at once", k)
				}
				holding[k] = true
				processed[k] = counter
				mu.Unlock()
				time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond)
				mu.Lock()
				holding[k] = false
				mu.Unlock()
				q.Done(k)
			}
		}()
	}
	for range adds {
		k := fmt.Sprintf("k%d", rand.IntN(keys))
		mu.Lock()
		counter++
		lastAdd[k] = counter
		mu.Unlock()
		q.Add(k)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := true
		for k, n := range lastAdd {
			if processed[k] < n {
				done = false
			}
		}
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("some keys were never processed after their last add")
		}
		time.Sleep(time.Millisecond)
	}
	q.ShutDown()
	wg.Wait()
}

func TestAddAfter(t *testing.T) {
	tests := []struct {
		name   string
		delays []time.Duration // AddAfter("a", d) in this order
		want   time.Duration   // when "a" becomes ready
	}{
		{"one delay", []time.Duration{time.Second}, time.Second},
		{"an earlier deadline replaces a later one", []time.Duration{10 * time.Second, time.Second}, time.Second},
		{"a later deadline is dropped", []time.Duration{time.Second, 10 * time.Second}, time.Second},
		{"zero adds at once", []time.Duration{0}, 0},
		{"negative adds at once", []time.Duration{-time.Second}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := New(nil)
				defer q.ShutDown()
				start := time.Now()
				for _, d := range tt.delays {
					q.AddAfter("a", d)
				}
				if tt.want > 0 {
					time.Sleep(tt.want - time.Nanosecond)
					synctest.Wait()
					if q.Len() != 0 {
						t.Fatalf("ready after %v, want %v", time.Since(start), tt.want)
					}
					time.Sleep(time.Nanosecond)
					synctest.Wait()
				}
				if q.Len() != 1 {
					t.Fatalf("Len = %d at %v, want 1", q.Len(), time.Since(start))
				}
				if q.Delayed() != 0 {
					t.Fatalf("Delayed = %d after the key is ready, want 0", q.Delayed())
				}
				// The dropped later deadline must not add the key a second time.
				q.Get()
				q.Done("a")
				time.Sleep(time.Minute)
				synctest.Wait()
				if q.Len() != 0 {
					t.Fatalf("key added again by a replaced timer")
				}
			})
		})
	}
}

func TestAddRateLimitedBacksOffAndForgetResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(NewItemExponential(5*time.Millisecond, time.Second))
		defer q.ShutDown()
		readyAfter := func() time.Duration {
			start := time.Now()
			q.AddRateLimited("a")
			for q.Len() == 0 {
				time.Sleep(time.Millisecond)
				synctest.Wait() // let a timer firing at this instant run first
			}
			k, _ := q.Get()
			q.Done(k)
			return time.Since(start).Round(time.Millisecond)
		}
		for i, want := range []time.Duration{5, 10, 20, 40, 80} {
			if got := readyAfter(); got != want*time.Millisecond {
				t.Errorf("failure %d: ready after %v, want %v", i, got, want*time.Millisecond)
			}
		}
		if n := q.NumRequeues("a"); n != 5 {
			t.Errorf("NumRequeues = %d, want 5", n)
		}
		q.Forget("a")
		if n := q.NumRequeues("a"); n != 0 {
			t.Errorf("NumRequeues after Forget = %d, want 0", n)
		}
		if got := readyAfter(); got != 5*time.Millisecond {
			t.Errorf("after Forget: ready after %v, want 5ms", got)
		}
	})
}

// TestShutDown checks that workers blocked in Get are released, waiting and delayed keys are
// dropped and later adds ignored. synctest.Test fails if any goroutine of the bubble (workers,
// timers) is still alive at the end, so this is also the goroutine-leak test.
func TestShutDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(nil)
		var wg sync.WaitGroup
		released := make(chan bool, 3)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, shutdown := q.Get()
				released <- shutdown
			}()
		}
		synctest.Wait() // all three are blocked in Get
		q.AddAfter("later", time.Hour)
		q.AddRateLimited("failing")
		q.ShutDown()
		q.ShutDown() // twice is fine
		wg.Wait()
		for range 3 {
			if !<-released {
				t.Error("a blocked Get returned a key after ShutDown")
			}
		}
		if q.Delayed() != 0 {
			t.Errorf("Delayed = %d after ShutDown, want 0", q.Delayed())
		}
		q.Add("new")
		q.AddAfter("new", time.Second)
		if q.Len() != 0 || q.Delayed() != 0 {
			t.Errorf("adds after ShutDown were kept: Len %d, Delayed %d", q.Len(), q.Delayed())
		}
		if _, shutdown := q.Get(); !shutdown {
			t.Error("Get after ShutDown did not report shutdown")
		}
		if !q.ShuttingDown() {
			t.Error("ShuttingDown = false")
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if q.Len() != 0 {
			t.Error("a stopped timer added its key after ShutDown")
		}
	})
}

func TestShutDownDropsQueuedKeys(t *testing.T) {
	q := New(nil)
	q.Add("a")
	q.Add("b")
	k, _ := q.Get()
	q.Add(k) // dirty while processing
	q.ShutDown()
	q.Done(k)
	if q.Len() != 0 {
		t.Errorf("Len after ShutDown = %d, want 0", q.Len())
	}
}
