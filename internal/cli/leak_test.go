package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoLeakFromEnv plants a unique password in the environment and runs
// every error path that can happen around it; the password must never
// appear on stdout (which must be empty) or stderr. Vault's error paths are
// checked the same way in TestVault (generateWith), with passwords planted
// in Vault.
func TestNoLeakFromEnv(t *testing.T) {
	const planted = "Pl4nted-Env-Secret-7d41"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\nspec:\n  host: loki.example.org\n  auth:\n    users:\n    - {name: admin, password: {fromEnv: ADMIN_PW}}\n"
	files := map[string]string{
		"good":        write("good.yaml", good),
		"bad field":   write("badfield.yaml", good+"  storge: {}\n"),
		"second user": write("second.yaml", good+"    - {name: other, password: {fromEnv: MISSING_PW}}\n"),
		"as htpasswd": write("hash.yaml", strings.Replace(good, "password:", "htpasswd:", 1)),
		"bad host":    write("badhost.yaml", strings.Replace(good, "loki.example.org", "Not_A_Host", 1)),
	}
	envWith := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	long := planted + strings.Repeat("x", 80)
	for _, tc := range []struct {
		name string
		file string
		env  map[string]string
		args []string
	}{
		{"invalid field", files["bad field"], map[string]string{"ADMIN_PW": planted}, nil},
		{"another user's variable missing", files["second user"], map[string]string{"ADMIN_PW": planted}, nil},
		{"password too long", files["good"], map[string]string{"ADMIN_PW": long}, nil},
		{"password with NUL", files["good"], map[string]string{"ADMIN_PW": planted + "\x00"}, nil},
		{"password where a hash is expected", files["as htpasswd"], map[string]string{"ADMIN_PW": planted}, nil},
		{"password with a colon where a hash is expected", files["as htpasswd"], map[string]string{"ADMIN_PW": planted + ":x"}, nil},
		{"invalid host", files["bad host"], map[string]string{"ADMIN_PW": planted}, nil},
		{"bad output format", files["good"], map[string]string{"ADMIN_PW": planted}, []string{"-o", "toml"}},
		{"bad Argo CD parameter", files["good"], map[string]string{"ADMIN_PW": planted, "ARGOCD_APP_PARAMETERS": `[{"name":"host","string":"Not_A_Host"}]`}, nil},
		{"unknown Argo CD parameter", files["good"], map[string]string{"ADMIN_PW": planted, "ARGOCD_APP_PARAMETERS": `[{"name":"nope","string":"x"}]`}, nil},
		{"malformed Argo CD parameters", files["good"], map[string]string{"ADMIN_PW": planted, "ARGOCD_APP_PARAMETERS": `[{"name":`}, nil},
		{"cluster without the CRDs", files["good"], map[string]string{"ADMIN_PW": planted, "KUBE_API_VERSIONS": "v1"}, nil},
		{"Vault reference without Vault", write("vault.yaml", strings.Replace(good, "{fromEnv: ADMIN_PW}", "{fromVault: {path: secret/loki, key: k}}", 1)), map[string]string{"ADMIN_PW": planted, "VAULT_TOKEN": planted}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"generate", "-f", tc.file}, tc.args...)
			stdout, stderr, code := run(t, envWith(tc.env), args...)
			if code == 0 {
				t.Fatalf("exit 0; want an error")
			}
			if stdout != "" {
				t.Errorf("stdout not empty")
			}
			if strings.Contains(stderr, "Pl4nted") {
				t.Errorf("stderr leaks the planted secret: %s", stderr)
			}
		})
	}
}
