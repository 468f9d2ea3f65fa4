package registry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-dev/berth/pkg/scheme"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
	"github.com/berth-dev/berth/services/apiserver/storage"
	"github.com/berth-dev/berth/services/apiserver/watchcache"
)

// MaxObjectSize is the largest encoded object the store accepts (etcd's default request limit).
const MaxObjectSize = 3 * 1024 * 1024 / 2

// Finalizers the store itself acts on.
const (
	FinalizerOrphan     = "orphan"
	FinalizerForeground = "foregroundDeletion"
)

// Options configures a Store.
type Options struct {
	Storage  *storage.Storage
	Strategy Strategy
	// CacheCapacity is the number of events the watch cache keeps.
	CacheCapacity int
	// CacheStoredOnly keeps the watch cache's objects only as stored (see
	// watchcache.Config.StoredOnly).
	CacheStoredOnly bool
	Logger          *slog.Logger
	// Now returns the current time (tests may fix it).
	Now func() time.Time
}

// Store stores the objects of one resource in etcd and serves them from its watch cache.
type Store[T scheme.Object] struct {
	res      *scheme.Resource
	gr       schema.GroupResource
	gk       schema.GroupKind
	storage  *storage.Storage
	cache    *watchcache.Cache
	strategy Strategy
	prefix   string
	hasSpec  bool
	now      func() time.Time
	log      *slog.Logger
}

