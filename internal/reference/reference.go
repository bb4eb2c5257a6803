// Package reference describes the loki.yaml format from its Go types: every
// field's path, type, default and documentation, read from the `json` and
// `doc` struct tags and from v1alpha1.Default(). docs/loki-yaml.md is
// rendered from it (and checked by a test), so the docs cannot drift from
// the code.
package reference

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// Field documents one field of loki.yaml.
type Field struct {
	Path    string // e.g. spec.auth.users[].name
	Type    string // string, integer, boolean, mapping, list of mappings, map of strings
	Default string // rendered default; empty when there is none
	Doc     string
}

// Fields lists every field of a LokiStack, depth first, in declaration order.
func Fields() []Field {
	var out []Field
	def := v1alpha1.Default()
	walk(reflect.TypeFor[v1alpha1.LokiStack](), reflect.ValueOf(def), "", &out)
	return out
}

func walk(t reflect.Type, def reflect.Value, prefix string, out *[]Field) {
	for _, f := range fieldsOf(t, def, prefix) {
		*out = append(*out, Field{Path: f.path, Type: typeName(f.typ), Default: defaultOf(f.def), Doc: f.doc})
		switch f.typ.Kind() {
		case reflect.Struct:
			walk(f.typ, f.def, f.path, out)
		case reflect.Slice:
			if f.typ.Elem().Kind() == reflect.Struct {
				walk(f.typ.Elem(), reflect.Value{}, f.path+"[]", out)
			}
		}
	}
}

// field is one struct field as loki.yaml sees it: its YAML name and dotted
// path, its type with any pointer removed, and its default value (invalid
// when there is none).
type field struct {
	name, path, doc string
	typ             reflect.Type
	def             reflect.Value
}

// fieldsOf lists the fields of struct type t in declaration order; def is
// t's default value, or invalid.
func fieldsOf(t reflect.Type, def reflect.Value, prefix string) []field {
	out := make([]field, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		var fd reflect.Value
		if def.IsValid() {
			fd = def.Field(i)
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
			if fd.IsValid() && fd.IsNil() {
				fd = reflect.Value{}
			} else if fd.IsValid() {
				fd = fd.Elem()
			}
		}
		out = append(out, field{name: name, path: path, doc: f.Tag.Get("doc"), typ: ft, def: fd})
	}
	return out
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Struct:
		return "mapping"
	case reflect.Map:
		return "map of strings"
	case reflect.Slice:
		return "list of " + typeName(t.Elem()) + "s"
	}
	panic("reference: no name for " + t.String())
}

// defaultOf renders a scalar or map default; structs and unset values have none.
func defaultOf(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			return ""
		}
		return "`" + v.String() + "`"
	case reflect.Int:
		return fmt.Sprint(v.Int())
	case reflect.Bool:
		return fmt.Sprint(v.Bool())
	case reflect.Map:
		if v.Len() == 0 {
			return ""
		}
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprintf("%s: %s", k, v.MapIndex(k)))
		}
		sort.Strings(parts)
		return "`{" + strings.Join(parts, ", ") + "}`"
	}
	return ""
}

// Markdown renders the field reference as the body of docs/loki-yaml.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Field | Type | Default | Description |\n|---|---|---|---|\n")
	for _, f := range Fields() {
		def := f.Default
		if def == "" {
			def = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Path, f.Type, def, strings.ReplaceAll(f.Doc, "|", "\\|"))
	}
	return b.String()
}
