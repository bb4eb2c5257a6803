package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/thedevops/loki-cmp/internal/testtools"
)

// Passwords planted in Vault. Each carries a marker that must never appear
// in any output but the hashes it becomes.
const (
	marker     = "PLANTED"
	pwKV2v1    = "kv2-admin-v1-PLANTED-a1"
	pwKV2      = "kv2-admin-v2-PLANTED-b2"
	pwReader   = "kv2-reader-PLANTED-c3"
	pwKV1      = "kv1-admin-PLANTED-d4"
	pwNested   = "nested-admin-PLANTED-e5"
	pwHashed   = "hashed-admin-PLANTED-f6"
	policyRead = `path "secret/data/loki/*" { capabilities = ["read"] }
path "kv1/loki/*" { capabilities = ["read"] }
path "team/kv/data/loki/*" { capabilities = ["read"] }
path "transit/loki/*" { capabilities = ["read"] }`
	allowedPaths = "secret/loki/*,secret/other/*,kv1/**,team/kv/loki/*,transit/**"
)

// vaultFixture is a dev Vault set up as a cluster administrator would.
type vaultFixture struct {
	v                        *testtools.Vault
	readToken, noPolicyToken string
	roleID, secretID         string
	secrets                  []string // every credential of the fixture, for leak checks
}

func setupVault(t *testing.T, v *testtools.Vault) *vaultFixture {
	f := &vaultFixture{v: v}
	v.CLI(t, "secrets", "enable", "-path=kv1", "-version=1", "kv")
	v.CLI(t, "secrets", "enable", "-path=team/kv", "-version=2", "kv")
	v.CLI(t, "secrets", "enable", "-path=transit", "transit")
	v.CLI(t, "kv", "put", "-mount=secret", "loki/basic-auth", "admin="+pwKV2v1, "reader="+pwReader)
	v.CLI(t, "kv", "put", "-mount=secret", "loki/basic-auth", "admin="+pwKV2, "reader="+pwReader)
	v.CLI(t, "kv", "put", "kv1/loki/basic-auth", "admin="+pwKV1)
	v.CLI(t, "kv", "put", "-mount=team/kv", "loki/creds", "admin="+pwNested)
	hash, err := bcrypt.GenerateFromPassword([]byte(pwHashed), 5)
	if err != nil {
		t.Fatal(err)
	}
	v.CLI(t, "kv", "put", "-mount=secret", "loki/hashes", "admin=admin:"+string(hash), "bare="+string(hash), "other=reader:"+string(hash), "junk=not-a-hash-PLANTED")
	v.CLI(t, "kv", "put", "-mount=secret", "loki/deleted", "admin=gone-PLANTED")
	v.CLI(t, "kv", "delete", "-mount=secret", "loki/deleted")
	v.CLI(t, "kv", "put", "-mount=secret", "loki/destroyed", "admin=gone-PLANTED")
	v.CLI(t, "kv", "destroy", "-mount=secret", "-versions=1", "loki/destroyed")
	v.CLI(t, "kv", "put", "-mount=secret", "loki/numbers", "admin=12345678")
	v.CLI(t, "kv", "put", "-mount=secret", "other/secret", "admin=other-PLANTED")
	policy := filepath.Join(t.TempDir(), "loki-read.hcl")
	if err := os.WriteFile(policy, []byte(policyRead), 0o600); err != nil {
		t.Fatal(err)
	}
	v.CLI(t, "policy", "write", "loki-read", policy)
	f.readToken = v.CLI(t, "token", "create", "-policy=loki-read", "-ttl=30m", "-field=token")
	f.noPolicyToken = v.CLI(t, "token", "create", "-policy=default", "-ttl=30m", "-field=token")
	v.CLI(t, "auth", "enable", "approle")
	v.CLI(t, "write", "auth/approle/role/loki-cmp", "token_policies=loki-read", "token_ttl=10m", "secret_id_ttl=30m")
	f.roleID = v.CLI(t, "read", "-field=role_id", "auth/approle/role/loki-cmp/role-id")
	f.secretID = v.CLI(t, "write", "-f", "-field=secret_id", "auth/approle/role/loki-cmp/secret-id")
	f.secrets = []string{marker, v.RootToken, f.readToken, f.noPolicyToken, f.roleID, f.secretID}
	return f
}

