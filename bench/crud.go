package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// create measures Pod creates against etcd puts of the same stored bytes. For reference it also
// measures puts through the in-process etcd client the apiserver uses, and the transaction a
// create really is (put if the key's mod revision is 0). Each concurrency level measures etcd,
// then Berth, so that the two are measured moments apart. The Pod creates are CPU-profiled. The
// Pods and keys written are deleted afterwards.
func (r *runner) create(ctx context.Context) error {
	if err := r.env.createNamespace(ctx, "create"); err != nil {
		return err
	}
	for _, c := range r.cfg.clients {
		network, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, seq int) (int, error) {
			return r.rawPut(ctx, r.env.etcdClient(w), fmt.Sprintf("/bench/put/%d/%d/%d", c, w, seq))
		})
		if err != nil {
			return fmt.Errorf("etcd put, %d clients: %w", c, err)
		}
		inproc, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, seq int) (int, error) {
			return r.rawPut(ctx, r.env.etcd.Client, fmt.Sprintf("/bench/put-inproc/%d/%d/%d", c, w, seq))
		})
		if err != nil {
			return fmt.Errorf("etcd put in-process, %d clients: %w", c, err)
		}
		txn, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, seq int) (int, error) {
			key := fmt.Sprintf("/bench/txn/%d/%d/%d", c, w, seq)
			resp, err := r.env.etcdClient(w).Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, string(r.stored))).
				Commit()
			if err == nil && !resp.Succeeded {
				err = fmt.Errorf("%s exists", key)
			}
			return len(key) + len(r.stored), err
		})
		if err != nil {
			return fmt.Errorf("etcd create transaction, %d clients: %w", c, err)
		}
		r.rep.raw = append(r.rep.raw,
			rawRow{op: "put", clients: c, network: network, inproc: &inproc},
			rawRow{op: "txn: put if absent", clients: c, network: txn})
		err = r.profile("create", func() error {
			// Each client reuses its request, renamed, and receives the created Pod undecoded,
			// so that the clients spend on a create about what etcd's spend on a put.
			pods, bufs := make([]*corev1.Pod, c), make([][]byte, c)
			for w := range pods {
				pods[w] = newPod("create", "")
			}
			s, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, seq int) (int, error) {
				p := pods[w]
				p.Metadata.Name = "c" + strconv.Itoa(c) + "-w" + strconv.Itoa(w) + "-" + strconv.Itoa(seq)
				err := invokeFrames(ctx, r.env.apiConns[w%poolSize].Conn(), "Create", p, &bufs[w])
				return proto.Size(p), err
			})
			if err != nil {
				return fmt.Errorf("pod create, %d clients: %w", c, err)
			}
			r.rep.compare = append(r.rep.compare, comparison{op: "Pod create", rawOp: "put", clients: c, berth: s, raw: network})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return r.cleanup(ctx, podKeyPrefix+"create/", "/bench/put/", "/bench/put-inproc/", "/bench/txn/")
}

