// Package proxy is the node agent's service proxy: it makes every Service's ClusterIP:port
// (and 0.0.0.0:nodePort for NodePort Services) reach the Service's ready endpoints, from the
// host and from the Pods on the host's Docker bridge network.
//
// It is a userspace proxy in the agent's process, on the host's network namespace. Each
// ClusterIP is a /32 address on the loopback interface lo, so packets Pods send to it through
// their default gateway (the host) are delivered locally. For each Service port with at least
// one ready endpoint the proxy listens on ClusterIP:port (TCP, or a UDP socket) and relays
// each connection to an endpoint picked round-robin among the ready addresses of the
// Service's Endpoints object, or, with sessionAffinity ClientIP, to the endpoint the client's
// IP last used within the affinity timeout. A dial failure tries the next endpoint. A port
// without ready endpoints has no listener, so the kernel refuses connections at once (RST, or
// ICMP port unreachable for UDP) instead of letting them hang.
//
// The proxy owns the addresses on lo inside the configured service range, and only those: at
// start it removes the ones no Service needs, and when it stops it removes all of them.
// Informers on Services and Endpoints feed one reconcile (pkg/controller, a single key) that
// computes the desired set of (ip, port, protocol) → endpoints (Desired) and applies the
// difference: new listeners, new endpoint sets for existing ones (connections in progress are
// never cut), closed listeners for ports that lost their Service or all its endpoints.
package proxy
