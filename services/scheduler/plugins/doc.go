// Package plugins holds the scheduler's built-in plugins, each a small type implementing
// some of framework's Filter, Score and their Pre/Normalize companions, and the Registry and
// default Config that name them.
//
// Filters, in their default order (the first that rejects a Node gives the reason shown):
//
//	NodeUnschedulable  spec.unschedulable, unless the Pod tolerates node.kubernetes.io/unschedulable
//	NodeReady          the Ready condition; a Node not ready counts as tainted not-ready/unreachable
//	NodeName           spec.nodeName, when the Pod names one
//	TaintToleration    NoSchedule and NoExecute taints the Pod does not tolerate
//	NodeAffinity       nodeSelector and required node affinity (matchExpressions, matchFields)
//	NodePorts          host ports already taken on the Node
//	NodeResourcesFit   requests against allocatable minus what is placed (cpu, memory,
//	                   ephemeral-storage, pods, extended resources)
//	PodTopologySpread  topologySpreadConstraints with whenUnsatisfiable: DoNotSchedule
//
// Scores, with their default weights:
//
//	NodeResourcesFit                 1  least allocated (cpu, memory)
//	NodeResourcesBalancedAllocation  1  cpu and memory used in the same proportion
//	TaintToleration                  3  fewer untolerated PreferNoSchedule taints
//	NodeAffinity                     2  preferred node affinity terms
//	PodTopologySpread                2  topologySpreadConstraints with ScheduleAnyway
//	OwnerSpread                      2  fewer Pods of the same controller on the Node and in its zone
//
// The reasons a Filter gives are Kubernetes' own phrases, so "0/3 nodes are available: ..."
// reads as it does in Kubernetes.
package plugins
