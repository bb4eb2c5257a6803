package plugin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHashPepper(t *testing.T) {
	const planted = "PLANTED-pepper-value"
	file := filepath.Join(t.TempDir(), "pepper")
	if err := os.WriteFile(file, []byte(planted+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("PLANTED\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{"ADMIN_PW": "a", "READER_PW": "r"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range pw {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    string // the pepper
		wantErr string
	}{
		{"none", pw, "", ""},
		{"env", with(EnvHashPepper, planted), planted, ""},
		{"file, newline trimmed", with(EnvHashPepperFile, file), planted, ""},
		{"both", with(EnvHashPepper, planted, EnvHashPepperFile, file), "",
			"loki.yaml: both LOKI_CMP_HASH_PEPPER and LOKI_CMP_HASH_PEPPER_FILE are set; set one"},
		{"short env", with(EnvHashPepper, "PLANTED"), "",
			"loki.yaml: the hash pepper in LOKI_CMP_HASH_PEPPER is 7 bytes long; it must be at least 16 (or unset, for no pepper)"},
		{"empty env", with(EnvHashPepper, ""), "",
			"loki.yaml: the hash pepper in LOKI_CMP_HASH_PEPPER is 0 bytes long; it must be at least 16 (or unset, for no pepper)"},
		{"short file", with(EnvHashPepperFile, short), "",
			"loki.yaml: the hash pepper in the file " + short + " (LOKI_CMP_HASH_PEPPER_FILE) is 7 bytes long; it must be at least 16 (or unset, for no pepper)"},
		{"missing file", with(EnvHashPepperFile, file+".missing"), "",
			"loki.yaml: cannot read the hash pepper file " + file + ".missing (LOKI_CMP_HASH_PEPPER_FILE): no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := ResolveCredentials(context.Background(), load(t), Options{Env: envOf(tc.env)})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "PLANTED") {
					t.Errorf("error leaks the pepper")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(creds.HashPepper.Bytes()); got != tc.want {
				t.Errorf("pepper of %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}
