// Command berth-pause is the program of the berth-pause image, the sandbox container of every
// Pod; see package pause.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/berth-dev/berth/pkg/pause"
)

func main() {
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, pause.Signals...)
	os.Exit(pause.Run(context.Background(), signals, pause.Options{Reap: os.Getpid() == 1}))
}
