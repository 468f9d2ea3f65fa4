package informer

import "github.com/berth-dev/berth/pkg/scheme"

// Handler is told of every change an informer sees, after its cache holds it. Handlers run on
// the informer's goroutine one call at a time, so they must return quickly and must not call
// back into the informer's AddHandler; they must not modify the objects they get.
type Handler interface {
	// OnAdd is called for an object new to the cache (on the first list, every object).
	OnAdd(obj scheme.Object)
	// OnUpdate is called when an object's resourceVersion changed.
	OnUpdate(old, obj scheme.Object)
	// OnDelete is called with the last state the cache held of a deleted object. When the
	// deletion was found by a re-list rather than seen on the watch, that state may be older
	// than the object's final one.
	OnDelete(obj scheme.Object)
}

// HandlerFuncs adapts functions to a Handler; nil functions are skipped.
type HandlerFuncs struct {
	AddFunc    func(obj scheme.Object)
	UpdateFunc func(old, obj scheme.Object)
	DeleteFunc func(obj scheme.Object)
}

// OnAdd implements Handler.
func (h HandlerFuncs) OnAdd(obj scheme.Object) {
	if h.AddFunc != nil {
		h.AddFunc(obj)
	}
}

// OnUpdate implements Handler.
func (h HandlerFuncs) OnUpdate(old, obj scheme.Object) {
	if h.UpdateFunc != nil {
		h.UpdateFunc(old, obj)
	}
}

// OnDelete implements Handler.
func (h HandlerFuncs) OnDelete(obj scheme.Object) {
	if h.DeleteFunc != nil {
		h.DeleteFunc(obj)
	}
}
