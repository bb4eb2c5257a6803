package config

import (
	"strings"
	"testing"
)

// scalableWith is a valid simple-scalable file with the given
// spec.objectStorage.credentials (flow style).
func scalableWith(credentials string) string {
	return minimal + "  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage:\n    credentials: " + credentials + "\n"
}

const (
	legacyKeys = "  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage: {accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"
	esoOK      = "{externalSecret: {storeRef: {name: vault}, key: loki/s3, version: \"3\"}}"
	vsoOK      = "{vaultStaticSecret: {vaultAuthRef: loki/vso, mount: secret, path: loki/s3}}"
)

// TestCredentialSources: each source is valid with its defaults; only the
// ones that render keys warn, and say what that costs.
func TestCredentialSources(t *testing.T) {
	for _, tc := range []struct{ name, in, warning string }{
		{"existing Secret", scalableWith("{secret: {name: loki-s3}}"), ""},
		{"existing Secret, own keys", scalableWith("{secret: {name: loki-s3, accessKeyIDKey: id, secretAccessKeyKey: key, rotation: 2026-12}}"), ""},
		{"ExternalSecret", scalableWith(esoOK), ""},
		{"VaultStaticSecret", scalableWith(vsoOK), ""},
		{"VaultStaticSecret kv-v1", scalableWith("{vaultStaticSecret: {mount: kv, path: loki/s3, type: kv-v1}}"), ""},
		{"plaintext", scalableWith("{plaintext: {accessKeyID: {fromEnv: K}, secretAccessKey: {fromVault: {path: secret/loki/s3, key: k}}}}"),
			"spec.objectStorage.credentials.plaintext: opted in: the S3 keys are rendered in plaintext into Secret loki-object-storage: they sit in Argo CD's manifest cache"},
		{"v0.1.0 form", minimal + legacyKeys,
			"spec.objectStorage.accessKeyID: deprecated (the form of v0.1.0, still rendered): the S3 keys are rendered in plaintext"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Load([]byte(header+tc.in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.warning == "" && len(doc.Warnings) > 0:
				t.Errorf("warnings: %v", doc.Warnings)
			case tc.warning != "" && (len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0].String(), tc.warning)):
				t.Errorf("warnings: %v, want one with %q", doc.Warnings, tc.warning)
			}
		})
	}
}

// TestCredentialMistakes: each mistake is refused with its position and fix.
func TestCredentialMistakes(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no source", minimal + "  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n",
			"spec.objectStorage.credentials: required with mode simple-scalable: say where the S3 keys come from, e.g. credentials: {secret: {name: loki-s3}}"},
		{"two sources", scalableWith("{secret: {name: a}, " + strings.Trim(vsoOK, "{}") + "}}"),
			"spec.objectStorage.credentials: set one of secret, externalSecret, vaultStaticSecret and plaintext, not secret and vaultStaticSecret"},
		{"both forms", strings.Replace(minimal+legacyKeys, "objectStorage: {", "objectStorage: {credentials: {secret: {name: a}}, ", 1),
			"spec.objectStorage.accessKeyID: set credentials.secret or the deprecated accessKeyID and secretAccessKey, not both"},
		{"half the v0.1.0 form", strings.Replace(minimal+legacyKeys, ", secretAccessKey: {fromEnv: S}", "", 1),
			"spec.objectStorage.secretAccessKey: required: say where the secret access key comes from"},
		{"plaintext literal", scalableWith("{plaintext: {accessKeyID: AKIAEXAMPLE}}"), "a literal access key ID is not allowed"},
		{"secret without name", scalableWith("{secret: {rotation: x}}"), "spec.objectStorage.credentials.secret.name: required"},
		{"secret bad name", scalableWith("{secret: {name: Loki_S3}}"), `spec.objectStorage.credentials.secret.name: invalid value "Loki_S3"`},
		{"secret same keys", scalableWith("{secret: {name: a, accessKeyIDKey: k, secretAccessKeyKey: k}}"), "spec.objectStorage.credentials.secret.secretAccessKeyKey: must differ from accessKeyIDKey"},
		{"secret bad key", scalableWith("{secret: {name: a, accessKeyIDKey: 'a b'}}"), `spec.objectStorage.credentials.secret.accessKeyIDKey: invalid value "a b"`},
		{"rotation multi-line", scalableWith("{secret: {name: a, rotation: \"a\\nb\"}}"), "spec.objectStorage.credentials.secret.rotation: must be one line"},
		{"ESO without version", scalableWith(strings.Replace(esoOK, `, version: "3"`, "", 1)),
			"spec.objectStorage.credentials.externalSecret.version: required: the remote secret's version, e.g. \"1\" for Vault KV v2. External Secrets Operator does not restart the pods"},
		{"ESO store kind", scalableWith(strings.Replace(esoOK, "{name: vault}", "{name: vault, kind: Vault}", 1)), `spec.objectStorage.credentials.externalSecret.storeRef.kind: must be "ClusterSecretStore" or "SecretStore"`},
		{"ESO without store", scalableWith(strings.Replace(esoOK, "storeRef: {name: vault}, ", "", 1)), "spec.objectStorage.credentials.externalSecret.storeRef.name: required"},
		{"ESO without key", scalableWith(strings.Replace(esoOK, "key: loki/s3, ", "", 1)), "spec.objectStorage.credentials.externalSecret.key: required"},
		{"ESO refresh", scalableWith(strings.Replace(esoOK, "key: loki/s3", "key: loki/s3, refreshInterval: 1d", 1)), `spec.objectStorage.credentials.externalSecret.refreshInterval: invalid value "1d": must be a positive Go duration`},
		{"VSO type", scalableWith(strings.Replace(vsoOK, "path: loki/s3", "path: loki/s3, type: kv", 1)), `spec.objectStorage.credentials.vaultStaticSecret.type: must be "kv-v2" or "kv-v1"`},
		{"VSO kv-v1 version", scalableWith(strings.Replace(vsoOK, "path: loki/s3", "path: loki/s3, type: kv-v1, version: 2", 1)), "spec.objectStorage.credentials.vaultStaticSecret.version: KV v1 keeps no versions"},
		{"VSO mount slash", scalableWith(strings.Replace(vsoOK, "mount: secret", "mount: /secret/", 1)), `spec.objectStorage.credentials.vaultStaticSecret.mount: invalid value "/secret/"`},
		{"VSO no path", scalableWith(strings.Replace(vsoOK, ", path: loki/s3", "", 1)), `spec.objectStorage.credentials.vaultStaticSecret.path: invalid value ""`},
		{"VSO auth ref", scalableWith(strings.Replace(vsoOK, "loki/vso", "a/b/c", 1)), `spec.objectStorage.credentials.vaultStaticSecret.vaultAuthRef: invalid value "a/b/c"`},
		{"VSO refresh", scalableWith(strings.Replace(vsoOK, "path: loki/s3", "path: loki/s3, refreshAfter: 0s", 1)), `spec.objectStorage.credentials.vaultStaticSecret.refreshAfter: invalid value "0s"`},
		{"credentials with single-binary", minimal + "  objectStorage: {credentials: {secret: {name: a}}}\n", "spec.objectStorage.credentials.secret: is only used with mode simple-scalable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(header+tc.in), Options{})
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got:\n%v\nwant a line containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "loki.yaml:") {
				t.Errorf("no position: %v", err)
			}
		})
	}
}
