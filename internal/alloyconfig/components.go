package alloyconfig

import (
	"fmt"
	"strings"
)

// Components returns the sorted, distinct names of the components cfg
// declares: its top-level labelled blocks, `name "label" { ... }`. Nested
// blocks, strings and comments are skipped, so a brace or a dotted word
// inside a string never counts.
func Components(cfg string) ([]string, error) {
	s := &scanner{src: cfg}
	set := map[string]bool{}
	for {
		s.skipSpace()
		if s.eof() {
			return sorted(set), nil
		}
		name := s.ident()
		if name == "" {
			return nil, s.errorf("expected a block name, found %q", s.peek())
		}
		s.skipSpace()
		labelled := false
		if s.peek() == '"' {
			if err := s.skipString(); err != nil {
				return nil, err
			}
			labelled = true
			s.skipSpace()
		}
		if s.peek() != '{' {
			return nil, s.errorf("block %s: expected '{', found %q", name, s.peek())
		}
		if err := s.skipBody(); err != nil {
			return nil, err
		}
		// An unlabelled top-level block (logging, http, ...) configures
		// Alloy itself; only labelled blocks are components.
		if labelled {
			set[name] = true
		}
	}
}

type scanner struct {
	src string
	pos int
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func (s *scanner) errorf(format string, args ...any) error {
	line := 1 + strings.Count(s.src[:min(s.pos, len(s.src))], "\n")
	return fmt.Errorf("line %d: "+format, append([]any{line}, args...)...)
}

// skipSpace skips white space and comments (// to the end of the line,
// /* ... */).
func (s *scanner) skipSpace() {
	for !s.eof() {
		switch {
		case strings.ContainsRune(" \t\r\n", rune(s.peek())):
			s.pos++
		case strings.HasPrefix(s.src[s.pos:], "//"):
			if i := strings.IndexByte(s.src[s.pos:], '\n'); i >= 0 {
				s.pos += i + 1
			} else {
				s.pos = len(s.src)
			}
		case strings.HasPrefix(s.src[s.pos:], "/*"):
			if i := strings.Index(s.src[s.pos+2:], "*/"); i >= 0 {
				s.pos += 2 + i + 2
			} else {
				s.pos = len(s.src)
			}
		default:
			return
		}
	}
}

// ident reads a dotted identifier such as loki.source.kubernetes.
func (s *scanner) ident() string {
	start := s.pos
	for !s.eof() {
		c := s.peek()
		if c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || s.pos > start && c >= '0' && c <= '9' {
			s.pos++
			continue
		}
		break
	}
	return s.src[start:s.pos]
}

// skipString skips a "quoted" string with backslash escapes or a `raw` one.
func (s *scanner) skipString() error {
	quote := s.peek()
	s.pos++
	for !s.eof() {
		c := s.peek()
		s.pos++
		switch {
		case c == '\\' && quote == '"':
			s.pos++
		case c == quote:
			return nil
		}
	}
	return s.errorf("unterminated string")
}

// skipBody skips a { ... } body, nested blocks, strings and comments included.
func (s *scanner) skipBody() error {
	depth := 0
	for {
		s.skipSpace()
		if s.eof() {
			return s.errorf("unterminated block")
		}
		switch c := s.peek(); c {
		case '"', '`':
			if err := s.skipString(); err != nil {
				return err
			}
		case '{':
			depth++
			s.pos++
		case '}':
			depth--
			s.pos++
			if depth == 0 {
				return nil
			}
		default:
			s.pos++
		}
	}
}
