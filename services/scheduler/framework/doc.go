// Package framework is the scheduler's pure core: the types a scheduling decision is made over
// (PodInfo, NodeInfo, Snapshot), the small plugin interfaces (PreFilter, Filter, PreScore,
// Score, NormalizeScore), the configuration that says which plugins run in which order and with
// which weights, and Framework.Schedule, which picks a Node for one Pod.
//
// Schedule is a function of its inputs alone — the Framework built from a Config, a Snapshot of
// the Nodes and the Pods placed or assumed on them, the Pod, and a Cursor (where the last search
// stopped and which Node was picked last) — and it returns the Node chosen and the next Cursor,
// or a *FitError with the reasons no Node fits. It does not talk to the apiserver, read clocks
// or keep state, so it is tested with tables of Nodes and Pods.
//
// The pipeline, as in Kubernetes' scheduling framework:
//
//	PreFilter (per Pod) ─▶ Filter (per Node, until enough feasible Nodes) ─▶ PreScore (per Pod)
//	  ─▶ Score (per feasible Node) ─▶ NormalizeScore (per plugin) ─▶ Σ weight × score ─▶ best Node
//
// Like kube-scheduler, Schedule does not filter every Node of a large cluster: it stops once it
// has found NumFeasibleNodesToFind feasible Nodes (all Nodes below 100; 50% minus 1% per 125
// Nodes above, at least 5% and at least 100 Nodes), and the next search starts where this one
// stopped, so every Node gets its turn. Ties between the best Nodes are broken round-robin.
//
// Speed: a decision touches hundreds of Nodes, and in a process shared with the apiserver and
// etcd each Node's memory is rarely in cache, so what plugins read per Node is kept flat. A
// NodeInfo holds what filters need (allocatable and requested resources, taints,
// unschedulable, readiness) and counts its Pods by controller (Owner) and by namespace and
// labels (LabelSets), with interned keys; a Snapshot keeps, per label key, a column of the
// Nodes' values as small integers (LabelColumn), which node selectors, affinity and topology
// spread read instead of each Node's label map. Schedule reuses its buffers between
// decisions. BenchmarkSchedule and BenchmarkScheduleSpread measure it.
package framework
