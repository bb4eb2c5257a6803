package argocd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lokiCmp is the loki-cmp binary built from this checkout by TestMain; its
// directory is first on PATH, where the cmp-server finds `loki-cmp`.
var lokiCmp string

// testVersion is stamped into the binary, so tests can tell it from another
// loki-cmp on the machine.
const testVersion = "v0.0.0-argocd-test"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "loki-cmp-argocd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	lokiCmp = filepath.Join(dir, "loki-cmp")
	// As `make build` does: static, -trimpath.
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/thedevops/loki-cmp/internal/cli.version="+testVersion,
		"-o", lokiCmp, "./cmd/loki-cmp")
	cmd.Dir = repoRoot()
	// The machine's own Go (the main module's go line is 1.26): this
	// module's go1.27.3 (GOTOOLCHAIN, for Argo CD v3.6) would compile the
	// main module's tree a second time.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building loki-cmp: %v\n%s", err, out)
		return 1
	}
	// The cmp-server runs plugin.yaml's command `loki-cmp` through PATH,
	// as in the sidecar image (PATH=/usr/local/bin).
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return m.Run()
}

// repoRoot is the loki-cmp checkout this module lives in (test/argocd).
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	root := filepath.Clean(filepath.Join(wd, "..", ".."))
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.Contains(data, []byte("module github.com/thedevops/loki-cmp\n")) {
		panic("test/argocd: " + root + " is not the loki-cmp checkout")
	}
	return root
}

// argoCDVersion is the version of github.com/argoproj/argo-cd/v3 that
// test/argocd/go.mod selects (the cmp-server these tests run).
func argoCDVersion(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/argoproj/argo-cd/v3").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/argoproj/argo-cd/v3: %v\n%s", err, stderrOf(err))
	}
	v := strings.TrimSpace(string(out))
	if !strings.HasPrefix(v, "v3.") {
		t.Fatalf("argo-cd version %q", v)
	}
	return v
}

// moduleDir is the directory of module@version in the module cache.
func moduleDir(t testing.TB, modVersion string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", modVersion).Output()
	if err != nil {
		t.Fatalf("go mod download -json %s: %v\n%s", modVersion, err, stderrOf(err))
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download -json %s: no Dir (%v): %s", modVersion, err, out)
	}
	return m.Dir
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// copyFile copies src to dst with mode.
func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, data, mode)
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
}

// runLokiCmp runs the built loki-cmp in dir with env added to the test's
// environment, as the cmp-server does, and returns stdout, stderr and the
// exit code.
func runLokiCmp(t testing.TB, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(lokiCmp, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running loki-cmp: %v", err)
		}
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}
