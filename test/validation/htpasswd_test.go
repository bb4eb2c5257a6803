package validation

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thedevops/loki-cmp/internal/htpasswd"
	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// TestHtpasswdEveryExample checks every example's basic-auth Secret in the
// shape Traefik reads (Opaque, one data key "users", one htpasswd line per
// user, in loki.yaml's order) and each line with Apache's own htpasswd -v:
// the right password is accepted, a wrong one of the same length refused.
// internal/cli's TestHtpasswdVerifies does the same for passwords beyond
// the examples' (non-ASCII, 72 bytes).
func TestHtpasswdEveryExample(t *testing.T) {
	htpasswd := testtools.Find(t, "htpasswd")
	for _, ex := range render.Examples(t) {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			doc := render.Stack(t, ex.File)
			name := doc.Stack.Metadata.Name + "-basic-auth"
			secret := render.Find(t, render.Objects(t, ex.File), "Secret", name)
			if typ := secret.Object["type"]; typ != "Opaque" {
				t.Errorf("Secret %s: type %v, want Opaque", name, typ)
			}
			data, _ := secret.Object["data"].(map[string]any)
			if len(data) != 1 || data["users"] == nil {
				t.Fatalf("Secret %s: data keys %v, want only users", name, keys(data))
			}
			raw, err := base64.StdEncoding.DecodeString(data["users"].(string))
			if err != nil {
				t.Fatalf("Secret %s: users is not base64: %v", name, err)
			}
			text := string(raw)
			if !strings.HasSuffix(text, "\n") {
				t.Errorf("Secret %s: users does not end in a newline", name)
			}
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			users := doc.Stack.Spec.Auth.Users
			if len(lines) != len(users) {
				t.Fatalf("Secret %s: %d lines for %d users", name, len(lines), len(users))
			}
			file := filepath.Join(t.TempDir(), "htpasswd")
			if err := os.WriteFile(file, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			for i, u := range users {
				if u.Password.FromEnv == "" {
					t.Fatalf("user %s: the matrix only holds passwords from the environment", u.Name)
				}
				if got, _, _ := strings.Cut(lines[i], ":"); got != u.Name {
					t.Errorf("line %d is for user %q, want %q", i+1, got, u.Name)
				}
				pw := render.Password(u.Password.FromEnv)
				out, err := exec.Command(htpasswd, "-vb", file, u.Name, pw).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "Password for user "+u.Name+" correct.") {
					t.Errorf("htpasswd -vb %s: %v: %s", u.Name, err, out)
				}
				wrong := pw[:len(pw)-1] + "!"
				if out, err := exec.Command(htpasswd, "-vb", file, u.Name, wrong).CombinedOutput(); err == nil {
					t.Errorf("htpasswd -vb %s accepted a wrong password: %s", u.Name, out)
				}
			}
		})
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestHtpasswdVerifiesPepperedHashes: with a pepper set on the sidecar
// (LOKI_CMP_HASH_PEPPER), lines still verify with Apache's htpasswd, at the
// seed's cost and at the lowest, for passwords of every shape bcrypt takes.
func TestHtpasswdVerifiesPepperedHashes(t *testing.T) {
	bin := testtools.Find(t, "htpasswd")
	ctx := htpasswd.Context{Host: "loki.thedevops.dev", Namespace: "loki", Secret: "loki-basic-auth", User: "admin"}
	for _, cost := range []int{htpasswd.MinCost, 10} {
		for _, pw := range []string{"x", "pässwörd ✓", "with space:colon", strings.Repeat("p", htpasswd.MaxPasswordBytes)} {
			for _, pepper := range []string{"", "a-pepper-of-the-installation"} {
				hash, err := htpasswd.Hash([]byte(pw), cost, ctx, []byte(pepper))
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(t.TempDir(), "htpasswd")
				if err := os.WriteFile(file, []byte(htpasswd.Line(ctx.User, hash)+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(bin, "-vb", file, ctx.User, pw).CombinedOutput(); err != nil {
					t.Errorf("cost %d, pepper %v, password of %d bytes: htpasswd -vb: %v: %s", cost, pepper != "", len(pw), err, out)
				}
				if out, err := exec.Command(bin, "-vb", file, ctx.User, pw+"!").CombinedOutput(); err == nil && len(pw) < htpasswd.MaxPasswordBytes {
					t.Errorf("htpasswd -vb accepted a wrong password: %s", out)
				}
			}
		}
	}
}
