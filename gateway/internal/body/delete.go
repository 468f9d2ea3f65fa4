package body

import (
	"bytes"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/json"

	"github.com/berth-dev/berth/pkg/kubejson"
)

// DecodeDeleteOptions decodes the body of a DELETE: a DeleteOptions object in JSON or YAML
// (`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}`), whose
// kind, when given, must be DeleteOptions. An empty body is nil options. Fields Kubernetes
// does not define are ignored, as the Kubernetes apiserver ignores them there.
func DecodeDeleteOptions(data []byte) (*kmetav1.DeleteOptions, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	js, err := kubejson.ToJSON(data)
	if err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("the body of a delete must be DeleteOptions: %v", err))
	}
	var opts kmetav1.DeleteOptions
	if err := json.UnmarshalCaseSensitivePreserveInts(js, &opts); err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("the body of a delete must be DeleteOptions: %v", err))
	}
	switch opts.APIVersion {
	case "", "v1", "meta.k8s.io/v1", "meta.k8s.io/v1beta1":
	default:
		return nil, kerrors.NewBadRequest(fmt.Sprintf("DeleteOptions in version %q cannot be handled: expected apiVersion v1 or meta.k8s.io/v1", opts.APIVersion))
	}
	if opts.Kind != "" && opts.Kind != "DeleteOptions" {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a DeleteOptions", opts.Kind, version(opts.APIVersion)))
	}
	return &opts, nil
}
