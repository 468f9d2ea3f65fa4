package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	kerrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

type getOptions struct {
	*globals
	output, selector, fieldSelector       string
	allNamespaces, watch, watchOnly       bool
	showLabels, noHeaders, ignoreNotFound bool
	chunkSize                             int64
}

func newGet(g *globals) *cobra.Command {
	o := &getOptions{globals: g}
	cmd := &cobra.Command{
		Use:   "get (KIND[,KIND...] [NAME...] | KIND/NAME ...) [flags]",
		Short: "Display one or many resources",
		Long: "Display one or many resources: a table with the columns kubectl shows for each kind, or\n" +
			"the objects as JSON or YAML. Kinds are named as kubectl names them: pods, pod, po, ...",
		Example: "  berthctl get pods\n  berthctl get deploy,svc -A\n  berthctl get pod nginx -o yaml\n  berthctl get pods -l app=web -w",
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output format: wide, name, json or yaml")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector to filter on (e.g. -l app=web,tier!=db)")
	f.StringVar(&o.fieldSelector, "field-selector", "", "field selector to filter on (e.g. --field-selector status.phase=Running)")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list the objects of every namespace")
	f.BoolVarP(&o.watch, "watch", "w", false, "after listing, watch for changes and print a line per change")
	f.BoolVar(&o.watchOnly, "watch-only", false, "watch for changes without listing first")
	f.BoolVar(&o.showLabels, "show-labels", false, "show all labels as the last column")
	f.BoolVar(&o.noHeaders, "no-headers", false, "leave out the table's header")
	f.BoolVar(&o.ignoreNotFound, "ignore-not-found", false, "treat objects that do not exist as no error")
	f.Int64Var(&o.chunkSize, "chunk-size", 500, "list large collections in pages of this many objects (0: one page)")
	return cmd
}

func (o *getOptions) printer(single, stream, multiKind bool) (printers.Printer, error) {
	return printers.New(o.Out, printers.Config{
		Output: o.output, SingleItem: single, Stream: stream,
		Table: printers.Options{WithNamespace: o.allNamespaces, WithKind: multiKind, ShowLabels: o.showLabels, NoHeaders: o.noHeaders},
	})
}

func (o *getOptions) run(ctx context.Context, args []string) error {
	targets, single, err := parseTargets(args)
	if err != nil {
		return err
	}
	named := len(targets[0].names) > 0
	if named && o.allNamespaces {
		return usagef("a resource cannot be retrieved by name across all namespaces")
	}
	if o.watch || o.watchOnly {
		return o.runWatch(ctx, targets)
	}
	p, err := o.printer(single, false, len(targets) > 1)
	if err != nil {
		return err
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	errs := &errorList{w: o.ErrOut}
	printed := 0
	for _, t := range targets {
		rc := c.Resource(t.r)
		ns := namespaceFor(t.r, o.namespace, o.allNamespaces)
		var objs []scheme.Object
		if len(t.names) > 0 {
			for _, name := range t.names {
				cctx, cancel := o.call(ctx)
				obj, err := rc.Get(cctx, ns, name)
				cancel()
				if err != nil && !(o.ignoreNotFound && kerrors.IsNotFound(err)) {
					errs.add(err)
				}
				if err == nil {
					objs = append(objs, obj)
				}
			}
		} else {
			cctx, cancel := o.call(ctx)
			objs, _, err = rc.ListAll(cctx, o.listOptions(ns))
			cancel()
			if err != nil {
				errs.add(err)
				continue
			}
			sortObjects(t.r, objs)
		}
		if len(objs) > 0 {
			if err := p.Print(t.r, objs); err != nil {
				return err
			}
		}
		printed += len(objs)
	}
	if err := p.Flush(); err != nil {
		return err
	}
	if printed == 0 && errs.n == 0 && !named && (o.output == "" || o.output == "wide" || o.output == "name") {
		o.noneFound(targets)
	}
	return errs.err()
}

// noneFound writes kubectl's note that a list came back empty.
func (o *getOptions) noneFound(targets []target) {
	if o.allNamespaces || !targets[0].r.Namespaced {
		fmt.Fprintln(o.ErrOut, "No resources found")
		return
	}
	fmt.Fprintf(o.ErrOut, "No resources found in %s namespace.\n", o.namespace)
}

func (o *getOptions) listOptions(ns string) *metav1.ListOptions {
	return &metav1.ListOptions{Namespace: ns, LabelSelector: o.selector, FieldSelector: o.fieldSelector, Limit: max(o.chunkSize, 0)}
}

// runWatch lists one kind (unless --watch-only), then prints every change until the server
// ends the watch or ctx is done.
func (o *getOptions) runWatch(ctx context.Context, targets []target) error {
	if len(targets) != 1 || len(targets[0].names) > 1 {
		n := 0
		for _, t := range targets {
			n += max(len(t.names), 1)
		}
		return fmt.Errorf("watch is only supported on individual resources and resource collections, but %d resources were found", n)
	}
	t := targets[0]
	p, err := o.printer(false, true, false)
	if err != nil {
		return err
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	rc := c.Resource(t.r)
	opts := o.listOptions(namespaceFor(t.r, o.namespace, o.allNamespaces))
	if len(t.names) == 1 {
		fs := "metadata.name=" + t.names[0]
		if opts.FieldSelector != "" {
			fs = opts.FieldSelector + "," + fs
		}
		opts.FieldSelector = fs
	}
	if !o.watchOnly {
		objs, meta, err := rc.ListAll(ctx, opts)
		if err != nil {
			return err
		}
		if len(t.names) == 1 && len(objs) == 0 {
			return kerrors.NewNotFound(groupResource(t.r), t.names[0])
		}
		sortObjects(t.r, objs)
		if len(objs) > 0 {
			if err := p.Print(t.r, objs); err != nil {
				return err
			}
		}
		opts.ResourceVersion = meta.GetResourceVersion()
	}
	opts.Limit, opts.Continue = 0, ""
	return o.printChanges(ctx, rc, opts, p)
}

func (o *getOptions) printChanges(ctx context.Context, rc *client.ResourceClient, opts *metav1.ListOptions, p printers.Printer) error {
	w, err := rc.Watch(ctx, opts)
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		ev, err := w.Next()
		switch {
		case errors.Is(err, io.EOF), ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case ev.Type == client.Bookmark:
			continue
		}
		if err := p.Print(rc.Resource(), []scheme.Object{ev.Object}); err != nil {
			return err
		}
	}
}

// sortObjects orders a list as kubectl shows it: by namespace and name, Events by time.
func sortObjects(r *scheme.Resource, objs []scheme.Object) {
	if r == scheme.Events {
		sort.SliceStable(objs, func(i, j int) bool {
			return printers.EventTime(objs[i].(*corev1.Event)).Before(printers.EventTime(objs[j].(*corev1.Event)))
		})
		return
	}
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i].GetMetadata(), objs[j].GetMetadata()
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}
