package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// document is one document of a manifest and the line it starts at.
type document struct {
	data []byte
	line int
}

// split cuts a manifest into documents: a stream of JSON objects when the input starts with
// "{" and is one, else YAML documents at lines that start with "---" (only spaces or a
// comment may follow, as kubectl requires).
func split(data []byte) ([]document, error) {
	if docs, ok := splitJSON(data); ok {
		return docs, nil
	}
	return splitYAML(data)
}

// splitJSON reads data as a stream of JSON objects; ok is false when it is not one.
func splitJSON(data []byte) (docs []document, ok bool) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return docs, true
		} else if err != nil {
			return nil, false
		}
		if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return nil, false
		}
		// The value ends at InputOffset; its first line is found by counting back.
		end := int(dec.InputOffset())
		start := end - len(raw)
		docs = append(docs, document{data: raw, line: bytes.Count(data[:start], []byte("\n")) + 1})
	}
}

func splitYAML(data []byte) ([]document, error) {
	var docs []document
	var cur []byte
	start := 1
	for line := 1; len(data) > 0; line++ {
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if bytes.HasPrefix(l, []byte("---")) {
			rest := bytes.TrimSpace(l[3:])
			if len(rest) > 0 && rest[0] != '#' {
				return nil, fmt.Errorf("line %d: invalid YAML document separator: %s", line, rest)
			}
			if len(cur) > 0 {
				docs = append(docs, document{data: cur, line: start})
			}
			cur, start = nil, line+1
			continue
		}
		cur = append(cur, l...)
	}
	if len(cur) > 0 {
		docs = append(docs, document{data: cur, line: start})
	}
	return docs, nil
}
