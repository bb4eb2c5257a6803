package config

import (
	"strings"
	"testing"

	"github.com/thedevops/loki-cmp/internal/field"
)

// TestLoadMistakes: values Kubernetes' syntax accepts but that fail at sync
// or never work are refused at validate, with the fix.
func TestLoadMistakes(t *testing.T) {
	withNS := func(ns, spec string) string {
		return "metadata: {namespace: " + ns + "}\n" + strings.Replace(minimal, "spec:\n", "spec:\n"+spec, 1)
	}
	scalable := "  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage:\n    accessKeyID: {fromEnv: A}\n"
	for _, tc := range []struct {
		name string
		typ  field.ErrorType // the first problem's
		in   string
		want string // the whole first line of the error
	}{
		// Namespaces (issue item 1).
		{"system namespace", field.Forbidden, withNS("kube-system", ""),
			`loki.yaml:3:23: metadata.namespace: "kube-system" is a system namespace, shared with Kubernetes' own pods; give the stack a namespace of its own, e.g. loki`},
		{"system namespace even when not owned", field.Forbidden, withNS("default", "  createNamespace: false\n"),
			`loki.yaml:3:23: metadata.namespace: "default" is a system namespace, shared with Kubernetes' own pods; give the stack a namespace of its own, e.g. loki`},
		{"shared namespace owned", field.Forbidden, withNS("monitoring", ""),
			`loki.yaml:3:23: metadata.namespace: "monitoring" is usually shared with other software: loki-cmp would own it and set Pod Security "restricted" on it, breaking pods that need more (e.g. node-exporter); give the stack a namespace of its own, e.g. loki, or set spec.createNamespace: false to deploy into the existing namespace without touching it`},
		{"collector in a system namespace", field.Forbidden, minimal + "  collector: {namespace: kube-system}\n",
			`loki.yaml:8:26: spec.collector.namespace: "kube-system" is a system namespace, shared with Kubernetes' own pods; give the stack a namespace of its own, e.g. loki`},
		{"collector in a shared namespace it would own", field.Forbidden, minimal + "  collector: {namespace: argocd}\n",
			`loki.yaml:8:26: spec.collector.namespace: "argocd" is usually shared with other software: loki-cmp would own it and set Pod Security "restricted" on it, breaking pods that need more (e.g. node-exporter); give the stack a namespace of its own, e.g. loki, or set spec.createNamespace: false to deploy into the existing namespace without touching it`},

		// Silent mistakes (item 3).
		{"IP address as host", field.Invalid, strings.Replace(minimal, "loki.example.org", "192.168.1.20", 1),
			`loki.yaml:4:9: spec.host: invalid value "192.168.1.20": an IP address cannot be an Ingress host nor get a Let's Encrypt certificate; use a DNS name that resolves to it (on a LAN, e.g. a name in your local DNS or loki.192.168.1.20.nip.io)`},
		{"cert-manager annotation beside the Certificate", field.Forbidden, minimal + "  commonAnnotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}\n",
			"loki.yaml:8:55: spec.commonAnnotations[cert-manager.io/cluster-issuer]: cert-manager annotations are set by loki-cmp through spec.tls (mode: certificate emits a Certificate, mode: annotation annotates the Ingress); a second way makes two Certificates fight over one Secret: remove it and choose with spec.tls.mode"},
		{"tls-acme annotation", field.Forbidden, minimal + "  tls: {mode: annotation}\n  commonAnnotations: {kubernetes.io/tls-acme: \"true\"}\n",
			`loki.yaml:9:47: spec.commonAnnotations[kubernetes.io/tls-acme]: cert-manager annotations are set by loki-cmp through spec.tls (mode: certificate emits a Certificate, mode: annotation annotates the Ingress); a second way makes two Certificates fight over one Secret: remove it and choose with spec.tls.mode`},
		{"Vault path the API way", field.Invalid, strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: secret/data/loki/basic-auth, key: admin}}", 1),
			`loki.yaml:7:50: spec.auth.users[0].password.fromVault.path: invalid value "secret/data/loki/basic-auth": written the KV v2 API way; give the path as for vault kv get, without data/: secret/loki/basic-auth (set kvVersion: 1 if this KV v1 secret really lives under data/)`},
		{"Vault metadata path with a mount", field.Invalid, strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: kv/team/metadata/loki, key: admin, kvVersion: 2, mount: kv/team}}", 1),
			`loki.yaml:7:50: spec.auth.users[0].password.fromVault.path: invalid value "kv/team/metadata/loki": written the KV v2 API way; give the path as for vault kv get, without metadata/: kv/team/loki (set kvVersion: 1 if this KV v1 secret really lives under metadata/)`},
		{"storage size quoted without a unit", field.Invalid, minimal + "  storage: {size: \"10\"}\n",
			`loki.yaml:8:19: spec.storage.size: invalid value "10": a size without a unit is bytes (10 bytes); write it with one, e.g. 10Gi or 10Mi`},
		{"storage size bare number", field.TypeInvalid, minimal + "  storage: {size: 10}\n",
			"loki.yaml:8:19: spec.storage.size: must be a size with a unit, e.g. 10Gi or 512Mi, not a bare number (which would be bytes)"},
		{"memory without a unit", field.Invalid, minimal + "  loki: {resources: {requests: {memory: \"512\"}}}\n",
			`loki.yaml:8:41: spec.loki.resources.requests.memory: invalid value "512": a size without a unit is bytes (512 bytes); write it with one, e.g. 512Gi or 512Mi`},
		{"retention bare number", field.TypeInvalid, minimal + "  loki: {retention: 744}\n",
			"loki.yaml:8:21: spec.loki.retention: must be a duration with a unit, e.g. 744h, 31d or 30s, not a bare number"},
		{"Loki 2 image", field.NotSupported, minimal + "  loki: {image: docker.io/grafana/loki:2.9.10}\n",
			`loki.yaml:8:17: spec.loki.image: invalid value "docker.io/grafana/loki:2.9.10": loki-cmp renders the configuration of Loki 3.x, which Loki 2 does not accept; use a 3.x image such as docker.io/grafana/loki:3.7.8`},
		{"Loki 4 image", field.NotSupported, minimal + "  loki: {image: \"registry.example.org:5000/loki:v4.0.0\"}\n",
			`loki.yaml:8:17: spec.loki.image: invalid value "registry.example.org:5000/loki:v4.0.0": loki-cmp renders the configuration of Loki 3.x, which Loki 4 does not accept; use a 3.x image such as docker.io/grafana/loki:3.7.8`},

		// Costs (item 4): 26 users at cost 14 is about 26*1*1.6 s.
		{"bcrypt beyond the budget", field.Invalid, strings.Replace(minimal, "    users:\n    - {name: admin, password: {fromEnv: PW}}\n", "    bcryptCost: 14\n    users:\n"+users(26), 1),
			"loki.yaml:6:17: spec.auth.bcryptCost: hashing 26 passwords at cost 14 takes about 42s on one CPU core, beyond the 40s loki-cmp allows inside Argo CD's 60 s plugin timeout; lower spec.auth.bcryptCost (each step halves it), keep ready hashes in Vault (htpasswd: {fromVault: ...}), or raise the sidecar's CPU limit and Argo CD's timeout (docs/argocd.md)"},

		// Wrong words (item 8): S3 keys are keys, each with its own example.
		{"S3 secret key missing", field.Required, minimal + scalable,
			"loki.yaml:10:3: spec.objectStorage.secretAccessKey: required: say where the secret access key comes from: {fromEnv: LOKI_S3_SECRET_ACCESS_KEY} or {fromVault: {path: secret/loki/s3, key: secret-access-key}}"},
		{"S3 secret key literal", field.Forbidden, minimal + scalable + "    secretAccessKey: wJalrXUtnFEMI\n",
			"loki.yaml:12:22: spec.objectStorage.secretAccessKey: a literal secret access key is not allowed in loki.yaml (it lives in git); reference one instead: {fromEnv: LOKI_S3_SECRET_ACCESS_KEY} or {fromVault: {path: secret/loki/s3, key: secret-access-key}}"},
		{"htpasswd literal", field.Forbidden, strings.Replace(minimal, "password: {fromEnv: PW}", "htpasswd: x", 1),
			"loki.yaml:7:31: spec.auth.users[0].htpasswd: a literal hash is not allowed in loki.yaml (it lives in git); reference one instead: {fromEnv: LOKI_ADMIN_HTPASSWD} or {fromVault: {path: secret/loki/hashes, key: admin}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(header+tc.in), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if first, _, _ := strings.Cut(err.Error(), "\n"); first != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", first, tc.want)
			}
			if got := err.(*Error).Problems[0].Type; got != tc.typ {
				t.Errorf("type %q, want %q", got, tc.typ)
			}
		})
	}
}

