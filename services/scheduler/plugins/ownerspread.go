package plugins

import (
	"math"

	"github.com/berth-dev/berth/services/scheduler/framework"
)

// zoneWeighting is how much the zone counts against the Node in OwnerSpread's score (2/3,
// as Kubernetes' SelectorSpread).
const zoneWeighting = 2.0 / 3.0

// OwnerSpread spreads the Pods of one controller (the ownerReference with controller: true:
// a ReplicaSet, a Job, ...) across Nodes and zones: a Node scores higher the fewer Pods of the
// same controller it and its zone (topology.kubernetes.io/zone, with the region) hold. It
// is Kubernetes' default spreading (SelectorSpread, then PodTopologySpread's system defaults)
// keyed on the controller rather than on selectors, and like those defaults it steps aside
// for Pods that bring their own topologySpreadConstraints. Counts are over the feasible
// Nodes being scored.
type OwnerSpread struct{}

// Name implements framework.Plugin.
func (OwnerSpread) Name() string { return OwnerSpreadName }

// PreScore implements framework.PreScorePlugin: Pods without a controller, or with their own
// spread constraints, skip the Score.
func (OwnerSpread) PreScore(_ *framework.CycleState, pod *framework.PodInfo, _ *framework.Snapshot, _ []*framework.NodeInfo) *framework.Status {
	if pod.OwnerUID == "" || len(pod.Pod.GetSpec().GetTopologySpreadConstraints()) > 0 {
		return skipStatus
	}
	return nil
}

// Score implements framework.ScorePlugin: the raw count of the controller's Pods on the Node.
func (OwnerSpread) Score(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	return node.OwnedPods(pod.Owner), nil
}

// NormalizeScore implements framework.ScoreNormalizer: fewer is better, for the Node and,
// weighted 2/3, for its zone.
func (OwnerSpread) NormalizeScore(_ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	var maxNode, maxZone int64
	byZone := map[string]int64{}
	for _, s := range scores {
		maxNode = max(maxNode, s.Score)
		if z := s.Node.Zone; z != "" {
			byZone[z] += s.Score
		}
	}
	for _, c := range byZone {
		maxZone = max(maxZone, c)
	}
	for i := range scores {
		f := float64(framework.MaxNodeScore)
		if maxNode > 0 {
			f = float64(framework.MaxNodeScore) * float64(maxNode-scores[i].Score) / float64(maxNode)
		}
		if z := scores[i].Node.Zone; len(byZone) > 0 && z != "" {
			zs := float64(framework.MaxNodeScore)
			if maxZone > 0 {
				zs = float64(framework.MaxNodeScore) * float64(maxZone-byZone[z]) / float64(maxZone)
			}
			f = f*(1-zoneWeighting) + zoneWeighting*zs
		}
		scores[i].Score = int64(math.Round(f))
	}
	return nil
}
