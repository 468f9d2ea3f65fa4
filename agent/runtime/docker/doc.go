// Package docker is the runtime.Runtime of the Docker Engine, through the Engine API
// (github.com/docker/docker/client, with API version negotiation, so a daemon as old as API
// 1.41 works).
//
// A Pod is a pause container (the sandbox) on a user-defined bridge network that Berth owns
// (Options.Network, "berth" by default, created on first use with a private subnet that no
// other Docker network uses), plus one Docker container per Pod container joined to the
// sandbox's network and IPC namespaces (NetworkMode and IpcMode "container:<pause>") and,
// when the Pod shares its process namespace, its PID namespace. The sandbox carries the Pod's
// hostname, resolv.conf (DNS, DNSSearch, DNSOptions; on a user-defined network Docker's
// embedded DNS server stands in resolv.conf and forwards to those servers) and /etc/hosts
// entries (ExtraHosts), which the containers share. Docker cannot share a UTS namespace: each
// container gets one of its own with the sandbox's hostname (as under the kubelet's
// dockershim), so all see the same hostname.
//
// Containers get no Docker restart policy: the agent decides about restarts. Their command
// follows Kubernetes: command replaces the image's ENTRYPOINT (and drops its CMD), args
// replace CMD. CPU limits become a CFS quota over a 100 ms period, CPU requests CPU shares
// (2 for none, as the kubelet does), memory limits the memory and memory+swap limits.
//
// Every object carries the owner labels of package runtime, plus the labels of this package
// (the sandbox's ID on each container, PID sharing on sandboxes, the host file that backs a
// container's termination message). Listing filters on the managed and node labels, so two
// agents with different node names share one daemon without seeing each other's Pods.
//
// Errors: a daemon that cannot be reached wraps runtime.ErrUnavailable; an object the daemon
// does not know wraps runtime.ErrNotFound; an image that can be neither found nor pulled
// (within Options.PullTimeout) wraps runtime.ErrImagePull with Docker's message.
package docker
