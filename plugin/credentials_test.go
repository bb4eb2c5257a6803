package plugin

import (
	"context"
	"strings"
	"testing"

	"github.com/thedevops/loki-cmp/config"
)

func load(t *testing.T) *config.Document {
	t.Helper()
	in := `apiVersion: lokicmp.thedevops.dev/v1alpha1
kind: LokiStack
spec:
  host: loki.example.org
  auth:
    users:
    - {name: admin, password: {fromEnv: ADMIN_PW}}
    - {name: reader, password: {fromEnv: READER_PW}}
`
	doc, err := config.Load([]byte(in), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func envOf(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestResolveFromEnv(t *testing.T) {
	creds, err := ResolveCredentials(context.Background(), load(t), Options{Env: envOf(map[string]string{"ADMIN_PW": "a", "READER_PW": "r"})})
	if err != nil {
		t.Fatal(err)
	}
	if string(creds.Users["admin"].Password.Bytes()) != "a" || string(creds.Users["reader"].Password.Bytes()) != "r" {
		t.Errorf("wrong credentials resolved")
	}
}

func TestResolveErrors(t *testing.T) {
	const planted = "PLANTED-secret-value"
	long := planted + strings.Repeat("x", 80)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"both unset", nil, []string{
			`loki.yaml:7:41: spec.auth.users[0].password.fromEnv: environment variable ADMIN_PW is not set (it holds the password of user "admin")`,
			`loki.yaml:8:42: spec.auth.users[1].password.fromEnv: environment variable READER_PW is not set (it holds the password of user "reader")`,
		}},
		{"empty", map[string]string{"ADMIN_PW": "", "READER_PW": "r"}, []string{
			`loki.yaml:7:41: spec.auth.users[0].password.fromEnv: environment variable ADMIN_PW is empty (it holds the password of user "admin")`,
		}},
		{"too long", map[string]string{"ADMIN_PW": long, "READER_PW": "r"}, []string{
			`loki.yaml:7:41: spec.auth.users[0].password.fromEnv: the password of user "admin" (from ADMIN_PW) cannot be used: password is longer than 72 bytes (bcrypt's limit)`,
		}},
		{"trailing newline", map[string]string{"ADMIN_PW": planted + "\n", "READER_PW": planted + "\r\n"}, []string{
			`loki.yaml:7:41: spec.auth.users[0].password.fromEnv: the password of user "admin" (from ADMIN_PW) cannot be used: it ends with a line break (as a file with a trailing newline gives, e.g. kubectl create secret --from-file or echo): no one can type it at a login prompt; store it without one (printf '%s' ..., kubectl create secret --from-literal)`,
			`loki.yaml:8:42: spec.auth.users[1].password.fromEnv: the password of user "reader" (from READER_PW) cannot be used: it ends with a line break (as a file with a trailing newline gives, e.g. kubectl create secret --from-file or echo): no one can type it at a login prompt; store it without one (printf '%s' ..., kubectl create secret --from-literal)`,
		}},
		{"NUL byte", map[string]string{"ADMIN_PW": "r", "READER_PW": planted + "\x00"}, []string{
			`loki.yaml:8:42: spec.auth.users[1].password.fromEnv: the password of user "reader" (from READER_PW) cannot be used: password contains a NUL byte, which bcrypt implementations truncate at`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ResolveCredentials(context.Background(), load(t), Options{Env: envOf(tc.env)})
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("error:\n got: %q\nwant: %q", got, tc.want)
			}
			if strings.Contains(err.Error(), planted) {
				t.Errorf("error leaks the value")
			}
			if _, ok := err.(*CredentialError); !ok {
				t.Errorf("error is %T, want *CredentialError", err)
			}
		})
	}
}

func TestCheckHash(t *testing.T) {
	const bcryptHash = "$2y$04$S8rz2Z/6B1KAneNibJl/9OiMCWGtQvW2NVTe9Kpu4ywL8cTR6jLwa"
	for _, tc := range []struct {
		in, want, err string
	}{
		{bcryptHash, bcryptHash, ""},
		{"admin:" + bcryptHash + "\n", bcryptHash, ""},
		{"$apr1$salt$abcdefghijklmnopqrstuv", "$apr1$salt$abcdefghijklmnopqrstuv", ""},
		{"{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", ""},
		{"reader:" + bcryptHash, "", `it is not an htpasswd line for user "admin"`},
		{"PLANTED-password:with-colon", "", `it is not an htpasswd line for user "admin"`},
		{"plain-password", "", "it is not a bcrypt"},
		{"$2y$05$short", "", "it is not a bcrypt"},
		{bcryptHash + "\nother:" + bcryptHash, "", "it holds more than one line"},
	} {
		got, err := checkHash(tc.in, "admin")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("checkHash(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), "PLANTED") || strings.Contains(err.Error(), "S8rz2Z") || strings.Contains(err.Error(), "short")) {
				t.Errorf("error echoes the value: %v", err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("checkHash(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
