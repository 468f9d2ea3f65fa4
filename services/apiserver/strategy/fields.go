package strategy

import (
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

var podFieldLabels = []string{
	"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
	"spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
}

func podFields(obj scheme.Object) fields.Set {
	p := obj.(*corev1.Pod)
	return fields.Set{
		"spec.nodeName":            p.GetSpec().GetNodeName(),
		"spec.restartPolicy":       p.GetSpec().GetRestartPolicy(),
		"spec.schedulerName":       p.GetSpec().GetSchedulerName(),
		"spec.serviceAccountName":  p.GetSpec().GetServiceAccountName(),
		"spec.hostNetwork":         strconv.FormatBool(p.GetSpec().GetHostNetwork()),
		"status.phase":             p.GetStatus().GetPhase(),
		"status.podIP":             p.GetStatus().GetPodIp(),
		"status.nominatedNodeName": p.GetStatus().GetNominatedNodeName(),
	}
}

func namespaceFields(obj scheme.Object) fields.Set {
	return fields.Set{"status.phase": obj.(*corev1.Namespace).GetStatus().GetPhase()}
}

func secretFields(obj scheme.Object) fields.Set {
	return fields.Set{"type": obj.(*corev1.Secret).GetType()}
}

func nodeFields(obj scheme.Object) fields.Set {
	return fields.Set{"spec.unschedulable": strconv.FormatBool(obj.(*corev1.Node).GetSpec().GetUnschedulable())}
}

var eventFieldLabels = []string{
	"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
	"involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
	"involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
}

func eventFields(obj scheme.Object) fields.Set {
	e := obj.(*corev1.Event)
	io := e.GetInvolvedObject()
	return fields.Set{
		"involvedObject.kind":            io.GetKind(),
		"involvedObject.namespace":       io.GetNamespace(),
		"involvedObject.name":            io.GetName(),
		"involvedObject.uid":             io.GetUid(),
		"involvedObject.apiVersion":      io.GetApiVersion(),
		"involvedObject.resourceVersion": io.GetResourceVersion(),
		"involvedObject.fieldPath":       io.GetFieldPath(),
		"reason":                         e.GetReason(),
		"reportingComponent":             e.GetReportingComponent(),
		"source":                         e.GetSource().GetComponent(),
		"type":                           e.GetType(),
	}
}

// replicasFields exposes status.replicas of ReplicaSets and ReplicationControllers.
func replicasFields(obj scheme.Object) fields.Set {
	m := obj.ProtoReflect()
	st := m.Get(m.Descriptor().Fields().ByName("status")).Message()
	var n protoreflect.Value
	if fd := st.Descriptor().Fields().ByName("replicas"); fd != nil {
		n = st.Get(fd)
	}
	return fields.Set{"status.replicas": strconv.FormatInt(n.Int(), 10)}
}
