package validation

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// updatablePodSpecFields is what Kubernetes lets a Pod update change.
const updatablePodSpecFields = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`," +
	"`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

// maxDiffPaths bounds how many changed fields the immutability error lists.
const maxDiffPaths = 10

// PodUpdate validates a Pod update: the new Pod as on create, metadata immutability, and a spec
// that changes nothing but container images, activeDeadlineSeconds (set, or lowered) and
// tolerations (only added).
func PodUpdate(newPod, oldPod *corev1.Pod) field.ErrorList {
	errs := ObjectMetaUpdate(newPod.GetMetadata(), oldPod.GetMetadata(), metadataPath)
	errs = append(errs, podSpec(newPod.GetSpec(), specPath, true)...)
	return append(errs, podSpecUpdate(newPod.GetSpec(), oldPod.GetSpec(), specPath)...)
}

func podSpecUpdate(n, o *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	if n == nil {
		n = &corev1.PodSpec{}
	}
	if o == nil {
		o = &corev1.PodSpec{}
	}
	var errs field.ErrorList
	adsPath := fldPath.Child("activeDeadlineSeconds")
	switch {
	case n.ActiveDeadlineSeconds != nil && o.ActiveDeadlineSeconds != nil && *n.ActiveDeadlineSeconds > *o.ActiveDeadlineSeconds:
		errs = append(errs, field.Invalid(adsPath, *n.ActiveDeadlineSeconds, "must be less than or equal to previous value"))
	case n.ActiveDeadlineSeconds == nil && o.ActiveDeadlineSeconds != nil:
		errs = append(errs, field.Invalid(adsPath, n.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	}
	errs = append(errs, onlyAddedTolerations(n.Tolerations, o.Tolerations, fldPath.Child("tolerations"))...)

	// Compare the rest: the old spec with the updatable fields taken from the new one must equal
	// the new spec.
	munged := proto.Clone(o).(*corev1.PodSpec)
	for i, c := range munged.Containers {
		if i < len(n.Containers) && c != nil {
			c.Image = n.Containers[i].GetImage()
		}
	}
	for i, c := range munged.InitContainers {
		if i < len(n.InitContainers) && c != nil {
			c.Image = n.InitContainers[i].GetImage()
		}
	}
	munged.ActiveDeadlineSeconds = n.ActiveDeadlineSeconds
	munged.Tolerations = n.Tolerations
	if o.GetTerminationGracePeriodSeconds() < 0 && n.GetTerminationGracePeriodSeconds() == 1 {
		munged.TerminationGracePeriodSeconds = n.TerminationGracePeriodSeconds
	}
	if !proto.Equal(munged, n) {
		var changed []string
		diffPaths(munged.ProtoReflect(), n.ProtoReflect(), fldPath.String(), &changed)
		detail := "pod updates may not change fields other than " + updatablePodSpecFields
		if len(changed) > 0 {
			detail += "\n  changed: " + strings.Join(changed, ", ")
		}
		errs = append(errs, field.Forbidden(fldPath, detail))
	}
	return errs
}

// onlyAddedTolerations requires every old toleration to still be there; only its
// tolerationSeconds may change.
func onlyAddedTolerations(n, o []*corev1.Toleration, fldPath *field.Path) field.ErrorList {
	for _, old := range o {
		found := false
		for _, t := range n {
			c := proto.Clone(old).(*corev1.Toleration)
			c.TolerationSeconds = t.TolerationSeconds
			if proto.Equal(c, t) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(fldPath, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

// diffPaths appends the JSON paths of the fields that differ between two messages of the same
// type, at most maxDiffPaths of them.
func diffPaths(a, b protoreflect.Message, prefix string, out *[]string) {
	fields := a.Descriptor().Fields()
	for i := 0; i < fields.Len() && len(*out) < maxDiffPaths; i++ {
		fd := fields.Get(i)
		name := prefix + "." + fd.JSONName()
		va, vb := a.Get(fd), b.Get(fd)
		switch {
		case fd.IsList():
			la, lb := va.List(), vb.List()
			if la.Len() != lb.Len() {
				*out = append(*out, fmt.Sprintf("%s (%d items, was %d)", name, lb.Len(), la.Len()))
				continue
			}
			for j := 0; j < la.Len(); j++ {
				item := fmt.Sprintf("%s[%d]", name, j)
				if fd.Message() != nil && !wellKnown(fd) {
					diffPaths(la.Get(j).Message(), lb.Get(j).Message(), item, out)
				} else if !la.Get(j).Equal(lb.Get(j)) {
					*out = append(*out, item)
				}
			}
		case fd.Message() != nil && !fd.IsMap() && !wellKnown(fd):
			if a.Has(fd) != b.Has(fd) {
				*out = append(*out, name)
			} else if a.Has(fd) {
				diffPaths(va.Message(), vb.Message(), name, out)
			}
		default:
			if !va.Equal(vb) || (fd.HasPresence() && a.Has(fd) != b.Has(fd)) {
				*out = append(*out, name)
			}
		}
	}
}

// wellKnown tells whether a message field holds a google.protobuf type, compared as a whole.
func wellKnown(fd protoreflect.FieldDescriptor) bool {
	return strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.")
}
