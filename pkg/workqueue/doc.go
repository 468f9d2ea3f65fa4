// Package workqueue is the queue between Berth's informers and its reconcile loops: a FIFO of
// string keys ("namespace/name") that de-duplicates, never hands the same key to two workers at
// once, delays keys (AddAfter) and backs off keys that keep failing (AddRateLimited).
//
// The contract, as in client-go's workqueue:
//
//   - Add of a key that is already waiting is a no-op; Add of a key that a worker is processing
//     marks it dirty, and Done puts it back in the queue, so a change seen during processing is
//     never lost and a key is never processed by two workers at the same time.
//   - Get blocks until a key is ready or the queue shuts down; every key Get returns must be
//     passed to Done.
//   - AddRateLimited waits as long as the RateLimiter says (by default the larger of a per-key
//     exponential backoff from 5ms doubling to 1000s, and an overall token bucket of 10 adds/s
//     with a burst of 100); Forget resets a key's backoff once it succeeds.
//   - ShutDown makes Get return shutdown=true at once, drops keys still waiting or delayed and
//     ignores new adds. The queue starts no goroutine of its own: delayed adds are timers,
//     stopped by ShutDown.
package workqueue
