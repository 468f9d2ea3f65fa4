package ctl

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

type deleteOptions struct {
	*globals
	files                                          []string
	recursive                                      bool
	selector, fieldSelector, cascade, output       string
	all, allNamespaces, ignoreNotFound, now, force bool
	wait                                           bool
	gracePeriod                                    int64
	timeout                                        time.Duration
}

func newDelete(g *globals) *cobra.Command {
	o := &deleteOptions{globals: g}
	cmd := &cobra.Command{
		Use:   "delete ([-f FILENAME] | KIND (NAME... | -l SELECTOR | --all) | KIND/NAME...) [flags]",
		Short: "Delete resources by file names, kinds and names, or kinds and label selectors",
		Example: "  berthctl delete pod nginx\n  berthctl delete -f manifest.yaml\n" +
			"  berthctl delete pods -l app=web\n  berthctl delete deploy web --cascade=foreground",
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files, directories or - (stdin) holding the objects to delete")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.StringVarP(&o.selector, "selector", "l", "", "delete the objects matching this label selector")
	f.StringVar(&o.fieldSelector, "field-selector", "", "delete the objects matching this field selector")
	f.BoolVar(&o.all, "all", false, "delete every object of the kinds given, in the namespace")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "with -l or --all, delete across every namespace")
	f.BoolVar(&o.ignoreNotFound, "ignore-not-found", false, "treat objects that do not exist as no error")
	f.StringVar(&o.cascade, "cascade", "background", `what happens to dependents: "background", "foreground" (delete them first) or "orphan" (keep them)`)
	f.Lookup("cascade").NoOptDefVal = "background"
	f.Int64Var(&o.gracePeriod, "grace-period", -1, "seconds given to the object to terminate gracefully (-1: the object's default)")
	f.BoolVar(&o.now, "now", false, "signal the object to stop at once (--grace-period=1)")
	f.BoolVar(&o.force, "force", false, "remove the object at once, without waiting for it to terminate (--grace-period=0)")
	f.BoolVar(&o.wait, "wait", true, "wait until the objects are gone before returning")
	f.DurationVar(&o.timeout, "timeout", 0, "how long to wait for the deletion (0: a week)")
	f.StringVarP(&o.output, "output", "o", "", `"name" prints only kind/name of each deleted object`)
	return cmd
}

// deleteRequest builds the DeleteRequest the flags describe.
func (o *deleteOptions) deleteRequest() (*metav1.DeleteRequest, error) {
	req := &metav1.DeleteRequest{}
	switch strings.ToLower(o.cascade) {
	case "background", "true":
		req.PropagationPolicy = "Background"
	case "foreground":
		req.PropagationPolicy = "Foreground"
	case "orphan", "false":
		req.PropagationPolicy = "Orphan"
	default:
		return nil, usagef(`invalid cascade value (%v). Must be "background", "foreground", or "orphan"`, o.cascade)
	}
	grace := o.gracePeriod
	switch {
	case o.now && grace >= 0:
		return nil, usagef("--now and --grace-period cannot be specified together")
	case o.now:
		grace = 1
	case o.force:
		grace = 0
		fmt.Fprintln(o.ErrOut, "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.")
	case grace == 0:
		grace = 1 // as kubectl: zero only with --force
	}
	if grace >= 0 {
		req.GracePeriodSeconds = &grace
	}
	if o.output != "" && o.output != "name" {
		return nil, usagef("unexpected -o output mode: %s, the flag 'output' must be one of \"name\"", o.output)
	}
	return req, nil
}

// victim is one object to delete.
type victim struct {
	r               *scheme.Resource
	namespace, name string
	source          string
}

