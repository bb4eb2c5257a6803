package generator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// roundTrip writes v as YAML and reads it back with both YAML libraries in
// use around Kubernetes (sigs.k8s.io/yaml, i.e. go-yaml v2 semantics, as
// kubectl and Argo CD read manifests; and go-yaml v3), comparing with the
// JSON form.
func roundTrip(t *testing.T, v map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	writeYAML(&buf, v)
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := yaml.YAMLToJSON(buf.Bytes())
	if err != nil {
		t.Fatalf("sigs.k8s.io/yaml cannot read:\n%s\n%v", buf.String(), err)
	}
	var a, b any
	_ = json.Unmarshal(want, &a)
	if err := json.Unmarshal(got, &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("sigs.k8s.io/yaml reads back something else (-want +got):\n%s\nYAML:\n%s", diff, buf.String())
	}
	var c any
	if err := yaml3.Unmarshal(buf.Bytes(), &c); err != nil {
		t.Fatalf("yaml v3 cannot read:\n%s\n%v", buf.String(), err)
	}
	cj, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var d any
	_ = json.Unmarshal(cj, &d)
	if diff := cmp.Diff(a, d); diff != "" {
		t.Fatalf("yaml v3 reads back something else (-want +got):\n%s\nYAML:\n%s", diff, buf.String())
	}
}

var trickyStrings = []string{
	"", " ", "a b", "yes", "No", "ON", "off", "y", "N", "true", "False", "null", "Null", "~", "-", "--", "---", "...",
	"0", "012", "0x1F", "0o17", "1e3", "1_000", ".5", "-.inf", ".NaN", "+1", "1:20", "2024-04-01", "2024-04-01T00:00:00Z",
	"=", "<<", "*a", "&a", "!tag", "%x", "@x", "`x", "|", ">", "'", "\"", "#", "a #b", "a: b", "a:", ":a", "a:b", "[a]", "{a}",
	"a,b", "?", "? a", "- a", "a\tb", "tab\t", "trailing ", " leading", "line\nline", "line\n", "line\n\n", "\nleading newline",
	"  indented\nnext", "a\n  indented", "unicode ✓", "bücher", "\u0085", "\u2028", "\x00", "\x1b[31m", "\r\n", "a\rb",
	"docker.io/grafana/loki:3.7.8", "http://loki.loki.svc:3100", "-config.file=/x", "$2y$10$abc/def.ghi", "{SHA}x=", "10Gi", "100m",
	"1b", "1e5", "1E5", "0x10", "0o7", "1.5Gi", "1.5e3", "1m30s", "46136f2e5", "0b101", "1_0h", "1.2.3", "10Gi ", "12:30", "1h-2", "1Ei", "argocd.argoproj.io/sync-wave", "#!/bin/sh\necho hi\n", "key: value\nother: [1, 2]\n", "a\n\n\nb", "end\n\n\n",
}

func TestYAMLRoundTrip(t *testing.T) {
	for _, s := range trickyStrings {
		roundTrip(t, map[string]any{"v": s, s + "k": "x", "l": []any{s, map[string]any{"a": s, "b": []any{}}}})
	}
	roundTrip(t, map[string]any{
		"n": json.Number("3100"), "f": json.Number("1.5"), "b": true, "z": nil, "e": map[string]any{}, "el": []any{},
		"nested": []any{[]any{"a", []any{"b"}}, map[string]any{"x": map[string]any{"y": []any{map[string]any{"z": "w"}}}}},
	})
}

// TestYAMLRoundTripExamples: every example's output reads back unchanged.
func TestYAMLRoundTripExamples(t *testing.T) {
	for _, extra := range []string{"", "  commonAnnotations: {a: \"with: colon\", b: \"yes\", c: \"3\"}\n"} {
		for _, o := range generate(t, stack(t, extra)) {
			m, err := toMap(o)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, m)
		}
	}
}

// FuzzYAML: any string, as key and value, survives the round trip.
func FuzzYAML(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Output strings always come from JSON, hence valid UTF-8.
		if utf8.ValidString(s) {
			roundTrip(t, map[string]any{"v": s, "k" + s: []any{s}, strings.Repeat("k", 1100) + s: s})
		}
	})
}
