package patch

import (
	kappsv1 "k8s.io/api/apps/v1"
	kautoscalingv1 "k8s.io/api/autoscaling/v1"
	kcoordinationv1 "k8s.io/api/coordination/v1"
	kcorev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/berth-dev/berth/pkg/scheme"
)

// k8sTypes maps each resource Berth serves to the k8s.io/api Go type with the same JSON: its
// struct tags (patchStrategy, patchMergeKey, retainKeys) are the strategic-merge schema
// Kubernetes itself uses, so containers merge by name, ports by containerPort or port, env
// by name, volumes by name, and tolerations or args are replaced whole.
var k8sTypes = map[*scheme.Resource]any{
	scheme.Pods:                   &kcorev1.Pod{},
	scheme.Nodes:                  &kcorev1.Node{},
	scheme.Namespaces:             &kcorev1.Namespace{},
	scheme.Services:               &kcorev1.Service{},
	scheme.Endpoints:              &kcorev1.Endpoints{},
	scheme.ReplicationControllers: &kcorev1.ReplicationController{},
	scheme.ConfigMaps:             &kcorev1.ConfigMap{},
	scheme.Secrets:                &kcorev1.Secret{},
	scheme.Events:                 &kcorev1.Event{},
	scheme.ReplicaSets:            &kappsv1.ReplicaSet{},
	scheme.Deployments:            &kappsv1.Deployment{},
	scheme.Leases:                 &kcoordinationv1.Lease{},
}

// scaleType is the schema of the scale subresource.
var scaleType = &kautoscalingv1.Scale{}

// patchMeta returns the strategic-merge schema of what t addresses, or nil when Berth knows
// no Kubernetes type for it (strategic merge patches are then unsupported, as for custom
// resources in Kubernetes).
func patchMeta(t Target) strategicpatch.LookupPatchMeta {
	typ := k8sTypes[t.Resource]
	if t.Subresource == SubresourceScale {
		typ = scaleType
	}
	if typ == nil {
		return nil
	}
	meta, err := strategicpatch.NewPatchMetaFromStruct(typ)
	if err != nil {
		return nil
	}
	return meta
}
