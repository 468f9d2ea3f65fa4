package kubejson

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// tokKind is the kind of a JSON token.
type tokKind uint8

const (
	tokEOF tokKind = iota
	tokNull
	tokBool
	tokString
	tokNumber
	tokBeginObject
	tokEndObject
	tokBeginArray
	tokEndArray
)

// token is one JSON token. raw points into the input: a string with its quotes, or a number's
// literal text.
type token struct {
	kind tokKind
	raw  []byte
	b    bool
	// escaped is set for strings that need decoding: escapes or non-UTF-8 bytes.
	escaped bool
}

// str returns a string token's value, decoded as encoding/json decodes it (invalid UTF-8
// becomes U+FFFD).
func (t token) str() string {
	if t.kind != tokString || len(t.raw) < 2 {
		return ""
	}
	if !t.escaped {
		return string(t.raw[1 : len(t.raw)-1])
	}
	var s string
	if err := json.Unmarshal(t.raw, &s); err != nil {
		return string(t.raw[1 : len(t.raw)-1])
	}
	return s
}

// number returns a number token's literal text.
func (t token) number() string { return string(t.raw) }

// lexer reads tokens from JSON that is already known to be valid (checked by json.Valid or
// written by the YAML converter), which lets it treat ',' and ':' as white space. It never
// panics on anything else; it reports an error instead.
type lexer struct {
	data []byte
	pos  int
	err  error
}

var errLexer = errors.New("malformed JSON")

func (l *lexer) skipSpace() {
	for l.pos < len(l.data) {
		switch l.data[l.pos] {
		case ' ', '\t', '\r', '\n', ',', ':':
			l.pos++
		default:
			return
		}
	}
}

// more tells whether the current object or array has another element.
func (l *lexer) more() bool {
	l.skipSpace()
	if l.err != nil || l.pos >= len(l.data) {
		return false
	}
	c := l.data[l.pos]
	return c != '}' && c != ']'
}

// atEOF tells whether only white space is left.
func (l *lexer) atEOF() bool {
	l.skipSpace()
	return l.pos >= len(l.data)
}

func (l *lexer) next() token {
	l.skipSpace()
	if l.err != nil || l.pos >= len(l.data) {
		return token{kind: tokEOF}
	}
	start := l.pos
	switch c := l.data[l.pos]; c {
	case '{':
		l.pos++
		return token{kind: tokBeginObject}
	case '}':
		l.pos++
		return token{kind: tokEndObject}
	case '[':
		l.pos++
		return token{kind: tokBeginArray}
	case ']':
		l.pos++
		return token{kind: tokEndArray}
	case '"':
		escaped, nonASCII := false, false
		i := l.pos + 1
		for ; i < len(l.data); i++ {
			c := l.data[i]
			if c == '"' {
				break
			}
			if c == '\\' {
				escaped = true
				i++
			} else if c >= utf8.RuneSelf {
				nonASCII = true
			}
		}
		if i >= len(l.data) {
			return l.fail()
		}
		l.pos = i + 1
		raw := l.data[start:l.pos]
		return token{kind: tokString, raw: raw, escaped: escaped || nonASCII && !utf8.Valid(raw)}
	case 't', 'f', 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(l.data)-l.pos >= len(lit) && string(l.data[l.pos:l.pos+len(lit)]) == lit {
				l.pos += len(lit)
				if lit == "null" {
					return token{kind: tokNull}
				}
				return token{kind: tokBool, b: lit == "true"}
			}
		}
		return l.fail()
	default:
		for l.pos < len(l.data) {
			c := l.data[l.pos]
			if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				l.pos++
				continue
			}
			break
		}
		if l.pos == start {
			return l.fail()
		}
		return token{kind: tokNumber, raw: l.data[start:l.pos]}
	}
}

func (l *lexer) fail() token {
	l.err = errLexer
	return token{kind: tokEOF}
}
