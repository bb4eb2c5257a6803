package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/thedevops/loki-cmp/internal/field"
)

// maxNodes bounds the work spent on one file, counting every node visited,
// aliases included: a "billion laughs" file fails after maxNodes steps instead
// of expanding without end.
const maxNodes = 20000

// scalarHinter is implemented by types that must never be written as a plain
// scalar (secret references); the hint replaces the usual type error and the
// value is never echoed.
type scalarHinter interface{ ScalarHint(path string) string }

// decoder decodes a yaml.Node tree onto a Go value using the json tags, the
// way encoding/json would, but strictly: unknown and duplicate keys, wrong
// types and anchors that expand too far are problems with positions. Values
// are never copied into messages, since any of them might be a secret typed
// into the wrong field.
type decoder struct {
	file     string // names the source in messages
	pos      map[string]location
	problems []Problem
	budget   int
	// lenient accepts any scalar for a string field and parses integers
	// and booleans from their text: Argo CD parameters are all strings.
	lenient bool
	// only, if set, limits recorded positions to this path and below: an
	// override must not move the position of the parents it passes through.
	only string
}

// location is where a field's value came from.
type location struct {
	file string
	pos  Pos
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]location{}, budget: maxNodes}
}

var hinterType = reflect.TypeFor[scalarHinter]()

// spend counts one node against the budget and reports, once, when it runs out.
func (d *decoder) spend(n *yaml.Node) bool {
	d.budget--
	if d.budget == -1 {
		d.fail(n, field.Path{}, field.Invalid, "the file expands to more than %d YAML nodes (through anchors and aliases?); refusing to read further", maxNodes)
	}
	return d.budget >= 0
}

func (d *decoder) fail(n *yaml.Node, path field.Path, typ field.ErrorType, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.file, Pos: posOf(n), Path: path, Type: typ, Msg: fmt.Sprintf(format, args...)})
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// decode decodes n onto v, which must be settable. path names v; key is
// the mapping key that introduced n, if any.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path field.Path, key *yaml.Node) {
	for n.Kind == yaml.AliasNode {
		if !d.spend(n) {
			return
		}
		n = n.Alias
	}
	if !d.spend(n) {
		return
	}
	// Problems with a value point at the value; problems with a missing
	// field inside a mapping or list point at the key that opens it.
	if p := path.String(); d.only == "" || p == d.only || strings.HasPrefix(p, d.only+".") || strings.HasPrefix(p, d.only+"[") {
		d.pos[p] = location{d.file, posOf(n)}
		if n.Kind != yaml.ScalarNode && key != nil {
			d.pos[p] = location{d.file, posOf(key)}
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value keeps the default
	}
	if n.Kind == yaml.ScalarNode && v.Type().Implements(hinterType) {
		d.fail(n, path, field.Forbidden, "%s", v.Interface().(scalarHinter).ScalarHint(path.String()))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path, key)
	case reflect.String:
		if s, ok := d.scalar(n, path, "!!str", "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path, "!!bool", "a boolean (true or false)"); ok {
			b, err := strconv.ParseBool(s)
			if err != nil {
				d.fail(n, path, field.Invalid, "must be a boolean (true or false)")
				return
			}
			v.SetBool(b)
		}
	case reflect.Int:
		if s, ok := d.scalar(n, path, "!!int", "an integer"); ok {
			i, err := strconv.ParseInt(s, 0, 32)
			if err != nil {
				d.fail(n, path, field.Invalid, "must be an integer between %d and %d", -1<<31, 1<<31-1)
				return
			}
			v.SetInt(i)
		}
	default:
		// TestDecoderHandlesEveryFieldKind keeps this from happening: it
		// walks the API types and fails on a kind not handled above.
		d.fail(n, path, field.NotSupported, "loki-cmp cannot read a field of type %s (a bug in loki-cmp; please report it)", v.Type())
	}
}

