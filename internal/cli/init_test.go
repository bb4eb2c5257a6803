package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/internal/reference"
)

func noEnv(string) (string, bool) { return "", false }

// starterFor runs init -f - and returns the file it prints.
func starterFor(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := run(t, noEnv, append([]string{"init", "-f", "-"}, args...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("init %v: exit %d: %s", args, code, stderr)
	}
	return stdout
}

// TestInitWritesAWorkingFile: the starter loads, holds the chosen values and
// Alloy as collector, and renders with generate --dry-run.
func TestInitWritesAWorkingFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "loki.yaml")
	stdout, stderr, code := run(t, noEnv, "init", "--host", "logs.example.net", "--name", "logs", "--namespace", "observability", "--password-env", "OPS_PASSWORD", "-f", file)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, file+": written (LokiStack \"logs\" in namespace \"observability\", host logs.example.net)\n") {
		t.Errorf("stdout = %q", stdout)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	doc, err := config.Load(data, config.Options{})
	if err != nil {
		t.Fatalf("the starter does not load: %v", err)
	}
	s := doc.Stack
	for _, c := range [][2]string{
		{s.Metadata.Name, "logs"}, {s.Metadata.Namespace, "observability"}, {s.Spec.Host, "logs.example.net"},
		{s.Spec.Auth.Users[0].Name, "admin"}, {s.Spec.Auth.Users[0].Password.FromEnv, "OPS_PASSWORD"},
		{s.Spec.Collector.Type, v1alpha1.CollectorAlloy},
	} {
		if c[0] != c[1] {
			t.Errorf("loaded %q, want %q", c[0], c[1])
		}
	}
	if !strings.Contains(string(data), "\n  collector:\n    type: alloy\n") {
		t.Error("the starter does not choose Alloy in so many words")
	}
	out, stderr, code := run(t, noEnv, "generate", "--dry-run", "-f", file)
	if code != 0 {
		t.Fatalf("generate --dry-run: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"kind: StatefulSet", "- host: logs.example.net", "namespace: observability"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered manifests lack %q", want)
		}
	}
	if _, _, code := run(t, noEnv, "validate", "-f", file); code != 0 {
		t.Errorf("validate: exit %d", code)
	}
}

// TestInitStarterShape: the editor line comes first and points at the
// schema file that 'loki-cmp schema' writes; every placeholder is filled;
// defaults and the Vault form are there to uncomment; the file is valid by
// the schema's rules for the fields it sets (the schema test checks that).
func TestInitStarterShape(t *testing.T) {
	out := starterFor(t, "--host", "loki.example.org")
	first, _, _ := strings.Cut(out, "\n")
	if first != "# yaml-language-server: $schema=loki.schema.json" {
		t.Errorf("first line %q", first)
	}
	if !strings.Contains(out, "loki-cmp schema > loki.schema.json") {
		t.Error("the starter does not say how to write the schema")
	}
	if regexp.MustCompile(`__[A-Z_]+__`).MatchString(out) {
		t.Errorf("placeholder left: %s", out)
	}
	for _, p := range []string{"__NAME__", "__NAMESPACE__", "__HOST__", "__PASSWORD_ENV__"} {
		if n := strings.Count(starter, p); n != 1 {
			t.Errorf("%s appears %d times in starter.yaml, want once", p, n)
		}
	}
	if !strings.Contains(out, "# password: {fromVault: {path: secret/loki/basic-auth, key: admin}}") {
		t.Error("the Vault form is missing")
	}
	if !strings.HasSuffix(out, "\n") || strings.Contains(out, "\t") {
		t.Error("the starter must end in a newline and hold no tabs")
	}
}

// commentedYAML matches a commented-out field: "# " where the field's
// indentation would start, then a key (not prose, not a nested comment).
var commentedYAML = regexp.MustCompile(`^(\s*)# (\s*[a-zA-Z]+:(\s.*)?)$`)

