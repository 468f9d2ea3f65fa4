// Package scheduler is Berth's scheduler service: it places Pods on Nodes.
//
// It watches, through informers, the Pods that are not finished and the Nodes. Pods bound to a
// Node go to the cache (package cache), where they count against the Node; Pods without
// spec.nodeName whose spec.schedulerName is this scheduler's (default-scheduler unless
// configured) go to the queue (package queue). Several schedulers with different names can
// run side by side, each taking its own Pods.
//
// The scheduling loop, one Pod at a time:
//
//	queue.Pop ─▶ cache.UpdateSnapshot ─▶ framework.Schedule (filter, score: package plugins)
//	   ├─ a Node: cache.AssumePod ─▶ bind asynchronously (Pods.Bind, at most BindConcurrency at once)
//	   │     ├─ bound: Event Scheduled; the informer confirms the assumption
//	   │     └─ failed: cache.ForgetPod, back to the queue after a backoff
//	   └─ no Node: back to the queue (unschedulable), condition PodScheduled=False reason
//	        Unschedulable with Kubernetes' message ("0/3 nodes are available: ..."), Event
//	        FailedScheduling
//
// Assuming before binding means a Node's capacity is spent the moment a Pod is placed on it,
// so the loop never waits for the apiserver and no Node is overcommitted while bindings are in
// flight. The apiserver refuses to bind a Pod that is bound already (Conflict), so a Pod is
// never bound twice.
//
// Which plugins run, in which order and with which weights, comes from a configuration file
// (framework.Config; see LoadConfig), refused at start when malformed.
//
// Metrics (kube-scheduler's names): scheduler_schedule_attempts_total{result},
// scheduler_scheduling_attempt_duration_seconds{result},
// scheduler_scheduling_algorithm_duration_seconds, scheduler_pod_scheduling_duration_seconds
// (queue to bound) and scheduler_pending_pods{queue}.
package scheduler
