package cli

import (
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestDryRunAndValidateNeverContactVault: with every Vault setting pointing
// at a listener that counts connections, `generate --dry-run`, `validate`
// and `parameters` succeed on a file whose credentials all come from Vault,
// and nothing connects.
func TestDryRunAndValidateNeverContactVault(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	file := filepath.Join(t.TempDir(), "loki.yaml")
	yaml := `apiVersion: lokicmp.thedevops.dev/v1alpha1
kind: LokiStack
spec:
  host: loki.example.org
  auth:
    users:
    - {name: admin, password: {fromVault: {path: secret/loki/basic-auth, key: admin}}}
    - {name: grafana, htpasswd: {fromVault: {path: secret/loki/hashes, key: grafana, version: 2}}}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"VAULT_ADDR":                   "http://" + ln.Addr().String(),
		"VAULT_TOKEN":                  "hvs.dry-run-must-not-use-this",
		"LOKI_CMP_VAULT_ALLOWED_PATHS": "secret/loki/*",
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, args := range [][]string{
		{"generate", "--dry-run", "-f", file},
		{"generate", "--dry-run", "-o", "json", "-f", file},
		{"validate", "-f", file},
		{"parameters", "-f", file},
	} {
		stdout, stderr, code := run(t, getenv, args...)
		if code != 0 || stdout == "" {
			t.Errorf("%v: exit %d, %d bytes of stdout, stderr: %s", args, code, len(stdout), stderr)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("--dry-run, validate and parameters made %d connections to VAULT_ADDR", n)
	}
	// The listener does see a real run, so the zero above means something.
	env["LOKI_CMP_VAULT_TIMEOUT"] = "1s"
	if _, _, code := run(t, getenv, "generate", "-f", file); code == 0 {
		t.Fatal("generate without --dry-run succeeded against a listener that is not Vault")
	}
	if conns.Load() == 0 {
		t.Fatal("generate did not connect to VAULT_ADDR: the listener cannot tell whether the others did")
	}
}
