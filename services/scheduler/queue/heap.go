package queue

import "container/heap"

// podHeap is a heap of Pods keyed by "namespace/name", with removal and update by key.
type podHeap struct {
	items []*QueuedPod
	index map[string]int
	less  func(a, b *QueuedPod) bool
}

func newPodHeap(less func(a, b *QueuedPod) bool) *podHeap {
	return &podHeap{index: map[string]int{}, less: less}
}

// heap.Interface, for container/heap only.
func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[h.items[i].Info.Key] = i
	h.index[h.items[j].Info.Key] = j
}
func (h *podHeap) Push(x any) {
	p := x.(*QueuedPod)
	h.index[p.Info.Key] = len(h.items)
	h.items = append(h.items, p)
}
func (h *podHeap) Pop() any {
	n := len(h.items) - 1
	p := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	delete(h.index, p.Info.Key)
	return p
}

// add inserts p, or replaces the Pod with the same key.
func (h *podHeap) add(p *QueuedPod) {
	if i, ok := h.index[p.Info.Key]; ok {
		h.items[i] = p
		heap.Fix(h, i)
		return
	}
	heap.Push(h, p)
}

// get returns the Pod with key.
func (h *podHeap) get(key string) (*QueuedPod, bool) {
	i, ok := h.index[key]
	if !ok {
		return nil, false
	}
	return h.items[i], true
}

// remove deletes the Pod with key; false if absent.
func (h *podHeap) remove(key string) bool {
	i, ok := h.index[key]
	if !ok {
		return false
	}
	heap.Remove(h, i)
	return true
}

// peek returns the first Pod, or nil.
func (h *podHeap) peek() *QueuedPod {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// pop removes and returns the first Pod, or nil.
func (h *podHeap) pop() *QueuedPod {
	if len(h.items) == 0 {
		return nil
	}
	return heap.Pop(h).(*QueuedPod)
}
