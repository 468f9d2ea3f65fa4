// Bench measures Berth next to the raw limits underneath it (etcd, the Docker Engine, the Pod
// network), in one run, and writes the results as a Markdown report (BENCHMARKS.md).
//
// Everything is real: an embedded etcd on a temporary directory, the apiserver serving gRPC on a
// 127.0.0.1 listener, and clients talking to both over real gRPC connections. Each benchmark
// measures Berth and its raw etcd counterpart back to back, so the ratio between them compares
// like with like on the same machine, disk and moment:
//
//   - create (Pod Create against etcd put), get (Pod Get against etcd get) and list (List of
//     1k and 10k Pods against an etcd range over as many keys), at 1, 16 and 64 clients;
//   - watch: how fast N watchers receive the same history of events, against etcd watchers;
//   - fanout: 1,000 watchers of Pods while a writer creates 500 Pods/s, with the latency from
//     a write to each watcher seeing it;
//   - rest: Pod get, list of 1k and create through the REST gateway (on a 127.0.0.1 HTTP
//     listener, JSON) against gRPC, at 1 and 16 clients, and 500 HTTP watchers while a writer
//     creates 200 Pods/s (bench/rest.go);
//   - startup and hollow: Pod startup on the real Docker Engine against raw `docker create` +
//     `start`, and the memory of a thousand hollow Nodes (bench/agent.go);
//   - scheduler: 5,000 hollow Nodes and 10,000 Pods, create → bound (bench/scheduler.go);
//   - deployment: a 1,000-replica Deployment on hollow Nodes from create to available, and a
//     rolling update of it, with the control plane's CPU and peak RSS, against 1,000 Pods
//     created straight through the apiserver (bench/deployment.go);
//   - service: requests through a Service's ClusterIP (the agent's proxy) against straight to
//     the Pod IPs, at a fixed 1,000 req/s and closed-loop, and the time from a Pod becoming
//     ready to receiving traffic (bench/service.go).
//
// CPU profiles of the create and fanout runs are summarised in the report (where the time goes)
// and kept next to it for `go tool pprof`.
//
// Usage:
//
//	go run ./bench -o BENCHMARKS.md             # the full run (about 10 minutes on 2 cores)
//	go run ./bench -quick -o /tmp/bench.md      # a smoke run (under a minute)
//	go run ./bench -run 'create|fanout' -o x.md # a subset
package main
