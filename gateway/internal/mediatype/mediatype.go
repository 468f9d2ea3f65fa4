package mediatype

import (
	"mime"
	"sort"
	"strconv"
	"strings"
)

// Range is one media range of an Accept header: "application/json;as=Table;v=v1;g=meta.k8s.io".
type Range struct {
	// Type and Subtype are lower-case ("application", "json"); "*" for wildcards.
	Type, Subtype string
	// Params are the parameters other than q, keys lower-case.
	Params map[string]string
	// Q is the quality, 1 when absent.
	Q float64
}

// MediaType is "type/subtype".
func (r Range) MediaType() string { return r.Type + "/" + r.Subtype }

// Matches tells whether the range accepts the media type t ("application/json"), wildcards
// included.
func (r Range) Matches(t string) bool {
	typ, sub, _ := strings.Cut(t, "/")
	return (r.Type == "*" || r.Type == typ) && (r.Subtype == "*" || r.Subtype == sub)
}

// Parse returns the ranges of an Accept header, most preferred first: by quality, then in the
// order the client listed them. Ranges that do not parse and ranges with q=0 are left out. An
// empty header is one range, */*.
func Parse(header string) []Range {
	if strings.TrimSpace(header) == "" {
		return []Range{{Type: "*", Subtype: "*", Q: 1}}
	}
	var out []Range
	for _, part := range splitRanges(header) {
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		r := Range{Type: typ, Subtype: sub, Q: 1}
		for k, v := range params {
			if k == "q" {
				q, err := strconv.ParseFloat(v, 64)
				if err != nil || q < 0 || q > 1 {
					q = 1
				}
				r.Q = q
				continue
			}
			if r.Params == nil {
				r.Params = map[string]string{}
			}
			r.Params[k] = v
		}
		if r.Q > 0 {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Q > out[j].Q })
	return out
}

// splitRanges splits a header at the commas that separate ranges, leaving commas inside
// quoted parameter values alone.
func splitRanges(h string) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case ',':
			if !quoted {
				parts = append(parts, strings.TrimSpace(h[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(h[start:]))
}
