package reference

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/htpasswd"
)

// Identity of the JSON Schema of loki.yaml.
const (
	// SchemaDraft is the JSON Schema dialect the schema is written in.
	SchemaDraft = "https://json-schema.org/draft/2020-12/schema"
	// SchemaID is where the schema of this format version is published
	// (and its name, whether or not it is fetched from there).
	SchemaID = "https://lokicmp.thedevops.dev/schemas/" + v1alpha1.Version + "/loki.schema.json"
	// SchemaTitle names it in editors.
	SchemaTitle = "loki.yaml (" + v1alpha1.Kind + " " + v1alpha1.APIVersion + ")"
)

// What the Go types alone cannot say: the fixed sets, bounds and "exactly
// one of" rules that package config enforces. Each entry is checked against
// config.Load by schema_test.go (a value inside is accepted, one outside is
// refused), so the schema cannot claim a rule the loader does not have.

// fieldKey names one field: the Go struct type and the field's json name.
// Keyed by type rather than path, a rule follows the type wherever it is
// used (a VaultRef sits under four different paths).
type fieldKey struct {
	Type  reflect.Type
	Field string
}

func key[T any](field string) fieldKey { return fieldKey{reflect.TypeFor[T](), field} }

// fieldRules are JSON Schema keywords added to one field's schema.
var fieldRules = map[fieldKey]map[string]any{
	key[v1alpha1.LokiStack]("apiVersion"): {"const": v1alpha1.APIVersion},
	key[v1alpha1.LokiStack]("kind"):       {"const": v1alpha1.Kind},
	key[v1alpha1.Spec]("mode"):            {"enum": []any{v1alpha1.ModeSingleBinary, v1alpha1.ModeSimpleScalable}},
	key[v1alpha1.TLS]("mode"):             {"enum": anys(v1alpha1.TLSModes)},
	key[v1alpha1.Auth]("bcryptCost"):      {"minimum": htpasswd.MinCost, "maximum": htpasswd.MaxCost},
	key[v1alpha1.Auth]("users"):           {"minItems": 1},
	key[v1alpha1.VaultRef]("version"):     {"minimum": 0},
	key[v1alpha1.VaultRef]("kvVersion"):   {"enum": []any{0, 1, 2}},
	key[v1alpha1.SimpleScalable]("confirm"): {"enum": []any{
		v1alpha1.ConfirmNewInstall, v1alpha1.ConfirmMigratedFrom1,
	}},
	key[v1alpha1.Tenancy]("confirm"): {"enum": []any{
		v1alpha1.ConfirmNewInstall, v1alpha1.ConfirmMigratedFromSingleTenant,
	}},
	key[v1alpha1.Target]("replicas"):   {"minimum": 1, "maximum": 100},
	key[v1alpha1.Collector]("type"):    {"enum": anys(v1alpha1.CollectorTypes())},
	key[v1alpha1.ACME]("email"):        {"minLength": 1},
	key[v1alpha1.User]("name"):         {"minLength": 1},
	key[v1alpha1.Spec]("host"):         {"minLength": 1},
	key[v1alpha1.VaultRef]("path"):     {"minLength": 1},
	key[v1alpha1.VaultRef]("key"):      {"minLength": 1},
	key[v1alpha1.SecretRef]("fromEnv"): {"minLength": 1},
}

func anys(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// typeRules are JSON Schema keywords added to the schema of every value of
// one struct type.
var typeRules = map[reflect.Type]map[string]any{
	reflect.TypeFor[v1alpha1.LokiStack](): {"required": []string{"apiVersion", "kind", "spec"}},
	reflect.TypeFor[v1alpha1.Spec]():      {"required": []string{"host", "auth"}},
	reflect.TypeFor[v1alpha1.Auth]():      {"required": []string{"users"}},
	// A user has either password or htpasswd.
	reflect.TypeFor[v1alpha1.User](): {
		"required": []string{"name"},
		"oneOf":    []any{map[string]any{"required": []string{"password"}}, map[string]any{"required": []string{"htpasswd"}}},
	},
	// A secret reference names exactly one source, and is never a plain
	// value (its type is object: a literal password is not a reference).
	// The title is what editors put in "Incorrect type. Expected ...".
	reflect.TypeFor[v1alpha1.SecretRef](): {
		"minProperties": 1, "maxProperties": 1,
		"title": "a reference, never the secret itself: {fromEnv: NAME} or {fromVault: {path: PATH, key: KEY}}",
	},
	reflect.TypeFor[v1alpha1.VaultRef](): {"required": []string{"path", "key"}},
	reflect.TypeFor[v1alpha1.ACME]():     {"required": []string{"email"}},
}

// Schema returns the JSON Schema (draft 2020-12) of loki.yaml, generated
// from the Go types like the field reference: types from the fields' Go
// types, descriptions from the `doc` tags, defaults from v1alpha1.Default(),
// and additionalProperties false everywhere, since loki.yaml is strict. The
// output is 2-space indented JSON with sorted keys and a final newline, the
// same bytes for the same types.
func Schema() []byte {
	root := schemaOf(reflect.TypeFor[v1alpha1.LokiStack](), reflect.ValueOf(v1alpha1.Default()), "")
	root["$schema"] = SchemaDraft
	root["$id"] = SchemaID
	root["title"] = SchemaTitle
	root["description"] = "One Grafana Loki stack, rendered into Kubernetes manifests by loki-cmp. Every field: docs/loki-yaml.md."
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // descriptions hold <name>, & and the like
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic("reference: " + err.Error()) // only maps, slices, strings, numbers and booleans
	}
	return b.Bytes()
}

// schemaOf returns the schema of a value of type t, whose default is def
// (invalid when there is none). path names it as Fields does.
func schemaOf(t reflect.Type, def reflect.Value, path string) map[string]any {
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Map:
		if t.Key().Kind() != reflect.String || t.Elem().Kind() != reflect.String {
			panic("reference: no schema for " + t.String() + " at " + path)
		}
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), reflect.Value{}, path+"[]")}
	case reflect.Struct:
		return structSchema(t, def, path)
	}
	panic("reference: no schema for " + t.String() + " at " + path)
}

func structSchema(t reflect.Type, def reflect.Value, path string) map[string]any {
	props := map[string]any{}
	for _, f := range fieldsOf(t, def, path) {
		s := schemaOf(f.typ, f.def, f.path)
		if f.doc != "" {
			s["description"] = f.doc
		}
		if d, ok := schemaDefault(f.def); ok {
			s["default"] = d
		}
		merge(s, fieldRules[fieldKey{t, f.name}], f.path)
		props[f.name] = s
	}
	s := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	merge(s, typeRules[t], path)
	return s
}

// merge adds rule keywords to s; a keyword the walker already set is a bug
// in the rule tables.
func merge(s, rules map[string]any, path string) {
	for k, v := range rules {
		if _, dup := s[k]; dup {
			panic(fmt.Sprintf("reference: schema rule %q at %s would replace a generated keyword", k, path))
		}
		s[k] = v
	}
}

// schemaDefault returns a scalar or map default, as in the field reference:
// non-empty strings and maps, integers and booleans wherever Default()
// reaches.
func schemaDefault(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, false
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), v.String() != ""
	case reflect.Int:
		return v.Int(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Map:
		if v.Len() == 0 {
			return nil, false
		}
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[k.String()] = v.MapIndex(k).String()
		}
		return m, true
	}
	return nil, false
}
