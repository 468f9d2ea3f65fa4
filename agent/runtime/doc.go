// Package runtime is the boundary between the node agent and whatever runs containers: a
// Runtime runs Pod sandboxes (the pause container that holds a Pod's network, IPC, UTS and,
// optionally, PID namespaces) and containers joined to them, reports their state, and streams
// logs and exec sessions. Two implementations exist: runtime/docker (the Docker Engine API)
// and runtime/fake (no containers; simulates the lifecycle for hollow Nodes).
//
// Every sandbox and container a Runtime creates carries the owner labels below, so a
// restarted agent finds, adopts or removes what is already there.
package runtime
