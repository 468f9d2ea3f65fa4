// Package e2e holds Berth's end-to-end tests: real berth and berthctl binaries from bin/, a
// real Docker Engine, and the images `make images` builds. Every test file carries the build
// tag e2e, so `go test ./...` leaves them out; run them with `make e2e`, which builds the
// binaries and images first and then runs `go test -tags e2e ./test/e2e/...`. Package e2eutil
// starts servers, runs berthctl and talks to Docker for them; without Docker or the images the
// tests skip, except under CI=1, where they fail.
package e2e
