package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/events"
)

// Defaults of Config. Kubernetes uses 15s/10s/2s; Berth's lease is shorter so that a dead
// leader is replaced within 15 s of its death, not 15 s after its last renewal.
const (
	DefaultNamespace     = "kube-system"
	DefaultLeaseDuration = 12 * time.Second
	DefaultRenewDeadline = 8 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Config configures Run.
type Config struct {
	// Client talks to the apiserver; required.
	Client *client.Client
	// Namespace and Name name the Lease (default namespace kube-system); Name is required.
	Namespace, Name string
	// Identity names this candidate in the Lease's holderIdentity; it must be unique among the
	// candidates. Default: the hostname, "_" and a random UUID (DefaultIdentity).
	Identity string
	// LeaseDuration is how long followers wait, after they last saw the Lease change, before
	// they take it over; a whole number of seconds (default 15s).
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it steps down; shorter
	// than LeaseDuration (default 10s).
	RenewDeadline time.Duration
	// RetryPeriod is how often the leader renews and candidates retry (default 2s).
	RetryPeriod time.Duration
	// Logger logs transitions of leadership; optional.
	Logger *slog.Logger
	// Metrics registers berth_leader_election_is_leader; optional. Several Runs may share one
	// Registerer (each Lease is a label).
	Metrics prometheus.Registerer
	// Recorder records "LeaderElection" Events on the Lease; optional.
	Recorder *events.Recorder

	// OnStartedLeading runs, in its own goroutine, each time this candidate becomes leader;
	// required. Its ctx ends when leadership is lost or Run's ctx ends, and it must then return
	// promptly: Run waits for it before it releases the Lease or campaigns again. If it
	// returns while ctx is still alive, Run releases the Lease and returns.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading is called after OnStartedLeading has returned, each time leadership
	// ends; optional.
	OnStoppedLeading func()
	// OnNewLeader is called, from a goroutine of its own and in order, when the Lease's holder
	// changes to another non-empty identity, this candidate's own included; optional.
	OnNewLeader func(identity string)
}

// DefaultIdentity is a candidate identity unique to this process: the hostname, "_" and a
// random UUID, as Kubernetes' components use.
func DefaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + "_" + uuid.NewString()
}

// complete fills in the defaults and checks the result.
func (c Config) complete() (Config, error) {
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.Identity == "" {
		c.Identity = DefaultIdentity()
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = DefaultRenewDeadline
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = DefaultRetryPeriod
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("a client is required"))
	}
	if c.Name == "" {
		errs = append(errs, errors.New("the Lease's name is required"))
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(c.Name) {
			errs = append(errs, fmt.Errorf("lease name %q: %s", c.Name, msg))
		}
	}
	for _, msg := range validation.IsDNS1123Label(c.Namespace) {
		errs = append(errs, fmt.Errorf("lease namespace %q: %s", c.Namespace, msg))
	}
	if c.OnStartedLeading == nil {
		errs = append(errs, errors.New("OnStartedLeading is required"))
	}
	switch {
	case c.LeaseDuration < time.Second || c.LeaseDuration%time.Second != 0:
		errs = append(errs, fmt.Errorf("lease duration %s must be a whole number of seconds, at least 1s", c.LeaseDuration))
	case c.RenewDeadline >= c.LeaseDuration:
		errs = append(errs, fmt.Errorf("renew deadline %s must be shorter than the lease duration %s", c.RenewDeadline, c.LeaseDuration))
	}
	switch {
	case c.RetryPeriod <= 0:
		errs = append(errs, fmt.Errorf("retry period %s must be positive", c.RetryPeriod))
	case c.RenewDeadline*5 <= c.RetryPeriod*6:
		errs = append(errs, fmt.Errorf("renew deadline %s must be longer than 1.2 × the retry period %s", c.RenewDeadline, c.RetryPeriod))
	}
	return errors.Join(errs...)
}
