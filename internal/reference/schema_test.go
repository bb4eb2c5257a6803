package reference

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/config"
)

const schemaFile = "../../docs/loki.schema.json"

// TestSchemaUpToDate fails when docs/loki.schema.json differs from the Go
// types; -update rewrites it.
func TestSchemaUpToDate(t *testing.T) {
	want := Schema()
	if *update {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/reference -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s is stale (-want +got); run go test ./internal/reference -update:\n%s", schemaFile, diff)
	}
}

// TestSchemaFormat: valid JSON, 2-space indented with sorted keys (what
// json.Indent of a re-marshalled map gives), one final newline, the same
// bytes every time, and a valid draft 2020-12 schema by the draft's own
// meta-schema.
func TestSchemaFormat(t *testing.T) {
	out := Schema()
	if !bytes.Equal(out, Schema()) {
		t.Fatal("two calls give different bytes")
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	canon, err := json.Marshal(doc) // encoding/json sorts map keys
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Indent(&want, canon, "", "  "); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	// json.Marshal escapes <, > and &; Schema does not.
	w := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(want.String())
	if diff := cmp.Diff(w, string(out)); diff != "" {
		t.Errorf("not sorted, 2-space indented JSON with one final newline (-want +got):\n%s", diff)
	}
	for k, v := range map[string]string{"$schema": SchemaDraft, "$id": SchemaID, "title": SchemaTitle, "type": "object"} {
		if doc[k] != v {
			t.Errorf("%s = %v, want %q", k, doc[k], v)
		}
	}

	c := jsonschema.NewCompiler()
	meta, err := c.Compile(SchemaDraft) // served from the library's embedded copy
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.Validate(inst); err != nil {
		t.Errorf("not a valid draft 2020-12 schema: %v", err)
	}
}

// TestSchemaCoversEveryField: the schema's properties are exactly the fields
// of the reference (docs/loki-yaml.md), with the same documentation, and
// every object is closed.
func TestSchemaCoversEveryField(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	var visit func(s map[string]any, path string)
	visit = func(s map[string]any, path string) {
		switch s["type"] {
		case "object":
			props, isStruct := s["properties"].(map[string]any)
			if !isStruct {
				if ap, _ := s["additionalProperties"].(map[string]any); ap["type"] != "string" {
					t.Errorf("%s: a map must have string values, got %v", path, s["additionalProperties"])
				}
				return
			}
			if s["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties is %v, want false (loki.yaml is strict)", path, s["additionalProperties"])
			}
			for name, p := range props {
				ps := p.(map[string]any)
				pp := name
				if path != "" {
					pp = path + "." + name
				}
				got[pp] = ps
				visit(ps, pp)
			}
		case "array":
			visit(s["items"].(map[string]any), path+"[]")
		}
	}
	visit(doc, "")

	types := map[string]string{"string": "string", "integer": "integer", "boolean": "boolean", "mapping": "object", "map of strings": "object"}
	want := map[string]bool{}
	for _, f := range Fields() {
		want[f.Path] = true
		s, ok := got[f.Path]
		if !ok {
			t.Errorf("%s: in the reference, not in the schema", f.Path)
			continue
		}
		wt := types[f.Type]
		if strings.HasPrefix(f.Type, "list of ") {
			wt = "array"
		}
		if s["type"] != wt {
			t.Errorf("%s: schema type %v, reference type %q", f.Path, s["type"], f.Type)
		}
		if s["description"] != f.Doc {
			t.Errorf("%s: description %q, doc tag %q", f.Path, s["description"], f.Doc)
		}
		if (f.Default != "") != (s["default"] != nil && s["default"] != false && s["default"] != "") && f.Type != "boolean" && f.Type != "integer" {
			t.Errorf("%s: reference default %q, schema default %v", f.Path, f.Default, s["default"])
		}
	}
	for p := range got {
		if !want[p] {
			t.Errorf("%s: in the schema, not in the reference", p)
		}
	}
}

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
)

