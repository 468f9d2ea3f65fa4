// Command berth-testapp is the program of the berth-testapp image; see package testapp for
// what it does. It is configured from the environment only ($PORT, $UDP_PORT, $SHUTDOWN_DELAY).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-dev/berth/pkg/testapp"
)

func main() {
	os.Exit(run())
}

func run() int {
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	hostname, err := os.Hostname()
	if err != nil {
		log.Warn("no hostname", "err", err)
	}
	cfg, err := testapp.ConfigFromEnv(os.Getenv, hostname, os.Environ())
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-testapp: %v\n", err)
		return 2
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	srv, err := testapp.Listen(cfg, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-testapp: %v\n", err)
		return 1
	}
	code, err := srv.Serve(context.Background(), signals)
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-testapp: %v\n", err)
	}
	return code
}
