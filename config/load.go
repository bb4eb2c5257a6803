package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
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
	// Overrides are applied after the file, in order, with the same checks
	// (under Argo CD: the Application's parameters).
	Overrides []Override
}

// Override sets one field from outside the file.
type Override struct {
	// Source names the override in messages, e.g. `Argo CD parameter "host"`.
	Source string
	// Path is the field, e.g. spec.storage.size: field names only.
	Path field.Path
	// Value is a string (for string, integer and boolean fields), a
	// []string or a map[string]string, as Argo CD sends parameters.
	Value any
}

// node builds the YAML tree that sets o.Value at o.Path. Scalars are left
// untagged: the lenient decoder reads their text for the target's type.
func (o Override) node() *yaml.Node {
	var leaf *yaml.Node
	switch v := o.Value.(type) {
	case string:
		leaf = &yaml.Node{Kind: yaml.ScalarNode, Value: v}
	case []string:
		leaf = &yaml.Node{Kind: yaml.SequenceNode}
		for _, s := range v {
			leaf.Content = append(leaf.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s})
		}
	case map[string]string:
		leaf = &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			leaf.Content = append(leaf.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
				&yaml.Node{Kind: yaml.ScalarNode, Value: v[k]})
		}
	default:
		panic(fmt.Sprintf("config: override value of type %T", o.Value))
	}
	parts, ok := o.Path.Names()
	if !ok {
		panic(fmt.Sprintf("config: override of %s, which is not a path of field names", o.Path))
	}
	for i := len(parts) - 1; i >= 0; i-- {
		leaf = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: parts[i]}, leaf,
		}}
	}
	return leaf
}

// Document is a loaded, defaulted and valid loki.yaml.
type Document struct {
	File  string
	Stack v1alpha1.LokiStack
	// Warnings are things that work but are probably not meant (a cost
	// near Argo CD's timeout). The CLI prints them; they never fail a run.
	Warnings []Problem
	pos      map[string]location
}

// Problem returns a problem of type typ about the field at path, placed at
// that field or, when the file does not spell it out, at its nearest
// written parent (or at the override that set it).
func (d *Document) Problem(path field.Path, typ field.ErrorType, msg string) Problem {
	loc := d.locate(path)
	return Problem{File: loc.file, Pos: loc.pos, Path: path, Type: typ, Msg: msg}
}

// locate returns where path or its nearest ancestor was written.
func (d *Document) locate(path field.Path) location {
	for p := path; ; p = p.Parent() {
		if loc, ok := d.pos[p.String()]; ok {
			return loc
		}
		if p.Root() {
			return location{d.File, Pos{Line: 1, Column: 1}}
		}
	}
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
	if line, ok := binaryLine(data); ok {
		return nil, fileProblem(Pos{Line: line}, "file holds binary data (a NUL or other control byte); loki.yaml is YAML text")
	}
	if isJSON(data) {
		return nil, fileProblem(Pos{Line: 1, Column: 1}, "file is JSON; loki.yaml is YAML (block style, as in docs/loki-yaml.md), so that it can carry comments and stay readable in review")
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
	d.decode(root, reflect.ValueOf(&stack).Elem(), field.Path{}, nil)
	for _, o := range opts.Overrides {
		od := &decoder{file: o.Source, pos: d.pos, budget: maxNodes, lenient: true, only: o.Path.String()}
		od.decode(o.node(), reflect.ValueOf(&stack).Elem(), field.Path{}, nil)
		d.problems = append(d.problems, od.problems...)
	}
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

// binaryLine finds the first control byte other than tab, CR and LF.
func binaryLine(data []byte) (int, bool) {
	line := 1
	for _, c := range data {
		switch {
		case c == '\n':
			line++
		case c < 0x20 && c != '\t' && c != '\r', c == 0x7f:
			return line, true
		}
	}
	return 0, false
}

// isJSON reports whether the document starts like a JSON object: the first
// character that is not whitespace or part of a comment is "{".
func isJSON(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) {
			continue
		}
		return t[0] == '{'
	}
	return false
}

// parseOne parses exactly one YAML document and returns its root node.
// Empty documents around it are skipped: kubectl and helm end their output
// with a "---" line, and an editor may leave one at the top.
func parseOne(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root *yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		switch {
		case err == io.EOF && root == nil:
			return nil, &syntaxError{msg: "file is empty; it needs at least apiVersion, kind and spec.host"}
		case err == io.EOF:
			return root, nil
		case err != nil:
			return nil, toSyntaxError(err, data)
		case emptyDocument(&doc):
			continue
		case root != nil:
			return nil, &syntaxError{pos: Pos{Line: doc.Line, Column: 1}, msg: "a second YAML document starts here; loki.yaml holds exactly one"}
		}
		root = doc.Content[0]
	}
}

// emptyDocument reports whether a document holds nothing: no node, or an
// untagged null written as nothing at all.
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return len(doc.Content) == 1 && n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" && n.Style == 0
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
			ps = append(ps, Problem{File: file, Pos: posOf(root), Path: field.NewPath(want.key), Type: field.Required, Msg: fmt.Sprintf("required: %s: %s", want.key, want.value)})
		case v.Kind != yaml.ScalarNode || v.Value != want.value:
			msg := fmt.Sprintf("must be %q", want.value)
			if want.key == "apiVersion" && v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, v1alpha1.Group+"/") {
				msg = fmt.Sprintf("version %q is not supported by this loki-cmp; supported: %s", v.Value, v1alpha1.APIVersion)
			}
			ps = append(ps, Problem{File: file, Pos: posOf(v), Path: field.NewPath(want.key), Type: field.NotSupported, Msg: msg})
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