func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	compileOnce.Do(func() {
		var doc any
		if doc, compileErr = jsonschema.UnmarshalJSON(bytes.NewReader(Schema())); compileErr != nil {
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if compileErr = c.AddResource(SchemaID, doc); compileErr != nil {
			return
		}
		compiled, compileErr = c.Compile(SchemaID)
	})
	if compileErr != nil {
		t.Fatalf("compile the schema: %v", compileErr)
	}
	return compiled
}

// validateYAML validates a YAML document against the schema. It reads YAML
// with go.yaml.in/yaml/v3, as config.Load does: YAML 1.2, like
// yaml-language-server in editors. (sigs.k8s.io/yaml reads YAML 1.1, where
// an unquoted on or yes is a boolean; loki.yaml is not read that way.)
func validateYAML(t *testing.T, data []byte) error {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("test input is not YAML: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("test input has no JSON form: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return schema(t).Validate(inst)
}

// TestExamplesValidate: every example loki.yaml is valid by the schema.
func TestExamplesValidate(t *testing.T) {
	files, err := filepath.Glob("../../testdata/examples/*/loki.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(data, config.Options{File: f}); err != nil {
			t.Errorf("%s: config.Load: %v", f, err)
		}
		if err := validateYAML(t, data); err != nil {
			t.Errorf("%s: refused by the schema: %v", f, err)
		}
	}
}

// agree checks that config.Load and the schema give the same verdict.
func agree(t *testing.T, name string, data []byte, wantValid bool) {
	t.Helper()
	_, loadErr := config.Load(data, config.Options{File: "loki.yaml"})
	schemaErr := validateYAML(t, data)
	if (loadErr == nil) != wantValid {
		t.Errorf("%s: config.Load: %v, want valid=%v\n%s", name, loadErr, wantValid, data)
	}
	if (schemaErr == nil) != wantValid {
		t.Errorf("%s: schema: %v, want valid=%v\n%s", name, schemaErr, wantValid, data)
	}
}

const minimal = `apiVersion: lokicmp.thedevops.dev/v1alpha1
kind: LokiStack
spec:
  host: loki.example.org
  auth:
    users:
      - name: admin
        password: {fromEnv: LOKI_ADMIN_PASSWORD}
`

