package printers

import (
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// wideWorkload are the -o wide columns of Deployments, ReplicaSets and ReplicationControllers.
var wideWorkload = []column{{name: "CONTAINERS", wide: true}, {name: "IMAGES", wide: true}, {name: "SELECTOR", wide: true}}

func init() {
	handlers["Deployment"] = tableHandler{
		columns: append([]column{{name: "NAME"}, {name: "READY"}, {name: "UP-TO-DATE"}, {name: "AVAILABLE"}, {name: "AGE"}}, wideWorkload...),
		row: func(obj scheme.Object, now time.Time) []string {
			d := obj.(*appsv1.Deployment)
			st := d.GetStatus()
			names, images := containersImages(d.GetSpec().GetTemplate())
			return []string{
				d.GetMetadata().GetName(),
				fmt.Sprintf("%d/%d", st.GetReadyReplicas(), replicas(d.GetSpec())),
				strconv.Itoa(int(st.GetUpdatedReplicas())),
				strconv.Itoa(int(st.GetAvailableReplicas())),
				age(d.GetMetadata().GetCreationTimestamp(), now),
				names, images, formatSelector(d.GetSpec().GetSelector()),
			}
		},
	}
	handlers["ReplicaSet"] = tableHandler{
		columns: append([]column{{name: "NAME"}, {name: "DESIRED"}, {name: "CURRENT"}, {name: "READY"}, {name: "AGE"}}, wideWorkload...),
		row: func(obj scheme.Object, now time.Time) []string {
			rs := obj.(*appsv1.ReplicaSet)
			names, images := containersImages(rs.GetSpec().GetTemplate())
			return []string{
				rs.GetMetadata().GetName(),
				strconv.Itoa(int(replicas(rs.GetSpec()))),
				strconv.Itoa(int(rs.GetStatus().GetReplicas())),
				strconv.Itoa(int(rs.GetStatus().GetReadyReplicas())),
				age(rs.GetMetadata().GetCreationTimestamp(), now),
				names, images, formatSelector(rs.GetSpec().GetSelector()),
			}
		},
	}
	handlers["ReplicationController"] = tableHandler{
		columns: append([]column{{name: "NAME"}, {name: "DESIRED"}, {name: "CURRENT"}, {name: "READY"}, {name: "AGE"}}, wideWorkload...),
		row: func(obj scheme.Object, now time.Time) []string {
			rc := obj.(*corev1.ReplicationController)
			names, images := containersImages(rc.GetSpec().GetTemplate())
			return []string{
				rc.GetMetadata().GetName(),
				strconv.Itoa(int(replicas(rc.GetSpec()))),
				strconv.Itoa(int(rc.GetStatus().GetReplicas())),
				strconv.Itoa(int(rc.GetStatus().GetReadyReplicas())),
				age(rc.GetMetadata().GetCreationTimestamp(), now),
				names, images, formatLabels(rc.GetSpec().GetSelector()),
			}
		},
	}
}

// replicas is a workload's desired replica count, spec.replicas: Kubernetes defaults an unset
// one to 1. spec may be nil.
func replicas(spec proto.Message) int32 {
	m := spec.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("replicas")
	if !m.IsValid() || fd == nil || !m.Has(fd) {
		return 1
	}
	return int32(m.Get(fd).Int())
}
