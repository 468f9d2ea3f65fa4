package apiserver

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/registry"
)

// podServer adds Bind, and Log and Exec relayed to the Pod's agent, to the generic Pod service.
type podServer struct {
	resourceServer[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent]
	*agentProxy
}

// Bind assigns an unbound Pod to a Node. Binding a Pod that is already bound, or being deleted,
// is a Conflict.
func (s podServer) Bind(ctx context.Context, b *corev1.Binding) (*corev1.Pod, error) {
	md := b.GetMetadata()
	node := b.GetTarget().GetName()
	if node == "" {
		return nil, kerrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, md.GetName(),
			field.ErrorList{field.Required(field.NewPath("target", "name"), "the Node to bind to")})
	}
	if k := b.GetTarget().GetKind(); k != "" && k != "Node" {
		return nil, kerrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, md.GetName(),
			field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), k, []string{"Node"})})
	}
	var want int64
	if rv := md.GetResourceVersion(); rv != "" {
		n, err := strconv.ParseInt(rv, 10, 64)
		if err != nil {
			return nil, kerrors.NewBadRequest(field.Invalid(field.NewPath("metadata", "resourceVersion"), rv, "must be a decimal integer").Error())
		}
		want = n
	}
	gr := schema.GroupResource{Resource: "pods"}
	return s.store.GuaranteedUpdate(ctx, md.GetNamespace(), md.GetName(), want, func(p *corev1.Pod) (*corev1.Pod, error) {
		if uid := md.GetUid(); uid != "" && uid != p.GetMetadata().GetUid() {
			return nil, kerrors.NewConflict(gr, md.GetName(), fmt.Errorf("the UID in the binding (%s) does not match the Pod's (%s)", uid, p.GetMetadata().GetUid()))
		}
		if p.GetMetadata().GetDeletionTimestamp() != nil {
			return nil, kerrors.NewConflict(gr, md.GetName(), fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", md.GetName()))
		}
		if n := p.GetSpec().GetNodeName(); n != "" {
			return nil, kerrors.NewConflict(gr, md.GetName(), fmt.Errorf("pod %s is already assigned to node %q", md.GetName(), n))
		}
		p.Spec.NodeName = node
		setPodScheduled(p)
		return p, nil
	})
}

func setPodScheduled(p *corev1.Pod) {
	if p.Status == nil {
		p.Status = &corev1.PodStatus{}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == "PodScheduled" {
			if c.Status != "True" {
				c.Status, c.Reason, c.Message, c.LastTransitionTime = "True", "", "", timestamppb.Now()
			}
			return
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, &corev1.PodCondition{Type: "PodScheduled", Status: "True", LastTransitionTime: timestamppb.Now()})
}

// scaleServer adds the scale subresource to a replicated workload's service: spec.replicas,
// status.replicas and the selector, read and written through autoscaling/v1 Scale.
type scaleServer[T scheme.Object] struct {
	store *registry.Store[T]
}

func (s scaleServer[T]) GetScale(ctx context.Context, req *metav1.GetRequest) (*autoscalingv1.Scale, error) {
	obj, err := s.store.Get(ctx, req.GetNamespace(), req.GetName(), req.GetResourceVersion())
	if err != nil {
		return nil, err
	}
	return toScale(obj), nil
}

func (s scaleServer[T]) UpdateScale(ctx context.Context, sc *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
	md := sc.GetMetadata()
	if n := sc.GetSpec().GetReplicas(); n < 0 {
		return nil, kerrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, md.GetName(),
			field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), n, "must be greater than or equal to 0")})
	}
	var want int64
	if rv := md.GetResourceVersion(); rv != "" {
		n, err := strconv.ParseInt(rv, 10, 64)
		if err != nil {
			return nil, kerrors.NewBadRequest(field.Invalid(field.NewPath("metadata", "resourceVersion"), rv, "must be a decimal integer").Error())
		}
		want = n
	}
	obj, err := s.store.GuaranteedUpdate(ctx, md.GetNamespace(), md.GetName(), want, func(o T) (T, error) {
		m := o.ProtoReflect()
		spec := m.Mutable(m.Descriptor().Fields().ByName("spec")).Message()
		fd := spec.Descriptor().Fields().ByName("replicas")
		if spec.Get(fd).Int() != int64(sc.GetSpec().GetReplicas()) || !spec.Has(fd) {
			spec.Set(fd, protoreflect.ValueOfInt32(sc.GetSpec().GetReplicas()))
			scheme.Meta(o).Generation++
		}
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	return toScale(obj), nil
}

func toScale(obj scheme.Object) *autoscalingv1.Scale {
	md := obj.GetMetadata()
	m := obj.ProtoReflect()
	spec := m.Get(m.Descriptor().Fields().ByName("spec")).Message()
	status := m.Get(m.Descriptor().Fields().ByName("status")).Message()
	sc := &autoscalingv1.Scale{
		Metadata: &metav1.ObjectMeta{
			Name: md.GetName(), Namespace: md.GetNamespace(), Uid: md.GetUid(),
			ResourceVersion: md.GetResourceVersion(), CreationTimestamp: md.GetCreationTimestamp(),
		},
		Spec:   &autoscalingv1.ScaleSpec{Replicas: int32(spec.Get(spec.Descriptor().Fields().ByName("replicas")).Int())},
		Status: &autoscalingv1.ScaleStatus{Replicas: int32(status.Get(status.Descriptor().Fields().ByName("replicas")).Int())},
	}
	switch sel := spec.Get(spec.Descriptor().Fields().ByName("selector")).Interface().(type) {
	case protoreflect.Map: // ReplicationController: an equality selector
		set := labels.Set{}
		sel.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool { set[k.String()] = v.String(); return true })
		sc.Status.Selector = set.String()
	case protoreflect.Message: // ReplicaSet, Deployment: a LabelSelector
		ls, _ := sel.Interface().(*metav1.LabelSelector)
		sc.Status.Selector = selectorString(ls)
	}
	return sc
}

// selectorString renders a LabelSelector in the query syntax (app=x,tier in (a,b)).
func selectorString(ls *metav1.LabelSelector) string {
	if ls == nil {
		return ""
	}
	k := &kmetav1.LabelSelector{MatchLabels: ls.GetMatchLabels()}
	for _, e := range ls.GetMatchExpressions() {
		k.MatchExpressions = append(k.MatchExpressions, kmetav1.LabelSelectorRequirement{
			Key: e.GetKey(), Operator: kmetav1.LabelSelectorOperator(e.GetOperator()), Values: e.GetValues(),
		})
	}
	sel, err := kmetav1.LabelSelectorAsSelector(k)
	if err != nil {
		return ""
	}
	return sel.String()
}
