package ctl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// rolloutChange is one of pause, resume and restart: a change of a Deployment's spec, which
// kubectl sends as a strategic merge patch and berthctl as an Update.
type rolloutChange struct {
	// verb names the command ("pause"); gerund says what is not supported for other kinds
	// ("pausing"); done is printed after the object ("paused").
	verb, gerund, done string
	// change modifies the Deployment, or says why it cannot ("is already paused").
	change func(*appsv1.Deployment) error
}

var (
	pauseChange = rolloutChange{verb: "pause", gerund: "pausing", done: "paused", change: func(d *appsv1.Deployment) error {
		if d.GetSpec().GetPaused() {
			return errors.New("is already paused")
		}
		d.Spec.Paused = true
		return nil
	}}
	resumeChange = rolloutChange{verb: "resume", gerund: "resuming", done: "resumed", change: func(d *appsv1.Deployment) error {
		if !d.GetSpec().GetPaused() {
			return errors.New("is not paused")
		}
		d.Spec.Paused = false
		return nil
	}}
	restartChange = rolloutChange{verb: "restart", gerund: "restarting", done: "restarted", change: func(d *appsv1.Deployment) error {
		if d.GetSpec().GetPaused() {
			return errors.New("can't restart paused deployment (run rollout resume first)")
		}
		t := d.GetSpec().GetTemplate()
		if t.Metadata == nil {
			t.Metadata = &metav1.ObjectMeta{}
		}
		if t.Metadata.Annotations == nil {
			t.Metadata.Annotations = map[string]string{}
		}
		t.Metadata.Annotations[restartedAtAnnotation] = time.Now().Format(time.RFC3339)
		return nil
	}}
)

type rolloutChangeOptions struct {
	*globals
	rolloutChange
	files     []string
	recursive bool
	selector  string
}

func newRolloutPause(g *globals) *cobra.Command {
	return newRolloutChange(g, pauseChange, "Mark the provided resource as paused",
		"Mark the provided resource as paused.\n\nPaused resources will not be reconciled by a controller. Use \"berthctl rollout resume\" to\n"+
			"resume a paused resource. Currently only deployments support being paused.",
		"  # Mark the nginx deployment as paused\n  # Any current state of the deployment will continue its function; new updates\n"+
			"  # to the deployment will not have an effect as long as the deployment is paused\n  berthctl rollout pause deployment/nginx")
}

func newRolloutResume(g *globals) *cobra.Command {
	return newRolloutChange(g, resumeChange, "Resume a paused resource",
		"Resume a paused resource.\n\nPaused resources will not be reconciled by a controller. By resuming a resource, we allow it\n"+
			"to be reconciled again. Currently only deployments support being resumed.",
		"  # Resume an already paused deployment\n  berthctl rollout resume deployment/nginx")
}

func newRolloutRestart(g *globals) *cobra.Command {
	return newRolloutChange(g, restartChange, "Restart a resource",
		"Restart a resource.\n\n        Resource rollout will be restarted.",
		"  # Restart a deployment\n  berthctl rollout restart deployment/nginx")
}

func newRolloutChange(g *globals, rc rolloutChange, short, long, example string) *cobra.Command {
	o := &rolloutChangeOptions{globals: g, rolloutChange: rc}
	cmd := &cobra.Command{
		Use:     rc.verb + " RESOURCE",
		Short:   short,
		Long:    long,
		Example: example,
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files identifying the resource to get from a server")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector to filter on")
	return cmd
}

func (o *rolloutChangeOptions) run(ctx context.Context, args []string) error {
	if len(args) == 0 && len(o.files) == 0 {
		return usagef("required resource not specified")
	}
	refs, err := o.resolve(ctx, args, resolveOptions{files: o.files, recursive: o.recursive, selector: o.selector, verb: "rollout " + o.verb})
	if err != nil {
		return err
	}
	errs := &errorList{w: o.ErrOut}
	for _, ref := range refs {
		if err := o.apply(ctx, ref); err != nil {
			errs.add(err)
			continue
		}
		fmt.Fprintf(o.Out, "%s %s\n", ref, o.done)
	}
	return errs.err()
}

// apply makes the change to one object.
func (o *rolloutChangeOptions) apply(ctx context.Context, ref objectRef) error {
	if _, err := o.get(ctx, ref); err != nil {
		return err
	}
	refused := func(err error) error { return fmt.Errorf("%s %q %v", ref.r.GroupResource(), ref.name, err) }
	if ref.r != scheme.Deployments {
		return refused(fmt.Errorf("%s is not supported", o.gerund))
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	return updateDeployment(ctx, o.globals, c, ref, func(d *appsv1.Deployment) (bool, error) {
		if err := o.change(d); err != nil {
			return false, refused(err)
		}
		return true, nil
	})
}
