package ctl

import (
	"fmt"
	"io"

	"github.com/berth-dev/berth/pkg/manifest"
	"github.com/berth-dev/berth/pkg/scheme"
)

// manifestItem is one object read from a manifest.
type manifestItem struct {
	r   *scheme.Resource
	obj scheme.Object
	// source names where the object came from (a file name, or "STDIN").
	source string
}

// namespace is the namespace the object goes to: its own, else def; "" when cluster-scoped.
func (it manifestItem) namespace(def string) string {
	if !it.r.Namespaced {
		return ""
	}
	if ns := it.obj.GetMetadata().GetNamespace(); ns != "" {
		return ns
	}
	return def
}

// readManifests reads the objects of the files, directories and "-" (stdin) given with -f.
// As kubectl, it reads everything before acting: when any document is bad, every error is
// printed to errs and nothing is returned, so that nothing is applied. verb names the command
// in the error for an empty input ("no objects passed to apply").
func readManifests(paths []string, recursive bool, stdin io.Reader, verb string, errs *errorList) ([]manifestItem, error) {
	read, err := manifest.ReadPaths(paths, recursive, stdin)
	if err != nil {
		for _, e := range flatten(err) {
			errs.add(e)
		}
		return nil, errs.err()
	}
	if len(read) == 0 {
		return nil, fmt.Errorf("no objects passed to %s", verb)
	}
	items := make([]manifestItem, len(read))
	for i, it := range read {
		items[i] = manifestItem{r: it.Resource, obj: it.Object, source: it.Source}
	}
	return items, nil
}

// flatten lists the errors inside joined errors (errors.Join), depth first.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
