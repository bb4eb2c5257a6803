package generator

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// parseJSON reads a JSON document into map[string]any / []any / string /
// json.Number / bool / nil, as encoding/json's Decoder with UseNumber does,
// only several times faster: it is used on the output of json.Marshal
// (always well-formed, UTF-8) for every object, and encoding/json's
// reflection-driven decoder was the largest single cost of generate.
// FuzzParseJSON checks it against encoding/json.
func parseJSON(b []byte) (any, error) {
	p := jsonParser{b: b}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, errJSON
	}
	return v, nil
}

var errJSON = errors.New("generator: malformed JSON")

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonParser) value() (any, error) {
	p.space()
	if p.i >= len(p.b) {
		return nil, errJSON
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	return nil, errJSON
}

func (p *jsonParser) literal(word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return errJSON
	}
	p.i += len(word)
	return nil
}

func (p *jsonParser) object() (any, error) {
	p.i++ // {
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, errJSON
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, errJSON
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		if done, err := p.next('}'); err != nil || done {
			return m, err
		}
	}
}

func (p *jsonParser) array() (any, error) {
	p.i++ // [
	l := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return l, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		l = append(l, v)
		if done, err := p.next(']'); err != nil || done {
			return l, err
		}
	}
}

// next reads what follows a member or an element: ',' (another one comes)
// or the closing bracket (done); anything else is an error.
func (p *jsonParser) next(closing byte) (done bool, err error) {
	p.space()
	if p.i >= len(p.b) {
		return false, errJSON
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, errJSON
}

// str reads a string. Strings without escapes (almost all) are sliced out;
// the others are unquoted by encoding/json itself.
func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // "
	escaped := false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c == '"':
			p.i++
			if !escaped {
				s := string(p.b[start+1 : p.i-1])
				if !utf8.ValidString(s) {
					return "", errJSON
				}
				return s, nil
			}
			var s string
			if err := json.Unmarshal(p.b[start:p.i], &s); err != nil {
				return "", errJSON
			}
			return s, nil
		case c < 0x20:
			return "", errJSON
		}
		p.i++
	}
	return "", errJSON
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	for p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] == '+' || p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E' || ('0' <= p.b[p.i] && p.b[p.i] <= '9')) {
		p.i++
	}
	n := string(p.b[start:p.i])
	// Syntax only: encoding/json with UseNumber keeps numbers beyond float64
	// range (1e700) as text too, and so must we.
	if !json.Valid(p.b[start:p.i]) {
		return nil, errJSON
	}
	return json.Number(n), nil
}
