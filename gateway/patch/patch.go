package patch

import (
	"context"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/kubejson"
	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// MaxConflictRetries bounds how often a patch that carries no resourceVersion is applied
// again to a fresh copy after a concurrent write made the update conflict.
const MaxConflictRetries = 10

// Result is the outcome of a successful patch.
type Result struct {
	// Object is the object as stored, or the *autoscalingv1.Scale for /scale.
	Object scheme.Object
	// Created tells that a server-side apply created the object (HTTP 201).
	Created bool
	// Warnings are the fields dropped under fieldValidation=Warn, for Warning headers.
	Warnings []string
}

// Patcher applies patches through the apiserver's gRPC API.
type Patcher struct {
	c *client.Client
}

// NewPatcher returns a Patcher that reads and writes through c.
func NewPatcher(c *client.Client) *Patcher { return &Patcher{c: c} }

// Patch applies body, a patch of type pt, to the object (or subresource) t addresses and
// writes the result: Update for the object, UpdateStatus for /status, UpdateScale for /scale.
// It reads the current object, applies the patch to its JSON, decodes the result strictly
// and updates with the resourceVersion it read; when that update conflicts and the patch
// did not set the resourceVersion itself, it starts again from a fresh read. A
// metadata.resourceVersion in the patch is thus a precondition: a mismatch is a Conflict.
// A server-side apply (types.ApplyYAMLPatchType) of a missing object creates it.
//
// Errors are *StatusError: invalid options and patches that produce an invalid object 422,
// a malformed patch 400, an unsupported patch type 415, a missing object 404.
func (p *Patcher) Patch(ctx context.Context, t Target, pt types.PatchType, body []byte, opts kmetav1.PatchOptions) (*Result, error) {
	if errs := validation.ValidatePatchOptions(&opts, pt); len(errs) > 0 {
		return nil, kerrors.NewInvalid(schema.GroupKind{Group: kmetav1.GroupName, Kind: "PatchOptions"}, "", errs)
	}
	if len(opts.DryRun) > 0 {
		return nil, kerrors.NewBadRequest("dryRun is not supported by this server")
	}
	acc := p.access(t)
	d := &decoder{validation: opts.FieldValidation, gk: acc.gk, name: t.Name}
	if d.validation == "" {
		d.validation = kmetav1.FieldValidationWarn // Kubernetes' default
	}
	mech, err := newMechanism(t, pt, body, d)
	if err != nil {
		return nil, err
	}
	bodyWarnings := len(d.warnings) // about the body itself: kept across retries
	for attempt := 0; ; attempt++ {
		d.warnings = d.warnings[:bodyWarnings]
		cur, err := acc.get(ctx)
		if kerrors.IsNotFound(err) && pt == types.ApplyYAMLPatchType && t.Subresource == "" {
			obj, err := p.applyCreate(ctx, t, mech.(applyPatch), d)
			if kerrors.IsAlreadyExists(err) && attempt < MaxConflictRetries {
				continue // created meanwhile: merge onto it
			}
			if err != nil {
				return nil, err
			}
			return &Result{Object: obj, Created: true, Warnings: d.warnings}, nil
		}
		if err != nil {
			return nil, err
		}
		next, err := patchObject(cur, mech, d, acc.new, t)
		if err != nil {
			return nil, err
		}
		out, err := acc.update(ctx, next)
		if kerrors.IsConflict(err) && next.GetMetadata().GetResourceVersion() == cur.GetMetadata().GetResourceVersion() && attempt < MaxConflictRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Result{Object: out, Warnings: d.warnings}, nil
	}
}

// patchObject applies a patch to the current object (or Scale) and decodes the result into
// a new one, whose name and namespace must be the URL's.
func patchObject(cur scheme.Object, mech mechanism, d *decoder, newObject func() scheme.Object, t Target) (scheme.Object, error) {
	curJS, err := kubejson.Marshal(cur)
	if err != nil {
		return nil, kerrors.NewInternalError(fmt.Errorf("encode %s %q: %w", t.Resource.Kind, t.Name, err))
	}
	patched, err := mech.apply(curJS)
	if err != nil {
		return nil, err
	}
	next := newObject()
	if err := d.decode(patched, next); err != nil {
		return nil, err
	}
	if err := checkName(scheme.Meta(next), t); err != nil {
		return nil, err
	}
	return next, nil
}

// applyCreate creates the object an apply configuration describes.
func (p *Patcher) applyCreate(ctx context.Context, t Target, a applyPatch, d *decoder) (scheme.Object, error) {
	obj := t.Resource.New()
	if err := d.decode(a.config, obj); err != nil {
		return nil, err
	}
	md := scheme.Meta(obj)
	if err := checkName(md, t); err != nil {
		return nil, err
	}
	return p.c.Resource(t.Resource).Create(ctx, obj)
}

// checkName refuses a patched object whose name or namespace is not the URL's, with
// Kubernetes' messages; an empty namespace is the URL's.
func checkName(md *metav1.ObjectMeta, t Target) error {
	if md.GetName() != t.Name {
		return kerrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", md.GetName(), t.Name))
	}
	if t.Namespace == "" {
		return nil
	}
	if md.GetNamespace() != "" && md.GetNamespace() != t.Namespace {
		return kerrors.NewBadRequest(fmt.Sprintf("the namespace of the object (%s) does not match the namespace on the URL (%s)", md.GetNamespace(), t.Namespace))
	}
	md.Namespace = t.Namespace
	return nil
}

// access is how a patch reads and writes what its target addresses.
type access struct {
	gk     schema.GroupKind
	new    func() scheme.Object
	get    func(ctx context.Context) (scheme.Object, error)
	update func(ctx context.Context, m scheme.Object) (scheme.Object, error)
}

func (p *Patcher) access(t Target) access {
	rc := p.c.Resource(t.Resource)
	a := access{
		gk:     schema.GroupKind{Group: t.Resource.Group, Kind: t.Resource.Kind},
		new:    t.Resource.New,
		get:    func(ctx context.Context) (scheme.Object, error) { return rc.Get(ctx, t.Namespace, t.Name) },
		update: rc.Update,
	}
	switch t.Subresource {
	case SubresourceStatus:
		a.update = rc.UpdateStatus
	case SubresourceScale:
		a.gk = schema.GroupKind{Group: "autoscaling", Kind: "Scale"}
		a.new = func() scheme.Object { return &autoscalingv1.Scale{Metadata: &metav1.ObjectMeta{}} }
		a.get = func(ctx context.Context) (scheme.Object, error) {
			sc, err := rc.GetScale(ctx, t.Namespace, t.Name)
			if err != nil {
				return nil, err
			}
			return sc, nil
		}
		a.update = func(ctx context.Context, m scheme.Object) (scheme.Object, error) {
			sc, err := rc.UpdateScale(ctx, m.(*autoscalingv1.Scale))
			if err != nil {
				return nil, err
			}
			return sc, nil
		}
	}
	return a
}
