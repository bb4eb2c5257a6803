package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"loki-cmp": main,
	})
}

// TestScripts runs the CLI scenarios in testdata/script: the real binary's
// main, in-process, with files, environment, stdout, stderr and exit codes.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../testdata/examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			return nil
		},
	})
}

func TestGuardHidesPanicValue(t *testing.T) {
	var stderr bytes.Buffer
	code := guard(&stderr, func() int { panic("planted-secret-in-panic") })
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if strings.Contains(stderr.String(), "planted-secret") {
		t.Errorf("panic value printed: %s", stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "loki-cmp: error: internal error") {
		t.Errorf("stderr = %q", stderr.String())
	}
}
