package registry

import (
	"context"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Strategy is what a resource adds to the generic store.
type Strategy interface {
	// PrepareForCreate defaults a new object and resets what clients may not set on create
	// (usually status).
	PrepareForCreate(ctx context.Context, obj scheme.Object)
	// Validate checks a new object.
	Validate(ctx context.Context, obj scheme.Object) field.ErrorList
	// PrepareForUpdate defaults an updated object and carries over from old what a spec
	// update may not change (status).
	PrepareForUpdate(ctx context.Context, obj, old scheme.Object)
	// ValidateUpdate checks an update, including immutable fields.
	ValidateUpdate(ctx context.Context, obj, old scheme.Object) field.ErrorList
	// Fields returns the object's selectable fields (metadata.name and metadata.namespace are
	// added by the store).
	Fields(obj scheme.Object) fields.Set
	// FieldLabels lists the field selector keys Fields returns, besides metadata.name and
	// metadata.namespace.
	FieldLabels() []string
}

// Admitter checks a create or update against the state of other objects (for example that the
// namespace exists). Optional.
type Admitter interface {
	Admit(ctx context.Context, obj, old scheme.Object) error
}

// GracefulDeleter decides how an object is deleted. Optional; without it objects are deleted
// at once unless they have finalizers.
type GracefulDeleter interface {
	// DeletionGrace returns the grace period to apply and whether deletion must wait for it.
	DeletionGrace(obj scheme.Object, req *metav1.DeleteRequest) (seconds int64, graceful bool)
}

// Finalizer hooks into the deletion of objects that hold a deletion for their own reasons
// (Namespaces). Optional.
type Finalizer interface {
	// BeforeDelete may change obj when its deletion starts (set a phase) and reports whether
	// the deletion must wait even without metadata.finalizers.
	BeforeDelete(obj scheme.Object) (wait bool)
	// Pending reports whether the object still holds its own finalizers.
	Pending(obj scheme.Object) bool
}

// DeleteValidator may refuse a deletion (the built-in Namespaces cannot be deleted). Optional.
type DeleteValidator interface {
	ValidateDelete(ctx context.Context, obj scheme.Object) error
}

// FinishFunc completes what a BeginCreate or BeginUpdate started, once the store knows
// whether the write succeeded: on success it commits (releases what the update gave up), on
// failure it reverts (releases what was allocated for the write).
type FinishFunc func(ctx context.Context, success bool)

// CreateBeginner acts right before a new object is written, after validation and admission:
// it may change the object (fill in what it allocates from a shared pool, such as a
// Service's clusterIP). Optional.
type CreateBeginner interface {
	BeginCreate(ctx context.Context, obj scheme.Object) (FinishFunc, error)
}

// UpdateBeginner acts right before an updated object is written, after validation and
// admission; it may change obj. It runs again, after a FinishFunc(false), when the write is
// retried on a conflict. Optional.
type UpdateBeginner interface {
	BeginUpdate(ctx context.Context, obj, old scheme.Object) (FinishFunc, error)
}

// AfterDeleter acts once an object is gone from storage (releases what it held). Optional.
type AfterDeleter interface {
	AfterDelete(ctx context.Context, obj scheme.Object)
}