// TestSchemaRefuses: documents the loader refuses for their shape, which the
// schema lets an editor flag while typing.
func TestSchemaRefuses(t *testing.T) {
	agree(t, "minimal", []byte(minimal), true)
	// YAML 1.2: an unquoted on is a string, for the loader and the schema.
	agree(t, "realm on", []byte(strings.Replace(minimal, "  auth:\n", "  auth:\n    realm: on\n", 1)), true)
	for _, tc := range []struct{ name, old, new, why string }{
		{"unknown field", "  host:", "  hots: x\n  host:", "at '/spec': additional properties 'hots' not allowed"},
		{"unknown nested field", "        password:", "        passwort: {fromEnv: X}\n        password:", "additional properties 'passwort' not allowed"},
		{"literal password", "{fromEnv: LOKI_ADMIN_PASSWORD}", "hunter2", "at '/spec/auth/users/0/password': got string, want object"},
		{"fromEnv and fromVault", "{fromEnv: LOKI_ADMIN_PASSWORD}", "{fromEnv: A, fromVault: {path: secret/loki/x, key: admin}}", "maxProperties: got 2, want 1"},
		{"empty reference", "{fromEnv: LOKI_ADMIN_PASSWORD}", "{}", "minProperties: got 0, want 1"},
		{"password and htpasswd", "        password:", "        htpasswd: {fromEnv: H}\n        password:", "at '/spec/auth/users/0': 'oneOf' failed"},
		{"wrong type: list for string", "host: loki.example.org", "host: [loki.example.org]", "at '/spec/host': got array, want string"},
		{"wrong type: number for string", "host: loki.example.org", "host: 12.5", "at '/spec/host': got number, want string"},
		{"wrong type: string for integer", "  auth:\n", "  auth:\n    bcryptCost: \"10\"\n", "at '/spec/auth/bcryptCost': got string, want integer"},
		{"wrong type: string for boolean", "  auth:\n", "  collector: {enabled: \"yes\"}\n  auth:\n", "at '/spec/collector/enabled': got string, want boolean"},
		{"bad enum", "  auth:\n", "  tls: {mode: secret}\n  auth:\n", "at '/spec/tls/mode': value must be one of 'certificate', 'annotation'"},
		{"bad collector", "  auth:\n", "  collector: {type: fluentbit}\n  auth:\n", "at '/spec/collector/type': value must be one of"},
		{"bcrypt cost too high", "  auth:\n", "  auth:\n    bcryptCost: 15\n", "maximum: got 15, want 14"},
		{"wrong apiVersion", "v1alpha1", "v1beta1", "at '/apiVersion': value must be 'lokicmp.thedevops.dev/v1alpha1'"},
		{"wrong kind", "kind: LokiStack", "kind: Loki", "at '/kind': value must be 'LokiStack'"},
		{"no host", "  host: loki.example.org\n", "", "at '/spec': missing property 'host'"},
		{"no users", "    users:\n      - name: admin\n        password: {fromEnv: LOKI_ADMIN_PASSWORD}\n", "    users: []\n", "minItems: got 0, want 1"},
		{"label value not a string", "  auth:\n", "  commonLabels: {team: [a]}\n  auth:\n", "at '/spec/commonLabels/team': got array, want string"},
	} {
		if !strings.Contains(minimal, tc.old) {
			t.Fatalf("%s: %q not in the minimal document", tc.name, tc.old)
		}
		data := []byte(strings.Replace(minimal, tc.old, tc.new, 1))
		if _, err := config.Load(data, config.Options{}); err == nil {
			t.Errorf("%s: config.Load accepts it", tc.name)
		}
		if err := validateYAML(t, data); err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: schema says %v, want %q", tc.name, err, tc.why)
		}
	}
}

// A test document: a whole loki.yaml and, inside it, the object of the type
// a rule is about.
type context func() (doc, obj map[string]any)

func baseDoc() map[string]any {
	return map[string]any{
		"apiVersion": v1alpha1.APIVersion,
		"kind":       v1alpha1.Kind,
		"spec": map[string]any{
			"host": "loki.example.org",
			"auth": map[string]any{"users": []any{
				map[string]any{"name": "admin", "password": map[string]any{"fromEnv": "LOKI_ADMIN_PASSWORD"}},
			}},
		},
	}
}

// at returns the mapping at keys under m, creating it where missing.
func at(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m
}

func user0(doc map[string]any) map[string]any {
	return at(doc, "spec", "auth")["users"].([]any)[0].(map[string]any)
}

// simpleScalable turns doc into a valid simple-scalable stack.
func simpleScalable(doc map[string]any) {
	spec := at(doc, "spec")
	spec["mode"] = v1alpha1.ModeSimpleScalable
	at(spec, "simpleScalable")["confirm"] = v1alpha1.ConfirmNewInstall
	os := at(spec, "objectStorage")
	os["accessKeyID"] = map[string]any{"fromEnv": "S3_ACCESS_KEY_ID"}
	os["secretAccessKey"] = map[string]any{"fromEnv": "S3_SECRET_ACCESS_KEY"}
}

// tenancy switches tenancy on, with what it then requires.
func tenancy(doc map[string]any) {
	spec := at(doc, "spec")
	at(spec, "tenancy")["enabled"] = true
	at(spec, "tenancy")["confirm"] = v1alpha1.ConfirmNewInstall
	at(spec, "collector")["tenant"] = "platform"
	at(spec, "monitoring", "grafanaDatasource")["tenants"] = []any{"admin"}
}

