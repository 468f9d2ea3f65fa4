// Package selector converts Berth's label selectors (metav1.LabelSelector, and the equality
// maps of ReplicationControllers and Services) into k8s.io/apimachinery's labels.Selector, so
// that every component matches labels exactly as Kubernetes does.
package selector
