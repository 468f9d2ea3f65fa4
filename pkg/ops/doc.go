// Package ops owns the operational HTTP endpoints every long-running Berth role serves:
// /healthz and /livez (the process is alive), /readyz (it can do its job: each registered
// check passes) and /metrics (Prometheus). Other HTTP handlers, such as the REST gateway, can
// be mounted on the same mux.
package ops
