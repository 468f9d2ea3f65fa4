// Package testapp is the program inside the berth-testapp image: a small HTTP (and optionally
// UDP) server that end-to-end tests and demos run as a Pod's container to see what a Pod sees.
//
// Behaviour, configured from the environment (see ConfigFromEnv):
//
//   - it listens for HTTP on $PORT (default 8080);
//   - GET / (any path not listed below) answers JSON: the hostname, the Pod IP (the first
//     non-loopback IPv4 address), the request's method, path and remote address, and the
//     process environment;
//   - GET /healthz answers 200 "ok" until POST /fail flips it to 500 "failing";
//     POST /recover flips it back;
//   - POST /exit?code=N answers, then makes the process exit with status N (0-255, default 0);
//   - with $UDP_PORT set, every UDP datagram received on that port is echoed back to its sender;
//   - every request is logged to stdout; on SIGTERM (or SIGINT) it logs "received SIGTERM"
//     ("received SIGINT"), waits $SHUTDOWN_DELAY (a Go duration, default 0) while still
//     serving, and exits 0.
//
// The same binary is also a one-shot UDP client, since busybox's nc in berth-shell cannot
// speak UDP: `testapp udp HOST:PORT MESSAGE` prints the first datagram that comes back
// (UDPRequest).
package testapp
