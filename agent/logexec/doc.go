// Package logexec serves the agent's side of the pods/log and pods/exec subresources: the Log
// and Exec RPCs of PodService, which the apiserver relays to the agent of a Pod's Node after
// checking the request against the Pod. The agent serves only these two RPCs of PodService on
// its own listener (`berth agent --agent-addr`, advertised in the Node's
// status.daemonEndpoints.kubeletEndpoint.Port); every other method answers Unimplemented.
//
// A Server finds the Pod through a Locator (the agent's cache of the Pods bound to it; in
// hollow mode, those of every hollow Node), picks the container from the runtime by its owner
// labels (the latest run, or the one before it for previous), and streams the runtime's Logs
// or Exec over the call.
package logexec
