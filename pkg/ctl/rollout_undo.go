package ctl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// annotationsToKeep are the Deployment's own annotations, which a rollback keeps rather than
// taking them from the ReplicaSet of the revision (kubectl's annotationsToSkip).
var annotationsToKeep = map[string]bool{
	printers.LastAppliedAnnotation:              true,
	revisionAnnotation:                          true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	"deprecated.deployment.rollback.to":         true,
}

type rolloutUndoOptions struct {
	*globals
	files      []string
	recursive  bool
	selector   string
	toRevision int64
}

func newRolloutUndo(g *globals) *cobra.Command {
	o := &rolloutUndoOptions{globals: g}
	cmd := &cobra.Command{
		Use:   "undo (TYPE NAME | TYPE/NAME) [flags]",
		Short: "Undo a previous rollout",
		Long:  "Roll back to a previous rollout.",
		Example: "  # Roll back to the previous deployment\n  berthctl rollout undo deployment/abc\n\n" +
			"  # Roll back to deployment revision 3\n  berthctl rollout undo deployment/abc --to-revision=3",
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files identifying the resource to get from a server")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector to filter on")
	f.Int64Var(&o.toRevision, "to-revision", 0, "The revision to rollback to. Default to 0 (last revision).")
	return cmd
}

func (o *rolloutUndoOptions) run(ctx context.Context, args []string) error {
	if len(args) == 0 && len(o.files) == 0 {
		return usagef("required resource not specified")
	}
	refs, err := o.resolve(ctx, args, resolveOptions{files: o.files, recursive: o.recursive, selector: o.selector, verb: "rollout undo"})
	if err != nil {
		return err
	}
	errs := &errorList{w: o.ErrOut}
	for _, ref := range refs {
		result, err := o.undo(ctx, ref)
		if err != nil {
			errs.add(err)
			continue
		}
		fmt.Fprintf(o.Out, "%s %s\n", ref, result)
	}
	return errs.err()
}

// undo rolls one object back and says what it did ("rolled back", "skipped rollback (...)").
func (o *rolloutUndoOptions) undo(ctx context.Context, ref objectRef) (string, error) {
	if _, err := o.get(ctx, ref); err != nil {
		return "", err
	}
	if ref.r != scheme.Deployments {
		return "", fmt.Errorf("no rollbacker has been implemented for %q", kindString(ref.r))
	}
	if o.toRevision < 0 {
		return "", revisionNotFound(o.toRevision)
	}
	c, err := o.client(ctx)
	if err != nil {
		return "", err
	}
	var result string
	err = updateDeployment(ctx, o.globals, c, ref, func(dep *appsv1.Deployment) (bool, error) {
		cctx, cancel := o.call(ctx)
		rss, err := replicaSetsOf(cctx, c, dep)
		cancel()
		if err != nil {
			return false, err
		}
		rs, err := replicaSetOfRevision(rss, o.toRevision, dep.GetMetadata().GetName())
		if err != nil {
			return false, err
		}
		if dep.GetSpec().GetPaused() {
			return false, errors.New("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again")
		}
		if equalIgnoreHash(rs.GetSpec().GetTemplate(), dep.GetSpec().GetTemplate()) {
			result = fmt.Sprintf("skipped rollback (current template already matches revision %d)", o.toRevision)
			return false, nil
		}
		rollBack(dep, rs)
		result = "rolled back"
		return true, nil
	})
	if err != nil {
		return "", err
	}
	return result, nil
}

// revisionNotFound is kubectl's error for a revision no ReplicaSet has.
func revisionNotFound(rev int64) error {
	return fmt.Errorf("unable to find specified revision %v in history", rev)
}

