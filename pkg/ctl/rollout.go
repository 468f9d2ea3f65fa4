package ctl

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/selector"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Annotations and labels the Deployment controller and kubectl share.
const (
	// revisionAnnotation numbers a Deployment's ReplicaSets (and the Deployment itself) in
	// rollout order.
	revisionAnnotation = "deployment.kubernetes.io/revision"
	// changeCauseAnnotation says why a revision was made (kubectl's --record, or by hand).
	changeCauseAnnotation = "kubernetes.io/change-cause"
	// restartedAtAnnotation is the template annotation `rollout restart` sets.
	restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
	// podTemplateHashLabel is the label the controller adds to each ReplicaSet's template.
	podTemplateHashLabel = "pod-template-hash"
)

func newRollout(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout SUBCOMMAND",
		Short: "Manage the rollout of a resource",
		Long: "Manage the rollout of one or many resources.\n\nValid resource types include:\n\n" +
			"  * deployments",
		Example: "  # Roll back to the previous deployment\n  berthctl rollout undo deployment/abc\n\n" +
			"  # Check the rollout status of a deployment\n  berthctl rollout status deployment/abc\n\n" +
			"  # Restart a deployment\n  berthctl rollout restart deployment/abc",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRolloutHistory(g), newRolloutPause(g), newRolloutRestart(g), newRolloutResume(g),
		newRolloutStatus(g), newRolloutUndo(g))
	return cmd
}

// objectRef names one object a command works on.
type objectRef struct {
	r               *scheme.Resource
	namespace, name string
	// source is the file the object was named in, if any.
	source string
}

// String is the object as kubectl's name printer writes it: "deployment.apps/web".
func (ref objectRef) String() string { return printers.KindName(ref.r) + "/" + ref.name }

// resolveOptions are the ways a command may name its objects besides KIND NAME arguments.
type resolveOptions struct {
	files     []string
	recursive bool
	selector  string
	// all selects every object of the kinds given (kubectl's --all).
	all bool
	// verb names the command in the error for files without objects ("no objects passed to scale").
	verb string
}

// resolve turns a command's arguments and flags into the objects it works on, as kubectl's
// resource builder does: "-f FILE", "KIND NAME...", "KIND/NAME...", or "KIND" with -l or
// --all (listed from the server, sorted by name).
func (g *globals) resolve(ctx context.Context, args []string, o resolveOptions) ([]objectRef, error) {
	if len(o.files) > 0 {
		if len(args) > 0 {
			return nil, usagef("when -f is given, no kinds or names may be given as arguments")
		}
		items, err := readManifests(o.files, o.recursive, g.In, o.verb, &errorList{w: g.ErrOut})
		if err != nil {
			return nil, err
		}
		refs := make([]objectRef, 0, len(items))
		for _, it := range items {
			refs = append(refs, objectRef{it.r, it.namespace(g.namespace), it.obj.GetMetadata().GetName(), it.source})
		}
		return refs, nil
	}
	if len(args) == 0 {
		return nil, usagef("You must provide one or more resources by argument or filename.")
	}
	targets, _, err := parseTargets(args)
	if err != nil {
		return nil, err
	}
	byName := len(targets[0].names) > 0
	bySelector := o.selector != "" || o.all
	switch {
	case byName && bySelector:
		return nil, usagef("name cannot be provided when a selector is specified")
	case !byName && !bySelector:
		return nil, usagef("resource(s) were provided, but no name was specified")
	}
	var refs []objectRef
	if byName {
		for _, t := range targets {
			for _, n := range t.names {
				refs = append(refs, objectRef{r: t.r, namespace: namespaceFor(t.r, g.namespace, false), name: n})
			}
		}
		return refs, nil
	}
	c, err := g.client(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		cctx, cancel := g.call(ctx)
		objs, _, err := c.Resource(t.r).ListAll(cctx, &metav1.ListOptions{
			Namespace: namespaceFor(t.r, g.namespace, false), LabelSelector: o.selector, Limit: 500,
		})
		cancel()
		if err != nil {
			return nil, err
		}
		sortObjects(t.r, objs)
		for _, obj := range objs {
			md := obj.GetMetadata()
			refs = append(refs, objectRef{r: t.r, namespace: md.GetNamespace(), name: md.GetName()})
		}
	}
	return refs, nil
}

// get reads the object ref names, bounded by --request-timeout.
func (g *globals) get(ctx context.Context, ref objectRef) (scheme.Object, error) {
	c, err := g.client(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := g.call(ctx)
	defer cancel()
	obj, err := c.Resource(ref.r).Get(cctx, ref.namespace, ref.name)
	return obj, withSource("getting", ref.source, err)
}

// kindString is a resource's group and kind as kubectl's errors name them ("Deployment.apps",
// "Pod").
func kindString(r *scheme.Resource) string {
	if r.Group == "" {
		return r.Kind
	}
	return r.Kind + "." + r.Group
}

// revision reads an object's deployment.kubernetes.io/revision annotation: 0 when absent, an
// error when it is not a number (as kubectl's deploymentutil.Revision).
func revision(md *metav1.ObjectMeta) (int64, error) {
	v, ok := md.GetAnnotations()[revisionAnnotation]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// replicaSetsOf lists the ReplicaSets a Deployment controls: those its selector matches whose
// ControllerRef is the Deployment's uid.
func replicaSetsOf(ctx context.Context, c *client.Client, dep *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	md := dep.GetMetadata()
	sel, err := selector.Parse(dep.GetSpec().GetSelector())
	if err != nil {
		return nil, fmt.Errorf("failed to retrieve replica sets from deployment %s: %w", md.GetName(), err)
	}
	objs, _, err := c.Resource(scheme.ReplicaSets).ListAll(ctx, &metav1.ListOptions{
		Namespace: md.GetNamespace(), LabelSelector: sel.String(), Limit: 500,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to retrieve replica sets from deployment %s: %w", md.GetName(), err)
	}
	var rss []*appsv1.ReplicaSet
	for _, o := range objs {
		if controllerref.IsControlledBy(o, md.GetUid()) {
			rss = append(rss, o.(*appsv1.ReplicaSet))
		}
	}
	return rss, nil
}