// TestLoadWarnings: what works but is probably not meant is a warning; the
// file stays valid.
func TestLoadWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  field.ErrorType
		in   string
		want string
	}{
		// 14 users at cost 13 is about 14*1*0.8 s.
		{"bcrypt near the budget", field.Invalid, strings.Replace(minimal, "    users:\n    - {name: admin, password: {fromEnv: PW}}\n", "    bcryptCost: 13\n    users:\n"+users(14), 1),
			"loki.yaml:6:17: spec.auth.bcryptCost: hashing 14 passwords at cost 13 takes about 11s on one CPU core, on every Argo CD refresh (the plugin timeout is 60 s); lower spec.auth.bcryptCost (each step halves it), keep ready hashes in Vault (htpasswd: {fromVault: ...}), or raise the sidecar's CPU limit and Argo CD's timeout (docs/argocd.md)"},
		{"Loki image without a version", field.Invalid, minimal + "  loki: {image: registry.example.org/loki:latest}\n",
			`loki.yaml:8:17: spec.loki.image: the image has tag "latest", which names no Loki version; loki-cmp renders the configuration of Loki 3.x: pin a 3.x tag such as docker.io/grafana/loki:3.7.8`},
		{"Loki image by digest only", field.Invalid, minimal + "  loki: {image: \"docker.io/grafana/loki@sha256:" + strings.Repeat("a", 64) + "\"}\n",
			`loki.yaml:8:17: spec.loki.image: the image has no tag, which names no Loki version; loki-cmp renders the configuration of Loki 3.x: pin a 3.x tag such as docker.io/grafana/loki:3.7.8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Load([]byte(header+tc.in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Warnings) != 1 || doc.Warnings[0].String() != tc.want || doc.Warnings[0].Type != tc.typ {
				t.Errorf("warnings:\n got: %v\nwant: %s (%s)", doc.Warnings, tc.want, tc.typ)
			}
		})
	}
	// Ready hashes cost nothing; the default cost with a few users is quiet.
	doc, err := Load([]byte(header+strings.Replace(minimal, "    users:\n    - {name: admin, password: {fromEnv: PW}}\n", "    bcryptCost: 14\n    users:\n"+strings.ReplaceAll(users(20), "password:", "htpasswd:"), 1)), Options{})
	if err != nil || len(doc.Warnings) != 0 {
		t.Errorf("ready hashes: %v, warnings %v", err, doc.Warnings)
	}
}

// users writes n password users of the minimal spec.
func users(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("    - {name: u" + string(rune('a'+i)) + ", password: {fromEnv: PW}}\n")
	}
	return b.String()
}
