package informer

import (
	"fmt"
	"sync"

	"github.com/berth-dev/berth/pkg/scheme"
)

// IndexFunc returns the values under which an object is indexed (none, one or several).
type IndexFunc func(obj scheme.Object) []string

// Well-known indexes.
const (
	// IndexNamespace indexes objects by metadata.namespace; every informer of a namespaced
	// resource has it.
	IndexNamespace = "namespace"
	// IndexOwnerUID indexes objects by the uid of each of their ownerReferences.
	IndexOwnerUID = "ownerUID"
)

// NamespaceIndex is the IndexFunc of IndexNamespace.
func NamespaceIndex(obj scheme.Object) []string {
	return []string{obj.GetMetadata().GetNamespace()}
}

// OwnerUIDIndex is the IndexFunc of IndexOwnerUID.
func OwnerUIDIndex(obj scheme.Object) []string {
	refs := obj.GetMetadata().GetOwnerReferences()
	if len(refs) == 0 {
		return nil
	}
	uids := make([]string, 0, len(refs))
	for _, r := range refs {
		uids = append(uids, r.GetUid())
	}
	return uids
}

// KeyOf is the cache key of an object: "namespace/name", or "name" when it has no namespace.
func KeyOf(obj scheme.Object) string {
	md := obj.GetMetadata()
	return scheme.Key(md.GetNamespace(), md.GetName())
}

// Store is a thread-safe cache of objects by key, with indexes. Only its informer writes to
// it; the objects it returns are shared and must not be modified.
type Store struct {
	mu       sync.RWMutex
	items    map[string]scheme.Object
	indexers map[string]IndexFunc
	// indices maps index name → index value → set of keys.
	indices map[string]map[string]map[string]struct{}
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		items:    map[string]scheme.Object{},
		indexers: map[string]IndexFunc{},
		indices:  map[string]map[string]map[string]struct{}{},
	}
}

// Get returns the object stored under key.
func (s *Store) Get(key string) (scheme.Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.items[key]
	return obj, ok
}

// List returns every object, in no particular order.
func (s *Store) List() []scheme.Object {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]scheme.Object, 0, len(s.items))
	for _, obj := range s.items {
		out = append(out, obj)
	}
	return out
}

// Keys returns every key, in no particular order.
func (s *Store) Keys() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.items))
	for k := range s.items {
		out = append(out, k)
	}
	return out
}

// Len is the number of objects.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}

// ByIndex returns the objects whose index named index has value, in no particular order. It
// fails when there is no such index.
func (s *Store) ByIndex(index, value string) ([]scheme.Object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx, ok := s.indices[index]
	if !ok {
		return nil, fmt.Errorf("no index %q", index)
	}
	keys := idx[value]
	out := make([]scheme.Object, 0, len(keys))
	for k := range keys {
		out = append(out, s.items[k])
	}
	return out, nil
}

// AddIndexer adds an index and builds it over the objects already stored. Adding an index
// name that exists already keeps the existing one, so controllers sharing an informer can each
// ask for the well-known indexes they need.
func (s *Store) AddIndexer(name string, fn IndexFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indexers[name]; ok {
		return
	}
	s.indexers[name] = fn
	idx := map[string]map[string]struct{}{}
	s.indices[name] = idx
	for k, obj := range s.items {
		addToIndex(idx, fn(obj), k)
	}
}

// HasIndex reports whether the store has an index of that name.
func (s *Store) HasIndex(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.indexers[name]
	return ok
}

// put stores obj and returns the object it replaced, if any.
func (s *Store) put(obj scheme.Object) (old scheme.Object, existed bool) {
	key := KeyOf(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, existed = s.items[key]
	if existed {
		s.unindex(key, old)
	}
	s.items[key] = obj
	for name, fn := range s.indexers {
		addToIndex(s.indices[name], fn(obj), key)
	}
	return old, existed
}

// remove deletes key and returns the object it held, if any.
func (s *Store) remove(key string) (old scheme.Object, existed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, existed = s.items[key]
	if existed {
		s.unindex(key, old)
		delete(s.items, key)
	}
	return old, existed
}

func (s *Store) unindex(key string, obj scheme.Object) {
	for name, fn := range s.indexers {
		idx := s.indices[name]
		for _, v := range fn(obj) {
			set := idx[v]
			delete(set, key)
			if len(set) == 0 {
				delete(idx, v)
			}
		}
	}
}

func addToIndex(idx map[string]map[string]struct{}, values []string, key string) {
	for _, v := range values {
		set := idx[v]
		if set == nil {
			set = map[string]struct{}{}
			idx[v] = set
		}
		set[key] = struct{}{}
	}
}
