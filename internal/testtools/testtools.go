// Package testtools finds the real programs that tests run against (htpasswd,
// loki, vault, etcd, kube-apiserver, ...). hack/test-tools.sh builds or
// installs each pinned version once into a cache outside the clone and links
// it into the cache's bin directory.
//
// Where a program is missing, a test fails when LOKI_CMP_REQUIRE_TOOLS=1 or
// CI is set (as `make test` and .ci/run do: nothing is skipped there) and is
// skipped otherwise, so `go test ./...` still works on a bare laptop.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BinDir is where hack/test-tools.sh links the programs it provides.
func BinDir() string {
	if d := os.Getenv("LOKI_CMP_TOOLS_BIN"); d != "" {
		return d
	}
	cache := os.Getenv("LOKI_CMP_TOOLS_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache", "loki-cmp-test")
	}
	return filepath.Join(cache, "bin")
}

// Required reports whether missing programs fail tests instead of skipping them.
func Required() bool {
	return os.Getenv("LOKI_CMP_REQUIRE_TOOLS") == "1" || os.Getenv("CI") != ""
}

// Find returns the path of program name: from BinDir, else from PATH.
func Find(t testing.TB, name string) string {
	t.Helper()
	if dir := BinDir(); dir != "" {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := name + " not found in " + BinDir() + " or PATH; run: hack/test-tools.sh " + name
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
