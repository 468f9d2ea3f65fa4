package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"google.golang.org/protobuf/proto"

	"github.com/berth-dev/berth/gateway/internal/body"
	"github.com/berth-dev/berth/pkg/client"
	"github.com/berth-dev/berth/pkg/scheme"
	autoscalingv1 "github.com/berth-dev/berth/proto/berth/autoscaling/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
)

// prepareWrite reads, decodes and checks the body of a create, update, status or scale
// update, or binding, as the Kubernetes apiserver does, and returns the request with the
// decoded message in place of its body. Warnings about dropped fields go on w's headers.
func (g *Gateway) prepareWrite(w http.ResponseWriter, r *http.Request, rt route) (*http.Request, error) {
	q := r.URL.Query()
	if len(q["dryRun"]) > 0 {
		// The API has no dry run for writes yet; doing the write would be worse than refusing.
		return nil, kerrors.NewBadRequest("dryRun is not supported for create and update")
	}
	v, err := body.ValidationFrom(q)
	if err != nil {
		return nil, err
	}
	data, err := body.Read(r)
	if err != nil {
		return nil, err
	}
	obj, kind := bodyMessage(rt)
	decode := body.Decode
	if body.IsProtobuf(r.Header.Get("Content-Type")) {
		decode = body.DecodeProtobuf
	}
	warnings, err := decode(data, obj, kind, v)
	if err != nil {
		return nil, err
	}
	md := scheme.Meta(obj)
	// The namespace of the object must be the path's: filled in when absent, cleared for
	// cluster-scoped resources.
	switch want := rt.namespace; {
	case md.GetNamespace() == want:
	case md.GetNamespace() == "":
		md.Namespace = want
	case !rt.res.Namespaced:
		md.Namespace = ""
	default:
		return nil, kerrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if !rt.collection() {
		if rt.sub == subBinding && md.GetName() == "" {
			md.Name = rt.name
		}
		if md.GetName() != rt.name {
			return nil, kerrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", md.GetName(), rt.name))
		}
	}
	body.WriteWarnings(w.Header(), warnings)
	r = r.Clone(r.Context())
	r.Body = &decodedBody{msg: obj}
	r.ContentLength = -1
	return r, nil
}

// bodyMessage is the empty message a write on rt carries, with its apiVersion and kind.
func bodyMessage(rt route) (scheme.Object, body.Kind) {
	switch rt.sub {
	case subScale:
		return &autoscalingv1.Scale{}, body.Kind{APIVersion: "autoscaling/v1", Kind: "Scale"}
	case subBinding:
		return &corev1.Binding{}, body.Kind{APIVersion: "v1", Kind: "Binding"}
	}
	return rt.res.New(), body.Kind{APIVersion: rt.res.APIVersion(), Kind: rt.res.Kind}
}

// prepareDelete folds a DeleteOptions body into the query parameters the generated handler
// reads (the body wins over the query, as in Kubernetes), and the deprecated
// orphanDependents into propagationPolicy.
func prepareDelete(r *http.Request) (*http.Request, error) {
	data, err := body.ReadLimited(r.Body)
	if err != nil {
		return nil, err
	}
	opts, err := body.DecodeDeleteOptions(data, r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	if opts != nil {
		if opts.GracePeriodSeconds != nil {
			q.Set("gracePeriodSeconds", strconv.FormatInt(*opts.GracePeriodSeconds, 10))
		}
		if opts.PropagationPolicy != nil {
			q.Set("propagationPolicy", string(*opts.PropagationPolicy))
		}
		//lint:ignore SA1019 Kubernetes still honours orphanDependents.
		if orphan := opts.OrphanDependents; orphan != nil {
			q.Set("orphanDependents", strconv.FormatBool(*orphan))
		}
		if len(opts.DryRun) > 0 {
			q["dryRun"] = opts.DryRun
		}
		if p := opts.Preconditions; p != nil {
			if p.UID != nil {
				q.Set("preconditions.uid", string(*p.UID))
			}
			if p.ResourceVersion != nil {
				q.Set("preconditions.resourceVersion", *p.ResourceVersion)
			}
		}
	}
	if o := q.Get("orphanDependents"); o != "" {
		orphan, err := strconv.ParseBool(o)
		if err != nil {
			return nil, kerrors.NewBadRequest(fmt.Sprintf("orphanDependents: invalid value %q: %v", o, err))
		}
		if q.Get("propagationPolicy") != "" {
			return nil, kerrors.NewBadRequest("orphanDependents and propagationPolicy cannot both be set")
		}
		policy := kmetav1.DeletePropagationBackground
		if orphan {
			policy = kmetav1.DeletePropagationOrphan
		}
		q.Set("propagationPolicy", string(policy))
		q.Del("orphanDependents")
	}
	r = r.Clone(r.Context())
	r.URL.RawQuery = q.Encode()
	r.Body = http.NoBody
	r.ContentLength = 0
	return r, nil
}

// rewrite turns a response into what Kubernetes answers with: a Status for a binding, a Table
// when the client asked for one.
func (g *Gateway) rewrite(ctx context.Context, resp proto.Message) (any, error) {
	info := infoFrom(ctx)
	switch {
	case info == nil:
		return resp, nil
	case info.bind:
		return &kmetav1.Status{
			TypeMeta: kmetav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   kmetav1.StatusSuccess,
			Code:     http.StatusCreated,
		}, nil
	case info.table != nil:
		res := info.route.res
		if obj, ok := resp.(scheme.Object); ok && scheme.ForObject(resp) == res {
			return info.table.Object(res, obj)
		}
		if resp.ProtoReflect().Descriptor().FullName() == res.NewList().ProtoReflect().Descriptor().FullName() {
			items, meta := client.ListItems(resp)
			return info.table.List(res, items, meta)
		}
	case info.read:
		return readAnswer{msg: resp, cache: g.cache}, nil
	}
	return resp, nil
}

// responseHeaders sets the Content-Type of Table responses.
func (g *Gateway) responseHeaders(ctx context.Context, w http.ResponseWriter, _ proto.Message) error {
	if info := infoFrom(ctx); info != nil && info.table != nil {
		w.Header().Set("Content-Type", info.table.ContentType())
	}
	return nil
}
