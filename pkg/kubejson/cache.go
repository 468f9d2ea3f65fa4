package kubejson

import (
	"hash/maphash"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/berth-dev/berth/pkg/scheme"
)

// Cache keeps the JSON of stored objects, so that an object written again and again (listed
// by many clients, sent to many watchers) is encoded once: MarshalOptions with a Cache copy the
// cached bytes of an object they have written before. An object is known by its type, uid and
// resourceVersion, which fix its content: the apiserver gives every write of an object a new
// resourceVersion. That holds for what is read from storage (gets, lists, watch events) and
// not for every answer to a write (a dry run answers with a changed object under the stored
// resourceVersion): marshal only the former with a Cache. Objects without a uid or a
// resourceVersion are encoded every time.
//
// A Cache holds about maxBytes of JSON: when a generation of entries fills half of it, the one
// before is dropped, so objects written recently stay. It is safe for concurrent use.
type Cache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	// shardBytes bounds each shard's current generation.
	shardBytes int
}

const cacheShards = 16

type cacheKey struct {
	typ      *typeInfo
	uid, rv  string
	typeMeta bool
}

type cacheShard struct {
	// mu is read-locked for hits in cur, which the watchers of an event all look for at once.
	mu sync.RWMutex
	// cur is the generation being filled, holding curBytes; old the one before it.
	cur, old map[cacheKey][]byte
	curBytes int
}

// NewCache returns a Cache of about maxBytes.
func NewCache(maxBytes int) *Cache {
	return &Cache{seed: maphash.MakeSeed(), shardBytes: max(maxBytes/cacheShards/2, 1)}
}

// objectKey returns the cache key of an object message, if it has a uid and a resourceVersion.
func objectKey(m protoreflect.Message, ti *typeInfo, typeMeta bool) (cacheKey, bool) {
	obj, ok := m.Interface().(scheme.Object)
	if !ok {
		return cacheKey{}, false
	}
	md := obj.GetMetadata()
	uid, rv := md.GetUid(), md.GetResourceVersion()
	if uid == "" || rv == "" {
		return cacheKey{}, false
	}
	return cacheKey{typ: ti, uid: uid, rv: rv, typeMeta: typeMeta}, true
}

func (c *Cache) shard(k cacheKey) *cacheShard {
	return &c.shards[maphash.String(c.seed, k.uid)%cacheShards]
}

func (c *Cache) get(k cacheKey) ([]byte, bool) {
	s := c.shard(k)
	s.mu.RLock()
	b, ok := s.cur[k]
	s.mu.RUnlock()
	if ok {
		return b, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.cur[k]; ok {
		return b, true
	}
	b, ok = s.old[k]
	if ok {
		s.addLocked(k, b, c.shardBytes)
	}
	return b, ok
}

// put keeps b, which the cache owns from now on, for k.
func (c *Cache) put(k cacheKey, b []byte) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(k, b, c.shardBytes)
}

func (s *cacheShard) addLocked(k cacheKey, b []byte, limit int) {
	if s.cur == nil {
		s.cur = map[cacheKey][]byte{}
	}
	if _, ok := s.cur[k]; ok {
		return
	}
	size := len(b) + len(k.uid) + len(k.rv)
	if s.curBytes+size > limit && len(s.cur) > 0 {
		s.old, s.cur, s.curBytes = s.cur, map[cacheKey][]byte{}, 0
	}
	s.cur[k] = b
	s.curBytes += size
}
