package hack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A stand-in for the go command: each call prints the next of the canned
// go test outputs (runs/N) and exits with its status, so hack/fuzz.sh's
// decisions are checked without fuzzing for real.
const fakeGo = `#!/bin/sh
n=$(cat "$RUNS/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n >"$RUNS/count"
cat "$RUNS/$n.out"; exit $(cat "$RUNS/$n.rc")
`

const (
	pass     = "PASS\nok  \tgithub.com/thedevops/loki-cmp/config\t20.1s\n"
	deadline = "--- FAIL: FuzzLoad (20.03s)\n    context deadline exceeded\nFAIL\nexit status 1\n"
	finding  = "--- FAIL: FuzzLoad (3.1s)\n    --- FAIL: FuzzLoad (0.00s)\n        load_test.go:9: boom\n    context deadline exceeded\n    Failing input written to testdata/fuzz/FuzzLoad/abc\nFAIL\n"
)

func TestFuzzScriptRetriesOnlyGosDeadlineError(t *testing.T) {
	for _, c := range []struct {
		name  string
		runs  []string // outputs; an output other than pass exits 1
		calls int
		ok    bool
	}{
		{"pass", []string{pass}, 1, true},
		{"deadline error, then pass", []string{deadline, pass}, 2, true},
		{"deadline error twice", []string{deadline, deadline}, 2, false},
		{"a failing input", []string{finding}, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fake := filepath.Join(dir, "go")
			if err := os.WriteFile(fake, []byte(fakeGo), 0o755); err != nil {
				t.Fatal(err)
			}
			for i, out := range c.runs {
				rc := "1"
				if out == pass {
					rc = "0"
				}
				n := filepath.Join(dir, strconv.Itoa(i+1))
				if err := os.WriteFile(n+".out", []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(n+".rc", []byte(rc), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("bash", "fuzz.sh", "20s", "config:FuzzLoad")
			cmd.Env = append(os.Environ(), "GO="+fake, "RUNS="+dir)
			out, err := cmd.CombinedOutput()
			if (err == nil) != c.ok {
				t.Errorf("fuzz.sh: %v, want success %v:\n%s", err, c.ok, out)
			}
			count, _ := os.ReadFile(filepath.Join(dir, "count"))
			if got := strings.TrimSpace(string(count)); got != strconv.Itoa(c.calls) {
				t.Errorf("go test ran %s times, want %d:\n%s", got, c.calls, out)
			}
		})
	}
}
