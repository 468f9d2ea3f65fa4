package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// LastAppliedAnnotation holds the manifest `apply` last applied; describe leaves it out.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Related is what describe shows about other objects, fetched by the caller.
type Related struct {
	// Events are the Events whose involvedObject is the object.
	Events []*corev1.Event
	// Endpoints are a Service's Endpoints.
	Endpoints *corev1.Endpoints
	// Pods are a ReplicaSet's or ReplicationController's Pods (for "Pods Status"), or the
	// Pods on a Node.
	Pods []*corev1.Pod
	// ReplicaSets are a Deployment's ReplicaSets (for NewReplicaSet and OldReplicaSets).
	ReplicaSets []*appsv1.ReplicaSet
}

// Describers are the kinds with a describer of their own; others get the generic one.
var describers = map[string]func(*describer, scheme.Object, Related){}

// Describe writes a human description of obj, of kind r, followed by its Events, the way
// kubectl describe does. now is the time ages are measured against.
func Describe(w io.Writer, r *scheme.Resource, obj scheme.Object, rel Related, now time.Time) error {
	d := &describer{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0), now: now}
	if f, ok := describers[r.Kind]; ok {
		f(d, obj, rel)
	} else {
		d.objectMeta(obj.GetMetadata(), r.Namespaced)
	}
	d.events(rel.Events)
	return d.tw.Flush()
}

// describer writes indented "Key:\tvalue" lines through one tab writer, so that values
// line up within a block.
type describer struct {
	tw  *tabwriter.Writer
	now time.Time
}

// line writes one line at an indentation level (two spaces per level).
func (d *describer) line(level int, format string, args ...any) {
	fmt.Fprintf(d.tw, strings.Repeat("  ", level)+format+"\n", args...)
}

// flush ends the current alignment block.
func (d *describer) flush() { d.tw.Flush() }

// objectMeta writes Name, Namespace, Labels and Annotations.
func (d *describer) objectMeta(md *metav1.ObjectMeta, namespaced bool) {
	d.line(0, "Name:\t%s", md.GetName())
	if namespaced {
		d.line(0, "Namespace:\t%s", md.GetNamespace())
	}
	d.labels(0, "Labels", md.GetLabels())
	d.annotations(md.GetAnnotations())
	d.line(0, "CreationTimestamp:\t%s", date(md.GetCreationTimestamp()))
}

// labels writes a map as "Title:\tk=v", one pair per line, sorted.
func (d *describer) labels(level int, title string, m map[string]string) {
	d.pairs(level, title, m, "=", nil)
}

func (d *describer) annotations(m map[string]string) {
	d.pairs(0, "Annotations", m, ": ", map[string]bool{LastAppliedAnnotation: true})
}

func (d *describer) pairs(level int, title string, m map[string]string, sep string, skip map[string]bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !skip[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		d.line(level, "%s:\t<none>", title)
		return
	}
	for i, k := range keys {
		if i == 0 {
			d.line(level, "%s:\t%s%s%s", title, k, sep, m[k])
		} else {
			d.line(level, "\t%s%s%s", k, sep, m[k])
		}
	}
}

// list writes values one per line under a title, or <none>.
func (d *describer) list(level int, title string, vals []string) {
	if len(vals) == 0 {
		d.line(level, "%s:\t<none>", title)
		return
	}
	for i, v := range vals {
		if i == 0 {
			d.line(level, "%s:\t%s", title, v)
		} else {
			d.line(level, "\t%s", v)
		}
	}
}

// controlledBy writes "Controlled By:  Kind/name" for an object with a controller.
func (d *describer) controlledBy(md *metav1.ObjectMeta) {
	for _, o := range md.GetOwnerReferences() {
		if o.GetController() {
			d.line(0, "Controlled By:\t%s/%s", o.GetKind(), o.GetName())
		}
	}
}

// events writes the Events table, oldest first, or "Events:  <none>".
func (d *describer) events(evs []*corev1.Event) {
	if len(evs) == 0 {
		d.line(0, "Events:\t<none>")
		return
	}
	d.flush()
	sorted := append([]*corev1.Event(nil), evs...)
	sort.SliceStable(sorted, func(i, j int) bool { return EventTime(sorted[i]).Before(EventTime(sorted[j])) })
	d.line(0, "Events:")
	d.line(1, "Type\tReason\tAge\tFrom\tMessage")
	d.line(1, "----\t------\t----\t----\t-------")
	for _, e := range sorted {
		first := e.GetFirstTimestamp()
		if first == nil {
			first = e.GetEventTime()
		}
		interval := age(first, d.now)
		if e.GetCount() > 1 {
			interval = fmt.Sprintf("%s (x%d over %s)", age(e.GetLastTimestamp(), d.now), e.GetCount(), interval)
		}
		source := e.GetSource().GetComponent()
		if source == "" {
			source = e.GetReportingComponent()
		}
		d.line(1, "%s\t%s\t%s\t%s\t%s", e.GetType(), e.GetReason(), interval, source, strings.TrimSpace(e.GetMessage()))
	}
}

// EventTime is when an Event last happened: lastTimestamp, else eventTime, else
// firstTimestamp, else its creation.
func EventTime(e *corev1.Event) time.Time {
	for _, ts := range []*timestamppb.Timestamp{e.GetLastTimestamp(), e.GetEventTime(), e.GetFirstTimestamp(), e.GetMetadata().GetCreationTimestamp()} {
		if ts != nil {
			return ts.AsTime()
		}
	}
	return time.Time{}
}

// date formats a timestamp as kubectl describe does (RFC 1123 with a numeric zone), or
// <unset>.
func date(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "<unset>"
	}
	return ts.AsTime().Format(time.RFC1123Z)
}
