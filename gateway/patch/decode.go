package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	kmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sjson "sigs.k8s.io/json"

	"github.com/berth-dev/berth/pkg/kubejson"
)

// maxPruneRounds bounds how often decode drops unknown fields and decodes again (each round
// drops the up to 50 fields one decode reports).
const maxPruneRounds = 8

// decoder decodes patched JSON into messages as a request's fieldValidation directive says.
type decoder struct {
	// validation is Strict, Warn or Ignore.
	validation string
	// gk and name name the object in Invalid errors.
	gk   schema.GroupKind
	name string
	// warnings collects what Warn reports.
	warnings []string
}

// decode decodes js strictly into m. A value of the wrong type is Invalid (422), whatever
// the directive, as the Kubernetes apiserver answers a patch that does not decode. Unknown
// fields are a BadRequest (400) under Strict; under Warn and Ignore they are dropped (with a
// warning each under Warn).
func (d *decoder) decode(js []byte, m proto.Message) error {
	for round := 0; ; round++ {
		err := kubejson.Unmarshal(js, m)
		if err == nil {
			return nil
		}
		var de *kubejson.DecodeError
		if !errors.As(err, &de) {
			return kerrors.NewBadRequest(err.Error())
		}
		var invalid field.ErrorList
		var strict []*kubejson.FieldError
		for _, fe := range de.Errors {
			if fe.Type == kubejson.ErrorTypeInvalidValue {
				invalid = append(invalid, field.Invalid(field.NewPath(fieldOrRoot(fe.Field)), field.OmitValueType{}, fe.Detail))
			} else {
				strict = append(strict, fe)
			}
		}
		if len(invalid) > 0 {
			return kerrors.NewInvalid(d.gk, d.name, invalid)
		}
		if d.validation == kmetav1.FieldValidationStrict || round == maxPruneRounds {
			return strictError(de.Error())
		}
		var tree any
		if err := sjson.UnmarshalCaseSensitivePreserveInts(js, &tree); err != nil {
			return kerrors.NewBadRequest(err.Error())
		}
		for _, fe := range strict {
			if !prune(tree, fe.Field) {
				return strictError(de.Error())
			}
			if d.validation == kmetav1.FieldValidationWarn {
				d.warnings = append(d.warnings, fe.Error())
			}
		}
		if js, err = json.Marshal(tree); err != nil {
			return kerrors.NewInternalError(fmt.Errorf("encode pruned object: %w", err))
		}
	}
}

// checkDuplicates reports the fields given twice in a patch body: an error under Strict, a
// warning under Warn, nothing under Ignore. A body that is not JSON is a BadRequest.
func (d *decoder) checkDuplicates(body []byte) error {
	var v any
	dups, err := sjson.UnmarshalStrict(body, &v, sjson.DisallowDuplicateFields)
	if err != nil {
		return kerrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	if len(dups) == 0 || d.validation == kmetav1.FieldValidationIgnore {
		return nil
	}
	msgs := make([]string, len(dups))
	for i, e := range dups {
		msgs[i] = e.Error()
	}
	if d.validation == kmetav1.FieldValidationStrict {
		return strictError(strings.Join(msgs, ", "))
	}
	d.warnings = append(d.warnings, msgs...)
	return nil
}

func strictError(msg string) error {
	return kerrors.NewBadRequest("strict decoding error: " + msg)
}

// fieldOrRoot names the document itself "<root>" in a field error, as Kubernetes does.
func fieldOrRoot(f string) string {
	if f == "" {
		return "<root>"
	}
	return f
}
