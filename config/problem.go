// Package config loads loki.yaml: strict decoding with positions, defaults
// and validation. It reports every problem at once, each with the file, line
// and column it refers to, and never echoes a value that could be a secret.
package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/thedevops/loki-cmp/internal/field"
)

// Pos is a 1-based line and column in the input file. The zero Pos means
// "no position" (the problem is about the file as a whole).
type Pos struct{ Line, Column int }

// Problem is one thing wrong with a loki.yaml.
type Problem struct {
	File string
	Pos  Pos
	Path field.Path // the field, such as spec.storage.size; the root for the file as a whole
	// Type is the kind of problem (required, invalid, not supported, ...);
	// empty for problems with the file as a whole.
	Type field.ErrorType
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Pos.Line)
	}
	if p.Pos.Column > 0 {
		fmt.Fprintf(&b, ":%d", p.Pos.Column)
	}
	b.WriteString(": ")
	if !p.Path.Root() {
		b.WriteString(p.Path.String())
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return oneLine(b.String())
}

// oneLine escapes control characters, so that one problem is always one
// line, whatever a hostile file put into a key or value.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Error is a non-empty list of problems, sorted by position.
type Error struct{ Problems []Problem }

// maxReported bounds the lines of one error: past it, a count.
const maxReported = 20

func (e *Error) Error() string {
	var lines []string
	for i, p := range e.Problems {
		if i == maxReported {
			lines = append(lines, fmt.Sprintf("... and %d more problems", len(e.Problems)-maxReported))
			break
		}
		lines = append(lines, p.String())
	}
	return strings.Join(lines, "\n")
}

// newError returns nil for no problems, so callers can return it directly.
func newError(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	return NewError(ps)
}

// NewError returns the problems, which must not be empty, sorted by position.
func NewError(ps []Problem) *Error {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &Error{Problems: ps}
}
