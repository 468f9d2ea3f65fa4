package testlog

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// New returns a logger at level Debug that writes text lines to t's log.
func New(t testing.TB) *slog.Logger { return NewAt(t, slog.LevelDebug) }

// NewAt returns a logger at level that writes text lines to t's log.
func NewAt(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(Writer(t), &slog.HandlerOptions{Level: level}))
}

// Writer returns a writer that passes each write, a log line, to t.Log until t ends.
func Writer(t testing.TB) *LineWriter {
	w := &LineWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

// LineWriter passes log lines to a test's log, and keeps them for Contains when asked to.
type LineWriter struct {
	t testing.TB

	mu    sync.Mutex
	done  bool
	keep  bool
	lines []string
}

// Write passes p, one log line, to the test's log.
func (w *LineWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.t.Log(line)
	if w.keep {
		w.lines = append(w.lines, line)
	}
	return len(p), nil
}

// Keep makes w keep the lines written from now on, forgetting those kept before.
func (w *LineWriter) Keep() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keep, w.lines = true, nil
}

// Contains reports whether one line kept since Keep holds every one of parts.
func (w *LineWriter) Contains(parts ...string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
lines:
	for _, l := range w.lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue lines
			}
		}
		return true
	}
	return false
}

// Logger returns a logger at level Debug writing text lines to w.
func (w *LineWriter) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
