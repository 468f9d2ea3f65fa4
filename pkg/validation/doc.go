// Package validation owns the validation of API objects: the rules kube-apiserver applies to an
// object on create (Object) and on update (ObjectUpdate), for every kind Berth serves, with
// Kubernetes' field paths and messages ("spec.containers[0].image: Required value").
//
// The apiserver defaults an object (package defaults) and then validates it; the validators
// expect defaulted objects, exactly as Kubernetes' do, so a field Kubernetes defaults (a Pod's
// restartPolicy, a port's protocol) is "Required" here when it is empty.
//
// Errors are k8s.io/apimachinery field.ErrorList values; name, label, annotation, selector and
// quantity rules come from k8s.io/apimachinery itself, so they are Kubernetes' exactly.
//
// Fields that exist in Berth's API but that Berth does not honor yet are refused with
// "Forbidden: not supported by Berth" rather than accepted and ignored. They are listed in one
// place, unsupported.go.
package validation