// contexts place an object of each type that has rules in a valid document.
var contexts = map[reflect.Type]context{
	reflect.TypeFor[v1alpha1.LokiStack](): func() (map[string]any, map[string]any) { d := baseDoc(); return d, d },
	reflect.TypeFor[v1alpha1.Spec]():      func() (map[string]any, map[string]any) { d := baseDoc(); return d, at(d, "spec") },
	reflect.TypeFor[v1alpha1.TLS]():       func() (map[string]any, map[string]any) { d := baseDoc(); return d, at(d, "spec", "tls") },
	reflect.TypeFor[v1alpha1.ACME](): func() (map[string]any, map[string]any) {
		d := baseDoc()
		a := at(d, "spec", "tls", "acme")
		a["email"] = "ops@example.org"
		return d, a
	},
	reflect.TypeFor[v1alpha1.Auth]():      func() (map[string]any, map[string]any) { d := baseDoc(); return d, at(d, "spec", "auth") },
	reflect.TypeFor[v1alpha1.User]():      func() (map[string]any, map[string]any) { d := baseDoc(); return d, user0(d) },
	reflect.TypeFor[v1alpha1.SecretRef](): func() (map[string]any, map[string]any) { d := baseDoc(); return d, at(user0(d), "password") },
	reflect.TypeFor[v1alpha1.VaultRef](): func() (map[string]any, map[string]any) {
		d := baseDoc()
		v := map[string]any{"path": "secret/loki/basic-auth", "key": "admin"}
		user0(d)["password"] = map[string]any{"fromVault": v}
		return d, v
	},
	reflect.TypeFor[v1alpha1.Collector](): func() (map[string]any, map[string]any) { d := baseDoc(); return d, at(d, "spec", "collector") },
	reflect.TypeFor[v1alpha1.SimpleScalable](): func() (map[string]any, map[string]any) {
		d := baseDoc()
		simpleScalable(d)
		return d, at(d, "spec", "simpleScalable")
	},
	reflect.TypeFor[v1alpha1.Tenancy](): func() (map[string]any, map[string]any) {
		d := baseDoc()
		tenancy(d)
		return d, at(d, "spec", "tenancy")
	},
	reflect.TypeFor[v1alpha1.Target](): func() (map[string]any, map[string]any) {
		d := baseDoc()
		simpleScalable(d)
		return d, at(d, "spec", "simpleScalable", "write")
	},
}

// prepare adjusts a document for a value that needs company: mode
// simple-scalable needs its confirmation and object storage keys.
func prepare(doc map[string]any, k fieldKey, v any) {
	if k == key[v1alpha1.Spec]("mode") && v == v1alpha1.ModeSimpleScalable {
		simpleScalable(doc)
	}
}

