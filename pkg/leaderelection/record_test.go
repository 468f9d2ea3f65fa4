package leaderelection

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/client"
	coordinationv1 "github.com/berth-dev/berth/proto/berth/coordination/v1"
)

func TestAcquireSpec(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	then := microTime(t0.Add(-time.Hour))
	now := t0.Add(20 * time.Second)
	held := func(holder string, secs, transitions int32) *coordinationv1.LeaseSpec {
		return &coordinationv1.LeaseSpec{
			HolderIdentity: ptr(holder), LeaseDurationSeconds: ptr(secs),
			AcquireTime: then, RenewTime: then, LeaseTransitions: ptr(transitions),
		}
	}
	mine := func(acquire *coordinationv1.LeaseSpec, transitions int32) *coordinationv1.LeaseSpec {
		return &coordinationv1.LeaseSpec{
			HolderIdentity: ptr("me"), LeaseDurationSeconds: ptr(int32(15)),
			AcquireTime: acquire.GetAcquireTime(), RenewTime: microTime(now), LeaseTransitions: ptr(transitions),
		}
	}
	fresh := &coordinationv1.LeaseSpec{AcquireTime: microTime(now)}
	tests := []struct {
		name       string
		cur        *coordinationv1.LeaseSpec
		observedAt time.Time
		want       *coordinationv1.LeaseSpec // nil: held by another
	}{
		{"no lease yet", nil, time.Time{}, mine(fresh, 0)},
		{"released", held("", 1, 3), t0, mine(fresh, 4)},
		{"no holder field", &coordinationv1.LeaseSpec{}, t0, mine(fresh, 1)},
		{"another holder, unexpired", held("other", 15, 3), t0.Add(6 * time.Second), nil},
		{"another holder, expires this instant", held("other", 20, 3), t0, mine(fresh, 4)},
		{"another holder, expired", held("other", 15, 3), t0, mine(fresh, 4)},
		{"another holder without a duration", &coordinationv1.LeaseSpec{HolderIdentity: ptr("other")}, now, mine(fresh, 1)},
		{"renewal keeps acquireTime and transitions", held("me", 15, 3), t0.Add(10 * time.Second), mine(held("me", 15, 3), 3)},
		{"own expired lease is renewed as ours", held("me", 15, 3), t0, mine(held("me", 15, 3), 3)},
		{"own lease without acquireTime", &coordinationv1.LeaseSpec{HolderIdentity: ptr("me")}, t0, mine(fresh, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := acquireSpec(tt.cur, tt.observedAt, now, "me", 15*time.Second)
			if ok != (tt.want != nil) {
				t.Fatalf("acquireSpec ok = %v, want %v", ok, tt.want != nil)
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("acquireSpec = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReleaseSpec(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	cur := &coordinationv1.LeaseSpec{HolderIdentity: ptr("me"), LeaseDurationSeconds: ptr(int32(15)), LeaseTransitions: ptr(int32(7))}
	want := &coordinationv1.LeaseSpec{
		HolderIdentity: ptr(""), LeaseDurationSeconds: ptr(int32(1)),
		AcquireTime: microTime(now), RenewTime: microTime(now), LeaseTransitions: ptr(int32(7)),
	}
	if got := releaseSpec(cur, now); !proto.Equal(got, want) {
		t.Errorf("releaseSpec = %v, want %v", got, want)
	}
	if got := microTime(now).AsTime(); !got.Equal(now.Truncate(time.Microsecond)) || got.Nanosecond()%1000 != 0 {
		t.Errorf("microTime = %v, want microseconds", got)
	}
}

func TestConfigValidation(t *testing.T) {
	c := &client.Client{}
	valid := Config{Client: c, Name: "kube-scheduler", OnStartedLeading: func(context.Context) {}}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // "" valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"short but consistent", func(c *Config) {
			c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = time.Second, 500*time.Millisecond, 100*time.Millisecond
		}, ""},
		{"no client", func(c *Config) { c.Client = nil }, "a client is required"},
		{"no name", func(c *Config) { c.Name = "" }, "the Lease's name is required"},
		{"bad name", func(c *Config) { c.Name = "Kube_Scheduler" }, `lease name "Kube_Scheduler"`},
		{"bad namespace", func(c *Config) { c.Namespace = "kube.system" }, `lease namespace "kube.system"`},
		{"no callback", func(c *Config) { c.OnStartedLeading = nil }, "OnStartedLeading is required"},
		{"fractional lease", func(c *Config) { c.LeaseDuration = 1500 * time.Millisecond; c.RenewDeadline = time.Second }, "whole number of seconds"},
		{"sub-second lease", func(c *Config) { c.LeaseDuration = 500 * time.Millisecond }, "at least 1s"},
		{"renew deadline too long", func(c *Config) { c.RenewDeadline = 15 * time.Second }, "must be shorter than the lease duration"},
		{"negative retry", func(c *Config) { c.RetryPeriod = -time.Second }, "must be positive"},
		{"retry too long", func(c *Config) { c.RetryPeriod = 9 * time.Second }, "longer than 1.2 × the retry period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mutate(&cfg)
			got, err := cfg.complete()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("complete: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("complete error = %v, want one containing %q", err, tt.want)
			}
			if tt.want == "" && (got.Namespace != DefaultNamespace || !strings.Contains(got.Identity, "_") || got.Logger == nil) {
				t.Errorf("defaults not filled: %+v", got)
			}
		})
	}
}
