// Package informer keeps a local, indexed cache of one resource in step with the apiserver and
// tells event handlers what changed: the read side of every Berth controller.
//
// An Informer lists the resource page by page, then watches from the list's resourceVersion.
// When a watch ends cleanly it resumes from the last resourceVersion it saw; when the server
// says that version has expired (HTTP 410, "too old resource version") it lists again and
// reports the difference as adds, updates and deletes, so handlers never miss a change, only
// intermediate states. Failures back off exponentially, from an immediate retry up to 30s.
//
// The cache (Store) is keyed by "namespace/name" ("name" for cluster-scoped resources) and
// answers Get, List and ByIndex; the namespace index is built in, others (such as
// IndexOwnerUID) are added with AddIndexer. Objects in the cache are shared: callers must
// never modify them, and must proto.Clone one before changing it to write it back.
//
// Handlers run one at a time on the informer's goroutine, after the cache holds the change, so
// they must be quick: Berth's controllers only put keys in a work queue there. A Factory shares
// one informer per resource among all the controllers of a process:
//
//	f := informer.NewFactory(c, informer.Options{Logger: log})
//	pods := f.For(scheme.Pods)
//	pods.AddHandler(informer.HandlerFuncs{AddFunc: func(o scheme.Object) { ... }})
//	f.Start(ctx)
//	if !f.WaitForSync(ctx) { return ctx.Err() }
//	lister := informer.NewLister[*corev1.Pod](pods)
package informer