func marshal(t *testing.T, doc map[string]any) []byte {
	t.Helper()
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFieldRulesAgreeWithLoader: every value a rule allows is accepted by
// config.Load, and a value just outside is refused, by both.
func TestFieldRulesAgreeWithLoader(t *testing.T) {
	for k, rules := range fieldRules {
		if _, ok := k.Type.FieldByNameFunc(func(n string) bool { return jsonName(k.Type, n) == k.Field }); !ok {
			t.Errorf("rule for %s.%s: no such field", k.Type.Name(), k.Field)
			continue
		}
		ctx, ok := contexts[k.Type]
		if !ok {
			t.Errorf("rule for %s.%s: no test context for %s", k.Type.Name(), k.Field, k.Type.Name())
			continue
		}
		try := func(v any, valid bool) {
			doc, obj := ctx()
			obj[k.Field] = v
			prepare(doc, k, v)
			agree(t, fmt.Sprintf("%s.%s = %#v", k.Type.Name(), k.Field, v), marshal(t, doc), valid)
		}
		keep := func(valid bool, change func(any) any) {
			doc, obj := ctx()
			v, present := obj[k.Field]
			if !present {
				t.Errorf("rule for %s.%s: the test context lacks the field", k.Type.Name(), k.Field)
				return
			}
			agree(t, fmt.Sprintf("%s.%s kept", k.Type.Name(), k.Field), marshal(t, doc), true)
			doc, obj = ctx()
			obj[k.Field] = change(v)
			agree(t, fmt.Sprintf("%s.%s changed", k.Type.Name(), k.Field), marshal(t, doc), valid)
		}
		for kw, val := range rules {
			switch kw {
			case "const":
				try(val, true)
				try(fmt.Sprint(val)+"x", false)
			case "enum":
				values := val.([]any)
				for _, v := range values {
					try(v, true)
				}
				if n, isInt := values[len(values)-1].(int); isInt {
					try(n+1, false)
				} else {
					try("bogus", false)
				}
			case "minimum":
				try(val, true)
				try(val.(int)-1, false)
			case "maximum":
				try(val, true)
				try(val.(int)+1, false)
			case "minItems":
				if val != 1 {
					t.Errorf("no test for minItems %v", val)
				}
				keep(false, func(any) any { return []any{} })
			case "minLength":
				if val != 1 {
					t.Errorf("no test for minLength %v", val)
				}
				keep(false, func(any) any { return "" })
			default:
				t.Errorf("rule for %s.%s: no test for keyword %q", k.Type.Name(), k.Field, kw)
			}
		}
	}
}

// TestTypeRulesAgreeWithLoader: leaving out a required field is refused,
// and so are both or neither of password and htpasswd, fromEnv and fromVault.
func TestTypeRulesAgreeWithLoader(t *testing.T) {
	for typ, rules := range typeRules {
		ctx, ok := contexts[typ]
		if !ok {
			t.Errorf("rules for %s: no test context", typ.Name())
			continue
		}
		doc, _ := ctx()
		agree(t, typ.Name()+" context", marshal(t, doc), true)
		kws := make([]string, 0, len(rules))
		for kw := range rules {
			kws = append(kws, kw)
		}
		sort.Strings(kws)
		for _, kw := range kws {
			switch {
			case kw == "required":
				for _, f := range rules[kw].([]string) {
					doc, obj := ctx()
					if _, ok := obj[f]; !ok {
						t.Errorf("%s: the test context lacks required %s", typ.Name(), f)
					}
					delete(obj, f)
					agree(t, typ.Name()+" without "+f, marshal(t, doc), false)
				}
			case typ == reflect.TypeFor[v1alpha1.User]() && kw == "oneOf":
				doc, obj := ctx()
				obj["htpasswd"] = map[string]any{"fromEnv": "HASH"}
				agree(t, "password and htpasswd", marshal(t, doc), false)
				delete(obj, "password")
				agree(t, "htpasswd only", marshal(t, doc), true)
				delete(obj, "htpasswd")
				agree(t, "neither password nor htpasswd", marshal(t, doc), false)
			case typ == reflect.TypeFor[v1alpha1.SecretRef]() && (kw == "minProperties" || kw == "maxProperties"):
				doc, obj := ctx()
				obj["fromVault"] = map[string]any{"path": "secret/loki/basic-auth", "key": "admin"}
				agree(t, "fromEnv and fromVault", marshal(t, doc), false)
				delete(obj, "fromEnv")
				agree(t, "fromVault only", marshal(t, doc), true)
				delete(obj, "fromVault")
				agree(t, "no source", marshal(t, doc), false)
			case kw == "title": // an annotation: no verdict to compare
			default:
				t.Errorf("rules for %s: no test for keyword %q", typ.Name(), kw)
			}
		}
	}
}

func jsonName(t reflect.Type, goName string) string {
	f, _ := t.FieldByName(goName)
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// TestRequiredNamesExist: a renamed field must not leave a required
// keyword naming a property that no longer exists.
func TestRequiredNamesExist(t *testing.T) {
	for typ, rules := range typeRules {
		var names []string
		for i := 0; i < typ.NumField(); i++ {
			names = append(names, jsonName(typ, typ.Field(i).Name))
		}
		req, _ := rules["required"].([]string)
		for _, r := range req {
			if !slices.Contains(names, r) {
				t.Errorf("%s: required %q is not a field (%v)", typ.Name(), r, names)
			}
		}
	}
}
