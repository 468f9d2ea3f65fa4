// Command berth-testapp is the program of the berth-testapp image; see package testapp for
// what it does. As a server it is configured from the environment only ($PORT, $UDP_PORT,
// $SHUTDOWN_DELAY); `berth-testapp udp HOST:PORT MESSAGE` is a one-shot UDP client.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/berth-dev/berth/pkg/testapp"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "udp" {
		os.Exit(udp(os.Args[2:]))
	}
	os.Exit(serve())
}

func serve() int {
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

func udp(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: berth-testapp udp HOST:PORT MESSAGE")
		return 2
	}
	reply, err := testapp.UDPRequest(context.Background(), args[0], args[1], 5*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-testapp: %v\n", err)
		return 1
	}
	fmt.Println(reply)
	return 0
}
