package validation

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// IntOrString converts an IntOrString field, carried as a google.protobuf.Value, to
// apimachinery's type. An absent value (or JSON null) is the integer 0, as in Kubernetes. A
// value that is neither an integer that fits in 32 bits nor a string is reported as Invalid.
func IntOrString(v *structpb.Value, fldPath *field.Path) (intstr.IntOrString, *field.Error) {
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return intstr.FromInt32(0), nil
	case *structpb.Value_StringValue:
		return intstr.FromString(k.StringValue), nil
	case *structpb.Value_NumberValue:
		n := k.NumberValue
		if n != math.Trunc(n) || n < math.MinInt32 || n > math.MaxInt32 {
			return intstr.IntOrString{}, field.Invalid(fldPath, describe(v), "must be an integer that fits in 32 bits or a string")
		}
		return intstr.FromInt32(int32(n)), nil
	default:
		return intstr.IntOrString{}, field.Invalid(fldPath, describe(v), "must be an integer or a string")
	}
}

// describe renders a Value as JSON for an error message.
func describe(v *structpb.Value) string {
	b, err := protojson.Marshal(v)
	if err != nil {
		return fmt.Sprint(v.AsInterface())
	}
	return string(b)
}

// portNumOrName validates an IntOrString port: a number 1-65535 or an IANA service name.
func portNumOrName(v *structpb.Value, fldPath *field.Path) field.ErrorList {
	p, ferr := IntOrString(v, fldPath)
	if ferr != nil {
		return field.ErrorList{ferr}
	}
	var errs field.ErrorList
	if p.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(p.IntValue()) {
			errs = append(errs, field.Invalid(fldPath, p.IntValue(), msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortName(p.StrVal) {
		errs = append(errs, field.Invalid(fldPath, p.StrVal, msg))
	}
	return errs
}
