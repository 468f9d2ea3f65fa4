package body

import (
	"bytes"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/json"

	"github.com/berth-dev/berth/pkg/kubejson"
)

// DecodeDeleteOptions decodes the body of a DELETE: a DeleteOptions object in JSON, YAML or
// protobuf (`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}`), whose
// kind, when given, must be DeleteOptions (of any group version: Kubernetes has it in every
// one). An empty body is nil options. Fields Kubernetes
// does not define are ignored, as the Kubernetes apiserver ignores them there.
func DecodeDeleteOptions(data []byte, contentType string) (*kmetav1.DeleteOptions, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	toJSON := kubejson.ToJSON
	if IsProtobuf(contentType) {
		toJSON = protobufToJSON
	}
	js, err := toJSON(data)
	if err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("the body of a delete must be DeleteOptions: %v", err))
	}
	var opts kmetav1.DeleteOptions
	if err := json.UnmarshalCaseSensitivePreserveInts(js, &opts); err != nil {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("the body of a delete must be DeleteOptions: %v", err))
	}
	// Every group version Kubernetes serves has DeleteOptions (v1, apps/v1, meta.k8s.io/v1).
	if opts.Kind != "" && opts.Kind != "DeleteOptions" {
		return nil, kerrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a DeleteOptions", opts.Kind, version(opts.APIVersion)))
	}
	return &opts, nil
}