// replicaSetOfRevision finds the ReplicaSet of revision rev, or with rev 0 the one of the
// revision before the newest.
func replicaSetOfRevision(rss []*appsv1.ReplicaSet, rev int64, deployment string) (*appsv1.ReplicaSet, error) {
	var latest, previous *appsv1.ReplicaSet
	latestRev, previousRev := int64(-1), int64(-1)
	for _, rs := range rss {
		v, err := revision(rs.GetMetadata())
		if err != nil {
			continue
		}
		switch {
		case rev > 0:
			if v == rev {
				return rs, nil
			}
		case v > latestRev:
			previous, previousRev = latest, latestRev
			latest, latestRev = rs, v
		case v > previousRev:
			previous, previousRev = rs, v
		}
	}
	if rev > 0 {
		return nil, revisionNotFound(rev)
	}
	if previous == nil {
		return nil, fmt.Errorf("no rollout history found for deployment %q", deployment)
	}
	return previous, nil
}

// equalIgnoreHash tells whether two Pod templates are the same but for the pod-template-hash
// label. As Kubernetes' semantic equality of Go structs, an empty message ("resources: {}")
// equals an absent one.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	ca, cb := withoutHashLabel(a), withoutHashLabel(b)
	pruneEmpty(ca.ProtoReflect())
	pruneEmpty(cb.ProtoReflect())
	return proto.Equal(ca, cb)
}

// pruneEmpty clears, depth first, every message field of m left without any field set.
func pruneEmpty(m protoreflect.Message) {
	var empty []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				pruneEmpty(v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				pruneEmpty(mv.Message())
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			pruneEmpty(v.Message())
			if isEmpty(v.Message()) {
				empty = append(empty, fd)
			}
		}
		return true
	})
	for _, fd := range empty {
		m.Clear(fd)
	}
}

// isEmpty tells whether no field of m is set.
func isEmpty(m protoreflect.Message) bool {
	empty := true
	m.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool {
		empty = false
		return false
	})
	return empty
}

// withoutHashLabel is a copy of t without the pod-template-hash label.
func withoutHashLabel(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	c, _ := proto.Clone(t).(*corev1.PodTemplateSpec)
	if c == nil {
		c = &corev1.PodTemplateSpec{}
	}
	delete(c.GetMetadata().GetLabels(), podTemplateHashLabel)
	return c
}

// rollBack gives dep the template of rs (without its hash label) and rs's annotations, keeping
// the Deployment's own bookkeeping annotations, as kubectl's JSON patch does.
func rollBack(dep *appsv1.Deployment, rs *appsv1.ReplicaSet) {
	annotations := map[string]string{}
	for k, v := range dep.GetMetadata().GetAnnotations() {
		if annotationsToKeep[k] {
			annotations[k] = v
		}
	}
	for k, v := range rs.GetMetadata().GetAnnotations() {
		if !annotationsToKeep[k] {
			annotations[k] = v
		}
	}
	dep.Metadata.Annotations = annotations
	dep.Spec.Template = withoutHashLabel(rs.GetSpec().GetTemplate())
}

// updateDeployment reads the Deployment ref names, lets change modify it, and writes it back
// when change says so, with its resourceVersion; a Conflict (someone wrote in between) starts
// over with a fresh read, a few times, as client-go's retry.RetryOnConflict.
func updateDeployment(ctx context.Context, g *globals, c *client.Client, ref objectRef, change func(*appsv1.Deployment) (bool, error)) error {
	rc := c.Resource(scheme.Deployments)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		cctx, cancel := g.call(ctx)
		var obj scheme.Object
		obj, err = rc.Get(cctx, ref.namespace, ref.name)
		cancel()
		if err != nil {
			return err
		}
		dep := obj.(*appsv1.Deployment)
		write, cerr := change(dep)
		if cerr != nil || !write {
			return cerr
		}
		cctx, cancel = g.call(ctx)
		_, err = rc.Update(cctx, dep)
		cancel()
		if !kerrors.IsConflict(err) {
			return err
		}
	}
	return errors.Join(errors.New("gave up after repeated conflicts"), err)
}
