package controller

import (
	"context"
	"log/slog"
	"sync"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// Runner is a controller ready to run: it reconciles until ctx ends.
type Runner interface {
	Run(ctx context.Context) error
}

// Env is what RunStandalone gives a controller to build on.
type Env struct {
	// Factory is an informer factory of the controller's own, started once the controller is
	// built.
	Factory *informer.Factory
	// Recorder returns an Event recorder whose Events name component as their source; it
	// runs until the controller has stopped.
	Recorder func(component string) *events.Recorder
}

// RunStandalone runs one controller outside a controller manager, through c until ctx ends:
// build makes it on the informer factory and Event recorders of env, all its own; then the
// factory starts and the controller runs. It returns the controller's error once the informers
// and recorders have stopped too. A controller manager that runs several controllers shares one
// informer factory between them instead.
func RunStandalone(ctx context.Context, c *client.Client, log *slog.Logger, build func(env Env) Runner) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	var recorders sync.WaitGroup
	defer recorders.Wait() // after cancel
	defer cancel()
	f := informer.NewFactory(c, informer.Options{Logger: log})
	r := build(Env{
		Factory: f,
		Recorder: func(component string) *events.Recorder {
			rec := events.New(corev1.NewEventServiceClient(c.Conn()), component, "", log)
			recorders.Add(1)
			go func() { defer recorders.Done(); rec.Run(ctx) }()
			return rec
		},
	})
	f.Start(ctx)
	err := r.Run(ctx)
	cancel()
	f.Wait()
	return err
}
