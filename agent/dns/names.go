package dns

import "strings"

// queryKind is what a name in the cluster domain asks for.
type queryKind int

const (
	// kindNone is a name of the domain's own structure ("cluster.local", "svc.cluster.local",
	// "<ns>.svc.cluster.local"): it exists but holds no records.
	kindNone queryKind = iota
	// kindService is <svc>.<ns>.svc.<domain>.
	kindService
	// kindEndpoint is <host>.<svc>.<ns>.svc.<domain>.
	kindEndpoint
	// kindPort is _<port>._<proto>.<svc>.<ns>.svc.<domain>.
	kindPort
)

// query is a parsed name of the cluster domain.
type query struct {
	kind      queryKind
	namespace string
	service   string
	host      string // kindEndpoint
	port      string // kindPort, without the underscore
	protocol  string // kindPort, without the underscore, lower case
}

// parseName parses name, a fully qualified lower-case name ending with a dot, against the
// cluster domain (lower case, no dots at either end). inDomain says whether name is in the
// domain; ok whether it is one that may exist there (a false ok is NXDOMAIN).
func parseName(name, domain string) (q query, inDomain, ok bool) {
	name = strings.TrimSuffix(name, ".")
	if name == domain {
		return query{kind: kindNone}, true, true
	}
	rest, found := strings.CutSuffix(name, "."+domain)
	if !found || rest == "" {
		return query{}, false, false
	}
	labels := strings.Split(rest, ".")
	for _, l := range labels {
		if l == "" {
			return query{}, true, false
		}
	}
	// labels, from the right: "svc", namespace, service, then host or _proto, _port.
	n := len(labels)
	if labels[n-1] != "svc" {
		return query{}, true, false
	}
	switch n {
	case 1: // svc.<domain>
		return query{kind: kindNone}, true, true
	case 2: // <ns>.svc.<domain>
		return query{kind: kindNone, namespace: labels[0]}, true, true
	case 3:
		return query{kind: kindService, namespace: labels[1], service: labels[0]}, true, true
	case 4:
		if strings.HasPrefix(labels[0], "_") {
			return query{}, true, false // _proto.<svc>...: an empty non-terminal we do not track
		}
		return query{kind: kindEndpoint, namespace: labels[2], service: labels[1], host: labels[0]}, true, true
	case 5:
		port, okPort := strings.CutPrefix(labels[0], "_")
		proto, okProto := strings.CutPrefix(labels[1], "_")
		if !okPort || !okProto || port == "" || proto == "" {
			return query{}, true, false
		}
		return query{kind: kindPort, namespace: labels[3], service: labels[2], port: port, protocol: proto}, true, true
	}
	return query{}, true, false
}

// String is the query's name in domain, fully qualified.
func (q query) name(domain string) string {
	var parts []string
	switch q.kind {
	case kindService:
		parts = []string{q.service, q.namespace, "svc"}
	case kindEndpoint:
		parts = []string{q.host, q.service, q.namespace, "svc"}
	case kindPort:
		parts = []string{"_" + q.port, "_" + q.protocol, q.service, q.namespace, "svc"}
	case kindNone:
		switch {
		case q.namespace != "":
			parts = []string{q.namespace, "svc"}
		default:
			parts = []string{"svc"}
		}
	}
	return strings.Join(append(parts, domain), ".") + "."
}

// dashed is an IPv4 address with dashes for dots, the name CoreDNS gives a headless
// Service's endpoint without a hostname.
func dashed(ip string) string { return strings.ReplaceAll(ip, ".", "-") }
