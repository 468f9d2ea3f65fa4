package kubejson

import (
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
