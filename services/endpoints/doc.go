// Package endpoints is Berth's endpoints service: the Endpoints controller, which keeps one
// Endpoints object per Service with a selector in step with the Pods the selector matches,
// as Kubernetes' endpoints controller does.
//
// It runs on the one controller framework (package controller): Service, Pod and Endpoints
// informers feed Service keys to an idempotent reconcile. A Service's own changes enqueue it;
// a Pod's add or delete enqueues the Services of its namespace whose selector matches it, and
// an update enqueues them only when something an address depends on changed (readiness, IPs,
// phase, deletion, labels), so an Endpoints follows its Pods within moments and without
// polling.
//
// Reconciling a Service:
//
//   - a deleted Service's Endpoints are deleted (also, once at start, those of Services
//     deleted while the controller did not run);
//   - a Service without a selector, or of type ExternalName, is left alone: its users write
//     its Endpoints;
//   - otherwise every matching Pod that has an IP and has not finished (phase Succeeded or
//     Failed) and is not terminating is listed, per Service port: under addresses when it is
//     Ready (or the Service sets publishNotReadyAddresses, which also keeps terminating Pods),
//     else under notReadyAddresses, with its nodeName, a targetRef to the Pod, and its
//     hostname when its subdomain names the Service. A named targetPort resolves per Pod
//     through its containers' ports of that name and protocol; a Pod without it is left out
//     of that port, and a port whose name no listed Pod resolves records a Warning Event
//     (FailedToResolvePort) on the Service, once each time the set of such ports changes.
//     Addresses are grouped by the ports they share and sorted exactly as Kubernetes'
//     RepackSubsets does, so the object is stable and written only when its
//     subsets or labels (the Service's, plus service.kubernetes.io/headless for a Service
//     without a cluster IP) change. Writes carry Kubernetes' last-change-trigger-time and,
//     beyond 1,000 addresses, over-capacity annotations. A failed write records a Warning
//     Event (FailedToCreateEndpoint, FailedToUpdateEndpoint) on the Endpoints.
//
// Run runs it as a service of its own (`berth endpoints`, and inside `berth server`), leading
// through the Lease kube-system/berth-endpoints.
package endpoints
