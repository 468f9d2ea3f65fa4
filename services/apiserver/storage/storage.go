package storage

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("key not found")
	// ErrExists: Create found the key already present.
	ErrExists = errors.New("key exists")
	// ErrConflict: the key's mod revision differs from the expected one.
	ErrConflict = errors.New("revision conflict")
	// ErrCompacted: the requested revision has been compacted away.
	ErrCompacted = errors.New("revision compacted")
	// ErrFutureRevision: the requested revision is newer than etcd's.
	ErrFutureRevision = errors.New("revision in the future")
)

// KV is one stored value with the revision at which it was last modified.
type KV struct {
	Key         string
	Value       []byte
	ModRevision int64
}

// Storage is a thin layer over an etcd client.
type Storage struct {
	c *clientv3.Client
}

// New returns a Storage over c. The caller owns c.
func New(c *clientv3.Client) *Storage { return &Storage{c: c} }

// Client returns the underlying etcd client.
func (s *Storage) Client() *clientv3.Client { return s.c }

// Create stores val at key if the key does not exist and returns the new revision.
func (s *Storage) Create(ctx context.Context, key string, val []byte) (int64, error) {
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(val))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", key, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("create %s: %w", key, ErrExists)
	}
	return resp.Header.Revision, nil
}

// Get reads key at the latest revision (a linearizable read).
func (s *Storage) Get(ctx context.Context, key string) (KV, error) {
	resp, err := s.c.Get(ctx, key)
	if err != nil {
		return KV{}, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return KV{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return toKV(resp.Kvs[0]), nil
}

// Update stores val at key if its mod revision is still expected. On ErrConflict it returns the
// current value (or ErrNotFound if the key is gone), so callers can retry without another read.
func (s *Storage) Update(ctx context.Context, key string, val []byte, expected int64) (int64, KV, error) {
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", expected)).
		Then(clientv3.OpPut(key, string(val))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, KV{}, fmt.Errorf("update %s: %w", key, err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, KV{}, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return 0, KV{}, fmt.Errorf("update %s: %w", key, ErrNotFound)
	}
	return 0, toKV(kvs[0]), fmt.Errorf("update %s: %w", key, ErrConflict)
}

// Delete removes key if its mod revision is still expected and returns the deletion revision.
// On ErrConflict it returns the current value.
func (s *Storage) Delete(ctx context.Context, key string, expected int64) (int64, KV, error) {
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", expected)).
		Then(clientv3.OpDelete(key)).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, KV{}, fmt.Errorf("delete %s: %w", key, err)
	}
	if resp.Succeeded {
		return resp.Header.Revision, KV{}, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return 0, KV{}, fmt.Errorf("delete %s: %w", key, ErrNotFound)
	}
	return 0, toKV(kvs[0]), fmt.Errorf("delete %s: %w", key, ErrConflict)
}

// ListResult is one page of a range read.
type ListResult struct {
	KVs []KV
	// More tells whether keys remain after the last one returned.
	More bool
	// Remaining counts the keys after this page (only when More).
	Remaining int64
	// Revision is the revision the page was read at.
	Revision int64
}

// List reads up to limit keys (0: all) under prefix, starting at fromKey (inclusive; "" for the
// start of the prefix), at revision rev (0: the latest).
func (s *Storage) List(ctx context.Context, prefix, fromKey string, rev, limit int64) (ListResult, error) {
	if fromKey == "" {
		fromKey = prefix
	}
	opts := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix))}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	resp, err := s.c.Get(ctx, fromKey, opts...)
	if err != nil {
		return ListResult{}, fmt.Errorf("list %s at %d: %w", prefix, rev, interpret(err))
	}
	out := ListResult{KVs: make([]KV, len(resp.Kvs)), More: resp.More, Revision: resp.Header.Revision}
	if rev > 0 {
		out.Revision = rev
	}
	for i, kv := range resp.Kvs {
		out.KVs[i] = toKV(kv)
	}
	if resp.More {
		out.Remaining = resp.Count - int64(len(resp.Kvs))
	}
	return out, nil
}

