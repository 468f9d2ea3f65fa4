// Package prober runs a container's probes (exec, httpGet, tcpSocket) and lifecycle handlers,
// as the kubelet does.
//
// Prober.Probe runs one probe: an exec probe succeeds when the command exits 0 within
// timeoutSeconds; an httpGet probe when the answer's status is 200–399 (the host defaults to
// the Pod IP, a named port is looked up in the container's ports, redirects are followed only
// to the same host); a tcpSocket probe when the connection opens.
//
// A Worker probes one container for one probe kind, in its own goroutine, from initialDelay
// after the container started, every periodSeconds; its Result changes only after
// successThreshold consecutive successes or failureThreshold consecutive failures. The initial
// Result is Failure for readiness (not ready until proven), Success for liveness and Unknown
// for startup. A liveness or startup worker that reaches Failure stops (the container is going
// to be restarted and gets new workers), and so does a startup worker that reaches Success.
// The caller holds liveness and readiness back until startup succeeded by starting their
// workers only then. Every probe attempt is reported to the worker's OnResult callback, which
// must not block.
package prober
