package table

import (
	kappsv1 "k8s.io/api/apps/v1"
	kcoordinationv1 "k8s.io/api/coordination/v1"
	kcorev1 "k8s.io/api/core/v1"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
)

// column is one of Kubernetes' column definitions for a kind, and whether its cells are
// integers (written as JSON numbers) rather than strings.
type column struct {
	def     kmetav1.TableColumnDefinition
	integer bool
}

// The descriptions Kubernetes gives its columns, from the API types' documentation.
var (
	metaDoc       = kmetav1.ObjectMeta{}.SwaggerDoc()
	nameColumn    = column{def: kmetav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metaDoc["name"]}}
	ageColumn     = column{def: kmetav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metaDoc["creationTimestamp"]}}
	containersCol = wide("Containers", "string", "Names of each container in the template.")
	imagesCol     = wide("Images", "string", "Images referenced by each container in the template.")
)

func str(name, desc string) column {
	return column{def: kmetav1.TableColumnDefinition{Name: name, Type: "string", Description: desc}}
}

func integer(name, desc string) column {
	return column{def: kmetav1.TableColumnDefinition{Name: name, Type: "integer", Description: desc}, integer: true}
}

// integerCell is a column Kubernetes types as a string but fills with numbers.
func integerCell(name, desc string) column {
	c := str(name, desc)
	c.integer = true
	return c
}

func wide(name, typ, desc string) column {
	return column{def: kmetav1.TableColumnDefinition{Name: name, Type: typ, Priority: 1, Description: desc}}
}

// columnsByKind are the column definitions of Kubernetes' printers
// (pkg/printers/internalversion), in the order of pkg/printers' cells for the same kind. A
// kind missing here gets Name and Age.
var columnsByKind = map[string][]column{
	"Pod": {
		nameColumn,
		str("Ready", "The aggregate readiness state of this pod for accepting traffic."),
		str("Status", "The aggregate status of the containers in this pod."),
		str("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		ageColumn,
		wide("IP", "string", kcorev1.PodStatus{}.SwaggerDoc()["podIP"]),
		wide("Node", "string", kcorev1.PodSpec{}.SwaggerDoc()["nodeName"]),
		wide("Nominated Node", "string", kcorev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]),
		wide("Readiness Gates", "string", kcorev1.PodSpec{}.SwaggerDoc()["readinessGates"]),
	},
	"ReplicationController": {
		nameColumn,
		integer("Desired", kcorev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"]),
		integer("Current", kcorev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"]),
		integer("Ready", kcorev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"]),
		ageColumn, containersCol, imagesCol,
		wide("Selector", "string", kcorev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"]),
	},
	"ReplicaSet": {
		nameColumn,
		integer("Desired", kappsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
		integer("Current", kappsv1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]),
		integer("Ready", kappsv1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]),
		ageColumn, containersCol, imagesCol,
		wide("Selector", "string", kappsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"]),
	},
	"Deployment": {
		nameColumn,
		str("Ready", "Number of the pod with ready state"),
		integerCell("Up-to-date", kappsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]),
		integerCell("Available", kappsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]),
		ageColumn, containersCol, imagesCol,
		wide("Selector", "string", kappsv1.DeploymentSpec{}.SwaggerDoc()["selector"]),
	},
	"Service": {
		nameColumn,
		str("Type", kcorev1.ServiceSpec{}.SwaggerDoc()["type"]),
		str("Cluster-IP", kcorev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
		str("External-IP", kcorev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
		str("Port(s)", kcorev1.ServiceSpec{}.SwaggerDoc()["ports"]),
		ageColumn,
		wide("Selector", "string", kcorev1.ServiceSpec{}.SwaggerDoc()["selector"]),
	},
	"Endpoints": {
		nameColumn,
		str("Endpoints", kcorev1.Endpoints{}.SwaggerDoc()["subsets"]),
		ageColumn,
	},
	"Node": {
		nameColumn,
		str("Status", "The status of the node"),
		str("Roles", "The roles of the node"),
		ageColumn,
		str("Version", kcorev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]),
		wide("Internal-IP", "string", kcorev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		wide("External-IP", "string", kcorev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		wide("OS-Image", "string", kcorev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]),
		wide("Kernel-Version", "string", kcorev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]),
		wide("Container-Runtime", "string", kcorev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]),
	},
	"Event": {
		str("Last Seen", kcorev1.Event{}.SwaggerDoc()["lastTimestamp"]),
		str("Type", kcorev1.Event{}.SwaggerDoc()["type"]),
		str("Reason", kcorev1.Event{}.SwaggerDoc()["reason"]),
		str("Object", kcorev1.Event{}.SwaggerDoc()["involvedObject"]),
		wide("Subobject", "string", kcorev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
		wide("Source", "string", kcorev1.Event{}.SwaggerDoc()["source"]),
		str("Message", kcorev1.Event{}.SwaggerDoc()["message"]),
		wide("First Seen", "string", kcorev1.Event{}.SwaggerDoc()["firstTimestamp"]),
		{def: kmetav1.TableColumnDefinition{Name: "Count", Type: "string", Priority: 1, Description: kcorev1.Event{}.SwaggerDoc()["count"]}, integer: true},
		{def: kmetav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: metaDoc["name"]}},
	},
	"Namespace": {
		nameColumn,
		str("Status", "The status of the namespace"),
		ageColumn,
	},
	"Secret": {
		nameColumn,
		str("Type", kcorev1.Secret{}.SwaggerDoc()["type"]),
		integerCell("Data", kcorev1.Secret{}.SwaggerDoc()["data"]),
		ageColumn,
	},
	"ConfigMap": {
		nameColumn,
		integerCell("Data", kcorev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn,
	},
	"Lease": {
		nameColumn,
		str("Holder", kcoordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
		ageColumn,
	},
}

// columnsFor returns r's columns.
func columnsFor(r *scheme.Resource) []column {
	if cs, ok := columnsByKind[r.Kind]; ok {
		return cs
	}
	return []column{nameColumn, ageColumn}
}

// definitions are the column definitions of r's table.
func definitions(r *scheme.Resource) []kmetav1.TableColumnDefinition {
	cs := columnsFor(r)
	defs := make([]kmetav1.TableColumnDefinition, len(cs))
	for i, c := range cs {
		defs[i] = c.def
	}
	return defs
}

// printerOptions makes pkg/printers return every cell, the wide ones included, and no
// NAMESPACE or LABELS column: kubectl adds those itself from each row's object.
var printerOptions = printers.Options{Wide: true}
