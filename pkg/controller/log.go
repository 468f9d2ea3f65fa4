package controller

import (
	"context"
	"log/slog"
)

type loggerKey struct{}

// WithLogger returns a context carrying log.
func WithLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

// LoggerFrom returns the logger ctx carries: inside a reconcile, one with the controller's
// name, the key and the reconcile ID. Without one it returns a logger that discards.
func LoggerFrom(ctx context.Context) *slog.Logger {
	if log, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return log
	}
	return slog.New(slog.DiscardHandler)
}
