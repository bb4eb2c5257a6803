package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSyntaxErrors: realistic broken loki.yaml files, each reported at the
// mistake itself (line:col) in plain words with the fix. Line 1 and 2 are
// the header; the broken part starts at line 3.
func TestSyntaxErrors(t *testing.T) {
	const h = "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\n"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"tab indents a key", "spec:\n\thost: loki.example.org\n",
			"loki.yaml:4:1: invalid YAML: a tab indents this line: YAML indents with spaces only; replace the tab with spaces"},
		{"tab after spaces", "spec:\n  host: loki.example.org\n  \tauth: {}\n",
			"loki.yaml:5:3: invalid YAML: a tab indents this line: YAML indents with spaces only; replace the tab with spaces"},
		{"no space after colon", "spec:\n  host:loki.example.org\n  auth: {}\n",
			"loki.yaml:4:8: invalid YAML: missing space after the colon: a key is written host: value"},
		{"missing colon", "spec:\n  host loki.example.org\n  auth: {}\n",
			`loki.yaml:4:7: invalid YAML: missing ':' after "host": a key is written host: value`},
		{"key indented too far", "spec:\n  host: loki.example.org\n   auth: {}\n",
			`loki.yaml:5:4: invalid YAML: "auth" is indented more than "host" on line 4, which already has a value: the keys of one mapping start in the same column (3)`},
		{"key indented too little", "spec:\n    host: loki.example.org\n  auth: {}\n",
			`loki.yaml:5:3: invalid YAML: "auth" is indented to column 3, which lines up with no key above it: align it with the keys of the mapping it belongs to`},
		{"unclosed double quote", "spec:\n  host: \"loki.example.org\n  auth: {}\n",
			`loki.yaml:4:9: invalid YAML: this " is never closed: end the value with " on the same line`},
		{"unclosed single quote at the end", "spec:\n  host: 'loki.example.org\n",
			`loki.yaml:4:9: invalid YAML: this ' is never closed: end the value with ' on the same line`},
		{"unclosed brace", "spec:\n  auth:\n    users:\n      - name: admin\n        password: {fromEnv: X\n  storage: {}\n",
			"loki.yaml:7:19: invalid YAML: this { is never closed: add } after its last entry"},
		{"unclosed bracket", "spec:\n  auth:\n    users: [{name: admin, password: {fromEnv: X}}\n  host: x\n",
			"loki.yaml:5:12: invalid YAML: this [ is never closed: add ] after its last entry"},
		{"colon inside a value", "spec:\n  host: loki: example\n",
			`loki.yaml:4:13: invalid YAML: a value cannot hold ': ' unquoted: put it in quotes, e.g. host: "loki: example"`},
		{"list item among keys", "spec:\n  auth:\n    realm: x\n    - name: admin\n",
			`loki.yaml:6:5: invalid YAML: a list item among the keys of a mapping (after "realm" on line 5): a list belongs under a key of its own, on the lines below it (e.g. users:)`},
		{"list on the key's line", "spec:\n  auth:\n    users: - name: admin\n",
			"loki.yaml:5:12: invalid YAML: a list cannot start on the line of its key: put each '- ' item on its own line below it, or write the list as [a, b]"},
		{"item key out of line", "spec:\n  auth:\n    users:\n      - name: admin\n       password: {fromEnv: X}\n",
			`loki.yaml:7:8: invalid YAML: "password" does not line up with "name" on line 6: the keys of a list item start in the same column (9)`},
		{"at sign", "spec:\n  host: @loki\n",
			"loki.yaml:4:9: invalid YAML: a value cannot start with @: put the value in quotes"},
		{"backtick", "spec:\n  host: `loki`\n",
			"loki.yaml:4:9: invalid YAML: a value cannot start with `: put the value in quotes"},
		{"unknown alias", "spec:\n  storage:\n    size: *big\n",
			"loki.yaml:5:11: invalid YAML: *big refers to an anchor &big that is not defined above: a value starting with * must be quoted"},
		{"text after a quote", "spec:\n  host: \"loki\" .example.org\n",
			"loki.yaml:4:16: invalid YAML: text after the closing \": put the whole value inside the quotes"},
		{"child not indented", "metadata:\nname: loki\n  namespace: loki\n",
			`loki.yaml:5:3: invalid YAML: "namespace" is indented more than "name" on line 4, which already has a value: the keys of one mapping start in the same column (1)`},
		{"comment after fine lines", "# a comment: with colon\nspec:\n  realm: \"it's\" # ok\n  host: loki.example.org\n   auth: {}\n",
			`loki.yaml:7:4: invalid YAML: "auth" is indented more than "host" on line 6, which already has a value: the keys of one mapping start in the same column (3)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(h+tc.in), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.SplitN(err.Error(), "\n", 2)[0]; got != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// TestDiagnoseValidYAML: on valid files, diagnose finds nothing, so a
// mistake it names is a mistake (it only runs once the parser has failed,
// but an earlier false finding would hide the real one).
func TestDiagnoseValidYAML(t *testing.T) {
	files, err := filepath.Glob("../testdata/examples/*/loki.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no examples", err)
	}
	inputs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = b
	}
	inputs["odd but valid"] = []byte(`a: "multi
  line"
b: [x,
  y]
c: |
  text: with colon
   - and dash
d: &anchor {k: v}
e: *anchor
f: 'it''s'
g:
- x
- y: z
  w: 1
h: http://example.org:80/path # comment: here
i: a:b
`)
	for name, b := range inputs {
		if d, ok := diagnose(splitLines(b), 1<<30, ""); ok {
			t.Errorf("%s: diagnosed %d:%d %s", name, d.pos.Line, d.pos.Column, d.msg)
		}
	}
}

// TestDiagnoseMutations breaks real files one character at a time (a tab,
// a quote, a bracket or a colon inserted, a character deleted): Load never
// panics, and every syntax error it reports has a line.
func TestDiagnoseMutations(t *testing.T) {
	for _, f := range []string{"../testdata/examples/seed/loki.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			for _, m := range []string{"\t", "\"", ": ", ""} {
				in := string(b[:i]) + m + string(b[i+1:])
				if m != "" {
					in = string(b[:i]) + m + string(b[i:])
				}
				_, err := Load([]byte(in), Options{})
				if err == nil || !strings.Contains(err.Error(), "invalid YAML") {
					continue
				}
				if first, _, _ := strings.Cut(err.Error(), "\n"); !lineRef().MatchString(first) {
					t.Errorf("%s with %q at %d: no line in %q", f, m, i, first)
				}
			}
		}
	}
}

var lineRef = lazyRegexp(`^loki\.yaml:\d+:\d+: invalid YAML: `)