func (o *deleteOptions) run(ctx context.Context, args []string) error {
	base, err := o.deleteRequest()
	if err != nil {
		return err
	}
	var victims []victim
	errs := &errorList{w: o.ErrOut}
	switch {
	case len(o.files) > 0:
		if len(args) > 0 {
			return usagef("when -f is given, no kinds or names may be given as arguments")
		}
		items, err := readManifests(o.files, o.recursive, o.In, "delete", errs)
		if err != nil {
			return err
		}
		// Objects go in the reverse of the order they were applied in: what lives in a
		// Namespace before the Namespace, whose controller would otherwise delete them first
		// and make their own deletion fail with NotFound.
		for i := len(items) - 1; i >= 0; i-- {
			it := items[i]
			ns := it.namespace(o.namespace)
			victims = append(victims, victim{it.r, ns, it.obj.GetMetadata().GetName(), it.source})
		}
	case len(args) == 0:
		return usagef("You must provide one or more resources by argument or filename.")
	default:
		victims, err = o.fromArgs(ctx, args, errs)
		if err != nil {
			return err
		}
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	var deleted []scheme.Object
	var kinds []*scheme.Resource
	for _, v := range victims {
		req := &metav1.DeleteRequest{Namespace: v.namespace, Name: v.name, GracePeriodSeconds: base.GracePeriodSeconds, PropagationPolicy: base.PropagationPolicy}
		cctx, cancel := o.call(ctx)
		obj, err := c.Resource(v.r).Delete(cctx, req)
		cancel()
		if err != nil {
			if !(o.ignoreNotFound && kerrors.IsNotFound(err)) {
				errs.add(withSource("deleting", v.source, err))
			}
			continue
		}
		if o.output == "name" {
			fmt.Fprintln(o.Out, printers.KindName(v.r)+"/"+v.name)
		} else {
			fmt.Fprintf(o.Out, "%s %q deleted\n", printers.KindName(v.r), v.name)
		}
		deleted, kinds = append(deleted, obj), append(kinds, v.r)
	}
	if o.wait && len(deleted) > 0 {
		timeout := o.timeout
		if timeout <= 0 {
			timeout = 7 * 24 * time.Hour
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		for i, obj := range deleted {
			errs.add(waitGone(wctx, c.Resource(kinds[i]), obj))
		}
	}
	return errs.err()
}

// fromArgs resolves KIND NAME..., KIND/NAME... and KIND -l SELECTOR | --all into objects.
func (o *deleteOptions) fromArgs(ctx context.Context, args []string, errs *errorList) ([]victim, error) {
	targets, _, err := parseTargets(args)
	if err != nil {
		return nil, err
	}
	byName := len(targets[0].names) > 0
	bySelector := o.selector != "" || o.fieldSelector != "" || o.all
	switch {
	case byName && bySelector:
		return nil, usagef("name cannot be provided when a selector or --all is specified")
	case !byName && !bySelector:
		return nil, usagef("resource(s) were provided, but no name was specified")
	}
	var victims []victim
	if byName {
		for _, t := range targets {
			for _, n := range t.names {
				victims = append(victims, victim{r: t.r, namespace: namespaceFor(t.r, o.namespace, false), name: n})
			}
		}
		return victims, nil
	}
	c, err := o.client(ctx)
	if err != nil {
		return nil, err
	}
	found := 0
	for _, t := range targets {
		cctx, cancel := o.call(ctx)
		objs, _, err := c.Resource(t.r).ListAll(cctx, &metav1.ListOptions{
			Namespace: namespaceFor(t.r, o.namespace, o.allNamespaces), LabelSelector: o.selector, FieldSelector: o.fieldSelector, Limit: 500,
		})
		cancel()
		if err != nil {
			errs.add(err)
			continue
		}
		sortObjects(t.r, objs)
		for _, obj := range objs {
			md := obj.GetMetadata()
			victims = append(victims, victim{r: t.r, namespace: md.GetNamespace(), name: md.GetName()})
		}
		found += len(objs)
	}
	if found == 0 && errs.n == 0 {
		fmt.Fprintln(o.Out, "No resources found")
	}
	return victims, nil
}

// waitGone polls until the object is gone (or replaced by one with another uid).
func waitGone(ctx context.Context, rc *client.ResourceClient, obj scheme.Object) error {
	md := obj.GetMetadata()
	delay := 50 * time.Millisecond
	for {
		cur, err := rc.Get(ctx, md.GetNamespace(), md.GetName())
		switch {
		case kerrors.IsNotFound(err):
			return nil
		case err == nil && cur.GetMetadata().GetUid() != md.GetUid():
			return nil
		case err != nil && ctx.Err() == nil:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the deletion of %s %q: %w", printers.KindName(rc.Resource()), md.GetName(), ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}
