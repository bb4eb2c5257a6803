package vault

import (
	"strings"
	"testing"
	"time"
)

func TestAllowList(t *testing.T) {
	a := ParseAllowList(" secret/loki/* , secret/shared/loki-*,kv/**/creds,, /team/x/ ")
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"secret/loki/basic-auth", true},
		{"secret/loki/a/b", false}, // * stays within one segment
		{"secret/lokix/basic-auth", false},
		{"secret/shared/loki-admin", true},
		{"secret/shared/other", false},
		{"kv/creds", true},
		{"kv/a/b/c/creds", true},
		{"kv/a/b/c/other", false},
		{"team/x", true},
		{"secret/loki", false},
		{"other/loki/basic-auth", false},
	} {
		if got := a.Allows(tc.path); got != tc.want {
			t.Errorf("Allows(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if (AllowList{}).Allows("secret/loki/x") || ParseAllowList("").Allows("secret/loki/x") {
		t.Errorf("an empty allow-list allowed a path")
	}
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSettingsFromEnv(t *testing.T) {
	s, err := SettingsFromEnv(envMap(map[string]string{
		"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "t", "LOKI_CMP_VAULT_TIMEOUT": "5s",
		"VAULT_NAMESPACE": "team-a", "LOKI_CMP_VAULT_ALLOWED_PATHS": "secret/loki/*",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Auth != AuthToken || s.Timeout != 5*time.Second || s.Namespace != "team-a" || s.K8sMount != "kubernetes" ||
		s.K8sTokenFile != DefaultK8sJWTFile || s.AppRoleMount != "approle" || len(s.Allowed) != 1 {
		t.Errorf("settings: %+v", s)
	}
	s, err = SettingsFromEnv(envMap(map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "t"}))
	if err != nil || s.Timeout != DefaultTimeout {
		t.Errorf("default timeout: %v %v", s.Timeout, err)
	}
}

func TestSettingsErrors(t *testing.T) {
	base := map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "secret-token-value"}
	for _, tc := range []struct {
		set  map[string]string
		kind Kind
		want string
	}{
		{map[string]string{"VAULT_ADDR": ""}, KindUnavailable, "VAULT_ADDR is not set"},
		{map[string]string{"LOKI_CMP_VAULT_TIMEOUT": "forever"}, KindUnavailable, `LOKI_CMP_VAULT_TIMEOUT must be a duration between 1s and 55s (Argo CD stops generate at 60s), not "forever"`},
		{map[string]string{"LOKI_CMP_VAULT_TIMEOUT": "2m"}, KindUnavailable, "LOKI_CMP_VAULT_TIMEOUT must be a duration between"},
		{map[string]string{"VAULT_SKIP_VERIFY": "maybe"}, KindUnavailable, "VAULT_SKIP_VERIFY must be true or false"},
		{map[string]string{"LOKI_CMP_VAULT_AUTH": "ldap"}, KindUnavailable, `LOKI_CMP_VAULT_AUTH must be token, kubernetes or approle, not "ldap"`},
		{map[string]string{"VAULT_TOKEN": ""}, KindDenied, "token auth needs VAULT_TOKEN or LOKI_CMP_VAULT_TOKEN_FILE"},
		{map[string]string{"LOKI_CMP_VAULT_AUTH": "kubernetes"}, KindDenied, "kubernetes auth needs LOKI_CMP_VAULT_K8S_ROLE"},
		{map[string]string{"LOKI_CMP_VAULT_AUTH": "approle"}, KindDenied, "approle auth needs LOKI_CMP_VAULT_ROLE_ID or LOKI_CMP_VAULT_ROLE_ID_FILE"},
		{map[string]string{"LOKI_CMP_VAULT_AUTH": "approle", "LOKI_CMP_VAULT_ROLE_ID": "r"}, KindDenied, "approle auth needs LOKI_CMP_VAULT_SECRET_ID or LOKI_CMP_VAULT_SECRET_ID_FILE"},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range tc.set {
			env[k] = v
		}
		_, err := SettingsFromEnv(envMap(env))
		e, ok := err.(*Error)
		if !ok || e.Kind != tc.kind || !strings.Contains(e.Msg, tc.want) {
			t.Errorf("%v: error %v (%T), want kind %d containing %q", tc.set, err, err, tc.kind, tc.want)
			continue
		}
		if strings.Contains(e.Msg, "secret-token-value") {
			t.Errorf("error leaks the token")
		}
	}
}
