package ctl

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/pkg/kubejson"
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
// TODO: use pkg/manifest (ReadPaths) once it lands; this interim reader only splits
// documents on "---" lines.
func readManifests(paths []string, recursive bool, stdin io.Reader) ([]manifestItem, error) {
	var items []manifestItem
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			got, err := decodeDocs(data, "STDIN")
			if err != nil {
				return nil, err
			}
			items = append(items, got...)
			continue
		}
		files, err := manifestFiles(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("the path %q cannot be read: %w", f, err)
			}
			got, err := decodeDocs(data, f)
			if err != nil {
				return nil, err
			}
			items = append(items, got...)
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no objects passed to apply")
	}
	return items, nil
}

func manifestFiles(p string, recursive bool) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("the path %q does not exist", p)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func decodeDocs(data []byte, source string) ([]manifestItem, error) {
	var items []manifestItem
	for i, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		obj, r, err := kubejson.UnmarshalObject([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("error validating %q (document %d): %w", source, i+1, err)
		}
		items = append(items, manifestItem{r: r, obj: obj, source: source})
	}
	return items, nil
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
