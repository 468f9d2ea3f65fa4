// Package dns is the node agent's cluster DNS server, kube-dns' counterpart: it answers the
// names of Services in the cluster domain from informers of Services and Endpoints, and
// forwards every other name to the host's nameservers.
//
// In the cluster domain (cluster.local by default), with a TTL of 5 seconds:
//
//   - <svc>.<ns>.svc.<domain> A: the Service's ClusterIP; for a headless Service (clusterIP
//     None) the IPs of its ready endpoints; for an ExternalName Service a CNAME to the
//     external name;
//   - <host>.<svc>.<ns>.svc.<domain> A: the ready endpoint of the Service whose hostname is
//     <host> (or, without a hostname, whose IP written with dashes is <host>, as CoreDNS
//     names them);
//   - _<port>._<proto>.<svc>.<ns>.svc.<domain> SRV: the named port of the Service (its
//     ClusterIP name as the target), or for a headless Service one record per ready endpoint
//     with the endpoint's port and name, with the targets' A records as additional records;
//   - a name that does not exist is NXDOMAIN, a name that exists with no record of the type
//     asked is an empty NOERROR, both with the domain's SOA for negative caching.
//
// Everything outside the domain is forwarded to the nameservers of the host's resolv.conf,
// over the protocol the query came in on (TCP again when a UDP answer is truncated); when
// none is configured or none answers the reply is SERVFAIL.
//
// The agent serves it on UDP and TCP port 53 of the cluster DNS address (the service range's
// tenth address, on lo like the ClusterIPs; see agent/proxy), and gives Pods with dnsPolicy
// ClusterFirst that address as their nameserver.
package dns
