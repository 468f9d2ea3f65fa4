// Package agent is Berth's node agent, the kubelet's counterpart: it makes one Node of the
// cluster out of a container runtime (agent/runtime: Docker, or the fake runtime of hollow
// Nodes) and runs the Pods bound to that Node.
//
// Run registers the Node (created, or updated when it exists) with its capacity and
// allocatable from the runtime (cpu, memory, pods), its addresses, labels
// (kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch), system info and the port of
// the agent's logs/exec service; then, until its context ends, it
//
//   - renews the Lease kube-node-lease/<node> every 10 s;
//   - keeps the Node's Ready condition: True (KubeletReady) while the runtime answers, False
//     with the reason when it does not, written through UpdateStatus on change and at least
//     every 40 s;
//   - follows the assignment stream: one long-lived watch of the Pods with
//     spec.nodeName=<node> (pkg/informer: a snapshot first, then changes, resumed from the last
//     resourceVersion after a disconnect, re-listed when the version expired), and hands every
//     Pod to the pod workers (agent/podworker), which drive the runtime;
//   - reports Pod status through UpdateStatus, coalesced per Pod, only on change, re-reading
//     and retrying on conflict;
//   - finishes deletions: once a Pod with a deletionTimestamp is torn down, it deletes it with
//     gracePeriodSeconds 0 and a uid precondition;
//   - serves the Log and Exec RPCs the apiserver relays to it (agent/logexec), when given a
//     listener.
//
// At start-up, before the first Pod is synced, the pod workers adopt the running containers of
// the Pods still bound here and remove those of Pods that are gone, so a restarted agent never
// duplicates a container.
//
// RunHollow runs many agents with the fake runtime in one process, for scale tests.
package agent
