package config

import (
	"fmt"
	"strings"
	"testing"
)

// hostileCase is a loki.yaml someone could push to a repository, and the
// class of error it must get: a substring of the first line of the error.
type hostileCase struct {
	name, in, class string
}

// doc builds a full file from spec lines (without the leading "spec:").
func doc(spec string) string {
	return header + "spec:\n  host: loki.example.org\n  auth:\n    users: [{name: admin, password: {fromEnv: PW}}]\n" + spec
}

// hostile lists inputs by the kind of attack or mistake. TestHostileInputs
// checks each error class; FuzzLoad starts from them.
var hostile = func() []hostileCase {
	cs := []hostileCase{
		// Not a loki.yaml at all.
		{"empty", "", "file is empty"},
		{"whitespace only", " \n\t\n", "file is empty"},
		{"comment only", "# nothing\n", "file is empty"},
		{"invalid utf-8", header + "spec: {host: \xc3\x28}\n", "not UTF-8"},
		{"NUL byte", header + "spec: {host: a\x00b}\n", "binary data"},
		{"binary blob", "\x7fELF\x02\x01\x01\x00\x00", "binary data"},
		{"escape sequence", header + "# \x1b]0;pwned\x07\n", "binary data"},
		{"JSON object", `{"apiVersion":"lokicmp.thedevops.dev/v1alpha1"}`, "file is JSON"},
		{"JSON after a comment", "# x\n{\"kind\": \"LokiStack\"}", "file is JSON"},
		{"two documents", doc("") + "---\n" + doc(""), "a second YAML document"},
		{"document then junk document", doc("") + "---\nfoo: bar\n", "a second YAML document"},
		{"too large", header + strings.Repeat("# padding\n", MaxInputBytes/10+1), "larger than"},
		{"scalar document", "hello\n", "must be a mapping"},
		{"list document", "- a\n- b\n", "must be a mapping"},
		{"syntax: unclosed flow", header + "spec: {host: [\n", "invalid YAML"},
		{"syntax: tab indent", header + "spec:\n\thost: x\n", "invalid YAML"},
		{"syntax: bad indent", header + "spec:\n  host: a\n auth: b\n", "invalid YAML"},
		{"syntax: unknown anchor", header + "spec: *nope\n", "invalid YAML"},
		{"deep nesting", header + "spec:\n  host: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", "invalid YAML"},

		// Header.
		{"no apiVersion", "kind: LokiStack\nspec: {}\n", "apiVersion: required"},
		{"no kind", "apiVersion: lokicmp.thedevops.dev/v1alpha1\nspec: {}\n", "kind: required"},
		{"Kubernetes object", "apiVersion: v1\nkind: Secret\ndata: {a: b}\n", `must be "lokicmp.thedevops.dev/v1alpha1"`},
		{"future version", "apiVersion: lokicmp.thedevops.dev/v9\nkind: LokiStack\n", "is not supported by this loki-cmp"},
		{"kind as a list", "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: [LokiStack]\n", `must be "LokiStack"`},

		// Structure.
		{"unknown top-level field", doc("") + "status: {}\n", `unknown field "status"`},
		{"unknown field: data", doc("") + "data: {users: x}\n", `unknown field "data"`},
		{"misspelt field", doc("  storge: {}\n"), `did you mean "storage"`},
		{"case-changed field", doc("  Storage: {}\n"), `did you mean "storage"`},
		{"duplicate top-level key", doc("") + "kind: LokiStack\n", "duplicate key"},
		{"duplicate nested key", doc("  storage: {size: 1Gi, size: 2Gi}\n"), "duplicate key"},
		{"duplicate label key", doc("  commonLabels: {a: x, a: y}\n"), "duplicate key"},
		{"merge key", doc("  loki: {<<: {image: x}}\n"), "merge keys (<<) are not supported"},
		{"non-string key", doc("  commonLabels: {1: x}\n"), "keys must be strings"},
		{"complex key", doc("  commonLabels: {[a]: x}\n"), "keys must be strings"},
		{"spec as a list", header + "spec: [host]\n", "must be a mapping, not a list"},
		{"users as a string", header + "spec: {host: a.example.org, auth: {users: admin}}\n", "must be a list"},
		{"users as a mapping", header + "spec: {host: a.example.org, auth: {users: {admin: x}}}\n", "must be a list"},
		{"alias bomb", header + "spec:\n  host: a.example.org\n  auth:\n    users: [&u {name: a, password: {fromEnv: A}}, " + strings.Repeat("*u,", 30000) + "*u]\n", "expands to more than"},
		{"custom tag", doc("  storage: {size: !evil 1Gi}\n"), "must be a string"},
		{"binary tag", doc("  storage: {size: !!binary aGVsbG8=}\n"), "must be a string, not binary data"},
		{"timestamp for string", doc("  loki: {retention: 2024-01-01}\n"), "must be a string, not a timestamp"},
		{"float for string", doc("  loki: {image: 3.7}\n"), "must be a string, not a number"},
		{"bool for string", doc("  tls: {clusterIssuer: true}\n"), "must be a string, not a boolean"},
		{"null label value", doc("  commonLabels: {a: }\n"), "must have a value"},
		{"string for int", doc("  auth2: {}\n"), "unknown field"},
		{"int overflow", header + "spec:\n  host: a.example.org\n  auth:\n    bcryptCost: 99999999999999999999\n    users: [{name: a, password: {fromEnv: A}}]\n", "must be an integer"},
		{"yes for bool", doc("  collector: {enabled: yes}\n"), "must be a boolean"},
		{"string for bool", doc("  collector: {enabled: 'true'}\n"), "must be a boolean"},

		// Secrets in the file.
		{"literal password", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: hunter2}]}}\n", "a literal password is not allowed"},
		{"literal numeric password", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: 123456}]}}\n", "a literal password is not allowed"},
		{"literal password in a list", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: [hunter2]}]}}\n", "must be a mapping, not a list"},
		{"literal htpasswd", header + "spec: {host: a.example.org, auth: {users: [{name: a, htpasswd: 'a:$2y$05$x'}]}}\n", "a literal password is not allowed"},
		{"password under an unknown key", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {value: hunter2}}]}}\n", `unknown field "value"`},
		{"no password source", header + "spec: {host: a.example.org, auth: {users: [{name: a}]}}\n", "say where the password comes from"},
		{"env and vault", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A, fromVault: {path: s/a, key: k}}}]}}\n", "set either fromEnv or fromVault"},
		{"password and htpasswd", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}, htpasswd: {fromEnv: B}}]}}\n", "set either password or htpasswd"},
		{"reserved env: VAULT_TOKEN", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: VAULT_TOKEN}}]}}\n", "configure loki-cmp itself"},
		{"reserved env: approle secret", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: LOKI_CMP_VAULT_SECRET_ID}}]}}\n", "configure loki-cmp itself"},
		{"env name with =", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: 'A=B'}}]}}\n", "must be an environment variable name"},
		{"env name with $", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: '$HOME'}}]}}\n", "must be an environment variable name"},
		{"vault path traversal", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: secret/loki/../../sys/raw, key: k}}}]}}\n", "must be a clean path"},
		{"vault absolute path", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: /sys/raw/x, key: k}}}]}}\n", "must be a clean path"},
		{"vault glob path", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: 'secret/*', key: k}}}]}}\n", "must not contain glob characters"},
		{"vault backslash path", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: 'secret\\\\loki', key: k}}}]}}\n", "must not contain glob characters or backslashes"},
		{"vault unknown field", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: s/a, key: k, token: t}}}]}}\n", `unknown field "token"`},
		{"vault negative version", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: s/a, key: k, version: -1}}}]}}\n", "must not be negative"},

		// Users.
		{"user with colon", header + "spec: {host: a.example.org, auth: {users: [{name: 'a:b', password: {fromEnv: A}}]}}\n", "must not contain colons"},
		{"user with newline", header + "spec: {host: a.example.org, auth: {users: [{name: \"a\\nroot:x\", password: {fromEnv: A}}]}}\n", "must not contain control characters"},
		{"user with space", header + "spec: {host: a.example.org, auth: {users: [{name: 'a b', password: {fromEnv: A}}]}}\n", "must not contain colons, spaces"},
		{"empty user", header + "spec: {host: a.example.org, auth: {users: [{name: '', password: {fromEnv: A}}]}}\n", "name: required"},
		{"duplicate users", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}, {name: a, password: {fromEnv: B}}]}}\n", "duplicate user"},
		{"no users", header + "spec: {host: a.example.org, auth: {users: []}}\n", "at least one user"},
		{"bcrypt cost too low", doc("  auth2: {}\n"), "unknown field"},
		{"realm with quote", header + "spec: {host: a.example.org, auth: {realm: 'a\"b', users: [{name: a, password: {fromEnv: A}}]}}\n", "must not contain quotes"},

		// Names and namespaces: objects must land where the user meant.
		{"name with slash", header + "metadata: {name: ../etc}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "DNS-1035"},
		{"name uppercase", header + "metadata: {name: Loki}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "DNS-1035"},
		{"name too long", header + "metadata: {name: " + strings.Repeat("a", 41) + "}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "at most 40 characters"},
		{"name with dot", header + "metadata: {name: a.b}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "DNS-1035"},
		{"namespace with slash", header + "metadata: {namespace: a/b}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123"},
		{"namespace too long", header + "metadata: {namespace: " + strings.Repeat("n", 64) + "}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "must be no more than 63"},
		{"unknown metadata field", header + "metadata: {labels: {a: b}}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", `unknown field "labels"`},
		{"grafana namespace invalid", doc("  monitoring: {grafanaDatasource: {namespace: 'Monitoring'}}\n"), "RFC 1123"},
		{"tls secret name invalid", doc("  tls: {secretName: 'a/b'}\n"), "RFC 1123"},
		{"cluster issuer invalid", doc("  tls: {clusterIssuer: 'a b'}\n"), "RFC 1123"},
		{"storage class invalid", doc("  storage: {storageClassName: 'x;y'}\n"), "RFC 1123"},

		// Host.
		{"host with scheme", header + "spec: {host: 'https://a.example.org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123"},
		{"host with path", header + "spec: {host: 'a.example.org/x', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123"},
		{"host with port", header + "spec: {host: 'a.example.org:443', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123"},
		{"host unicode", header + "spec: {host: 'bücher.example', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "punycode"},
		{"host wildcard", header + "spec: {host: '*.example.org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "wildcard"},
		{"host with newline", header + "spec: {host: \"a.example.org\\nevil: x\", auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "control characters"},
		{"host label too long", header + "spec: {host: '" + strings.Repeat("a", 64) + ".org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "at most 63"},
		{"host too long", header + "spec: {host: '" + strings.Repeat("a.", 130) + "org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "must be no more than 253"},
		{"host IP-like single label", header + "spec: {host: localhost, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "fully qualified"},

		// Values.
		{"size not a quantity", doc("  storage: {size: big}\n"), "positive quantity"},
		{"size zero", doc("  storage: {size: '0'}\n"), "positive quantity"},
		{"size negative", doc("  storage: {size: '-5Gi'}\n"), "positive quantity"},
		{"cpu not a quantity", doc("  loki: {resources: {limits: {cpu: lots}}}\n"), "positive quantity"},
		{"request above limit", doc("  loki: {resources: {requests: {cpu: '4'}, limits: {cpu: '1'}}}\n"), "above the limit"},
		{"retention negative", doc("  loki: {retention: -1d}\n"), "must be a duration"},
		{"retention overflow", doc("  loki: {retention: 99999999999999y}\n"), "must be a duration"},
		{"retention too short", doc("  loki: {retention: 1h}\n"), "at least 24h"},
		{"retention with spaces", doc("  loki: {retention: '1 d'}\n"), "must be a duration"},
		{"interval bad", doc("  monitoring: {serviceMonitor: {interval: 1x}}\n"), "Prometheus duration"},
		{"image uppercase", doc("  loki: {image: Grafana/Loki}\n"), "image reference"},
		{"image with space", doc("  loki: {image: 'grafana/loki; rm -rf /'}\n"), "image reference"},
		{"image with newline", doc("  collector: {image: \"grafana/promtail\\n\"}\n"), "control characters"},
		{"image empty", doc("  loki: {image: ''}\n"), "image: required"},
		{"image bad digest", doc("  loki: {image: 'grafana/loki@sha256:xyz'}\n"), "image reference"},
		{"tls mode unknown", doc("  tls: {mode: none}\n"), `must be "certificate" or "annotation"`},
		{"acme javascript server", doc("  tls: {acme: {email: a@b.org, server: 'javascript:alert(1)'}}\n"), "https:// URL"},
		{"acme email with header", doc("  tls: {acme: {email: \"a@b.org\\nBcc: x@y.org\"}}\n"), "control characters"},
		{"acme email display name", doc("  tls: {acme: {email: 'Ops <a@b.org>'}}\n"), "plain e-mail address"},
		{"collector type unknown", doc("  collector: {type: fluentd}\n"), `must be "alloy" or "promtail"`},
		{"mode unknown", doc("  mode: microservices\n"), `must be "single-binary" or "simple-scalable"`},
		{"simple-scalable without confirm", doc("  mode: simple-scalable\n"), "required with mode simple-scalable"},
		{"confirm with single-binary", doc("  simpleScalable: {confirm: new-install}\n"), "switching a simple-scalable stack back is a migration"},
		{"object storage keys with single-binary", doc("  objectStorage: {accessKeyID: {fromEnv: K}}\n"), "is only used with mode simple-scalable"},
		{"object storage key literal", doc("  mode: simple-scalable\n  objectStorage: {accessKeyID: AKIAEXAMPLE}\n"), "a literal password is not allowed"},
		{"object storage endpoint with scheme", doc("  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage: {endpoint: 'http://minio:9000', accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"), "without scheme or path"},
		{"bucket name invalid", doc("  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage: {chunksBucket: Loki_Chunks, accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"), "must be an S3 bucket name"},
		{"zero writers", doc("  mode: simple-scalable\n  simpleScalable: {confirm: new-install, write: {replicas: 0}}\n  objectStorage: {accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"), "must be between 1 and 100"},

		// Labels and annotations: no smuggled selectors, waves or newlines.
		{"label key invalid", doc("  commonLabels: {'a b': x}\n"), "name part must consist"},
		{"label value invalid", doc("  commonLabels: {a: 'x y'}\n"), "a valid label must be"},
		{"label value too long", doc("  commonLabels: {a: " + strings.Repeat("v", 64) + "}\n"), "must be no more than 63"},
		{"label overrides selector", doc("  commonLabels: {app.kubernetes.io/instance: other}\n"), "set by loki-cmp itself"},
		{"label overrides managed-by", doc("  commonLabels: {app.kubernetes.io/managed-by: helm}\n"), "set by loki-cmp itself"},
		{"service monitor label overrides name", doc("  monitoring: {serviceMonitor: {labels: {app.kubernetes.io/name: x}}}\n"), "set by loki-cmp itself"},
		{"annotation sync wave", doc("  commonAnnotations: {argocd.argoproj.io/sync-wave: '-10'}\n"), "set by loki-cmp itself"},
		{"annotation sync options", doc("  commonAnnotations: {argocd.argoproj.io/sync-options: Prune=false}\n"), "set by loki-cmp itself"},
		{"annotation checksum", doc("  commonAnnotations: {checksum/config: x}\n"), "set by loki-cmp itself"},
		{"annotation value newline", doc("  commonAnnotations: {a: \"x\\ny: z\"}\n"), "control characters"},
		{"annotation key newline", doc("  commonAnnotations: {\"a\\nb\": x}\n"), "control characters"},
		{"annotation key invalid", doc("  commonAnnotations: {'-a': x}\n"), "name part must consist"},
	}
	// NUL, newline and escape characters in every kind of string field.
	for _, field := range []string{"  storage: {size: %q}\n", "  loki: {image: %q}\n", "  tls: {clusterIssuer: %q}\n", "  monitoring: {grafanaDatasource: {name: %q}}\n"} {
		for _, bad := range []string{"a\x00b", "a\nb", "a\x1bb", "a\u0085b"} {
			cs = append(cs, hostileCase{fmt.Sprintf("control %q in %s", bad, strings.TrimSpace(field)), doc(fmt.Sprintf(field, bad)), "control characters"})
		}
	}
	return cs
}()

// TestHostileInputs: every hostile input fails with its class of error,
// names the file, and never echoes the planted secret.
func TestHostileInputs(t *testing.T) {
	if len(hostile) < 100 {
		t.Fatalf("only %d hostile inputs", len(hostile))
	}
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.in), Options{File: "loki.yaml"})
			if err == nil {
				t.Fatal("accepted")
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if !strings.Contains(first, tc.class) {
				t.Errorf("error %q, want class %q", first, tc.class)
			}
			if !strings.HasPrefix(first, "loki.yaml") {
				t.Errorf("error does not name the file: %q", first)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error echoes a secret: %v", err)
			}
		})
	}
}