// decodedKinds are the kinds decode handles; map keys must be strings.
var decodedKinds = map[reflect.Kind]bool{
	reflect.Struct: true, reflect.Map: true, reflect.Slice: true, reflect.Pointer: true,
	reflect.String: true, reflect.Bool: true, reflect.Int: true,
}

// scalar returns the value of a scalar with the wanted tag.
func (d *decoder) scalar(n *yaml.Node, path field.Path, tag, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, field.TypeInvalid, "must be %s, not %s", what, kindName(n))
		return "", false
	}
	if d.lenient && n.Tag == "" {
		return n.Value, true
	}
	if got := n.ShortTag(); got != tag {
		msg := "must be " + what + ", not " + tagName(got)
		if tag == "!!str" {
			msg = stringHint(path, got, msg)
		}
		d.fail(n, path, field.TypeInvalid, "%s", msg)
		return "", false
	}
	return n.Value, true
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path field.Path) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, field.TypeInvalid, "must be a mapping, not %s", kindName(n))
		return
	}
	fields := jsonFields(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		idx, known := fields[key]
		if !known {
			msg := fmt.Sprintf("unknown field %q", key)
			if s := suggest(key, fields); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			d.fail(k, path.Child(key), field.NotSupported, "%s", msg)
			continue
		}
		d.decode(val, v.Field(idx), path.Child(key), k)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path field.Path) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, field.TypeInvalid, "must be a mapping, not %s", kindName(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		p := path.Key(key)
		d.decode(val, elem, p, k)
		if val.ShortTag() == "!!null" {
			d.fail(val, p, field.Required, "must have a value")
		}
		m.SetMapIndex(reflect.ValueOf(key), elem)
	}
	v.Set(m) // a mapping in the file replaces the default one
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path field.Path) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, field.TypeInvalid, "must be a list, not %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), path.Index(i), nil)
	}
	v.Set(s)
}

// key checks one mapping key: a plain string, not seen before in this mapping.
func (d *decoder) key(k *yaml.Node, path field.Path, seen map[string]*yaml.Node) (string, bool) {
	if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
		if k.ShortTag() == "!!merge" {
			d.fail(k, path, field.NotSupported, "merge keys (<<) are not supported")
		} else {
			d.fail(k, path, field.TypeInvalid, "keys must be strings, not %s", kindName(k))
		}
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		d.fail(k, path.Child(k.Value), field.Duplicate, "duplicate key (first at line %d)", first.Line)
		return "", false
	}
	seen[k.Value] = k
	return k.Value, true
}

// jsonFields maps the json names of t's fields to their indexes.
func jsonFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return tagName(n.ShortTag())
	}
	return "an alias"
}

func tagName(tag string) string {
	switch tag {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "empty"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return "a value tagged " + strconv.Quote(tag)
}

// suggest returns the known field closest to key, if it is close enough to
// be a typo.
func suggest(key string, fields map[string]int) string {
	best, bestDist := "", len(key)/2+2
	for f := range fields {
		if dist := levenshtein(strings.ToLower(key), strings.ToLower(f)); dist < bestDist || (dist == bestDist && f < best) {
			best, bestDist = f, dist
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// stringHint is the message for a number or boolean where a string
// belongs. Quoting is the fix for most fields, but a bare number where a
// size or a duration belongs is missing its unit: quoted, 10 would be 10
// bytes, and "744" is no Loki duration.
func stringHint(p field.Path, got, msg string) string {
	if got == "!!int" || got == "!!float" {
		path := p.String()
		switch {
		case strings.HasSuffix(path, ".size") || strings.HasSuffix(path, ".memory"):
			return "must be a size with a unit, e.g. 10Gi or 512Mi, not a bare number (which would be bytes)"
		case strings.HasSuffix(path, ".retention") || strings.HasSuffix(path, ".interval"):
			return "must be a duration with a unit, e.g. 744h, 31d or 30s, not a bare number"
		}
	}
	return msg + " (put the value in quotes)"
}
