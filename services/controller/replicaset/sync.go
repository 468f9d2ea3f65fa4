package replicaset

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/berth-dev/berth/pkg/controller"
	"github.com/berth-dev/berth/pkg/controllerref"
	"github.com/berth-dev/berth/pkg/events"
	"github.com/berth-dev/berth/pkg/informer"
	"github.com/berth-dev/berth/pkg/scheme"
	"github.com/berth-dev/berth/pkg/selector"
	appsv1 "github.com/berth-dev/berth/proto/berth/apps/v1"
	corev1 "github.com/berth-dev/berth/proto/berth/core/v1"
	metav1 "github.com/berth-dev/berth/proto/berth/meta/v1"
)

// Event reasons, Kubernetes' own.
const (
	reasonSuccessfulCreate = "SuccessfulCreate"
	reasonFailedCreate     = "FailedCreate"
	reasonSuccessfulDelete = "SuccessfulDelete"
	reasonFailedDelete     = "FailedDelete"
)

// reconcile makes one owner's Pods match its spec, then writes its status.
func (r *Controller) reconcile(ctx context.Context, key string) (controller.Result, error) {
	obj, ok := r.owners.Store().Get(key)
	if !ok {
		r.expect.forget(key)
		return controller.Result{}, nil
	}
	rs := r.kind.asReplicaSet(obj)
	needsSync := r.expect.satisfied(key)
	sel, err := selector.Parse(rs.GetSpec().GetSelector())
	if err != nil {
		// Validation refuses such selectors; nothing a retry can fix.
		return controller.Result{}, controller.Terminal(fmt.Errorf("selector of %s %s: %w", r.kind.res.Kind, key, err))
	}
	pods, err := r.claim(ctx, obj, sel, r.candidates(obj))
	if err != nil {
		return controller.Result{}, fmt.Errorf("claim pods of %s %s: %w", r.kind.res.Kind, key, err)
	}
	var manageErr error
	if needsSync && rs.GetMetadata().GetDeletionTimestamp() == nil {
		manageErr = r.manage(ctx, key, obj, rs, pods)
	}
	now := r.now()
	status := calculateStatus(rs, pods, manageErr, now)
	updated, err := r.updateStatus(ctx, obj, rs, status)
	if kerrors.IsNotFound(err) && manageErr == nil {
		return controller.Result{}, nil // deleted meanwhile: its informer will tell
	}
	if err != nil {
		return controller.Result{}, errors.Join(manageErr, fmt.Errorf("update status of %s %s: %w", r.kind.res.Kind, key, err))
	}
	if manageErr != nil {
		return controller.Result{}, fmt.Errorf("manage pods of %s %s: %w", r.kind.res.Kind, key, manageErr)
	}
	if wait := nextAvailable(updated, pods, now); wait > 0 {
		return controller.Result{RequeueAfter: wait}, nil
	}
	return controller.Result{}, nil
}

// candidates are the active Pods the owner may claim: those that name it as an owner and the
// orphans of its namespace.
func (r *Controller) candidates(owner scheme.Object) []scheme.Object {
	md := owner.GetMetadata()
	owned, _ := r.pods.ByIndex(informer.IndexOwnerUID, md.GetUid())
	orphans, _ := r.pods.ByIndex(indexOrphans, md.GetNamespace())
	seen := make(map[string]struct{}, len(owned))
	out := make([]scheme.Object, 0, len(owned)+len(orphans))
	for _, list := range [][]*corev1.Pod{owned, orphans} {
		for _, p := range list {
			k := informer.KeyOf(p)
			if _, dup := seen[k]; dup || !isActive(p) || p.GetMetadata().GetNamespace() != md.GetNamespace() {
				continue
			}
			seen[k] = struct{}{}
			out = append(out, p)
		}
	}
	return out
}

