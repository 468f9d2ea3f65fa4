// Package podworker runs the Pods bound to a Node on a runtime.Runtime: one worker per Pod,
// each a goroutine that syncs its Pod whenever something changes and at least every
// ResyncPeriod, the kubelet's pod workers in small.
//
// The Manager is what the agent drives:
//
//	m, err := podworker.New(podworker.Config{Runtime: rt, NodeName: "node-1", RootDir: dir,
//		Lookup: lookup, Recorder: recorder, Logger: log, Sink: sink, HostIP: "10.0.0.2"})
//	err = m.Adopt(ctx, boundPods) // once, after the first list of the Node's Pods
//	go m.Run(ctx)                 // workers and the runtime's relist, until ctx ends
//	m.Update(pod)                 // every new version of a bound Pod, deleted ones included
//	m.Remove(pod)                 // a Pod gone from the apiserver
//
// The sync is level-triggered: it reads the runtime's state of the Pod (from a cache that all
// workers share and that is re-listed every RelistPeriod, waking the workers of Pods whose
// containers changed) and does the next thing the spec asks for:
//
//  1. volumes (agent/volume); one that fails keeps every container waiting, with a
//     FailedMount Event;
//  2. the sandbox; when it died, every container is killed and the Pod restarts in a new one
//     (under restartPolicy Never a Pod whose containers ran is finished instead);
//  3. init containers, one at a time, each to completion; one that fails fails the Pod under
//     restartPolicy Never and is restarted with back-off otherwise;
//  4. app containers: a missing image is pulled per imagePullPolicy (ErrImagePull, then
//     ImagePullBackOff from 10 s doubling to 5 min; with Always, a pull that fails falls back
//     to a local copy of the image, since Berth assumes no registry); env from values,
//     ConfigMaps, Secrets, the Pod's fields and resources, with $(VAR) expansion; an exited
//     container restarts per restartPolicy, the first time at once, then after
//     CrashLoopBackOff's 10 s doubling to 5 min (reset after 10 minutes without a crash); a
//     running container whose spec changed, or whose liveness or startup probe failed, is
//     killed and restarted;
//  5. probes (agent/prober) for running containers, the startup probe holding liveness and
//     readiness back;
//  6. the status (agent/status), handed to the Sink when it changed.
//
// A Pod whose phase becomes Succeeded or Failed is finished: its containers are stopped and
// stay (for their logs) until it is deleted. A Pod with a deletionTimestamp is torn down: the
// preStop hooks run and the containers get the stop signal, all at once, with the deletion's
// grace period; then the sandbox stops, the final status goes to the Sink, everything is
// removed and Sink.Finish tells the agent to finish the deletion.
//
// Every runtime object carries the owner labels of agent/runtime; Adopt and a periodic
// housekeeping remove the objects of Pods that have no worker, so a restarted agent neither
// duplicates a container nor leaves one behind.
package podworker
