package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	sjson "sigs.k8s.io/json"

	"github.com/berth-dev/berth/pkg/kubejson"
)

// MaxJSONPatchOperations bounds the operations of one JSON patch, as in Kubernetes.
const MaxJSONPatchOperations = 10000

// mechanism applies one patch, of one type, to the JSON of the current object. It is built
// once per request and applied again on every retry after a conflict.
type mechanism interface {
	apply(current []byte) ([]byte, error)
}

// newMechanism reads and checks a patch body for t. Malformed patches are a BadRequest (400).
func newMechanism(t Target, pt types.PatchType, body []byte, d *decoder) (mechanism, error) {
	meta := patchMeta(t)
	switch pt {
	case types.JSONPatchType:
		if err := d.checkDuplicates(body); err != nil {
			return nil, err
		}
		ops, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return nil, kerrors.NewBadRequest(err.Error())
		}
		if len(ops) > MaxJSONPatchOperations {
			return nil, kerrors.NewRequestEntityTooLargeError(fmt.Sprintf(
				"The allowed maximum operations in a JSON patch is %d, got %d", MaxJSONPatchOperations, len(ops)))
		}
		return jsonPatch(ops), nil
	case types.MergePatchType:
		if err := d.checkDuplicates(body); err != nil {
			return nil, err
		}
		return mergePatch(body), nil
	case types.StrategicMergePatchType:
		if meta == nil {
			return nil, unsupportedMediaType()
		}
		if err := d.checkDuplicates(body); err != nil {
			return nil, err
		}
		if _, err := parseObject(body); err != nil {
			return nil, err
		}
		return strategicPatch{patch: body, meta: meta}, nil
	case types.ApplyYAMLPatchType:
		return newApplyPatch(t, body, meta, d)
	}
	return nil, unsupportedMediaType()
}

// jsonPatch is an RFC 6902 patch (application/json-patch+json).
type jsonPatch jsonpatch.Patch

func (p jsonPatch) apply(current []byte) (out []byte, err error) {
	defer recoverPatch(&err)
	out, err = jsonpatch.Patch(p).Apply(current)
	if err != nil {
		// Kubernetes answers a patch that does not apply (a failed test, a missing path)
		// with 422.
		return nil, unprocessable(err.Error())
	}
	return out, nil
}

// mergePatch is an RFC 7386 JSON merge patch (application/merge-patch+json).
type mergePatch []byte

func (p mergePatch) apply(current []byte) (out []byte, err error) {
	defer recoverPatch(&err)
	out, err = jsonpatch.MergePatch(current, p)
	if err != nil {
		return nil, kerrors.NewBadRequest(err.Error())
	}
	return out, nil
}

// strategicPatch is a Kubernetes strategic merge patch
// (application/strategic-merge-patch+json), applied by apimachinery's strategicpatch over the
// k8s.io/api type's schema.
type strategicPatch struct {
	patch []byte
	meta  strategicpatch.LookupPatchMeta
}

func (p strategicPatch) apply(current []byte) ([]byte, error) {
	// Parsed afresh on every application: merging consumes the patch map.
	patch, err := parseObject(p.patch)
	if err != nil {
		return nil, err
	}
	return mergeStrategic(current, patch, p.meta)
}

// mergeStrategic applies a parsed strategic merge patch to current.
func mergeStrategic(current []byte, patch map[string]any, meta strategicpatch.LookupPatchMeta) (_ []byte, err error) {
	defer recoverPatch(&err)
	original, err := parseObject(current)
	if err != nil {
		return nil, kerrors.NewInternalError(fmt.Errorf("decode current object: %w", err))
	}
	merged, err := strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta(original, patch, meta)
	if err != nil {
		return nil, strategicError(err)
	}
	out, err := json.Marshal(merged)
	if err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("encode patched object: %v", err))
	}
	return out, nil
}

// recoverPatch turns a panic of the patch libraries into a BadRequest. They assume
// well-formed patches and panic on some that are not (strategicpatch compares merge-key
// values with ==, so a list as a container's name panics); the Kubernetes apiserver answers
// those 500, Berth blames the patch.
func recoverPatch(err *error) {
	if r := recover(); r != nil {
		*err = kerrors.NewBadRequest(fmt.Sprintf("the patch cannot be applied: %v", r))
	}
}

