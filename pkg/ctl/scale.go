package ctl

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Scale retries: a conflicting write is tried again every scaleRetryInterval for up to
// scaleRetryTimeout, as kubectl's scaler does; --timeout polls the status as often.
const (
	scaleRetryInterval = time.Second
	scaleRetryTimeout  = 5 * time.Minute
)

type scaleOptions struct {
	*globals
	files                     []string
	recursive, all            bool
	selector, resourceVersion string
	output                    string
	replicas, currentReplicas int
	timeout                   time.Duration
}

func newScale(g *globals) *cobra.Command {
	o := &scaleOptions{globals: g}
	cmd := &cobra.Command{
		Use:   "scale [--resource-version=version] [--current-replicas=count] --replicas=COUNT (-f FILENAME | TYPE NAME)",
		Short: "Set a new size for a deployment, replica set, or replication controller",
		Long: "Set a new size for a deployment, replica set, or replication controller.\n\n" +
			"Scale also allows users to specify one or more preconditions for the scale action.\n\n" +
			"If --current-replicas or --resource-version is specified, it is validated before the scale is\n" +
			"attempted, and it is guaranteed that the precondition holds true when the scale is sent to the server.",
		Example: "  # Scale a replica set named 'foo' to 3\n  berthctl scale --replicas=3 rs/foo\n\n" +
			"  # If the deployment named mysql's current size is 2, scale mysql to 3\n  berthctl scale --current-replicas=2 --replicas=3 deployment/mysql\n\n" +
			"  # Scale multiple replication controllers\n  berthctl scale --replicas=5 rc/example1 rc/example2 rc/example3",
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files identifying the resource to set a new size")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.BoolVar(&o.all, "all", false, "Select all resources in the namespace of the specified resource types")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector to filter on")
	f.StringVar(&o.resourceVersion, "resource-version", "", "Precondition for resource version. Requires that the current resource version match this value in order to scale.")
	f.IntVar(&o.currentReplicas, "current-replicas", -1, "Precondition for current size. Requires that the current size of the resource match this value in order to scale. -1 (default) for no condition.")
	f.IntVar(&o.replicas, "replicas", 0, "The new desired number of replicas. Required.")
	f.DurationVar(&o.timeout, "timeout", 0, "The length of time to wait before giving up on a scale operation, zero means don't wait. Any other values should contain a corresponding time unit (e.g. 1s, 2m, 3h).")
	f.StringVarP(&o.output, "output", "o", "", `"name" prints only kind/name of each scaled object`)
	_ = cmd.MarkFlagRequired("replicas")
	return cmd
}

func (o *scaleOptions) run(ctx context.Context, args []string) error {
	if o.output != "" && o.output != "name" {
		return usagef("unexpected -o output mode: %s, the flag 'output' must be one of \"name\"", o.output)
	}
	if o.replicas < 0 {
		//lint:ignore ST1005 kubectl's message, word for word
		return fmt.Errorf("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
	}
	if o.currentReplicas < -1 {
		//lint:ignore ST1005 kubectl's message, word for word
		return fmt.Errorf("The --current-replicas must specify an integer of -1 or greater")
	}
	refs, err := o.resolve(ctx, args, resolveOptions{files: o.files, recursive: o.recursive, selector: o.selector, all: o.all, verb: "scale"})
	if err != nil {
		return err
	}
	if o.resourceVersion != "" && len(refs) > 1 {
		return fmt.Errorf("cannot use --resource-version with multiple resources")
	}
	if len(refs) == 0 {
		return fmt.Errorf("no objects passed to scale")
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	errs := &errorList{w: o.ErrOut}
	for _, ref := range refs {
		if err := o.scale(ctx, c.Resource(ref.r), ref); err != nil {
			errs.add(withSource("scaling", ref.source, err))
			continue
		}
		if o.output == "name" {
			fmt.Fprintln(o.Out, ref)
		} else {
			fmt.Fprintf(o.Out, "%s scaled\n", ref)
		}
	}
	return errs.err()
}

// scale sets the replicas of one object through its scale subresource, retrying on
// conflicts, then waits for them with --timeout.
func (o *scaleOptions) scale(ctx context.Context, rc *client.ResourceClient, ref objectRef) error {
	deadline := time.Now().Add(scaleRetryTimeout)
	for {
		err := o.scaleOnce(ctx, rc, ref)
		if !kerrors.IsConflict(err) {
			if err != nil {
				return err
			}
			break
		}
		if time.Now().After(deadline) {
			return errWaitTimeout
		}
		if err := sleep(ctx, scaleRetryInterval); err != nil {
			return err
		}
	}
	if o.timeout <= 0 {
		return nil
	}
	return o.waitForReplicas(ctx, rc, ref)
}

// scaleOnce writes the scale: blindly, or after checking the preconditions of
// --current-replicas and --resource-version against a fresh read, with that read's
// resourceVersion so that the preconditions still hold when the write lands.
func (o *scaleOptions) scaleOnce(ctx context.Context, rc *client.ResourceClient, ref objectRef) error {
	cctx, cancel := o.call(ctx)
	defer cancel()
	if o.currentReplicas == -1 && o.resourceVersion == "" {
		_, err := rc.UpdateScale(cctx, &autoscalingv1.Scale{
			Metadata: &metav1.ObjectMeta{Namespace: ref.namespace, Name: ref.name},
			Spec:     &autoscalingv1.ScaleSpec{Replicas: int32(o.replicas)},
		})
		return err
	}
	s, err := rc.GetScale(cctx, ref.namespace, ref.name)
	if err != nil {
		return err
	}
	if err := checkScalePreconditions(s, o.currentReplicas, o.resourceVersion); err != nil {
		return err
	}
	s.Spec = &autoscalingv1.ScaleSpec{Replicas: int32(o.replicas)}
	_, err = rc.UpdateScale(cctx, s)
	return err
}

// checkScalePreconditions is kubectl's check of --current-replicas (-1: none) and
// --resource-version ("": none).
func checkScalePreconditions(s *autoscalingv1.Scale, size int, resourceVersion string) error {
	if got := int(s.GetSpec().GetReplicas()); size != -1 && got != size {
		//lint:ignore ST1005 kubectl's message, word for word
		return fmt.Errorf("Expected replicas to be %d, was %d", size, got)
	}
	if got := s.GetMetadata().GetResourceVersion(); resourceVersion != "" && got != resourceVersion {
		//lint:ignore ST1005 kubectl's message, word for word
		return fmt.Errorf("Expected resource version to be %s, was %s", resourceVersion, got)
	}
	return nil
}

// waitForReplicas polls the scale until its status has the replicas asked for (or someone
// else changed the spec since), for at most --timeout.
func (o *scaleOptions) waitForReplicas(ctx context.Context, rc *client.ResourceClient, ref objectRef) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	want := int32(o.replicas)
	for {
		s, err := rc.GetScale(ctx, ref.namespace, ref.name)
		switch {
		case ctx.Err() != nil || kerrors.IsTimeout(err):
			return fmt.Errorf("timed out waiting for %q to be synced", ref.name)
		case err != nil:
			return err
		case s.GetSpec().GetReplicas() != want:
			return nil
		case s.GetStatus().GetReplicas() == want:
			return nil
		}
		if err := sleep(ctx, scaleRetryInterval); err != nil {
			return fmt.Errorf("timed out waiting for %q to be synced", ref.name)
		}
	}
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
