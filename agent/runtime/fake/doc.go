// Package fake is a runtime.Runtime without containers, for hollow Nodes and tests: it keeps
// sandboxes and containers as records and simulates their lifecycle.
//
// Sandboxes get IPs from a private subnet (Config.Subnet); containers "run" from
// StartContainer until StopContainer, or exit on their own as their Behavior says. Nothing
// runs in the background: a container's exit is computed when its state is read, so a
// runtime costs no goroutine and no timer per container, and a thousand of them fit in one
// process.
//
// A container's Behavior comes from Config.Behavior, by default from its environment:
//
//	BERTH_FAKE_EXIT_CODE=N     exit on its own with status N (at once, or after RUN_FOR)
//	BERTH_FAKE_RUN_FOR=10s     run that long before exiting (with EXIT_CODE, default 0)
//	BERTH_FAKE_OOM=true        end OOMKilled (exit code 137) instead
//	BERTH_FAKE_LOGS=a\nb       write these lines to stdout when started
//	BERTH_FAKE_START_ERROR=msg fail StartContainer with msg (exit code 128)
//
// Logs replays the lines with the container's start time. Exec and ExecSync understand echo,
// true, false, cat, hostname and env; any other command succeeds with no output.
//
// Images are all present, except those of a registry under the reserved .invalid domain
// (registry.invalid/app:1) and those named with FailImage: EnsureImage reports them missing
// (runtime.ErrNotFound with "Never") or unpullable (runtime.ErrImagePull).
package fake