// claim adopts and releases Pods for owner and returns the ones it controls.
func (r *Controller) claim(ctx context.Context, owner scheme.Object, sel labels.Selector, pods []scheme.Object) ([]*corev1.Pod, error) {
	m := &controllerref.Manager{
		Owner: owner, Selector: sel,
		Dependents: r.client.Resource(scheme.Pods),
		CanAdopt:   controllerref.FreshOwner(r.client.Resource(r.kind.res), owner),
	}
	claimed, err := m.Claim(ctx, pods)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, len(claimed))
	for i, o := range claimed {
		out[i] = o.(*corev1.Pod)
	}
	return out, nil
}

// manage creates or deletes Pods so that the owner has as many as it wants, at most burst of
// them in one go.
func (r *Controller) manage(ctx context.Context, key string, owner scheme.Object, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	log := controller.LoggerFrom(ctx)
	want := replicas(rs)
	diff := len(pods) - want
	switch {
	case diff < 0:
		n := min(-diff, r.burst)
		r.expect.expectCreations(key, n)
		log.Debug("too few replicas", "need", want, "have", len(pods), "creating", n)
		pod := podFromTemplate(owner, rs)
		created, err := slowStartBatch(ctx, n, slowStartInitialBatch, func() error { return r.createPod(ctx, owner, pod) })
		for range n - created {
			// Never attempted or failed: the informer will not see these.
			r.expect.creationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, r.burst)
		log.Debug("too many replicas", "need", want, "have", len(pods), "deleting", n)
		victims := podsToDelete(slices.Clone(pods), r.relatedPods(rs), n, r.now())
		podKeys := make([]string, len(victims))
		for i, p := range victims {
			podKeys[i] = informer.KeyOf(p)
		}
		r.expect.expectDeletions(key, podKeys)
		errs := make([]error, len(victims))
		var wg sync.WaitGroup
		for i, p := range victims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.deletePod(ctx, owner, p); err != nil {
					r.expect.deletionObserved(key, podKeys[i])
					if !kerrors.IsNotFound(err) {
						errs[i] = err
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err // they are likely all alike: the first one says it
			}
		}
	}
	return nil
}

// slowStartBatch calls fn count times, in batches of initial, then twice as many while every
// call of a batch succeeds. It returns how many calls succeeded and the first error of the
// batch that failed; the calls after that batch are never made.
func slowStartBatch(ctx context.Context, count, initial int, fn func() error) (int, error) {
	remaining, successes := count, 0
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		if err := ctx.Err(); err != nil {
			return successes, err
		}
		errs := make([]error, batch)
		var wg sync.WaitGroup
		for i := range batch {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = fn() }()
		}
		wg.Wait()
		var first error
		for _, err := range errs {
			if err == nil {
				successes++
			} else if first == nil {
				first = err
			}
		}
		if first != nil {
			return successes, first
		}
		remaining -= batch
	}
	return successes, nil
}

// podFromTemplate is the Pod the owner makes from its template (Kubernetes'
// GetPodFromTemplate): a generated name after the owner's, the template's labels, annotations,
// finalizers and spec, and a ControllerRef.
func podFromTemplate(owner scheme.Object, rs *appsv1.ReplicaSet) *corev1.Pod {
	t := rs.GetSpec().GetTemplate()
	tm := t.GetMetadata()
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{
			Namespace:       owner.GetMetadata().GetNamespace(),
			GenerateName:    podsPrefix(owner.GetMetadata().GetName()),
			Labels:          maps.Clone(tm.GetLabels()),
			Annotations:     maps.Clone(tm.GetAnnotations()),
			Finalizers:      slices.Clone(tm.GetFinalizers()),
			OwnerReferences: []*metav1.OwnerReference{controllerref.New(owner)},
		},
		Spec: t.GetSpec(), // shared with the cache: only ever serialized
	}
}

// podsPrefix is "<owner>-", or the owner's name when that is no valid Pod name prefix
// (checked as Kubernetes checks a generateName: its trailing dash masked).
func podsPrefix(name string) string {
	prefix := name + "-"
	masked := prefix[:len(prefix)-2] + "a"
	if len(validation.IsDNS1123Subdomain(masked)) != 0 {
		return name
	}
	return prefix
}

