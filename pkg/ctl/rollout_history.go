package ctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

type rolloutHistoryOptions struct {
	*globals
	files     []string
	recursive bool
	revision  int64
}

func newRolloutHistory(g *globals) *cobra.Command {
	o := &rolloutHistoryOptions{globals: g}
	cmd := &cobra.Command{
		Use:   "history (TYPE NAME | TYPE/NAME) [flags]",
		Short: "View rollout history",
		Long:  "View previous rollout revisions and configurations.",
		Example: "  # View the rollout history of a deployment\n  berthctl rollout history deployment/abc\n\n" +
			"  # View the details of deployment revision 3\n  berthctl rollout history deployment/abc --revision=3",
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files identifying the resource to get from a server")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.Int64Var(&o.revision, "revision", 0, "See the details, including podTemplate of the revision specified")
	return cmd
}

func (o *rolloutHistoryOptions) run(ctx context.Context, args []string) error {
	if len(args) == 0 && len(o.files) == 0 {
		return usagef("required resource not specified")
	}
	if o.revision < 0 {
		return fmt.Errorf("revision must be a positive integer: %v", o.revision)
	}
	refs, err := o.resolve(ctx, args, resolveOptions{files: o.files, recursive: o.recursive, verb: "rollout history"})
	if err != nil {
		return err
	}
	errs := &errorList{w: o.ErrOut}
	for _, ref := range refs {
		text, err := o.history(ctx, ref)
		if err != nil {
			errs.add(err)
			continue
		}
		with := ""
		if o.revision > 0 {
			with = fmt.Sprintf("with revision #%d", o.revision)
		}
		fmt.Fprintf(o.Out, "%s %s\n%s\n", ref, with, text)
	}
	return errs.err()
}

// history is kubectl's view of one object's history: a table of the revisions and their
// change causes, or the Pod template of --revision.
func (o *rolloutHistoryOptions) history(ctx context.Context, ref objectRef) (string, error) {
	obj, err := o.get(ctx, ref)
	if err != nil {
		return "", err
	}
	if ref.r != scheme.Deployments {
		return "", fmt.Errorf("no history viewer has been implemented for %q", kindString(ref.r))
	}
	c, err := o.client(ctx)
	if err != nil {
		return "", err
	}
	cctx, cancel := o.call(ctx)
	defer cancel()
	rss, err := replicaSetsOf(cctx, c, obj.(*appsv1.Deployment))
	if err != nil {
		return "", err
	}
	templates := revisionTemplates(rss)
	if len(templates) == 0 {
		return "No rollout history found.", nil
	}
	if o.revision > 0 {
		t, ok := templates[o.revision]
		if !ok {
			return "", errors.New("unable to find the specified revision")
		}
		return describeTemplate(t), nil
	}
	return historyTable(templates), nil
}

// revisionTemplates maps each revision of a Deployment to the Pod template of its ReplicaSet,
// carrying the ReplicaSet's change cause as a template annotation (as kubectl shows it). A
// ReplicaSet whose revision is not a number is left out.
func revisionTemplates(rss []*appsv1.ReplicaSet) map[int64]*corev1.PodTemplateSpec {
	out := map[int64]*corev1.PodTemplateSpec{}
	for _, rs := range rss {
		v, err := revision(rs.GetMetadata())
		if err != nil {
			continue
		}
		t, _ := proto.Clone(rs.GetSpec().GetTemplate()).(*corev1.PodTemplateSpec)
		if t == nil {
			t = &corev1.PodTemplateSpec{}
		}
		if t.Metadata == nil {
			t.Metadata = &metav1.ObjectMeta{}
		}
		if cause := rs.GetMetadata().GetAnnotations()[changeCauseAnnotation]; cause != "" {
			if t.Metadata.Annotations == nil {
				t.Metadata.Annotations = map[string]string{}
			}
			t.Metadata.Annotations[changeCauseAnnotation] = cause
		}
		out[v] = t
	}
	return out
}

// historyTable is the REVISION / CHANGE-CAUSE table, oldest revision first.
func historyTable(templates map[int64]*corev1.PodTemplateSpec) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "REVISION\tCHANGE-CAUSE\n")
	for _, r := range slices.Sorted(maps.Keys(templates)) {
		cause := templates[r].GetMetadata().GetAnnotations()[changeCauseAnnotation]
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(tw, "%d\t%s\n", r, cause)
	}
	tw.Flush()
	return b.String()
}

// describeTemplate is the "Pod Template:" section of kubectl describe for t. It is cut out of
// the description of a ReplicaSet holding t, since package printers writes that section only
// as part of a workload's description.
func describeTemplate(t *corev1.PodTemplateSpec) string {
	var b bytes.Buffer
	rs := &appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{}, Spec: &appsv1.ReplicaSetSpec{Template: t}}
	if err := printers.Describe(&b, scheme.ReplicaSets, rs, printers.Related{}, time.Now()); err != nil {
		return ""
	}
	var out strings.Builder
	in := false
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		switch {
		case line == "Pod Template:\n":
			in = true
		case in && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t"):
			return out.String()
		}
		if in {
			out.WriteString(line)
		}
	}
	return out.String()
}
