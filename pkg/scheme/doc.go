// Package scheme owns the table of the resources Berth serves: for each kind its API group,
// version, plural and short names, whether it is namespaced, the gRPC service that serves it
// and constructors for its object, list and watch-event messages. Every component that must go
// from a name ("po", "deployments", apps/v1 Deployment) to a message type asks this table.
package scheme
