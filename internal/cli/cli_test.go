package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"
	"sigs.k8s.io/yaml"

	"github.com/thedevops/loki-cmp/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/examples")

const examples = "../../testdata/examples"

// testEnv gives every password variable a known value derived from its
// name, so golden files are stable and each user's password is distinct.
// Variables Argo CD or the sidecar's administrator would set stay unset.
func testEnv(name string) (string, bool) {
	for _, p := range []string{"ARGOCD_", "KUBE_", "VAULT_", "LOKI_CMP_"} {
		if strings.HasPrefix(name, p) {
			return "", false
		}
	}
	return "pw-" + strings.ToLower(name), true
}

func run(t *testing.T, env func(string) (string, bool), args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, args, env)
	return out.String(), errOut.String(), code
}

// TestGolden renders every example under testdata/examples and compares it
// with its golden.yaml. Run with -update to rewrite them after a deliberate
// change, and review the diff: every changed line changes users' clusters.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(examples, "*", "loki.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range dirs {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := run(t, testEnv, "generate", "-f", file)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden := filepath.Join(dir, "golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -update)", err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("%s differs (-want +got); rerun with -update if intended:\n%s", golden, diff)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	seed := filepath.Join(examples, "seed", "loki.yaml")
	noEnv := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		name string
		env  func(string) (string, bool)
		args []string
		code int
	}{
		{"ok", testEnv, []string{"generate", "-f", seed}, ExitOK},
		{"dry run without env", noEnv, []string{"generate", "--dry-run", "-f", seed}, ExitOK},
		{"validate without env", noEnv, []string{"validate", "-f", seed}, ExitOK},
		{"missing env", noEnv, []string{"generate", "-f", seed}, ExitCredential},
		{"missing file", testEnv, []string{"generate", "-f", "does-not-exist.yaml"}, ExitInvalid},
		{"invalid file", testEnv, []string{"generate", "-f", "cli.go"}, ExitInvalid},
		{"unknown flag", testEnv, []string{"generate", "--frobnicate"}, ExitUsage},
		{"unknown command", testEnv, []string{"frobnicate"}, ExitUsage},
		{"extra argument", testEnv, []string{"generate", "loki.yaml"}, ExitUsage},
		{"bad output format", testEnv, []string{"generate", "-o", "xml", "-f", seed}, ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if code != 0 {
				if stdout != "" {
					t.Errorf("stdout not empty on error: %.200s", stdout)
				}
				if !strings.HasPrefix(stderr, "loki-cmp: error: ") {
					t.Errorf("stderr = %q", stderr)
				}
			}
		})
	}
}

// basicAuthLines returns the htpasswd lines of the basic-auth Secret in a
// rendered YAML stream, checking the shape Traefik expects: an Opaque Secret
// with exactly one data key, "users", one line per user.
func basicAuthLines(t *testing.T, stream string) []string {
	t.Helper()
	for _, doc := range strings.Split(stream, "\n---\n") {
		var obj struct {
			Kind     string
			Type     string
			Metadata struct{ Name string }
			Data     map[string]string
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Kind != "Secret" || !strings.HasSuffix(obj.Metadata.Name, "-basic-auth") {
			continue
		}
		if obj.Type != "Opaque" || len(obj.Data) != 1 {
			t.Fatalf("basic-auth Secret: type %q with %d data keys, want Opaque with only users", obj.Type, len(obj.Data))
		}
		raw, err := base64.StdEncoding.DecodeString(obj.Data["users"])
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		if !strings.HasSuffix(text, "\n") {
			t.Errorf("users does not end in a newline")
		}
		return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	}
	t.Fatal("no basic-auth Secret in output")
	return nil
}

// TestHtpasswdVerifies checks each generated line with Apache's own htpasswd
// -v and with Go's bcrypt, for several users and costs.
func TestHtpasswdVerifies(t *testing.T) {
	htpasswd := testtools.Find(t, "htpasswd")
	dir := t.TempDir()
	file := filepath.Join(dir, "loki.yaml")
	const in = `apiVersion: lokicmp.thedevops.dev/v1alpha1
kind: LokiStack
spec:
  host: loki.example.org
  auth:
    bcryptCost: 5
    users:
    - {name: admin, password: {fromEnv: ADMIN}}
    - {name: grafana, password: {fromEnv: GRAFANA}}
    - {name: promtail-remote, password: {fromEnv: REMOTE}}
`
	if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	passwords := map[string]string{"ADMIN": "Tr0ub4dor&3", "GRAFANA": "pässwörd with spaces", "REMOTE": strings.Repeat("x", 72)}
	env := func(n string) (string, bool) { v, ok := passwords[n]; return v, ok }
	stdout, stderr, code := run(t, env, "generate", "-f", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := basicAuthLines(t, stdout)
	users := map[string]string{"admin": passwords["ADMIN"], "grafana": passwords["GRAFANA"], "promtail-remote": passwords["REMOTE"]}
	if len(lines) != len(users) {
		t.Fatalf("%d lines, want %d: %q", len(lines), len(users), lines)
	}
	pwfile := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(pwfile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		user, hash, _ := strings.Cut(line, ":")
		pw := users[user]
		if !strings.HasPrefix(hash, "$2y$05$") {
			t.Errorf("%s: hash %q is not bcrypt cost 5", user, hash)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
			t.Errorf("%s: Go bcrypt: %v", user, err)
		}
		out, err := exec.Command(htpasswd, "-vb", pwfile, user, pw).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Password for user "+user+" correct.") {
			t.Errorf("%s: htpasswd -vb: %v: %s", user, err, out)
		}
		wrong := pw[:len(pw)-1] + "!" // same length: bcrypt ignores bytes past 72
		out, err = exec.Command(htpasswd, "-vb", pwfile, user, wrong).CombinedOutput()
		if err == nil {
			t.Errorf("%s: htpasswd accepted a wrong password: %s", user, out)
		}
	}
}

// TestSpecialFilesRefused: a FIFO would block the read for ever and a
// device would never end; both are refused before opening.
func TestSpecialFilesRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "loki.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{fifo: "it is a named pipe, not a regular file", "/dev/zero": "it is a device, not a regular file"} {
		stdout, stderr, code := run(t, testEnv, "validate", "-f", file)
		if code != ExitInvalid || stdout != "" || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q", file, code, stderr)
		}
	}
}
