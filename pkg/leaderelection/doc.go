// Package leaderelection elects one leader among the replicas of a Berth component (the
// scheduler, the controller manager) through a coordination.k8s.io/v1 Lease stored by the
// apiserver, with the semantics of Kubernetes' client-go leader election:
//
//	err := leaderelection.Run(ctx, leaderelection.Config{
//		Client: c,
//		Name:   "kube-scheduler", // the Lease kube-system/kube-scheduler
//		Logger: log,
//		Metrics: reg,
//		OnStartedLeading: func(ctx context.Context) {
//			runScheduler(ctx) // build fresh state here; return promptly once ctx ends
//		},
//	})
//
// # The protocol
//
// A candidate reads the Lease and takes it when it is free (holderIdentity empty, after a
// clean release) or expired, by an update that carries the resourceVersion it read: of
// candidates racing for one Lease the apiserver lets one write and answers Conflict to the
// others. The holder renews the Lease (renewTime) every RetryPeriod. The Lease records
// leaseDurationSeconds, acquireTime, renewTime and leaseTransitions (incremented on each change
// of holder) as Kubernetes does.
//
// Expiry is judged on each candidate's own clock, never on the holder's: a Lease is expired
// when its spec has not changed for leaseDurationSeconds since this candidate last saw it change.
// Followers watch the Lease, so they see a renewal, or a release, as it happens, and they try
// to take an expired Lease as soon as it expires.
//
// A leader whose renewals fail for RenewDeadline (counted from the start of its last successful
// renewal) steps down: the ctx given to OnStartedLeading ends, and once OnStartedLeading has
// returned OnStoppedLeading is called and the candidate campaigns again. As RenewDeadline is
// shorter than LeaseDuration, it stops before any follower can consider the Lease expired
// (provided clocks advance at roughly the same rate and OnStartedLeading returns within
// LeaseDuration − RenewDeadline of its ctx ending).
//
// # Shutdown
//
// When Run's ctx ends, the leader cancels OnStartedLeading's ctx, keeps renewing until
// OnStartedLeading has returned, then releases the Lease (holderIdentity cleared,
// leaseDurationSeconds 1) so that a follower takes over at once instead of waiting for the Lease
// to expire; two leaders never overlap on a clean shutdown. A process that dies without
// releasing is replaced once its Lease expires, LeaseDuration after its last renewal.
//
// Run exports berth_leader_election_is_leader{lease="namespace/name"} (1 while leading) and,
// given a Recorder, records the "LeaderElection" Events Kubernetes does ("<identity> became
// leader", "<identity> stopped leading") on the Lease.
package leaderelection
