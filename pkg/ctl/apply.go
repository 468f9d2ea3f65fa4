package ctl

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/jsonmergepatch"
	"k8s.io/apimachinery/pkg/util/mergepatch"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/printers"
	"github.com/berth-dev/berth/pkg/scheme"
)

// maxApplyRetries bounds how often apply re-reads and re-patches an object that changed
// under it.
const maxApplyRetries = 5

type applyOptions struct {
	*globals
	files     []string
	recursive bool
	output    string
	nsChanged func() bool
}

func newApply(g *globals) *cobra.Command {
	o := &applyOptions{globals: g}
	cmd := &cobra.Command{
		Use:   "apply -f FILENAME [flags]",
		Short: "Apply a configuration to resources by file name or stdin",
		Long: "Create the objects of the manifests that do not exist, and update those that do with a\n" +
			"three-way merge of the last applied manifest, the new one and the live object, as\n" +
			"kubectl apply does. The manifest applied is kept in the\n" +
			printers.LastAppliedAnnotation + " annotation.",
		Example: "  berthctl apply -f manifest.yaml\n  berthctl apply -f dir/ -R\n  cat pod.yaml | berthctl apply -f -",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q: apply takes its objects from -f", args)
			}
			o.nsChanged = func() bool { return cmd.Flags().Changed("namespace") }
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "files, directories or - (stdin) holding the manifests to apply")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f recursively")
	f.StringVarP(&o.output, "output", "o", "", "print the applied objects: name, json or yaml")
	return cmd
}

func (o *applyOptions) run(ctx context.Context) error {
	if len(o.files) == 0 {
		return usagef("must specify one of -f and -k")
	}
	errs := &errorList{w: o.ErrOut}
	items, err := readManifests(o.files, o.recursive, o.In, "apply", errs)
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
		obj, result, err := apply(ctx, o.globals, c, it)
		if err != nil {
			errs.add(err)
			continue
		}
		if p != nil {
			if err := p.Print(it.r, []scheme.Object{obj}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(o.Out, "%s %s\n", printers.Name(it.r, obj), result)
	}
	if p != nil {
		if err := p.Flush(); err != nil {
			return err
		}
	}
	return errs.err()
}

// apply creates or updates one object and says which it did: "created", "configured" or
// "unchanged".
func apply(ctx context.Context, g *globals, c *client.Client, it manifestItem) (scheme.Object, string, error) {
	obj := it.obj
	md := scheme.Meta(obj)
	md.Namespace = it.namespace(g.namespace)
	modified, err := setLastApplied(obj)
	if err != nil {
		return nil, "", err
	}
	rc := c.Resource(it.r)
	for attempt := 0; ; attempt++ {
		cctx, cancel := g.call(ctx)
		live, err := rc.Get(cctx, md.GetNamespace(), md.GetName())
		cancel()
		if kerrors.IsNotFound(err) {
			cctx, cancel := g.call(ctx)
			created, err := rc.Create(cctx, obj)
			cancel()
			if kerrors.IsAlreadyExists(err) && attempt < maxApplyRetries {
				continue // created by someone else meanwhile: patch it instead
			}
			if err != nil {
				return nil, "", withSource("creating", it.source, err)
			}
			return created, "created", nil
		}
		if err != nil {
			return nil, "", withSource("retrieving current configuration of", it.source, err)
		}
		merged, changed, err := threeWayMerge(it.r, live, modified)
		if err != nil {
			return nil, "", withSource("applying patch to", it.source, err)
		}
		if !changed {
			return live, "unchanged", nil
		}
		cctx, cancel = g.call(ctx)
		updated, err := rc.Update(cctx, merged)
		cancel()
		if kerrors.IsConflict(err) && attempt < maxApplyRetries {
			continue
		}
		if err != nil {
			return nil, "", withSource("applying patch to", it.source, err)
		}
		// JSON merge patches replace lists whole, so a manifest that leaves out what the
		// server defaults inside a list (a container's imagePullPolicy) always yields a patch;
		// the apiserver then finds nothing changed and keeps the resourceVersion.
		if updated.GetMetadata().GetResourceVersion() == live.GetMetadata().GetResourceVersion() {
			return updated, "unchanged", nil
		}
		return updated, "configured", nil
	}
}

// setLastApplied records obj's own JSON (without the annotation) in its last-applied
// annotation, as kubectl does, and returns obj's JSON with that annotation: the "modified"
// side of the three-way merge.
func setLastApplied(obj scheme.Object) ([]byte, error) {
	md := scheme.Meta(obj)
	delete(md.Annotations, printers.LastAppliedAnnotation)
	if len(md.Annotations) == 0 {
		md.Annotations = nil
	}
	applied, err := kubejson.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %q: %w", obj.ProtoReflect().Descriptor().Name(), md.GetName(), err)
	}
	if md.Annotations == nil {
		md.Annotations = map[string]string{}
	}
	md.Annotations[printers.LastAppliedAnnotation] = string(applied) + "\n"
	modified, err := kubejson.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %q: %w", obj.ProtoReflect().Descriptor().Name(), md.GetName(), err)
	}
	return modified, nil
}

// threeWayMerge computes kubectl's three-way JSON merge patch between the last applied
// manifest (from live's annotation), the new manifest (modified) and the live object, and
// returns live with the patch applied. changed is false when the patch is empty.
func threeWayMerge(r *scheme.Resource, live scheme.Object, modified []byte) (scheme.Object, bool, error) {
	current, err := kubejson.Marshal(live)
	if err != nil {
		return nil, false, fmt.Errorf("encoding the live object: %w", err)
	}
	original := []byte(live.GetMetadata().GetAnnotations()[printers.LastAppliedAnnotation])
	patch, err := jsonmergepatch.CreateThreeWayJSONMergePatch(original, modified, current,
		mergepatch.RequireKeyUnchanged("apiVersion"), mergepatch.RequireKeyUnchanged("kind"), mergepatch.RequireMetadataKeyUnchanged("name"))
	if err != nil {
		return nil, false, fmt.Errorf("creating patch: %w", err)
	}
	if string(patch) == "{}" {
		return live, false, nil
	}
	merged, err := jsonpatch.MergePatch(current, patch)
	if err != nil {
		return nil, false, fmt.Errorf("applying patch %s: %w", patch, err)
	}
	out := r.New()
	if err := kubejson.Unmarshal(merged, out); err != nil {
		return nil, false, fmt.Errorf("decoding the patched object: %w", err)
	}
	return out, true, nil
}

// checkNamespace rejects an object whose namespace differs from one given with -n, as
// kubectl does.
func checkNamespace(it manifestItem, ns string, explicit bool) error {
	objNS := it.obj.GetMetadata().GetNamespace()
	if !explicit || !it.r.Namespaced || objNS == "" || objNS == ns {
		return nil
	}
	return fmt.Errorf("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation", objNS, ns, objNS)
}