// Revision returns etcd's current revision with a linearizable read.
func (s *Storage) Revision(ctx context.Context) (int64, error) {
	resp, err := s.c.Get(ctx, "/registry/\x00revision-probe", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("read current revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// EventType is the kind of a watch event.
type EventType int

// Watch event types.
const (
	Put EventType = iota
	Delete
)

// Event is one change seen by Watch.
type Event struct {
	Type EventType
	KV   KV
}

// Batch is what a watch delivers at once: the events of one etcd response, or none for a
// progress notification. Either way every change up to Revision has been delivered.
type Batch struct {
	Events   []Event
	Revision int64
}

// Watch is a running watch on a prefix.
type Watch struct {
	// C delivers batches until the watch ends; then Err tells why.
	C   <-chan Batch
	err chan error
	ctx context.Context
	c   *clientv3.Client
}

// Err returns why the watch ended (ErrCompacted when its revision was compacted); it blocks
// until C is closed.
func (w *Watch) Err() error { return <-w.err }

// RequestProgress asks etcd to send a progress notification on this watch's stream, so the
// watcher learns the current revision even when nothing under its prefix changed.
func (w *Watch) RequestProgress() error { return w.c.RequestProgress(w.ctx) }

// Watch streams changes under prefix after revision rev (exclusive) until ctx ends or etcd
// fails.
func (s *Storage) Watch(ctx context.Context, prefix string, rev int64) *Watch {
	out := make(chan Batch, 64)
	// Each prefix gets a gRPC stream of its own (the etcd client shares one stream among the
	// watches whose contexts carry the same metadata). On one shared stream, the apiserver's
	// caches all stopping at once send more cancel requests than etcd's server buffers replies
	// for (16), while the client is busy sending them instead of reading: with the in-process
	// client that deadlocks, and shutdown hangs.
	wctx := metadata.AppendToOutgoingContext(ctx, "berth-watch-prefix", prefix)
	w := &Watch{C: out, err: make(chan error, 1), ctx: clientv3.WithRequireLeader(wctx), c: s.c}
	wc := s.c.Watch(w.ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	go func() {
		defer close(out)
		for resp := range wc {
			if resp.CompactRevision != 0 {
				w.err <- fmt.Errorf("watch %s from %d: %w (compacted at %d)", prefix, rev, ErrCompacted, resp.CompactRevision)
				return
			}
			if err := resp.Err(); err != nil {
				w.err <- fmt.Errorf("watch %s: %w", prefix, err)
				return
			}
			b := Batch{Events: make([]Event, len(resp.Events)), Revision: resp.Header.Revision}
			for i, e := range resp.Events {
				t := Put
				if e.Type == mvccpb.DELETE {
					t = Delete
				}
				b.Events[i] = Event{Type: t, KV: toKV(e.Kv)}
			}
			if n := len(resp.Events); n > 0 {
				// With events, the header's revision may run ahead of events not yet sent;
				// only a progress notification vouches for its header revision.
				b.Revision = resp.Events[n-1].Kv.ModRevision
			}
			select {
			case out <- b:
			case <-ctx.Done():
				w.err <- ctx.Err()
				return
			}
		}
		w.err <- fmt.Errorf("watch %s: %w", prefix, context.Cause(ctx))
	}()
	return w
}

// Compact compacts etcd's history up to rev.
func (s *Storage) Compact(ctx context.Context, rev int64) error {
	if _, err := s.c.Compact(ctx, rev); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("compact to %d: %w", rev, err)
	}
	return nil
}

func toKV(kv *mvccpb.KeyValue) KV {
	return KV{Key: string(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision}
}

func interpret(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("%w: %v", ErrCompacted, err)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("%w: %v", ErrFutureRevision, err)
	}
	return err
}
