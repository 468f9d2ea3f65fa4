package kubejson

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// yamlToJSONStrict converts one YAML document to JSON as kubectl does (sigs.k8s.io/yaml), but
// rejecting duplicate keys as Kubernetes' strict decoding does.
func yamlToJSONStrict(data []byte) ([]byte, error) { return yaml.YAMLToJSONStrict(data) }

// yamlLine finds the "line N: " go-yaml puts in its messages.
var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlSyntaxError turns a go-yaml error into a *SyntaxError with the line of the first problem.
func yamlSyntaxError(err error) *SyntaxError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	se := &SyntaxError{Format: "YAML", Msg: msg}
	if loc := yamlLine.FindStringSubmatchIndex(msg); loc != nil {
		se.Line, _ = strconv.Atoi(msg[loc[2]:loc[3]])
		rest := msg[loc[1]:]
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[:i]
		}
		se.Msg = rest
	}
	return se
}

// secondDocument returns the line at which a second non-empty YAML document starts, or 0 when
// there is none: go-yaml reads the first document and ignores the rest, which for a single
// object would silently drop data. Documents are split as kubectl splits them, at lines that
// start with "---".
func secondDocument(data []byte) int {
	if !bytes.Contains(data, []byte("---")) {
		return 0
	}
	docs, seen := 0, false
	start, line := 1, 0
	var cur []byte
	flush := func() int {
		if js, err := yaml.YAMLToJSON(cur); err != nil || string(js) != "null" {
			docs++
			if docs == 2 {
				return start
			}
		}
		return 0
	}
	for len(data) > 0 {
		line++
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if bytes.HasPrefix(l, []byte("---")) {
			if rest := bytes.TrimSpace(l[3:]); len(rest) == 0 || rest[0] == '#' {
				if seen {
					if n := flush(); n > 0 {
						return n
					}
				}
				seen, cur, start = true, nil, line+1
				continue
			}
		}
		seen = true
		cur = append(cur, l...)
	}
	if seen {
		return flush()
	}
	return 0
}