// strategicError gives the errors of a strategic merge the codes Kubernetes gives them: 422
// for a list of lists and for content outside $retainKeys, 400 for everything else (a
// malformed directive, a value of the wrong type).
func strategicError(err error) error {
	switch {
	case errors.Is(err, mergepatch.ErrNoListOfLists), errors.Is(err, mergepatch.ErrPatchContentNotMatchRetainKeys):
		return unprocessable(err.Error())
	default:
		return kerrors.NewBadRequest(err.Error())
	}
}

// applyPatch is a server-side apply configuration (application/apply-patch+yaml): a
// partial object, in YAML or JSON, merged onto the live object (see the package doc for how
// this differs from Kubernetes' field-ownership-tracking apply).
type applyPatch struct {
	config []byte
	meta   strategicpatch.LookupPatchMeta
}

func newApplyPatch(t Target, body []byte, meta strategicpatch.LookupPatchMeta, d *decoder) (mechanism, error) {
	if meta == nil {
		return nil, unsupportedMediaType()
	}
	js, err := kubejson.ToJSON(body)
	if err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	if err := d.checkDuplicates(js); err != nil {
		return nil, err
	}
	config, err := parseObject(js)
	if err != nil {
		return nil, err
	}
	apiVersion, kind := t.Resource.APIVersion(), t.Resource.Kind
	if t.Subresource == SubresourceScale {
		apiVersion, kind = "autoscaling/v1", "Scale"
	}
	if v, _ := config["apiVersion"].(string); v != apiVersion {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("Incorrect version specified in apply patch. Specified patch version: %s, expected: %s", v, apiVersion))
	}
	if k, _ := config["kind"].(string); k != kind {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("Incorrect kind specified in apply patch. Specified patch kind: %s, expected: %s", k, kind))
	}
	if path := directive(config, ""); path != "" {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("%s: an apply configuration may not hold patch directives", path))
	}
	return applyPatch{config: js, meta: meta}, nil
}

func (p applyPatch) apply(current []byte) ([]byte, error) {
	config, err := parseObject(p.config)
	if err != nil {
		return nil, err
	}
	return mergeStrategic(current, config, p.meta)
}

// directive returns the path of the first strategic-merge directive ($patch, $retainKeys,
// $setElementOrder/..., $deleteFromPrimitiveList/...) in v, or "".
func directive(v any, path string) string {
	switch n := v.(type) {
	case map[string]any:
		for k, e := range n {
			if strings.HasPrefix(k, "$") {
				return join(path, k)
			}
			if p := directive(e, join(path, k)); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range n {
			if p := directive(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// parseObject parses a JSON object keeping integers as int64. Anything else is a BadRequest.
func parseObject(js []byte) (map[string]any, error) {
	var m map[string]any
	if err := sjson.UnmarshalCaseSensitivePreserveInts(js, &m); err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	if m == nil {
		return nil, kerrors.NewBadRequest("error decoding patch: the patch must be a JSON object")
	}
	return m, nil
}

// accepted lists the patch media types, in the order Kubernetes lists them.
var accepted = []string{
	string(types.JSONPatchType), string(types.MergePatchType),
	string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType),
}

func unsupportedMediaType() error {
	return &kerrors.StatusError{ErrStatus: kmetav1.Status{
		Status: kmetav1.StatusFailure, Code: http.StatusUnsupportedMediaType,
		Reason:  kmetav1.StatusReasonUnsupportedMediaType,
		Message: "the body of the request was in an unknown format - accepted media types include: " + strings.Join(accepted, ", "),
	}}
}

// unprocessable is a 422 without field causes: a patch that cannot be applied.
func unprocessable(msg string) error {
	return &kerrors.StatusError{ErrStatus: kmetav1.Status{
		Status: kmetav1.StatusFailure, Code: http.StatusUnprocessableEntity,
		Reason: kmetav1.StatusReasonInvalid, Message: msg,
	}}
}