// env is the sidecar environment for token auth with the read token.
func (f *vaultFixture) env(extra ...string) map[string]string {
	m := map[string]string{
		"VAULT_ADDR":                   f.v.Addr,
		"VAULT_TOKEN":                  f.readToken,
		"LOKI_CMP_VAULT_ALLOWED_PATHS": allowedPaths,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(m, extra[i])
		} else {
			m[extra[i]] = extra[i+1]
		}
	}
	return m
}

// lokiYAML writes a loki.yaml whose users are the given "name: ref" lines.
func lokiYAML(t *testing.T, users ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\nspec:\n  host: loki.example.org\n  auth:\n    bcryptCost: 4\n    users:\n")
	for _, u := range users {
		b.WriteString("    - " + u + "\n")
	}
	file := filepath.Join(t.TempDir(), "loki.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// generateWith runs loki-cmp generate and checks the output contract: on
// error, empty stdout; never a planted secret in stderr or stdout.
func (f *vaultFixture) generateWith(t *testing.T, env map[string]string, file string) (stdout, stderr string, code int) {
	t.Helper()
	stdout, stderr, code = run(t, mapEnv(env), "generate", "-f", file)
	if code != 0 && stdout != "" {
		t.Errorf("stdout not empty on error")
	}
	for _, s := range f.secrets {
		if strings.Contains(stderr, s) || strings.Contains(stdout, s) {
			t.Errorf("output leaks a secret (%.8s...): stderr=%s", s, stderr)
		}
	}
	return stdout, stderr, code
}

// checkUsers verifies each user's hash against its expected password.
func checkUsers(t *testing.T, stdout string, want map[string]string) {
	t.Helper()
	lines := basicAuthLines(t, stdout)
	if len(lines) != len(want) {
		t.Fatalf("%d htpasswd lines, want %d", len(lines), len(want))
	}
	for _, l := range lines {
		user, hash, _ := strings.Cut(l, ":")
		pw, ok := want[user]
		if !ok {
			t.Errorf("unexpected user %q", user)
			continue
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
			t.Errorf("user %s: the hash does not verify with the expected password: %v", user, err)
		}
	}
}

func vaultUser(name, path, key string, more ...string) string {
	extra := ""
	for _, m := range more {
		extra += ", " + m
	}
	return fmt.Sprintf("{name: %s, password: {fromVault: {path: %s, key: %s%s}}}", name, path, key, extra)
}

// TestVault runs loki-cmp end to end against a real Vault dev server: each
// auth method and KV version, and each failure, with its exit code and
// message, and no secret in any output.
func TestVault(t *testing.T) {
	v := testtools.StartVault(t, false)
	f := setupVault(t, v)

	t.Run("token auth, KV v2 detected, latest version, two keys of one secret", func(t *testing.T) {
		p := newProxy(t, v.Addr, nil)
		file := lokiYAML(t, vaultUser("admin", "secret/loki/basic-auth", "admin"), vaultUser("reader", "secret/loki/basic-auth", "reader"))
		stdout, stderr, code := f.generateWith(t, f.env("VAULT_ADDR", p.URL()), file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV2, "reader": pwReader})
		// One mount lookup and one read, however many keys.
		if got := p.count("GET /v1/secret/data/loki/basic-auth"); got != 1 {
			t.Errorf("secret read %d times, want once", got)
		}
		if got := p.count("GET /v1/sys/internal/ui/mounts/secret/loki/basic-auth"); got != 1 {
			t.Errorf("mount looked up %d times, want once", got)
		}
	})
	t.Run("token auth, KV v2 pinned version", func(t *testing.T) {
		stdout, stderr, code := f.generateWith(t, f.env(), lokiYAML(t, vaultUser("admin", "secret/loki/basic-auth", "admin", "version: 1")))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV2v1})
	})
	t.Run("token auth, KV v1 detected", func(t *testing.T) {
		stdout, stderr, code := f.generateWith(t, f.env(), lokiYAML(t, vaultUser("admin", "kv1/loki/basic-auth", "admin")))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV1})
	})
	t.Run("explicit kvVersion skips the mount lookup", func(t *testing.T) {
		p := newProxy(t, v.Addr, nil)
		file := lokiYAML(t, vaultUser("admin", "kv1/loki/basic-auth", "admin", "kvVersion: 1"),
			vaultUser("nested", "team/kv/loki/creds", "admin", "kvVersion: 2", "mount: team/kv"))
		stdout, stderr, code := f.generateWith(t, f.env("VAULT_ADDR", p.URL()), file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV1, "nested": pwNested})
		if n := p.countPrefix("GET /v1/sys/internal/ui/mounts/"); n != 0 {
			t.Errorf("%d mount lookups, want none", n)
		}
	})
	t.Run("nested mount detected", func(t *testing.T) {
		stdout, stderr, code := f.generateWith(t, f.env(), lokiYAML(t, vaultUser("admin", "team/kv/loki/creds", "admin")))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwNested})
	})
	t.Run("ready htpasswd hashes from Vault", func(t *testing.T) {
		file := lokiYAML(t,
			"{name: admin, htpasswd: {fromVault: {path: secret/loki/hashes, key: admin}}}",
			"{name: bare, htpasswd: {fromVault: {path: secret/loki/hashes, key: bare}}}")
		stdout, stderr, code := f.generateWith(t, f.env(), file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwHashed, "bare": pwHashed})
	})
	t.Run("approle auth, token revoked after the run", func(t *testing.T) {
		env := f.env("VAULT_TOKEN", "", "LOKI_CMP_VAULT_AUTH", "approle",
			"LOKI_CMP_VAULT_ROLE_ID", f.roleID, "LOKI_CMP_VAULT_SECRET_ID", f.secretID)
		before := approleTokens(t, v)
		stdout, stderr, code := f.generateWith(t, env, lokiYAML(t, vaultUser("admin", "secret/loki/basic-auth", "admin")))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV2})
		if after := approleTokens(t, v); after != before {
			t.Errorf("approle tokens alive: %d before, %d after the run: the login token was not revoked", before, after)
		}
	})
	t.Run("approle auth from files", func(t *testing.T) {
		dir := t.TempDir()
		roleFile, secretFile := filepath.Join(dir, "role-id"), filepath.Join(dir, "secret-id")
		_ = os.WriteFile(roleFile, []byte(f.roleID+"\n"), 0o600)
		_ = os.WriteFile(secretFile, []byte(f.secretID+"\n"), 0o600)
		env := f.env("VAULT_TOKEN", "", "LOKI_CMP_VAULT_AUTH", "approle",
			"LOKI_CMP_VAULT_ROLE_ID_FILE", roleFile, "LOKI_CMP_VAULT_SECRET_ID_FILE", secretFile)
		stdout, stderr, code := f.generateWith(t, env, lokiYAML(t, vaultUser("admin", "kv1/loki/basic-auth", "admin")))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV1})
	})
	t.Run("token from a file", func(t *testing.T) {
		tokenFile := filepath.Join(t.TempDir(), "token")
		_ = os.WriteFile(tokenFile, []byte(f.readToken+"\n"), 0o600)
		env := f.env("VAULT_TOKEN", "", "LOKI_CMP_VAULT_TOKEN_FILE", tokenFile)
		stdout, stderr, code := f.generateWith(t, env, lokiYAML(t, vaultUser("admin", "secret/loki/basic-auth", "admin")))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV2})
	})
	t.Run("retries 5xx and 429, then succeeds", func(t *testing.T) {
		var mu sync.Mutex
		failures := []int{502, 429, 503}
		p := newProxy(t, v.Addr, func(w http.ResponseWriter, r *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(r.URL.Path, "/v1/secret/data/") && len(failures) > 0 {
				code := failures[0]
				failures = failures[1:]
				w.WriteHeader(code)
				_, _ = w.Write([]byte(`{"errors":["injected"]}`))
				return true
			}
			return false
		})
		stdout, stderr, code := f.generateWith(t, f.env("VAULT_ADDR", p.URL()), lokiYAML(t, vaultUser("admin", "secret/loki/basic-auth", "admin")))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		checkUsers(t, stdout, map[string]string{"admin": pwKV2})
		if n := p.count("GET /v1/secret/data/loki/basic-auth"); n != 4 {
			t.Errorf("%d attempts, want 4 (3 failures, 1 success)", n)
		}
	})

	for _, tc := range []struct {
		name  string
		env   map[string]string
		users []string
		code  int
		want  string // a line of stderr
		proxy func(w http.ResponseWriter, r *http.Request) bool
		check func(t *testing.T, p *proxy)
	}{
		{name: "403: token without the policy", env: f.env("VAULT_TOKEN", f.noPolicyToken),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultDenied,
			want: `loki.yaml:8:32: spec.auth.users[0].password.fromVault: vault secret secret/loki/basic-auth (key "admin"): permission denied (HTTP 403: preflight capability check returned 403, please ensure client's policies grant access to path "secret/loki/basic-auth/"): the token's policies do not allow this`},
		{name: "403: path outside the policy", env: f.env(),
			users: []string{vaultUser("admin", "secret/other/secret", "admin")}, code: ExitVaultDenied,
			want: `spec.auth.users[0].password.fromVault: vault secret secret/other/secret (key "admin"): permission denied (HTTP 403): the token's policies do not allow this`},
		{name: "403 with a wrong explicit kvVersion: hint", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin", "kvVersion: 1")}, code: ExitVaultDenied,
			want: `vault secret secret/loki/basic-auth (key "admin"): permission denied (HTTP 403): the token's policies do not allow this (kvVersion: 1 reads secret/loki/basic-auth; if that is not how secret/ is mounted, fix kvVersion or leave it out)`},
		{name: "invalid token", env: f.env("VAULT_TOKEN", "hvs.not-a-real-token"),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultDenied,
			want: `vault secret secret/loki/basic-auth (key "admin"): permission denied (HTTP 403`},
		{name: "approle: wrong secret id", env: f.env("VAULT_TOKEN", "", "LOKI_CMP_VAULT_AUTH", "approle", "LOKI_CMP_VAULT_ROLE_ID", f.roleID, "LOKI_CMP_VAULT_SECRET_ID", "00000000-0000-0000-0000-000000000000"),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultDenied,
			want: `: approle login (mount approle): login refused: (HTTP 400: invalid role or secret ID)`},
		{name: "no auth configured", env: f.env("VAULT_TOKEN", ""),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultDenied,
			want: `loki.yaml: token auth needs VAULT_TOKEN or LOKI_CMP_VAULT_TOKEN_FILE on the plugin sidecar (or set LOKI_CMP_VAULT_AUTH to kubernetes or approle)`},
		{name: "no address", env: f.env("VAULT_ADDR", ""),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultUnavailable,
			want: `loki.yaml: VAULT_ADDR is not set on loki-cmp (the plugin sidecar): the administrator sets the Vault address there`},
		{name: "allow-list unset: refused before any request", env: f.env("LOKI_CMP_VAULT_ALLOWED_PATHS", ""),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultDenied,
			want:  `loki.yaml:8:32: spec.auth.users[0].password.fromVault: vault secret secret/loki/basic-auth (key "admin"): not allowed: LOKI_CMP_VAULT_ALLOWED_PATHS is not set on the plugin sidecar, so no Vault path may be read`,
			check: func(t *testing.T, p *proxy) { noRequests(t, p) }},
		{name: "path outside the allow-list: refused before any request", env: f.env("LOKI_CMP_VAULT_ALLOWED_PATHS", "secret/loki/*"),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin"), vaultUser("other", "secret/other/secret", "admin")}, code: ExitVaultDenied,
			want:  `loki.yaml:9:32: spec.auth.users[1].password.fromVault: vault secret secret/other/secret (key "admin"): not allowed by LOKI_CMP_VAULT_ALLOWED_PATHS (secret/loki/*)`,
			check: func(t *testing.T, p *proxy) { noRequests(t, p) }},
		{name: "missing path", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/nothing-here", "admin")}, code: ExitVaultNotFound,
			want: `vault secret secret/loki/nothing-here (key "admin"): no secret at this path`},
		{name: "missing key", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "root")}, code: ExitVaultNotFound,
			want: `vault secret secret/loki/basic-auth (key "root"): no such key in the secret (keys present: "admin", "reader")`},
		{name: "missing version", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin", "version: 9")}, code: ExitVaultNotFound,
			want: `vault secret secret/loki/basic-auth (key "admin"): version 9 does not exist`},
		{name: "deleted secret", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/deleted", "admin")}, code: ExitVaultNotFound,
			want: `vault secret secret/loki/deleted (key "admin"): the latest version was deleted (vault kv undelete restores it)`},
		{name: "destroyed version", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/destroyed", "admin", "version: 1")}, code: ExitVaultNotFound,
			want: `vault secret secret/loki/destroyed (key "admin"): version 1 was destroyed`},
		{name: "wrong KV version: v1 said, v2 mount", env: f.env("VAULT_TOKEN", v.RootToken),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin", "kvVersion: 1")}, code: ExitVaultNotFound,
			want: `vault secret secret/loki/basic-auth (key "admin"): wrong KV version: secret/ is a KV v2 mount (set kvVersion: 2, or leave kvVersion out)`},
		{name: "wrong KV version: v2 said, v1 mount", env: f.env("VAULT_TOKEN", v.RootToken),
			users: []string{vaultUser("admin", "kv1/loki/basic-auth", "admin", "kvVersion: 2")}, code: ExitVaultNotFound,
			want: `vault secret kv1/loki/basic-auth (key "admin"): no secret at this path in KV v2 mount kv1/ (if the mount is KV v1, set kvVersion: 1 or leave kvVersion out)`},
		{name: "version on a KV v1 mount", env: f.env(),
			users: []string{vaultUser("admin", "kv1/loki/basic-auth", "admin", "version: 2")}, code: ExitVaultNotFound,
			want: `vault secret kv1/loki/basic-auth (key "admin"): version is set, but kv1/ is a KV v1 mount, which keeps no versions`},
		{name: "not a KV mount", env: f.env(),
			users: []string{vaultUser("admin", "transit/loki/x", "admin")}, code: ExitVaultNotFound,
			want: `vault secret transit/loki/x (key "admin"): the mount transit/ is a "transit" secrets engine, not KV`},
		{name: "htpasswd value that is not a hash", env: f.env(),
			users: []string{"{name: admin, htpasswd: {fromVault: {path: secret/loki/hashes, key: junk}}}"}, code: ExitCredential,
			want: `spec.auth.users[0].htpasswd.fromVault: the htpasswd hash of user "admin" (from Vault secret/loki/hashes, key "junk") cannot be used: it is not a bcrypt ($2y$, $2b$, $2a$), $apr1$ or {SHA} hash, nor a <user>:<hash> line`},
		{name: "htpasswd line of another user", env: f.env(),
			users: []string{"{name: admin, htpasswd: {fromVault: {path: secret/loki/hashes, key: other}}}"}, code: ExitCredential,
			want: `the htpasswd hash of user "admin" (from Vault secret/loki/hashes, key "other") cannot be used: it is not an htpasswd line for user "admin"`},
		{name: "unreachable", env: f.env("VAULT_ADDR", "http://"+testtools.Addr(testtools.FreePort(t))),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultUnavailable,
			want: `vault secret secret/loki/basic-auth (key "admin"): unreachable: connection refused`},
		{name: "TLS to a plain HTTP server", env: f.env("VAULT_ADDR", strings.Replace(v.Addr, "http://", "https://", 1)),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultUnavailable,
			want: `vault secret secret/loki/basic-auth (key "admin"): TLS: the server does not speak TLS (use http:// in VAULT_ADDR?)`},
		{name: "malformed response", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultNotFound,
			proxy: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasPrefix(r.URL.Path, "/v1/secret/data/") {
					_, _ = w.Write([]byte("<html>PLANTED proxy page</html>"))
					return true
				}
				return false
			},
			want: `vault secret secret/loki/basic-auth (key "admin"): malformed response: not Vault's JSON`},
		{name: "malformed KV v2 answer", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultNotFound,
			proxy: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasPrefix(r.URL.Path, "/v1/secret/data/") {
					_, _ = w.Write([]byte(`{"data":{"admin":"PLANTED"}}`))
					return true
				}
				return false
			},
			want: `malformed response: a KV v2 answer without data.data (is secret/ really KV v2?)`},
		{name: "5xx on every attempt: bounded retries", env: f.env(),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin")}, code: ExitVaultUnavailable,
			proxy: func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasPrefix(r.URL.Path, "/v1/secret/data/") {
					w.WriteHeader(500)
					_, _ = w.Write([]byte(`{"errors":["internal error"]}`))
					return true
				}
				return false
			},
			want: `vault secret secret/loki/basic-auth (key "admin"): Vault error (HTTP 500: internal error)`,
			check: func(t *testing.T, p *proxy) {
				if n := p.count("GET /v1/secret/data/loki/basic-auth"); n != 4 {
					t.Errorf("%d attempts, want 4", n)
				}
			}},
		{name: "403 is not retried", env: f.env("VAULT_TOKEN", f.noPolicyToken),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin", "kvVersion: 2")}, code: ExitVaultDenied,
			want: `permission denied (HTTP 403)`,
			check: func(t *testing.T, p *proxy) {
				if n := p.count("GET /v1/secret/data/loki/basic-auth"); n != 1 {
					t.Errorf("%d attempts, want 1", n)
				}
			}},
		{name: "deadline: a slow Vault", env: f.env("LOKI_CMP_VAULT_TIMEOUT", "1s"),
			users: []string{vaultUser("admin", "secret/loki/basic-auth", "admin"), vaultUser("reader", "secret/loki/basic-auth", "reader")}, code: ExitVaultUnavailable,
			proxy: func(w http.ResponseWriter, r *http.Request) bool {
				time.Sleep(3 * time.Second)
				return false
			},
			want: `vault secret secret/loki/basic-auth (key "admin"): no answer within 1s (LOKI_CMP_VAULT_TIMEOUT)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t, v.Addr, tc.proxy)
			env := tc.env
			if env["VAULT_ADDR"] == v.Addr {
				env = copyEnv(env, "VAULT_ADDR", p.URL())
			}
			start := time.Now()
			stdout, stderr, code := f.generateWith(t, env, lokiYAML(t, tc.users...))
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty")
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr:\n%s\nwant a line containing:\n%s", stderr, tc.want)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
			t.Logf("took %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

func copyEnv(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func noRequests(t *testing.T, p *proxy) {
	t.Helper()
	if n := p.total(); n != 0 {
		t.Errorf("%d requests reached Vault, want none", n)
	}
}

// approleTokens counts live tokens created by AppRole logins.
func approleTokens(t *testing.T, v *testtools.Vault) int {
	out := v.CLI(t, "list", "-format=json", "auth/token/accessors")
	n := 0
	for _, a := range strings.Split(strings.Trim(out, "[]\n "), ",") {
		a = strings.Trim(strings.TrimSpace(a), `"`)
		if a == "" {
			continue
		}
		if strings.Contains(v.CLI(t, "token", "lookup", "-accessor", "-format=json", a), `"path": "auth/approle/login"`) {
			n++
		}
	}
	return n
}

