package agent

import "github.com/berth-dev/berth/agent/podworker"

// newPodWorkers builds the pod workers of agent/podworker for a: they report to a's status
// manager, record Events through a's recorder and read ConfigMaps and Secrets through a's
// lookup.
func newPodWorkers(a *agent) (podWorkers, error) {
	return podworker.New(podworker.Config{
		Runtime:  a.cfg.Runtime,
		NodeName: a.cfg.NodeName,
		RootDir:  a.cfg.RootDir,
		Lookup:   a.lookup,
		Recorder: a.recorder,
		Logger:   a.log,
		Sink:     a.status,
		HostIP:   a.address,
		// ClusterFirst Pods resolve through the cluster DNS server.
		ClusterDNS:    a.cfg.ClusterDNS,
		ClusterDomain: a.cfg.ClusterDomain,
	})
}