// New returns the store of resource res. Run must be running for lists and watches.
func New[T scheme.Object](res *scheme.Resource, o Options) *Store[T] {
	group := res.Group
	if group == "" {
		group = "core"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store[T]{
		res:      res,
		gr:       schema.GroupResource{Group: res.Group, Resource: res.Plural},
		gk:       schema.GroupKind{Group: res.Group, Kind: res.Kind},
		storage:  o.Storage,
		strategy: o.Strategy,
		prefix:   "/registry/" + group + "/" + res.Plural + "/",
		hasSpec:  res.New().ProtoReflect().Descriptor().Fields().ByName("spec") != nil,
		now:      o.Now,
		log:      o.Logger.With("resource", res.GroupResource()),
	}
	s.cache = watchcache.New(watchcache.Config{
		Storage:    o.Storage,
		Prefix:     s.prefix,
		Decode:     func(kv storage.KV) (scheme.Object, error) { return s.decode(kv) },
		Attrs:      s.attrs,
		Capacity:   o.CacheCapacity,
		StoredOnly: o.CacheStoredOnly,
		Logger:     s.log,
	})
	return s
}

// Resource returns the resource this store serves.
func (s *Store[T]) Resource() *scheme.Resource { return s.res }

// Run maintains the watch cache until ctx ends.
func (s *Store[T]) Run(ctx context.Context) { s.cache.Run(ctx) }

// Ready is closed once the watch cache is filled.
func (s *Store[T]) Ready() <-chan struct{} { return s.cache.Ready() }

// Key returns the etcd key of an object.
func (s *Store[T]) Key(namespace, name string) string {
	if s.res.Namespaced {
		return s.prefix + namespace + "/" + name
	}
	return s.prefix + name
}

func (s *Store[T]) keyPrefix(namespace string) string {
	if s.res.Namespaced && namespace != "" {
		return s.prefix + namespace + "/"
	}
	return s.prefix
}

func (s *Store[T]) decode(kv storage.KV) (T, error) {
	obj := s.res.New().(T)
	if err := proto.Unmarshal(kv.Value, obj); err != nil {
		return obj, fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	scheme.Meta(obj).ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
	return obj, nil
}

// encode marshals obj as stored: without its resourceVersion, which etcd's revision supplies.
func (s *Store[T]) encode(obj T) ([]byte, error) {
	md := scheme.Meta(obj)
	rv := md.ResourceVersion
	md.ResourceVersion = ""
	b, err := proto.Marshal(obj)
	md.ResourceVersion = rv
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", s.res.Kind, md.Name, err)
	}
	if len(b) > MaxObjectSize {
		return nil, kerrors.NewRequestEntityTooLargeError(fmt.Sprintf("%s %q is %d bytes encoded; the limit is %d bytes (1.5 MiB)", s.res.Kind, md.Name, len(b), MaxObjectSize))
	}
	return b, nil
}

func (s *Store[T]) attrs(obj scheme.Object) *watchcache.Attrs {
	md := obj.GetMetadata()
	f := s.strategy.Fields(obj)
	if f == nil {
		f = fields.Set{}
	}
	f["metadata.name"] = md.GetName()
	if s.res.Namespaced {
		f["metadata.namespace"] = md.GetNamespace()
	}
	return watchcache.NewAttrs(md.GetNamespace(), md.GetLabels(), f)
}

// storageErr converts a storage error into the Kubernetes API error for the object name.
func (s *Store[T]) storageErr(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return kerrors.NewNotFound(s.gr, name)
	case errors.Is(err, storage.ErrExists):
		return kerrors.NewAlreadyExists(s.gr, name)
	case errors.Is(err, storage.ErrConflict):
		return kerrors.NewConflict(s.gr, name, errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	case errors.Is(err, storage.ErrCompacted), errors.Is(err, watchcache.ErrExpired):
		return kerrors.NewResourceExpired(fmt.Sprintf("too old resource version: %v", err))
	case errors.Is(err, watchcache.ErrClosed):
		return kerrors.NewServiceUnavailable("the apiserver is shutting down")
	case errors.Is(err, watchcache.ErrTooLarge), errors.Is(err, storage.ErrFutureRevision):
		return kerrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %v", err), 1)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var se kerrors.APIStatus
	if errors.As(err, &se) {
		return err
	}
	return kerrors.NewInternalError(err)
}

func (s *Store[T]) invalid(name string, errs field.ErrorList) error {
	return kerrors.NewInvalid(s.gk, name, errs)
}

// checkScope requires a namespace on namespaced objects and clears it on cluster-scoped ones.
func (s *Store[T]) checkScope(md *metav1.ObjectMeta) error {
	if !s.res.Namespaced {
		md.Namespace = ""
		return nil
	}
	if md.Namespace == "" {
		return s.invalid(md.Name, field.ErrorList{field.Required(field.NewPath("metadata", "namespace"), "a "+s.res.Kind+" must be created in a namespace")})
	}
	return nil
}

// Create stores a new object.
func (s *Store[T]) Create(ctx context.Context, obj T) (T, error) {
	var zero T
	md := scheme.Meta(obj)
	if err := s.checkScope(md); err != nil {
		return zero, err
	}
	generated := md.Name == "" && md.GenerateName != ""
	if generated {
		md.Name = md.GenerateName + randomSuffix()
	}
	md.Uid = uuid.NewString()
	md.CreationTimestamp = s.timestamp(s.now())
	md.ResourceVersion = ""
	md.DeletionTimestamp = nil
	md.DeletionGracePeriodSeconds = nil
	md.Generation = 0
	if s.hasSpec {
		md.Generation = 1
	}
	s.strategy.PrepareForCreate(ctx, obj)
	if errs := s.strategy.Validate(ctx, obj); len(errs) > 0 {
		return zero, s.invalid(md.Name, errs)
	}
	if a, ok := s.strategy.(Admitter); ok {
		if err := a.Admit(ctx, obj, nil); err != nil {
			return zero, err
		}
	}
	finish := func(context.Context, bool) {}
	if b, ok := s.strategy.(CreateBeginner); ok {
		f, err := b.BeginCreate(ctx, obj)
		if err != nil {
			return zero, err
		}
		finish = f
	}
	data, err := s.encode(obj)
	if err != nil {
		finish(ctx, false)
		return zero, err
	}
	rev, err := s.storage.Create(ctx, s.Key(md.Namespace, md.Name), data)
	if err != nil {
		finish(ctx, false)
		return zero, s.storageErr(md.Name, err)
	}
	finish(ctx, true)
	md.ResourceVersion = strconv.FormatInt(rev, 10)
	return obj, nil
}

// Get reads one object. resourceVersion "" reads etcd (the latest state), "0" the cache (any
// state), a revision the cache once it has caught up to it.
func (s *Store[T]) Get(ctx context.Context, namespace, name, resourceVersion string) (T, error) {
	var zero T
	rv, err := parseRV(field.NewPath("resourceVersion"), resourceVersion)
	if err != nil {
		return zero, err
	}
	key := s.Key(namespace, name)
	if resourceVersion == "" {
		kv, err := s.storage.Get(ctx, key)
		if err != nil {
			return zero, s.storageErr(name, err)
		}
		obj, err := s.decode(kv)
		if err != nil {
			return zero, kerrors.NewInternalError(err)
		}
		return obj, nil
	}
	if err := s.cache.WaitForRev(ctx, rv); err != nil {
		return zero, s.storageErr(name, err)
	}
	obj := s.cache.Get(key)
	if obj == nil {
		return zero, kerrors.NewNotFound(s.gr, name)
	}
	return proto.Clone(obj).(T), nil
}

// List lists objects as Kubernetes does: without limit or continue from the watch cache
// (consistent with etcd for resourceVersion "", any state for "0"); with a limit, a continue
// token or resourceVersionMatch=Exact from etcd at one revision, page by page.
func (s *Store[T]) List(ctx context.Context, opts *metav1.ListOptions) ([]scheme.Object, *metav1.ListMeta, error) {
	p, err := s.predicate(opts.GetNamespace(), opts.GetLabelSelector(), opts.GetFieldSelector())
	if err != nil {
		return nil, nil, err
	}
	if !s.res.Namespaced {
		p.Namespace = ""
	}
	rv, err := parseRV(field.NewPath("resourceVersion"), opts.GetResourceVersion())
	if err != nil {
		return nil, nil, err
	}
	match := opts.GetResourceVersionMatch()
	switch match {
	case "", "NotOlderThan", "Exact":
	default:
		return nil, nil, kerrors.NewBadRequest(fmt.Sprintf("resourceVersionMatch: Unsupported value: %q: supported values: \"Exact\", \"NotOlderThan\"", match))
	}
	if match != "" && opts.GetResourceVersion() == "" {
		return nil, nil, kerrors.NewBadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
	}
	if opts.GetContinue() != "" || opts.GetLimit() > 0 || match == "Exact" {
		return s.listFromEtcd(ctx, opts, p, rv)
	}
	minRev := rv
	if opts.GetResourceVersion() == "" {
		if minRev, err = s.storage.Revision(ctx); err != nil {
			return nil, nil, s.storageErr("", err)
		}
	}
	items, rev, err := s.cache.List(ctx, minRev, s.keyPrefix(p.Namespace), p)
	if err != nil {
		return nil, nil, s.storageErr("", err)
	}
	return items, &metav1.ListMeta{ResourceVersion: strconv.FormatInt(rev, 10)}, nil
}

func (s *Store[T]) listFromEtcd(ctx context.Context, opts *metav1.ListOptions, p watchcache.Predicate, rv int64) ([]scheme.Object, *metav1.ListMeta, error) {
	prefix := s.keyPrefix(p.Namespace)
	from := ""
	rev := int64(0)
	if opts.GetResourceVersionMatch() == "Exact" {
		rev = rv
	}
	if c := opts.GetContinue(); c != "" {
		if opts.GetResourceVersion() != "" && opts.GetResourceVersion() != "0" {
			return nil, nil, kerrors.NewBadRequest("specifying resource version is not allowed when using continue")
		}
		t, err := decodeContinue(c)
		if err != nil {
			return nil, nil, err
		}
		rev, from = t.ResourceVersion, prefix+t.StartKey
	}
	limit := opts.GetLimit()
	var items []scheme.Object
	lm := &metav1.ListMeta{}
	for {
		page, err := s.storage.List(ctx, prefix, from, rev, limit)
		if err != nil {
			if errors.Is(err, storage.ErrCompacted) && opts.GetContinue() != "" {
				return nil, nil, kerrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
			}
			return nil, nil, s.storageErr("", err)
		}
		rev = page.Revision
		for i, kv := range page.KVs {
			obj, err := s.decode(kv)
			if err != nil {
				s.log.Error("undecodable object in etcd, skipped", "key", kv.Key, "err", err)
				continue
			}
			if !p.Matches(s.attrs(obj)) {
				continue
			}
			items = append(items, obj)
			if limit > 0 && int64(len(items)) == limit {
				if i < len(page.KVs)-1 || page.More {
					lm.Continue = encodeContinue(rev, strings.TrimPrefix(kv.Key, prefix)+"\x00")
					if p.Label == nil && p.Field == nil {
						remaining := page.Remaining + int64(len(page.KVs)-1-i)
						lm.RemainingItemCount = &remaining
					}
				}
				lm.ResourceVersion = strconv.FormatInt(rev, 10)
				return items, lm, nil
			}
		}
		if !page.More || len(page.KVs) == 0 {
			break
		}
		from = page.KVs[len(page.KVs)-1].Key + "\x00"
	}
	lm.ResourceVersion = strconv.FormatInt(rev, 10)
	return items, lm, nil
}

// Watch starts a watch from the cache. resourceVersion "" or "0" starts now, first sending the
// current objects as ADDED (unless sendInitialEvents is false); a revision resumes after it, or
// fails as expired when the cache no longer holds it.
func (s *Store[T]) Watch(ctx context.Context, opts *metav1.ListOptions) (*watchcache.Watcher, error) {
	p, err := s.predicate(opts.GetNamespace(), opts.GetLabelSelector(), opts.GetFieldSelector())
	if err != nil {
		return nil, err
	}
	if !s.res.Namespaced {
		p.Namespace = ""
	}
	rv, err := parseRV(field.NewPath("resourceVersion"), opts.GetResourceVersion())
	if err != nil {
		return nil, err
	}
	initial := rv == 0
	if opts.SendInitialEvents != nil {
		initial = opts.GetSendInitialEvents()
	}
	w, err := s.cache.Watch(ctx, rv, p, initial)
	if err != nil {
		return nil, s.storageErr("", err)
	}
	return w, nil
}

// Update replaces an object's spec and metadata; its status is kept.
func (s *Store[T]) Update(ctx context.Context, obj T) (T, error) {
	return s.update(ctx, obj, false)
}

// UpdateStatus replaces an object's status; everything else is kept.
func (s *Store[T]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	return s.update(ctx, obj, true)
}

func (s *Store[T]) update(ctx context.Context, obj T, status bool) (T, error) {
	var zero T
	md := scheme.Meta(obj)
	if err := s.checkScope(md); err != nil {
		return zero, err
	}
	if md.Name == "" {
		return zero, s.invalid("", field.ErrorList{field.Required(field.NewPath("metadata", "name"), "name is required")})
	}
	want, err := parseRV(field.NewPath("metadata", "resourceVersion"), md.ResourceVersion)
	if err != nil {
		return zero, err
	}
	var finish FinishFunc
	out, err := s.GuaranteedUpdate(ctx, md.Namespace, md.Name, want, func(old T) (T, error) {
		if finish != nil {
			finish(ctx, false) // an earlier attempt lost a conflict
			finish = nil
		}
		next := proto.Clone(obj).(T)
		if status {
			next = s.withStatusOf(old, next)
		} else {
			s.carryStatus(next, old)
			s.strategy.PrepareForUpdate(ctx, next, old)
		}
		s.keepSystemMeta(scheme.Meta(next), old.GetMetadata())
		if s.hasSpec {
			scheme.Meta(next).Generation = old.GetMetadata().GetGeneration()
			if !proto.Equal(specOf(next), specOf(old)) {
				scheme.Meta(next).Generation++
			}
		}
		if errs := s.strategy.ValidateUpdate(ctx, next, old); len(errs) > 0 {
			return zero, s.invalid(md.Name, errs)
		}
		if a, ok := s.strategy.(Admitter); ok {
			if err := a.Admit(ctx, next, old); err != nil {
				return zero, err
			}
		}
		if b, ok := s.strategy.(UpdateBeginner); ok && !status {
			f, err := b.BeginUpdate(ctx, next, old)
			if err != nil {
				return zero, err
			}
			finish = f
		}
		return next, nil
	})
	if finish != nil {
		finish(ctx, err == nil)
	}
	return out, err
}

// GuaranteedUpdate reads the object, applies tryUpdate and writes the result with a
// compare-and-swap, retrying on conflicts. With want > 0 the object must still be at that
// resourceVersion, else Conflict. An object that has a deletionTimestamp and no finalizers
// left after the update is deleted.
func (s *Store[T]) GuaranteedUpdate(ctx context.Context, namespace, name string, want int64, tryUpdate func(old T) (T, error)) (T, error) {
	var zero T
	key := s.Key(namespace, name)
	kv, err := s.storage.Get(ctx, key)
	if err != nil {
		return zero, s.storageErr(name, err)
	}
	for attempt := 0; ; attempt++ {
		if want > 0 && kv.ModRevision != want {
			return zero, s.storageErr(name, storage.ErrConflict)
		}
		old, err := s.decode(kv)
		if err != nil {
			return zero, kerrors.NewInternalError(err)
		}
		next, err := tryUpdate(proto.Clone(old).(T))
		if err != nil {
			return zero, err
		}
		nmd := scheme.Meta(next)
		if nmd.DeletionTimestamp != nil && len(nmd.Finalizers) == 0 && !s.pendingFinalizer(next) {
			rev, cur, err := s.storage.Delete(ctx, key, kv.ModRevision)
			if errors.Is(err, storage.ErrConflict) && want == 0 && attempt < 16 {
				kv = cur
				continue
			}
			if err != nil {
				return zero, s.storageErr(name, err)
			}
			s.afterDelete(ctx, next)
			nmd.ResourceVersion = strconv.FormatInt(rev, 10)
			return next, nil
		}
		nmd.ResourceVersion = old.GetMetadata().GetResourceVersion()
		if proto.Equal(next, old) {
			return old, nil // nothing changed: no write, no new resourceVersion
		}
		data, err := s.encode(next)
		if err != nil {
			return zero, err
		}
		rev, cur, err := s.storage.Update(ctx, key, data, kv.ModRevision)
		if errors.Is(err, storage.ErrConflict) && want == 0 && attempt < 16 {
			kv = cur
			continue
		}
		if err != nil {
			return zero, s.storageErr(name, err)
		}
		nmd.ResourceVersion = strconv.FormatInt(rev, 10)
		return next, nil
	}
}

// afterDelete tells the strategy that obj is gone from storage.
func (s *Store[T]) afterDelete(ctx context.Context, obj T) {
	if d, ok := s.strategy.(AfterDeleter); ok {
		d.AfterDelete(ctx, obj)
	}
}

func (s *Store[T]) pendingFinalizer(obj T) bool {
	f, ok := s.strategy.(Finalizer)
	return ok && f.Pending(obj)
}

// keepSystemMeta carries over the metadata clients may not change.
func (s *Store[T]) keepSystemMeta(md, old *metav1.ObjectMeta) {
	md.Uid = old.GetUid()
	md.CreationTimestamp = old.GetCreationTimestamp()
	md.DeletionTimestamp = old.GetDeletionTimestamp()
	md.DeletionGracePeriodSeconds = old.DeletionGracePeriodSeconds
	md.GenerateName = old.GetGenerateName()
	if old.GetDeletionTimestamp() != nil {
		// Once deletion started, finalizers may only be removed.
		var kept []string
		for _, f := range md.Finalizers {
			for _, o := range old.GetFinalizers() {
				if f == o {
					kept = append(kept, f)
					break
				}
			}
		}
		md.Finalizers = kept
	}
}

// carryStatus copies old's status into obj: spec writes never change status.
func (s *Store[T]) carryStatus(obj, old T) {
	m := obj.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("status")
	if fd == nil || !s.res.HasStatus {
		return
	}
	if old.ProtoReflect().Has(fd) {
		m.Set(fd, old.ProtoReflect().Get(fd))
	} else {
		m.Clear(fd)
	}
}

// withStatusOf returns old with obj's status: status writes change nothing else.
func (s *Store[T]) withStatusOf(old, obj T) T {
	next := proto.Clone(old).(T)
	fd := next.ProtoReflect().Descriptor().Fields().ByName("status")
	if fd == nil {
		return next
	}
	if obj.ProtoReflect().Has(fd) {
		next.ProtoReflect().Set(fd, obj.ProtoReflect().Get(fd))
	} else {
		next.ProtoReflect().Clear(fd)
	}
	return next
}

func specOf(obj scheme.Object) proto.Message {
	m := obj.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("spec")
	return m.Get(fd).Message().Interface()
}

// Delete deletes an object, or starts its deletion: an object with finalizers, a grace period
// or its own pending finalization gets a deletionTimestamp and stays until those are done.
func (s *Store[T]) Delete(ctx context.Context, req *metav1.DeleteRequest) (T, error) {
	var zero T
	ns := req.GetNamespace()
	if !s.res.Namespaced {
		ns = ""
	}
	name := req.GetName()
	key := s.Key(ns, name)
	var optErrs field.ErrorList
	switch p := req.GetPropagationPolicy(); p {
	case "", "Orphan", "Background", "Foreground":
	default:
		optErrs = append(optErrs, field.NotSupported(field.NewPath("propagationPolicy"), p, []string{"Orphan", "Background", "Foreground"}))
	}
	if g := req.GracePeriodSeconds; g != nil && *g < 0 {
		optErrs = append(optErrs, field.Invalid(field.NewPath("gracePeriodSeconds"), *g, "must be greater than or equal to 0"))
	}
	for i, d := range req.GetDryRun() {
		if d != "All" {
			optErrs = append(optErrs, field.NotSupported(field.NewPath("dryRun").Index(i), d, []string{"All"}))
		}
	}
	if len(optErrs) > 0 {
		return zero, kerrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "DeleteOptions"}, "", optErrs)
	}
	dryRun := len(req.GetDryRun()) > 0
	kv, err := s.storage.Get(ctx, key)
	if err != nil {
		return zero, s.storageErr(name, err)
	}
	for attempt := 0; ; attempt++ {
		obj, err := s.decode(kv)
		if err != nil {
			return zero, kerrors.NewInternalError(err)
		}
		md := obj.GetMetadata()
		if pc := req.GetPreconditions(); pc != nil {
			if pc.Uid != nil && *pc.Uid != md.GetUid() {
				//lint:ignore ST1005 Kubernetes' own message, which clients match on
				return zero, kerrors.NewConflict(s.gr, name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *pc.Uid, md.GetUid()))
			}
			if pc.ResourceVersion != nil && *pc.ResourceVersion != md.GetResourceVersion() {
				//lint:ignore ST1005 Kubernetes' own message, which clients match on
				return zero, kerrors.NewConflict(s.gr, name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *pc.ResourceVersion, md.GetResourceVersion()))
			}
		}
		if v, ok := s.strategy.(DeleteValidator); ok {
			if err := v.ValidateDelete(ctx, obj); err != nil {
				return zero, err
			}
		}
		next := proto.Clone(obj).(T)
		nmd := scheme.Meta(next)
		changed := s.addPropagationFinalizer(nmd, req.GetPropagationPolicy())
		grace, graceful := int64(0), false
		if g, ok := s.strategy.(GracefulDeleter); ok {
			grace, graceful = g.DeletionGrace(next, req)
		}
		wait := graceful || len(nmd.Finalizers) > 0
		if f, ok := s.strategy.(Finalizer); ok && !dryRun && f.BeforeDelete(next) {
			wait = true
		}
		if !wait {
			if dryRun {
				return obj, nil
			}
			rev, cur, err := s.storage.Delete(ctx, key, kv.ModRevision)
			if errors.Is(err, storage.ErrConflict) && attempt < 16 {
				kv = cur
				continue
			}
			if err != nil {
				return zero, s.storageErr(name, err)
			}
			s.afterDelete(ctx, obj)
			md.ResourceVersion = strconv.FormatInt(rev, 10)
			return obj, nil
		}
		now := s.now()
		switch {
		case nmd.DeletionTimestamp == nil:
			nmd.DeletionTimestamp = s.timestamp(now.Add(time.Duration(grace) * time.Second))
			nmd.DeletionGracePeriodSeconds = &grace
			changed = true
		case graceful && nmd.DeletionGracePeriodSeconds != nil && grace < *nmd.DeletionGracePeriodSeconds:
			// A shorter grace period may replace a longer one, never the reverse.
			nmd.DeletionTimestamp = s.timestamp(now.Add(time.Duration(grace) * time.Second))
			nmd.DeletionGracePeriodSeconds = &grace
			changed = true
		}
		if dryRun || (!changed && proto.Equal(next, obj)) {
			return next, nil
		}
		data, err := s.encode(next)
		if err != nil {
			return zero, err
		}
		rev, cur, err := s.storage.Update(ctx, key, data, kv.ModRevision)
		if errors.Is(err, storage.ErrConflict) && attempt < 16 {
			kv = cur
			continue
		}
		if err != nil {
			return zero, s.storageErr(name, err)
		}
		nmd.ResourceVersion = strconv.FormatInt(rev, 10)
		return next, nil
	}
}

// addPropagationFinalizer adds the finalizer the garbage collector acts on for Orphan and
// Foreground deletion.
func (s *Store[T]) addPropagationFinalizer(md *metav1.ObjectMeta, policy string) bool {
	var f string
	switch policy {
	case "Orphan":
		f = FinalizerOrphan
	case "Foreground":
		f = FinalizerForeground
	default:
		return false
	}
	for _, have := range md.Finalizers {
		if have == f {
			return false
		}
	}
	md.Finalizers = append(md.Finalizers, f)
	return true
}

func (s *Store[T]) timestamp(t time.Time) *timestamppb.Timestamp {
	return timestamppb.New(t.Truncate(time.Second))
}

// randomSuffix is 5 characters as Kubernetes uses for generateName (no vowels, no confusables).
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
