package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// MaxInputBytes is the largest loki.yaml accepted. A real one is well under
// 10 KiB; the limit keeps a hostile file from costing memory or time.
const MaxInputBytes = 1 << 20

// Options tune Load.
type Options struct {
	// File names the input in messages, e.g. "loki.yaml" or "<stdin>".
	File string
	// DefaultNamespace is used when the file sets no metadata.namespace
	// (under Argo CD: the Application's destination namespace).
	DefaultNamespace string
}

// Document is a loaded, defaulted and valid loki.yaml.
type Document struct {
	File  string
	Stack v1alpha1.LokiStack
	pos   map[string]Pos
}

// Problem returns a problem about the field at path, placed at that field
// or, when the file does not spell it out, at its nearest written parent.
func (d *Document) Problem(path, msg string) Problem {
	return Problem{File: d.File, Pos: d.Pos(path), Path: path, Msg: msg}
}

// Pos returns the position of path or of its nearest ancestor in the file.
func (d *Document) Pos(path string) Pos {
	for p := path; ; p = parent(p) {
		if pos, ok := d.pos[p]; ok {
			return pos
		}
		if p == "" {
			return Pos{Line: 1, Column: 1}
		}
	}
}

// parent strips the last element of a field path: a.b[0].c → a.b[0] → a.b → a → "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// Load parses, defaults and validates a loki.yaml. Its error is an *Error
// listing every problem found.
func Load(data []byte, opts Options) (*Document, error) {
	if opts.File == "" {
		opts.File = "loki.yaml"
	}
	fileProblem := func(pos Pos, format string, args ...any) error {
		return newError([]Problem{{File: opts.File, Pos: pos, Msg: fmt.Sprintf(format, args...)}})
	}
	switch {
	case len(data) > MaxInputBytes:
		return nil, fileProblem(Pos{}, "file is larger than %d bytes; a loki.yaml is a few hundred", MaxInputBytes)
	case len(bytes.TrimSpace(data)) == 0:
		return nil, fileProblem(Pos{}, "file is empty; it needs at least apiVersion, kind and spec.host")
	case !utf8.Valid(data):
		return nil, fileProblem(Pos{}, "file is not UTF-8 text")
	}

	root, err := parseOne(data)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, fileProblem(se.pos, "%s", se.msg)
		}
		return nil, fileProblem(Pos{}, "%v", err)
	}
	if root.Kind != yaml.MappingNode {
		return nil, fileProblem(posOf(root), "must be a mapping with apiVersion, kind, metadata and spec, not %s", kindName(root))
	}
	if err := checkHeader(root, opts.File); err != nil {
		return nil, err
	}

	d := newDecoder(opts.File)
	stack := v1alpha1.Default()
	d.decode(root, reflect.ValueOf(&stack).Elem(), "", nil)
	if err := newError(d.problems); err != nil {
		return nil, err
	}
	stack.Complete(opts.DefaultNamespace)
	doc := &Document{File: opts.File, Stack: stack, pos: d.pos}
	if err := doc.validate(); err != nil {
		return nil, err
	}
	return doc, nil
}

// syntaxError is a YAML syntax error with the position yaml.v3 gives (a line).
type syntaxError struct {
	pos Pos
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseOne parses exactly one YAML document and returns its root node.
func parseOne(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, &syntaxError{msg: "file is empty; it needs at least apiVersion, kind and spec.host"}
	} else if err != nil {
		return nil, toSyntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		return nil, toSyntaxError(err)
	default:
		return nil, &syntaxError{pos: Pos{Line: next.Line}, msg: "a second YAML document starts here; loki.yaml holds exactly one"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &syntaxError{msg: "file holds no YAML document"}
	}
	return doc.Content[0], nil
}

func toSyntaxError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &syntaxError{pos: Pos{Line: line}, msg: "invalid YAML: " + m[2]}
	}
	return &syntaxError{msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// checkHeader checks apiVersion and kind before anything else, so a file of
// another format or version gets one clear message instead of many.
func checkHeader(root *yaml.Node, file string) error {
	var ps []Problem
	for _, want := range []struct{ key, value string }{
		{"apiVersion", v1alpha1.APIVersion},
		{"kind", v1alpha1.Kind},
	} {
		v := lookup(root, want.key)
		switch {
		case v == nil:
			ps = append(ps, Problem{File: file, Pos: posOf(root), Path: want.key, Msg: fmt.Sprintf("required: %s: %s", want.key, want.value)})
		case v.Kind != yaml.ScalarNode || v.Value != want.value:
			msg := fmt.Sprintf("must be %q", want.value)
			if want.key == "apiVersion" && v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, v1alpha1.Group+"/") {
				msg = fmt.Sprintf("version %q is not supported by this loki-cmp; supported: %s", v.Value, v1alpha1.APIVersion)
			}
			ps = append(ps, Problem{File: file, Pos: posOf(v), Path: want.key, Msg: msg})
		}
	}
	return newError(ps)
}

// lookup returns the value node of key in a mapping node.
func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
