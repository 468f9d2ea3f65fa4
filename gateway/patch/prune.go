package patch

import (
	"strconv"
	"strings"
)

// prune deletes from a decoded JSON tree the field that a kubejson error path names
// ("spec.template.spec.containers[0].imagee", "metadata.labels[a.b]"). Paths are ambiguous
// when keys contain '.' or '[', so it prefers a key that is the whole path, then tries every
// key that fits and backtracks. It reports whether a field was deleted.
func prune(node any, path string) bool {
	switch n := node.(type) {
	case map[string]any:
		if _, ok := n[path]; ok {
			delete(n, path)
			return true
		}
		for k, v := range n {
			// A field: "k", "k.rest" or "k[...]rest".
			if rest, ok := strings.CutPrefix(path, k); ok {
				switch {
				case rest == "":
					delete(n, k)
					return true
				case rest[0] == '.' && prune(v, rest[1:]):
					return true
				case rest[0] == '[' && prune(v, rest):
					return true
				}
			}
			// A map entry: "[k]", "[k].rest" or "[k][...]rest".
			if rest, ok := strings.CutPrefix(path, "["+k+"]"); ok {
				switch {
				case rest == "":
					delete(n, k)
					return true
				case rest[0] == '.' && prune(v, rest[1:]):
					return true
				case rest[0] == '[' && prune(v, rest):
					return true
				}
			}
		}
	case []any:
		end := strings.IndexByte(path, ']')
		if !strings.HasPrefix(path, "[") || end < 0 {
			return false
		}
		i, err := strconv.Atoi(path[1:end])
		if err != nil || i < 0 || i >= len(n) {
			return false
		}
		rest := path[end+1:]
		switch {
		case rest == "":
			return false // list items are values, never unknown fields
		case rest[0] == '.':
			return prune(n[i], rest[1:])
		default:
			return prune(n[i], rest)
		}
	}
	return false
}
