// Package render runs loki-cmp's real CLI in-process on the example
// loki.yaml files, exactly as `loki-cmp generate -f FILE` would, and hands
// the tests its output as a YAML stream and as objects.
package render

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/internal/cli"
	"github.com/thedevops/loki-cmp/test/internal/manifest"
)

// Password is the value every referenced environment variable gets: the
// same rule as internal/cli's golden test ("pw-" + lowercased name), so the
// output here is byte for byte the golden file's.
func Password(envVar string) string { return "pw-" + strings.ToLower(envVar) }

// env is the environment of a run: the golden test's (internal/cli
// testEnv). Variables that configure loki-cmp itself, Argo CD's plugin
// environment or Vault are unset, as on a laptop; every other name reads
// as Password(name).
func env(name string) (string, bool) {
	for _, p := range []string{"ARGOCD_", "KUBE_", "VAULT_", "LOKI_CMP_"} {
		if strings.HasPrefix(name, p) {
			return "", false
		}
	}
	return Password(name), true
}

// Example is one case of the matrix: testdata/examples/<Name>/loki.yaml.
type Example struct {
	Name string // directory name
	File string // path of its loki.yaml
}

// Examples lists every example of the repository; a new directory with a
// loki.yaml joins every check of the matrix without further edits.
func Examples(t testing.TB) []Example {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(RepoRoot(t), "testdata", "examples", "*", "loki.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples under testdata/examples: %v", err)
	}
	var out []Example
	for _, f := range files {
		out = append(out, Example{Name: filepath.Base(filepath.Dir(f)), File: f})
	}
	return out
}

// RepoRoot is the directory of the main module (github.com/thedevops/loki-cmp),
// found upwards from the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			first := sc.Scan() && strings.TrimSpace(sc.Text()) == "module github.com/thedevops/loki-cmp"
			f.Close()
			if first {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("main module github.com/thedevops/loki-cmp not found above the working directory")
		}
		dir = parent
	}
}

// Generate runs `loki-cmp generate -f file` and returns its stdout.
func Generate(t testing.TB, file string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut},
		[]string{"generate", "-f", file}, env)
	if code != 0 {
		t.Fatalf("loki-cmp generate -f %s: exit %d: %s", file, code, errOut.String())
	}
	return out.String()
}

// Objects runs Generate and decodes the stream, in output order.
func Objects(t testing.TB, file string) []*unstructured.Unstructured {
	t.Helper()
	return decode(t, file, Generate(t, file))
}

// ObjectsWithEnv is Objects with some variables set to other values (a
// rotated password).
func ObjectsWithEnv(t testing.TB, file string, vars map[string]string) []*unstructured.Unstructured {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(name string) (string, bool) {
		if v, ok := vars[name]; ok {
			return v, true
		}
		return env(name)
	}
	code := cli.Run(context.Background(), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut},
		[]string{"generate", "-f", file}, lookup)
	if code != 0 {
		t.Fatalf("loki-cmp generate -f %s: exit %d: %s", file, code, errOut.String())
	}
	return decode(t, file, out.String())
}

// Manifests decodes a file that holds a rendered YAML stream (a release's
// output kept under testdata/upgrade), in file order.
func Manifests(t testing.TB, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return Decode(t, file, string(data))
}

// Decode decodes a rendered YAML stream (named name in errors), in order.
func Decode(t testing.TB, name, stream string) []*unstructured.Unstructured {
	t.Helper()
	return decode(t, name, stream)
}

func decode(t testing.TB, file, stream string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.Decode(strings.NewReader(stream))
	if err != nil {
		t.Fatalf("output of %s is not a YAML stream of objects: %v", file, err)
	}
	if len(objs) == 0 {
		t.Fatalf("output of %s holds no object", file)
	}
	return objs
}

// Stack loads file as loki-cmp does (defaults applied), for the tests that
// need to know what the output should contain (users, names).
func Stack(t testing.TB, file string) *config.Document {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := config.Load(data, config.Options{File: file})
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return doc
}

// Find returns the object of kind and name in objs, or fails.
func Find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %q in the output", kind, name)
	return nil
}