// get measures Pod gets (linearizable, from etcd) against etcd gets of keys holding the same
// bytes, and gets with resourceVersion "0", which the watch cache serves. The Pod gets are
// CPU-profiled.
func (r *runner) get(ctx context.Context) error {
	n := r.cfg.listSizes[0]
	ns, err := r.ensurePods(ctx, n)
	if err != nil {
		return err
	}
	prefix, err := r.ensureKeys(ctx, n)
	if err != nil {
		return err
	}
	for _, c := range r.cfg.clients {
		rawGet := func(c *clientv3.Client) op {
			return func(ctx context.Context, _, _ int) (int, error) {
				resp, err := c.Get(ctx, prefix+podName("pod", rand.IntN(n)))
				if err == nil && len(resp.Kvs) != 1 {
					err = fmt.Errorf("got %d keys", len(resp.Kvs))
				}
				return (*etcdserverpb.RangeResponse)(resp).Size(), err
			}
		}
		network, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, seq int) (int, error) {
			return rawGet(r.env.etcdClient(w))(ctx, w, seq)
		})
		if err != nil {
			return fmt.Errorf("etcd get, %d clients: %w", c, err)
		}
		inproc, err := load(ctx, c, r.cfg.timing, rawGet(r.env.etcd.Client))
		if err != nil {
			return fmt.Errorf("etcd get in-process, %d clients: %w", c, err)
		}
		r.rep.raw = append(r.rep.raw, rawRow{op: "get", clients: c, network: network, inproc: &inproc})
		err = r.profile("get", func() error {
			for _, rv := range []string{"", "0"} {
				bufs := make([][]byte, c)
				s, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, _ int) (int, error) {
					req := &metav1.GetRequest{Namespace: ns, Name: podName("pod", rand.IntN(n)), ResourceVersion: rv}
					err := invokeFrames(ctx, r.env.apiConns[w%poolSize].Conn(), "Get", req, &bufs[w])
					return len(bufs[w]), err
				})
				if err != nil {
					return fmt.Errorf("pod get resourceVersion=%q, %d clients: %w", rv, c, err)
				}
				name := "Pod get"
				if rv == "0" {
					name = "Pod get, resourceVersion=0 (watch cache)"
				}
				r.rep.compare = append(r.rep.compare, comparison{op: name, rawOp: "get", clients: c, berth: s, raw: network})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// list measures Pod lists of a namespace (served by the watch cache once it has caught up with
// etcd's current revision) against etcd range reads of as many keys. Lists are received
// undecoded (the first is decoded and checked), as raw etcd's clients do not decode Pods. The
// Pod lists are CPU-profiled.
func (r *runner) list(ctx context.Context) error {
	for _, n := range r.cfg.listSizes {
		ns, err := r.ensurePods(ctx, n)
		if err != nil {
			return err
		}
		prefix, err := r.ensureKeys(ctx, n)
		if err != nil {
			return err
		}
		// Every list of a size has the same size: measure it once, outside the runs.
		size, err := r.listBytes(ctx, ns, n)
		if err != nil {
			return err
		}
		rawOp := "range " + count(n)
		for _, c := range r.cfg.clients {
			raw, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, _ int) (int, error) {
				resp, err := r.env.etcdClient(w).Get(ctx, prefix, clientv3.WithPrefix())
				if err == nil && len(resp.Kvs) != n {
					err = fmt.Errorf("got %d keys, want %d", len(resp.Kvs), n)
				}
				return (*etcdserverpb.RangeResponse)(resp).Size(), err
			})
			if err != nil {
				return fmt.Errorf("etcd range of %d keys, %d clients: %w", n, c, err)
			}
			r.rep.raw = append(r.rep.raw, rawRow{op: rawOp, clients: c, network: raw})
			err = r.profile("list", func() error {
				bufs := make([][]byte, c)
				s, err := load(ctx, c, r.cfg.timing, func(ctx context.Context, w, _ int) (int, error) {
					err := listFrames(ctx, r.env.apiConns[w%poolSize].Conn(), &metav1.ListOptions{Namespace: ns}, &bufs[w])
					// The list's resourceVersion may have grown by a digit since the first list.
					if err == nil && (len(bufs[w]) < size || len(bufs[w]) > size+8) {
						err = fmt.Errorf("listed %d bytes, want %d", len(bufs[w]), size)
					}
					return len(bufs[w]), err
				})
				if err != nil {
					return fmt.Errorf("pod list of %d, %d clients: %w", n, c, err)
				}
				r.rep.compare = append(r.rep.compare, comparison{op: "Pod list " + count(n), rawOp: rawOp, clients: c, berth: s, raw: raw})
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	total, err := r.podCount(ctx)
	if err != nil {
		return err
	}
	r.rep.podsStored = total
	return nil
}

// listBytes is the encoded size of the list of the n Pods of namespace ns.
func (r *runner) listBytes(ctx context.Context, ns string, n int) (int, error) {
	l, err := r.env.podClient(0).List(ctx, &metav1.ListOptions{Namespace: ns})
	if err != nil {
		return 0, fmt.Errorf("list pods of %s: %w", ns, err)
	}
	if len(l.Items) != n {
		return 0, fmt.Errorf("listed %d pods of %s, want %d", len(l.Items), ns, n)
	}
	return proto.Size(l), nil
}

// count writes 1000 as 1k and 10000 as 10k.
func count(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