// proxy sits between loki-cmp and the real Vault: it counts requests and can
// answer some itself to inject faults Vault would not produce on demand.
type proxy struct {
	mu     sync.Mutex
	counts map[string]int
	url    string
}

func newProxy(t *testing.T, target string, inject func(http.ResponseWriter, *http.Request) bool) *proxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{counts: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.counts[r.Method+" "+r.URL.Path]++
		p.mu.Unlock()
		if inject != nil && inject(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *proxy) URL() string { return p.url }

func (p *proxy) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[key]
}

func (p *proxy) countPrefix(prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, c := range p.counts {
		if strings.HasPrefix(k, prefix) {
			n += c
		}
	}
	return n
}

func (p *proxy) total() int { return p.countPrefix("") }

// TestVaultTLS: a Vault with its own CA is trusted through VAULT_CACERT,
// refused without it, and reached with a loud warning under VAULT_SKIP_VERIFY.
func TestVaultTLS(t *testing.T) {
	v := testtools.StartVault(t, true)
	v.CLI(t, "kv", "put", "-mount=secret", "loki/basic-auth", "admin="+pwKV2)
	f := &vaultFixture{v: v, readToken: v.RootToken, secrets: []string{marker, v.RootToken}}
	file := lokiYAML(t, vaultUser("admin", "secret/loki/basic-auth", "admin"))

	stdout, stderr, code := f.generateWith(t, f.env("VAULT_CACERT", v.CACert), file)
	if code != 0 {
		t.Fatalf("with VAULT_CACERT: exit %d: %s", code, stderr)
	}
	checkUsers(t, stdout, map[string]string{"admin": pwKV2})

	_, stderr, code = f.generateWith(t, f.env(), file)
	if code != ExitVaultUnavailable || !strings.Contains(stderr, `vault secret secret/loki/basic-auth (key "admin"): TLS: the server's certificate is signed by an unknown authority (set VAULT_CACERT or VAULT_CAPATH)`) {
		t.Errorf("without the CA: exit %d, stderr: %s", code, stderr)
	}

	_, stderr, code = f.generateWith(t, f.env("VAULT_CACERT", filepath.Join(t.TempDir(), "missing.pem")), file)
	if code != ExitVaultUnavailable || !strings.Contains(stderr, "missing.pem: no such file") {
		t.Errorf("missing CA file: exit %d, stderr: %s", code, stderr)
	}

	stdout, stderr, code = f.generateWith(t, f.env("VAULT_SKIP_VERIFY", "true"), file)
	if code != 0 {
		t.Fatalf("skip verify: exit %d: %s", code, stderr)
	}
	checkUsers(t, stdout, map[string]string{"admin": pwKV2})
	if !strings.Contains(stderr, "loki-cmp: warning: VAULT_SKIP_VERIFY is set: the Vault server's certificate is NOT verified") {
		t.Errorf("no warning for VAULT_SKIP_VERIFY: %q", stderr)
	}
}

// TestVaultSealed: a sealed Vault fails fast (no retries) with its own cause.
func TestVaultSealed(t *testing.T) {
	v := testtools.StartVault(t, false)
	v.CLI(t, "kv", "put", "-mount=secret", "loki/basic-auth", "admin="+pwKV2)
	v.CLI(t, "operator", "seal")
	f := &vaultFixture{v: v, readToken: v.RootToken, secrets: []string{marker, v.RootToken}}
	p := newProxy(t, v.Addr, nil)
	_, stderr, code := f.generateWith(t, f.env("VAULT_ADDR", p.URL()), lokiYAML(t, vaultUser("admin", "secret/loki/basic-auth", "admin")))
	if code != ExitVaultUnavailable || !strings.Contains(stderr, `vault secret secret/loki/basic-auth (key "admin"): Vault is sealed`) {
		t.Errorf("exit %d, stderr: %s", code, stderr)
	}
	if n := p.total(); n != 1 {
		t.Errorf("%d requests to a sealed Vault, want 1 (no retries)", n)
	}
}
