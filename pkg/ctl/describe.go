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
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

type describeOptions struct {
	*globals
	selector      string
	allNamespaces bool
}

func newDescribe(g *globals) *cobra.Command {
	o := &describeOptions{globals: g}
	cmd := &cobra.Command{
		Use:     "describe (KIND [NAME...] | KIND/NAME) [flags]",
		Short:   "Show details of a resource or group of resources, with their events",
		Example: "  berthctl describe pod nginx\n  berthctl describe deploy/web\n  berthctl describe pods -l app=web",
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), args) },
	}
	cmd.Flags().StringVarP(&o.selector, "selector", "l", "", "label selector of the objects to describe")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "describe objects of every namespace")
	return cmd
}

func (o *describeOptions) run(ctx context.Context, args []string) error {
	targets, _, err := parseTargets(args)
	if err != nil {
		return err
	}
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	errs := &errorList{w: o.ErrOut}
	first := true
	for _, t := range targets {
		rc := c.Resource(t.r)
		ns := namespaceFor(t.r, o.namespace, o.allNamespaces)
		var objs []scheme.Object
		if len(t.names) > 0 {
			for _, name := range t.names {
				cctx, cancel := o.call(ctx)
				obj, err := rc.Get(cctx, ns, name)
				cancel()
				errs.add(err)
				if err == nil {
					objs = append(objs, obj)
				}
			}
		} else {
			cctx, cancel := o.call(ctx)
			objs, _, err = rc.ListAll(cctx, &metav1.ListOptions{Namespace: ns, LabelSelector: o.selector, Limit: 500})
			cancel()
			if err != nil {
				errs.add(err)
				continue
			}
			sortObjects(t.r, objs)
			if len(objs) == 0 && len(targets) == 1 {
				if ns == "" {
					fmt.Fprintln(o.ErrOut, "No resources found")
				} else {
					fmt.Fprintf(o.ErrOut, "No resources found in %s namespace.\n", ns)
				}
			}
		}
		for _, obj := range objs {
			var b strings.Builder
			rel, err := o.related(ctx, c, t.r, obj)
			if err != nil {
				errs.add(err)
				continue
			}
			if err := printers.Describe(&b, t.r, obj, rel, time.Now()); err != nil {
				return err
			}
			if !first {
				fmt.Fprint(o.Out, "\n\n")
			}
			first = false
			fmt.Fprint(o.Out, b.String())
		}
	}
	return errs.err()
}

// related fetches what describe shows next to obj: its Events, and per kind a Service's
// Endpoints, a Deployment's ReplicaSets, a ReplicaSet's Pods, a Node's Pods.
func (o *describeOptions) related(ctx context.Context, c *client.Client, r *scheme.Resource, obj scheme.Object) (printers.Related, error) {
	ctx, cancel := o.call(ctx)
	defer cancel()
	md := obj.GetMetadata()
	var rel printers.Related
	fs := "involvedObject.kind=" + r.Kind + ",involvedObject.name=" + md.GetName()
	if md.GetNamespace() != "" {
		fs += ",involvedObject.namespace=" + md.GetNamespace()
	}
	evs, _, err := c.Resource(scheme.Events).ListAll(ctx, &metav1.ListOptions{Namespace: md.GetNamespace(), FieldSelector: fs, Limit: 500})
	if err != nil {
		return rel, err
	}
	for _, e := range evs {
		rel.Events = append(rel.Events, e.(*corev1.Event))
	}
	switch o := obj.(type) {
	case *corev1.Service:
		ep, err := c.Resource(scheme.Endpoints).Get(ctx, md.GetNamespace(), md.GetName())
		if err != nil && !kerrors.IsNotFound(err) {
			return rel, err
		}
		if err == nil {
			rel.Endpoints = ep.(*corev1.Endpoints)
		}
	case *appsv1.Deployment:
		rss, err := owned(ctx, c, scheme.ReplicaSets, md, printers.SelectorString(o.GetSpec().GetSelector()))
		if err != nil {
			return rel, err
		}
		for _, rs := range rss {
			rel.ReplicaSets = append(rel.ReplicaSets, rs.(*appsv1.ReplicaSet))
		}
	case *appsv1.ReplicaSet, *corev1.ReplicationController:
		sel := ""
		if rs, ok := o.(*appsv1.ReplicaSet); ok {
			sel = printers.SelectorString(rs.GetSpec().GetSelector())
		} else {
			sel = printers.LabelsString(o.(*corev1.ReplicationController).GetSpec().GetSelector())
		}
		pods, err := owned(ctx, c, scheme.Pods, md, sel)
		if err != nil {
			return rel, err
		}
		for _, p := range pods {
			rel.Pods = append(rel.Pods, p.(*corev1.Pod))
		}
	case *corev1.Node:
		pods, _, err := c.Resource(scheme.Pods).ListAll(ctx, &metav1.ListOptions{FieldSelector: "spec.nodeName=" + md.GetName(), Limit: 500})
		if err != nil {
			return rel, err
		}
		rel.Pods = []*corev1.Pod{}
		for _, p := range pods {
			if ph := p.(*corev1.Pod).GetStatus().GetPhase(); ph != "Succeeded" && ph != "Failed" {
				rel.Pods = append(rel.Pods, p.(*corev1.Pod))
			}
		}
	}
	return rel, nil
}

// owned lists the objects of r in owner's namespace matching selector whose controller is
// owner.
func owned(ctx context.Context, c *client.Client, r *scheme.Resource, owner *metav1.ObjectMeta, selector string) ([]scheme.Object, error) {
	if selector == "" || selector == "<none>" {
		return nil, nil
	}
	objs, _, err := c.Resource(r).ListAll(ctx, &metav1.ListOptions{Namespace: owner.GetNamespace(), LabelSelector: selector, Limit: 500})
	if err != nil {
		return nil, err
	}
	var out []scheme.Object
	for _, obj := range objs {
		for _, ref := range obj.GetMetadata().GetOwnerReferences() {
			if ref.GetController() && ref.GetUid() == owner.GetUid() {
				out = append(out, obj)
				break
			}
		}
	}
	return out, nil
}
