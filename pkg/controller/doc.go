// Package controller runs Berth's reconcile loops: the one framework every controller (ReplicaSet,
// Deployment, garbage collector, Namespace, Node lifecycle, endpoints, ...) is built on.
//
// A controller is a name and a reconcile function. Informers (package informer) tell it which
// keys changed, a rate-limited, de-duplicating work queue (package workqueue) holds the keys,
// and N workers call reconcile for one key at a time:
//
//	c := controller.New("namespace", r.reconcile, controller.Options{Workers: 2, Logger: log})
//	c.Watch(factory.For(scheme.Namespaces), nil) // enqueue each changed Namespace's own key
//	factory.Start(ctx)
//	return c.Run(ctx) // waits for the informers' caches, then works until ctx ends
//
// Each controller package has a New that builds it on a shared informer.Factory (the
// controller manager runs them all on one), and a Run for running it alone, which is
// RunStandalone: an informer factory and Event recorders of its own, stopped with it.
//
// # The reconcile contract
//
// reconcile(ctx, key) gets a key, "namespace/name" (or "name" for cluster-scoped objects), never
// an event: it must read the current state (from the informers' caches, or the apiserver) and
// make the world match it. It must be
//
//   - level-based and idempotent: calling it twice, or after a crash, or for a key whose object
//     is gone, must be correct; it creates what is missing and updates only what drifted;
//   - careful with the cache: objects from a cache are shared and must never be modified;
//     proto.Clone one before changing it;
//   - quick to give the worker back: it never sleeps waiting for the world to change, it
//     returns Result{RequeueAfter: d} to be called again after d.
//
// Its outcome decides what happens to the key:
//
//   - nil error, zero Result: done; the key's backoff is reset;
//   - nil error, Result{RequeueAfter: d}: the key is reconciled again after d (sooner if it
//     changes meanwhile); its backoff is reset;
//   - an error: the key is retried with per-key exponential backoff (5ms doubling to 1000s);
//   - an error wrapped by Terminal: logged and counted, never retried until the key is enqueued
//     again by a change; use it for input that no retry can fix;
//   - a panic: recovered, logged with its stack and retried as an error.
//
// The queue never hands one key to two workers at once, and a key enqueued while it is being
// reconciled is reconciled again afterwards, so no change is lost.
//
// Each reconcile runs with a logger in ctx (LoggerFrom) that carries the controller's name, the
// key and a fresh reconcileID. The runner exports per-controller Prometheus metrics through
// Metrics: queue depth, keys waiting for a retry or requeue, reconcile outcomes, errors and
// latency.
package controller
