package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"

	"github.com/berth-dev/berth/agent/runtime"
)

// Image pull policies, as in a container's imagePullPolicy.
const (
	PullAlways       = "Always"
	PullIfNotPresent = "IfNotPresent"
	PullNever        = "Never"
)

// EnsureImage makes img present as the pull policy says and returns its ID. "" is
// IfNotPresent. A pull is bounded by Options.PullTimeout; one that fails, or times out,
// wraps runtime.ErrImagePull with Docker's message.
func (r *Runtime) EnsureImage(ctx context.Context, img, pull string) (string, error) {
	switch pull {
	case "":
		pull = PullIfNotPresent
	case PullAlways, PullIfNotPresent, PullNever:
	default:
		return "", fmt.Errorf("image %q: unknown pull policy %q (Always, IfNotPresent or Never)", img, pull)
	}
	if _, err := reference.ParseNormalizedNamed(img); err != nil {
		return "", fmt.Errorf("image %q: %w: invalid image name: %w", img, runtime.ErrImagePull, err)
	}
	if pull != PullAlways {
		id, err := r.imageID(ctx, img)
		switch {
		case err == nil:
			return id, nil
		case !errors.Is(err, runtime.ErrNotFound):
			return "", err
		case pull == PullNever:
			return "", fmt.Errorf("image %q is not present with pull policy of Never: %w", img, runtime.ErrNotFound)
		}
	}
	if err := r.pull(ctx, img); err != nil {
		return "", err
	}
	return r.imageID(ctx, img)
}

// imageID is the ID of a local image; ErrNotFound when there is none by that name.
func (r *Runtime) imageID(ctx context.Context, img string) (string, error) {
	info, err := r.cli.ImageInspect(ctx, img)
	if err != nil {
		return "", wrap(err, "image %q", img)
	}
	return info.ID, nil
}

// pullMessage is one message of a pull's progress stream.
type pullMessage struct {
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// pull pulls img within the pull timeout.
func (r *Runtime) pull(ctx context.Context, img string) error {
	pctx, cancel := context.WithTimeout(ctx, r.opts.PullTimeout)
	defer cancel()
	err := r.pullStream(pctx, img)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("pull image %q: %w", img, ctx.Err())
	case pctx.Err() != nil:
		return fmt.Errorf("pull image %q: %w: no answer within %s", img, runtime.ErrImagePull, r.opts.PullTimeout)
	case unavailable(err) && !cerrdefs.IsUnavailable(err):
		return fmt.Errorf("pull image %q: %w: %w", img, runtime.ErrUnavailable, err)
	}
	return fmt.Errorf("pull image %q: %w: %w", img, runtime.ErrImagePull, err)
}

// pullStream pulls img and reads the progress stream to its end, returning the error it
// reports.
func (r *Runtime) pullStream(ctx context.Context, img string) error {
	rc, err := r.cli.ImagePull(ctx, img, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var m pullMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading the pull's progress: %w", err)
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			return errors.New(m.ErrorDetail.Message)
		case m.Error != "":
			return errors.New(m.Error)
		}
	}
}
