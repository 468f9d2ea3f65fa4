// Bench measures Berth's apiserver next to the raw limit of the etcd underneath it, in one run
// and one process, and writes the results as a Markdown report (BENCHMARKS.md).
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
//     creates 200 Pods/s (bench/rest.go).
//
// CPU profiles of the create and fanout runs are summarised in the report (where the time goes)
// and kept next to it for `go tool pprof`.
//
// Usage:
//
//	go run ./bench -o BENCHMARKS.md             # the full run (about 5 minutes on 2 cores)
//	go run ./bench -quick -o /tmp/bench.md      # a smoke run (under a minute)
//	go run ./bench -run 'create|fanout' -o x.md # a subset
package main
