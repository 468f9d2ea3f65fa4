// Package testlog binds logs to a test: a *slog.Logger whose lines go to t.Log, so that they
// show with the test that wrote them (and only when it fails, or with -v).
//
// Lines written after the test has ended, by a goroutine that outlived it, are dropped
// rather than passed to t.Log, which would panic.
package testlog