// createPod creates one Pod like pod and records the outcome as an Event on owner.
func (r *Controller) createPod(ctx context.Context, owner scheme.Object, pod *corev1.Pod) error {
	if len(pod.GetMetadata().GetLabels()) == 0 {
		return errors.New("unable to create pods, no labels")
	}
	out, err := r.client.Resource(scheme.Pods).Create(ctx, pod)
	if err != nil {
		if namespaceTerminating(err) {
			return nil // every create fails until the namespace is gone, and that is fine
		}
		if !kerrors.IsTimeout(err) && ctx.Err() == nil {
			r.event(owner, events.Warning, reasonFailedCreate, "Error creating: %v", err)
		}
		return err
	}
	controller.LoggerFrom(ctx).Debug("created pod", "pod", out.GetMetadata().GetName())
	r.event(owner, events.Normal, reasonSuccessfulCreate, "Created pod: %v", out.GetMetadata().GetName())
	return nil
}

// namespaceTerminating reports whether a create was refused because its namespace is being
// deleted.
func namespaceTerminating(err error) bool {
	if kerrors.HasStatusCause(err, "NamespaceTerminating") {
		return true
	}
	// Berth's namespace admission says so in the message only.
	return kerrors.IsForbidden(err) && strings.Contains(err.Error(), "because it is being terminated")
}

// deletePod deletes one Pod and records the outcome as an Event on owner.
func (r *Controller) deletePod(ctx context.Context, owner scheme.Object, pod *corev1.Pod) error {
	md := pod.GetMetadata()
	_, err := r.client.Resource(scheme.Pods).Delete(ctx, &metav1.DeleteRequest{Namespace: md.GetNamespace(), Name: md.GetName()})
	if kerrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		if ctx.Err() == nil {
			r.event(owner, events.Warning, reasonFailedDelete, "Error deleting: %v", err)
		}
		return fmt.Errorf("delete pod %s: %w", informer.KeyOf(pod), err)
	}
	controller.LoggerFrom(ctx).Debug("deleted pod", "pod", md.GetName())
	r.event(owner, events.Normal, reasonSuccessfulDelete, "Deleted pod: %v", md.GetName())
	return nil
}

// relatedPods are the Pods of the ReplicaSets that share rs's controller (the ReplicaSets of
// one Deployment); none when rs has no controller.
func (r *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	ref := controllerref.Of(rs)
	if ref == nil {
		return nil
	}
	owners, err := r.owners.Store().ByIndex(informer.IndexNamespace, rs.GetMetadata().GetNamespace())
	if err != nil {
		return nil
	}
	seen := map[string]struct{}{}
	var out []*corev1.Pod
	for _, o := range owners {
		if !controllerref.IsControlledBy(o, ref.GetUid()) {
			continue
		}
		sel, err := selector.Parse(r.kind.asReplicaSet(o).GetSpec().GetSelector())
		if err != nil {
			continue
		}
		for _, p := range r.pods.ByNamespace(rs.GetMetadata().GetNamespace()) {
			k := informer.KeyOf(p)
			if _, dup := seen[k]; dup || !sel.Matches(labels.Set(p.GetMetadata().GetLabels())) {
				continue
			}
			seen[k] = struct{}{}
			out = append(out, p)
		}
	}
	return out
}

// nextAvailable is when to look again at an owner whose ready Pods are not all available yet
// (ready for minReadySeconds); 0 when there is nothing to wait for.
func nextAvailable(rs *appsv1.ReplicaSet, pods []*corev1.Pod, now time.Time) time.Duration {
	minReady := time.Duration(rs.GetSpec().GetMinReadySeconds()) * time.Second
	if minReady == 0 {
		return 0
	}
	var next time.Duration
	for _, p := range pods {
		if wait, ok := availableIn(p, minReady, now); ok && wait > 0 && (next == 0 || wait < next) {
			next = wait
		}
	}
	if next == 0 {
		return 0
	}
	// Available means ready for strictly longer than minReadySeconds.
	return next + 10*time.Millisecond
}