// uncommentDefaults uncomments every commented-out field of the starter
// except the alternative password source.
func uncommentDefaults(t *testing.T, starter string) string {
	t.Helper()
	lines := strings.Split(starter, "\n")
	uncommented := 0
	for i, l := range lines {
		m := commentedYAML.FindStringSubmatch(l)
		if m == nil || strings.Contains(l, "fromVault") {
			continue
		}
		lines[i] = m[1] + m[2]
		uncommented++
	}
	if uncommented < 20 {
		t.Fatalf("only %d commented-out fields found", uncommented)
	}
	return strings.Join(lines, "\n")
}

// TestInitStarterMatchesSchema: the file, as written and with its defaults
// uncommented, raises no complaint in an editor that uses the schema.
func TestInitStarterMatchesSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(reference.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(reference.SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(reference.SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	out := starterFor(t, "--host", "loki.example.org")
	for name, text := range map[string]string{"as written": out, "defaults uncommented": uncommentDefaults(t, out)} {
		var v any
		if err := yaml.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestInitCommentedDefaultsAreDefaults uncomments every commented-out field
// of the starter and checks that the stack is the same: the defaults it shows are the real ones, under the
// real keys. When a default changes, change starter.yaml with it.
func TestInitCommentedDefaultsAreDefaults(t *testing.T) {
	out := starterFor(t, "--host", "loki.example.org")
	full := uncommentDefaults(t, out)
	plain, err := config.Load([]byte(out), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	withDefaults, err := config.Load([]byte(full), config.Options{})
	if err != nil {
		t.Fatalf("uncommented starter does not load: %v\n%s", err, full)
	}
	if diff := cmp.Diff(plain.Stack, withDefaults.Stack); diff != "" {
		t.Errorf("a commented-out value is not the default (-plain +uncommented):\n%s", diff)
	}

	// The Vault form, uncommented instead of fromEnv, loads too.
	vault := strings.Replace(out, "        password: {fromEnv: LOKI_ADMIN_PASSWORD}\n", "", 1)
	vault = strings.Replace(vault, "# password: {fromVault:", "password: {fromVault:", 1)
	doc, err := config.Load([]byte(vault), config.Options{})
	if err != nil {
		t.Fatalf("the Vault form does not load: %v", err)
	}
	if v := doc.Stack.Spec.Auth.Users[0].Password.FromVault; v == nil || v.Path != "secret/loki/basic-auth" {
		t.Errorf("the Vault form reads %+v", v)
	}
}

// TestInitValuesStayValues: values YAML would read as something else are
// quoted, and read back as the strings given.
func TestInitValuesStayValues(t *testing.T) {
	out := starterFor(t, "--host", "1.5", "--name", "null", "--namespace", "123", "--password-env", "NULL")
	doc, err := config.Load([]byte(out), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Stack
	if s.Spec.Host != "1.5" || s.Metadata.Name != "null" || s.Metadata.Namespace != "123" || s.Spec.Auth.Users[0].Password.FromEnv != "NULL" {
		t.Errorf("read back %q %q %q %q", s.Spec.Host, s.Metadata.Name, s.Metadata.Namespace, s.Spec.Auth.Users[0].Password.FromEnv)
	}
}

// TestInitRefusesBadValues: a value config would refuse, or one that could
// change the file's structure, is refused with the flag named, and nothing
// is written.
func TestInitRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no host", nil, "--host is required: the public DNS name Loki is served on, e.g. --host loki.example.org"},
		{"newline in host", []string{"--host", "loki.example.org\nspec: {}"}, "--host: must not contain control characters (newlines, tabs, NUL)"},
		{"comment in host", []string{"--host", "loki.example.org #x"}, `--host: invalid value "loki.example.org #x": a lowercase RFC 1123 subdomain`},
		{"hash in host", []string{"--host", "loki#example.org"}, `--host: invalid value "loki#example.org"`},
		{"quote in host", []string{"--host", `loki".example.org`}, `--host: invalid value "loki\".example.org"`},
		{"flow in env", []string{"--host", "loki.example.org", "--password-env", "A}, x: {y"}, `--password-env: invalid value "A}, x: {y": must be an environment variable name`},
		{"reserved env", []string{"--host", "loki.example.org", "--password-env", "VAULT_TOKEN"}, `--password-env: invalid value "VAULT_TOKEN": variables starting with VAULT_ configure loki-cmp itself`},
		{"empty env", []string{"--host", "loki.example.org", "--password-env", ""}, "--password-env must not be empty"},
		{"bad name", []string{"--host", "loki.example.org", "--name", "1loki"}, `--name: invalid value "1loki": a DNS-1035 label`},
		{"tab in name", []string{"--host", "loki.example.org", "--name", "lo\tki"}, "--name: must not contain control characters"},
		{"bad namespace", []string{"--host", "loki.example.org", "--namespace", "Loki"}, `--namespace: invalid value "Loki": a lowercase RFC 1123 label`},
		{"namespace too long for the collector's", []string{"--host", "loki.example.org", "--namespace", strings.Repeat("n", 60)}, `--namespace: invalid value "` + strings.Repeat("n", 60) + `-collector"`},
		{"wildcard host", []string{"--host", "*.example.org"}, "--host: invalid value \"*.example.org\": a wildcard cannot get"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "loki.yaml")
			stdout, stderr, code := run(t, noEnv, append([]string{"init", "-f", file}, tc.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
			if !strings.HasPrefix(stderr, "loki-cmp: error: "+tc.want) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, "loki-cmp: error: "+tc.want)
			}
			if strings.Count(stderr, "loki-cmp: error: ") != 1 {
				t.Errorf("more than one problem reported: %q", stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("something was written: %v", entries)
			}
		})
	}
}

// TestInitOverwrite: an existing file is left alone without --force and
// replaced whole with it; a directory is never replaced.
func TestInitOverwrite(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "loki.yaml")
	if err := os.WriteFile(file, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, noEnv, "init", "--host", "loki.example.org", "-f", file)
	if code != ExitUsage || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if want := "loki-cmp: error: " + file + " already exists; pass --force to overwrite it, or -f to write another file\nloki-cmp: hint: run 'loki-cmp --help' for usage\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if data, _ := os.ReadFile(file); string(data) != "mine\n" {
		t.Errorf("the file was changed: %q", data)
	}

	if _, stderr, code := run(t, noEnv, "init", "--host", "loki.example.org", "-f", file, "--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(file)
	if string(data) != starterFor(t, "--host", "loki.example.org") {
		t.Errorf("--force did not write the starter: %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}

	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = run(t, noEnv, "init", "--host", "loki.example.org", "-f", sub, "--force")
	if code != ExitWrite || !strings.Contains(stderr, "it is a directory, not a regular file") {
		t.Errorf("directory: exit %d: %s", code, stderr)
	}
	// A missing directory is made, as for git or an editor.
	nested := filepath.Join(dir, "apps", "loki", "loki.yaml")
	if _, stderr, code = run(t, noEnv, "init", "--host", "loki.example.org", "-f", nested); code != 0 {
		t.Errorf("missing directory: exit %d: %s", code, stderr)
	}
	if data, _ := os.ReadFile(nested); string(data) != starterFor(t, "--host", "loki.example.org") {
		t.Errorf("missing directory: wrote %q", data)
	}
}

// TestSchemaCommand prints the generated schema, byte for byte.
func TestSchemaCommand(t *testing.T) {
	stdout, stderr, code := run(t, noEnv, "schema")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != string(reference.Schema()) {
		t.Error("schema prints something other than reference.Schema()")
	}
	if _, _, code := run(t, noEnv, "schema", "extra"); code != ExitUsage {
		t.Errorf("extra argument: exit %d, want %d", code, ExitUsage)
	}
}
