package ctl

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
)

type createOptions struct {
	*globals
	files      []string
	recursive  bool
	saveConfig bool
	output     string
	nsChanged  func() bool
}

func newCreate(g *globals) *cobra.Command {
	o := &createOptions{globals: g}
	cmd := &cobra.Command{
		Use:     "create -f FILENAME [flags]",
		Short:   "Create resources from a file or from stdin",
		Long:    "Create the objects of the manifests. An object that already exists is an error (use apply to update).",
		Example: "  berthctl create -f pod.yaml\n  cat pod.yaml | berthctl create -f -",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q: create takes its objects from -f", args)
			}
			o.nsChanged = func() bool { return cmd.Flags().Changed("namespace") }
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files, directories or - (stdin) holding the manifests to create")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.BoolVar(&o.saveConfig, "save-config", false, "store the manifest in the last-applied annotation, so that apply can update the object later")
	f.StringVarP(&o.output, "output", "o", "", "print the created objects: name, json or yaml")
	return cmd
}

func (o *createOptions) run(ctx context.Context) error {
	if len(o.files) == 0 {
		return usagef("must specify one of -f and -k")
	}
	errs := &errorList{w: o.ErrOut}
	items, err := readManifests(o.files, o.recursive, o.In, "create", errs)
	if err != nil {
		return err
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	var p printers.Printer
	if o.output != "" {
		if p, err = printers.New(o.Out, printers.Config{Output: o.output, SingleItem: len(items) == 1}); err != nil {
			return err
		}
	}
	for _, it := range items {
		if err := checkNamespace(it, o.namespace, o.nsChanged()); err != nil {
			errs.add(err)
			continue
		}
		md := scheme.Meta(it.obj)
		md.Namespace = it.namespace(o.namespace)
		if o.saveConfig {
			if _, err := setLastApplied(it.obj); err != nil {
				errs.add(err)
				continue
			}
		}
		cctx, cancel := o.call(ctx)
		created, err := c.Resource(it.r).Create(cctx, it.obj)
		cancel()
		if err != nil {
			errs.add(withSource("creating", it.source, err))
			continue
		}
		if p != nil {
			if err := p.Print(it.r, []scheme.Object{created}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(o.Out, "%s created\n", printers.Name(it.r, created))
	}
	if p != nil {
		if err := p.Flush(); err != nil {
			return err
		}
	}
	return errs.err()
}
