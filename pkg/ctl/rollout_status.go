package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// errWaitTimeout is what kubectl reports when --timeout ends a wait.
var errWaitTimeout = errors.New("timed out waiting for the condition")

type rolloutStatusOptions struct {
	*globals
	files     []string
	recursive bool
	selector  string
	watch     bool
	revision  int64
	timeout   time.Duration
}

func newRolloutStatus(g *globals) *cobra.Command {
	o := &rolloutStatusOptions{globals: g}
	cmd := &cobra.Command{
		Use:   "status (TYPE NAME | TYPE/NAME) [flags]",
		Short: "Show the status of the rollout",
		Long: "Show the status of the rollout.\n\n" +
			"By default 'rollout status' will watch the status of the latest rollout until it's done. If you\n" +
			"don't want to wait for the rollout to finish then you can use --watch=false. Note that if a new\n" +
			"rollout starts in-between, then 'rollout status' will continue watching the latest revision. If\n" +
			"you want to pin to a specific revision and abort if it is rolled over by another revision, use\n" +
			"--revision=N where N is the revision you need to watch for.",
		Example: "  # Watch the rollout status of a deployment\n  berthctl rollout status deployment/nginx",
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files identifying the resource to get from a server")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector to filter on")
	f.BoolVarP(&o.watch, "watch", "w", true, "Watch the status of the rollout until it's done.")
	f.Int64Var(&o.revision, "revision", 0, "Pin to a specific revision for showing its status. Defaults to 0 (last revision).")
	f.DurationVar(&o.timeout, "timeout", 0, "The length of time to wait before ending watch, zero means never. Any other values should contain a corresponding time unit (e.g. 1s, 2m, 3h).")
	return cmd
}

func (o *rolloutStatusOptions) run(ctx context.Context, args []string) error {
	if len(args) == 0 && len(o.files) == 0 {
		return usagef("required resource not specified")
	}
	if o.revision < 0 {
		return fmt.Errorf("revision must be a positive integer: %v", o.revision)
	}
	refs, err := o.resolve(ctx, args, resolveOptions{files: o.files, recursive: o.recursive, selector: o.selector, verb: "rollout status"})
	if err != nil {
		return err
	}
	if len(refs) != 1 {
		return fmt.Errorf("rollout status is only supported on individual resources and resource collections - %d resources were found", len(refs))
	}
	ref := refs[0]
	if _, err := o.get(ctx, ref); err != nil {
		return err
	}
	if ref.r != scheme.Deployments {
		return fmt.Errorf("no status viewer has been implemented for %s", kindString(ref.r))
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	err = o.until(ctx, c.Resource(ref.r), ref)
	// The server may end the watch at the deadline a moment before ctx itself ends.
	if err != nil && o.timeout > 0 && (errors.Is(ctx.Err(), context.DeadlineExceeded) || kerrors.IsTimeout(err)) {
		return errWaitTimeout
	}
	return err
}

// until watches the Deployment and prints its rollout status at each change, until the
// rollout is done (or at once without --watch). A watch the server ends is resumed where it
// left off; one that expired starts over with the current state, as kubectl's watch does.
func (o *rolloutStatusOptions) until(ctx context.Context, rc *client.ResourceClient, ref objectRef) error {
	rv := ""
	for {
		w, err := rc.Watch(ctx, &metav1.ListOptions{Namespace: ref.namespace, FieldSelector: "metadata.name=" + ref.name, ResourceVersion: rv})
		if kerrors.IsResourceExpired(err) || kerrors.IsGone(err) {
			rv = ""
			continue
		}
		if err != nil {
			return err
		}
		done, err := o.follow(w, &rv)
		w.Stop()
		if done || err != nil {
			return err
		}
	}
}

// follow handles the events of one watch. It returns done when the command is over, and
// neither done nor an error when the watch ended and must be started again from *rv.
func (o *rolloutStatusOptions) follow(w *client.Watcher, rv *string) (done bool, err error) {
	for {
		ev, err := w.Next()
		switch {
		case errors.Is(err, io.EOF):
			return false, nil
		case kerrors.IsResourceExpired(err) || kerrors.IsGone(err):
			*rv = ""
			return false, nil
		case err != nil:
			return true, err
		}
		*rv = ev.Object.GetMetadata().GetResourceVersion()
		switch ev.Type {
		case client.Added, client.Modified:
			msg, finished, err := deploymentStatus(ev.Object.(*appsv1.Deployment), o.revision)
			if err != nil {
				return true, err
			}
			fmt.Fprint(o.Out, msg)
			if finished || !o.watch {
				return true, nil
			}
		case client.Deleted:
			// The object may come back as another one: stop rather than watch the wrong one.
			return true, errors.New("object has been deleted")
		}
	}
}

// deploymentStatus is kubectl's reading of a Deployment's rollout: a message ending with a
// newline, whether the rollout is complete, and an error when it cannot complete (the
// progress deadline passed, or another revision than the one asked for is rolling out).
func deploymentStatus(dep *appsv1.Deployment, want int64) (string, bool, error) {
	md, spec, st := dep.GetMetadata(), dep.GetSpec(), dep.GetStatus()
	name := md.GetName()
	if want > 0 {
		rev, err := revision(md)
		if err != nil {
			return "", false, fmt.Errorf("cannot get the revision of deployment %q: %v", name, err)
		}
		if rev != want {
			return "", false, fmt.Errorf("desired revision (%d) is different from the running revision (%d)", want, rev)
		}
	}
	if md.GetGeneration() > st.GetObservedGeneration() {
		return "Waiting for deployment spec update to be observed...\n", false, nil
	}
	for _, c := range st.GetConditions() {
		if c.GetType() == "Progressing" && c.GetReason() == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", name)
		}
	}
	switch {
	case spec.Replicas != nil && st.GetUpdatedReplicas() < spec.GetReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...\n", name, st.GetUpdatedReplicas(), spec.GetReplicas()), false, nil
	case st.GetReplicas() > st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...\n", name, st.GetReplicas()-st.GetUpdatedReplicas()), false, nil
	case st.GetAvailableReplicas() < st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...\n", name, st.GetAvailableReplicas(), st.GetUpdatedReplicas()), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out\n", name), true, nil
}
