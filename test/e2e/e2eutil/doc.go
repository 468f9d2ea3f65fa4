// Package e2eutil is what Berth's end-to-end tests stand on. It finds the binaries `make
// build` puts in bin/, checks that the Docker Engine and the images `make images` builds are
// there, starts `bin/berth server` (or any role) on free ports with a fresh data directory and
// waits for /readyz, stops it with SIGTERM (or kills it with SIGKILL and restarts it on the
// same data), runs `bin/berthctl` against it, and starts Debian's etcd for the external-etcd
// tests.
//
// A missing prerequisite (a binary, Docker, an image, etcd) skips the test with a message that
// says what to do — except under CI (the CI environment variable set to anything but "", "0"
// or "false"), where it fails the test instead: CI machines have everything, so a skip there
// would hide a broken setup.
//
// A typical test:
//
//	func TestApply(t *testing.T) {
//		srv := e2eutil.StartServer(t, e2eutil.ServerOptions{})
//		ctl := srv.Berthctl(t)
//		ctl.Run(t, "apply", "-f", "testdata/app.yaml")
//		out := ctl.Run(t, "get", "pods", "-n", "demo")
//		...
//		srv.Kill(t)    // kill -9
//		srv.Restart(t) // same data dir and ports
//	}
//
// The tests themselves live in package test/e2e and carry the build tag e2e, so that `go test
// ./...` leaves them out; `make e2e` builds the binaries and images and runs them with
// `go test -tags e2e ./test/e2e/...`.
package e2eutil
