// Package pause is the program inside the berth-pause image, the sandbox container of every
// Pod: it holds the Pod's network, IPC and UTS namespaces (and PID namespace with
// shareProcessNamespace) open while the Pod's containers come and go.
//
// It does nothing but wait. When it is PID 1 of a PID namespace it also reaps every zombie
// that is reparented to it, as init must. SIGTERM or SIGINT makes it exit 0 at once.
package pause
