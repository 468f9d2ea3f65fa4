package watchcache

import (
	"sync"
	"unsafe"
	"weak"

	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/services/apiserver/storage"
)

// objRef holds one decoded object. The cache's map holds the ref of each object's current
// state; the ring's events only point at refs weakly, and a WatchEvent in flight holds its
// ref, so a decoded state lives exactly as long as it is current or being sent.
type objRef struct{ obj scheme.Object }

// Event is one change to an object of the resource, as the ring keeps it: the stored values
// (the protobuf etcd holds, about a third of the decoded object's size) and the selectable
// attributes, which every watcher's filter needs. The decoded objects and the encoded watch
// events are shared through weak pointers while anything uses them, and made again for a
// watcher that reads the change once nothing does.
type Event struct {
	Type string
	// Key is the object's etcd key.
	Key string
	// Rev is the etcd revision of the change.
	Rev int64
	// at is when the cache received it (Unix nanoseconds).
	at int64

	attrs, prevAttrs *Attrs
	// raw is the stored value of the state the event carries (for Deleted, the last state);
	// prevRaw that of the state before the change (nil for creations).
	raw, prevRaw []byte

	mu   sync.Mutex
	obj  weak.Pointer[objRef] // the state the event carries, with resourceVersion Rev
	prev weak.Pointer[objRef] // the previous state with resourceVersion Rev
	enc  []encoding
}

// encoding is an encoded watch event of one type, held weakly by the start of its bytes.
type encoding struct {
	typ string
	p   weak.Pointer[byte]
	n   int
}

// object returns the state the event carries, decoding it again when nobody holds it.
func (e *Event) object(decode func(storage.KV) (scheme.Object, error)) (*objRef, error) {
	return e.load(&e.obj, e.raw, decode)
}

// prevWithRev is the previous state stamped with this event's revision: what a watcher whose
// selector no longer matches receives as a DELETED event.
func (e *Event) prevWithRev(decode func(storage.KV) (scheme.Object, error)) (*objRef, error) {
	return e.load(&e.prev, e.prevRaw, decode)
}

func (e *Event) load(p *weak.Pointer[objRef], raw []byte, decode func(storage.KV) (scheme.Object, error)) (*objRef, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := p.Value(); r != nil {
		return r, nil
	}
	obj, err := decode(storage.KV{Key: e.Key, Value: raw, ModRevision: e.Rev})
	if err != nil {
		return nil, err
	}
	r := &objRef{obj: obj}
	*p = weak.Make(r)
	return r, nil
}

// encoded returns f's result for this event as a watcher of type typ sees it, computing it once
// for all the watchers that receive the same event while any of them still holds the bytes.
func (e *Event) encoded(typ string, f func() ([]byte, error)) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := 0
	for ; i < len(e.enc); i++ {
		if e.enc[i].typ != typ {
			continue
		}
		if p := e.enc[i].p.Value(); p != nil {
			return unsafe.Slice(p, e.enc[i].n), nil
		}
		break
	}
	b, err := f()
	if err != nil || len(b) == 0 {
		return b, err
	}
	// A weak pointer to the first byte is one to the whole backing array: it lives while any
	// watcher's send still holds the slice.
	enc := encoding{typ: typ, p: weak.Make(&b[0]), n: len(b)}
	if i < len(e.enc) {
		e.enc[i] = enc
	} else {
		e.enc = append(e.enc, enc)
	}
	return b, nil
}
