package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: any input either loads into a valid document or fails with an
// *Error whose every line names the file; it never panics or hangs.
// Seeds: the examples and the hostile inputs of TestHostileInputs.
// Run longer with: go test ./config -run '^$' -fuzz FuzzLoad -fuzztime 10m
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("../testdata/examples/*/loki.yaml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, h := range hostile {
		f.Add([]byte(h.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Load(data, Options{File: "loki.yaml"})
		if err != nil {
			e, ok := err.(*Error)
			if !ok || len(e.Problems) == 0 {
				t.Fatalf("error %T %v, want a non-empty *Error", err, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "loki.yaml") && !strings.HasPrefix(line, "... and ") {
					t.Fatalf("error line without the file name: %q", line)
				}
			}
			return
		}
		if doc.Stack.Metadata.Namespace == "" || doc.Stack.Spec.Host == "" || len(doc.Stack.Spec.Auth.Users) == 0 {
			t.Fatalf("loaded a document without namespace, host or users")
		}
	})
}
