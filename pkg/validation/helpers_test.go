package validation_test

import (
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/defaults"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/validation"
)

// fe is an expected field error: its path and type.
type fe struct {
	field string
	typ   field.ErrorType
}

func (e fe) String() string { return e.field + " " + string(e.typ) }

// Shorthands for the error types.
const (
	required     = field.ErrorTypeRequired
	invalid      = field.ErrorTypeInvalid
	notSupported = field.ErrorTypeNotSupported
	forbidden    = field.ErrorTypeForbidden
	duplicate    = field.ErrorTypeDuplicate
	notFound     = field.ErrorTypeNotFound
	tooLong      = field.ErrorTypeTooLong
)

// tcase is one table case: mutate a valid object, expect exactly these errors.
type tcase[T scheme.Object] struct {
	name   string
	mutate func(T)
	want   []fe
}

// runCases checks that valid() validates cleanly (with Object and with ObjectUpdate against
// itself) and that every case yields exactly its errors, by path and type.
func runCases[T scheme.Object](t *testing.T, valid func() T, cases []tcase[T]) {
	t.Helper()
	t.Run("valid", func(t *testing.T) {
		o := valid()
		if errs := validation.Object(o); len(errs) != 0 {
			t.Fatalf("valid object: %v", errs)
		}
		if errs := validation.ObjectUpdate(valid(), o); len(errs) != 0 {
			t.Fatalf("valid object updated with itself: %v", errs)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.mutate(o)
			checkErrs(t, validation.Object(o), tc.want)
		})
	}
}

// updateCase is one update case: mutate a copy of a valid stored object.
type updateCase[T scheme.Object] struct {
	name   string
	mutate func(T)
	want   []fe
}

// runUpdateCases validates updates of valid() into mutated copies.
func runUpdateCases[T scheme.Object](t *testing.T, valid func() T, cases []updateCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := valid()
			n := proto.Clone(old).(T)
			tc.mutate(n)
			checkErrs(t, validation.ObjectUpdate(n, old), tc.want)
		})
	}
}

// checkErrs requires exactly the wanted (path, type) pairs, in any order.
func checkErrs(t *testing.T, errs field.ErrorList, want []fe) {
	t.Helper()
	var got, exp []string
	for _, e := range errs {
		got = append(got, fe{e.Field, e.Type}.String())
	}
	for _, w := range want {
		exp = append(exp, w.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("got errors:\n  %s\nwant:\n  %s\nfull errors: %v", strings.Join(got, "\n  "), strings.Join(exp, "\n  "), errs)
	}
}

// defaulted applies defaults to an object and returns it.
func defaulted[T scheme.Object](o T) T {
	defaults.Object(o)
	return o
}

func num(n float64) *structpb.Value  { return structpb.NewNumberValue(n) }
func str(s string) *structpb.Value   { return structpb.NewStringValue(s) }
func boolean(b bool) *structpb.Value { return structpb.NewBoolValue(b) }

// bigString returns a string of n bytes.
func bigString(n int) string { return strings.Repeat("x", n) }

func TestObjectUnknownAndMismatchedKinds(t *testing.T) {
	pod, svc := validPod(), validService()
	errs := validation.ObjectUpdate(pod, svc)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeInternal {
		t.Errorf("updating a Service with a Pod: %v, want one internal error", errs)
	}
	for _, r := range scheme.All {
		o := r.New()
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: validating an empty object panicked: %v", r.Kind, p)
				}
			}()
			for _, e := range validation.Object(o) {
				if e.Type == field.ErrorTypeInternal {
					t.Errorf("%s: no validation: %v", r.Kind, e)
				}
			}
		}()
	}
}
