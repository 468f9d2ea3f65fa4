// Package runtimetest is the conformance suite of runtime.Runtime: Run exercises the
// interface's contract (sandbox and container lifecycles, states, exit reasons, labels,
// listing scoped to a node, logs, exec, images and the sentinel errors) against any
// implementation, so that the Docker runtime and the fake one behave alike for the agent.
//
// The contract beyond the interface's comments, as the suite checks it:
//   - RunSandbox returns a Ready sandbox with an IP; stopping it makes it NotReady;
//   - a created container is Created, a started one Running with StartedAt set, an exited
//     one Exited with FinishedAt, its exit code and reason Completed (0) or Error;
//   - objects carry the owner labels and the caller's labels (a caller's spec hash is kept);
//   - List* only sees the objects of the runtime's own node;
//   - Start, Stop, ContainerStatus, Logs and Exec of an unknown container, StopSandbox of an
//     unknown sandbox and CreateContainer in one wrap runtime.ErrNotFound; removing what is
//     gone already is no error; RemoveSandbox removes the sandbox's containers too;
//   - EnsureImage of a missing image is runtime.ErrNotFound with "Never" and
//     runtime.ErrImagePull otherwise, naming the image; an invalid reference is
//     runtime.ErrImagePull; an unknown pull policy is an error;
//   - Logs honours TailLines, Timestamps and Follow (which ends when the container stops, or
//     with nil when ctx ends); Exec feeds stdin and returns the exit code.
package runtimetest
