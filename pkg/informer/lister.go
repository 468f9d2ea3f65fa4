package informer

import (
	"fmt"

	"github.com/berth-dev/berth/pkg/scheme"
)

// Lister reads an informer's cache as objects of their concrete type T (*corev1.Pod, ...).
// The objects are shared with the cache: never modify them.
type Lister[T scheme.Object] struct {
	store *Store
}

// NewLister returns a lister over inf's cache. It panics when T is not inf's object type,
// a programming error.
func NewLister[T scheme.Object](inf *Informer) Lister[T] {
	if _, ok := inf.Resource().New().(T); !ok {
		var zero T
		panic(fmt.Sprintf("informer.NewLister: %T is not the object type of %s", zero, inf.Resource().GroupResource()))
	}
	return Lister[T]{store: inf.Store()}
}

// Get returns the object namespace/name (namespace "" for cluster-scoped resources).
func (l Lister[T]) Get(namespace, name string) (T, bool) {
	obj, ok := l.store.Get(scheme.Key(namespace, name))
	if !ok {
		var zero T
		return zero, false
	}
	return obj.(T), true
}

// List returns every object in the cache.
func (l Lister[T]) List() []T { return typed[T](l.store.List()) }

// ByNamespace returns the objects of one namespace.
func (l Lister[T]) ByNamespace(namespace string) []T {
	objs, err := l.store.ByIndex(IndexNamespace, namespace)
	if err != nil { // a cluster-scoped resource: nothing lives in a namespace
		return nil
	}
	return typed[T](objs)
}

// ByIndex returns the objects whose index has value; it fails when there is no such index.
func (l Lister[T]) ByIndex(index, value string) ([]T, error) {
	objs, err := l.store.ByIndex(index, value)
	if err != nil {
		return nil, err
	}
	return typed[T](objs), nil
}

func typed[T scheme.Object](objs []scheme.Object) []T {
	out := make([]T, len(objs))
	for i, o := range objs {
		out[i] = o.(T)
	}
	return out
}
