package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/thedevops/loki-cmp/internal/field"
)

// hostileCase is a loki.yaml someone could push to a repository, and the
// error it must get: class is a substring of the first line of the error,
// path and typ the first problem's field and type (empty for a problem
// with the file as a whole).
type hostileCase struct {
	name, in, class string
	path            string
	typ             field.ErrorType
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
		{"empty", "", "file is empty", "", ""},
		{"whitespace only", " \n\t\n", "file is empty", "", ""},
		{"comment only", "# nothing\n", "file is empty", "", ""},
		{"invalid utf-8", header + "spec: {host: \xc3\x28}\n", "not UTF-8", "", ""},
		{"NUL byte", header + "spec: {host: a\x00b}\n", "binary data", "", ""},
		{"binary blob", "\x7fELF\x02\x01\x01\x00\x00", "binary data", "", ""},
		{"escape sequence", header + "# \x1b]0;pwned\x07\n", "binary data", "", ""},
		{"JSON object", `{"apiVersion":"lokicmp.thedevops.dev/v1alpha1"}`, "file is JSON", "", ""},
		{"JSON after a comment", "# x\n{\"kind\": \"LokiStack\"}", "file is JSON", "", ""},
		{"two documents", doc("") + "---\n" + doc(""), "a second YAML document", "", ""},
		{"document then junk document", doc("") + "---\nfoo: bar\n", "a second YAML document", "", ""},
		{"too large", header + strings.Repeat("# padding\n", MaxInputBytes/10+1), "larger than", "", ""},
		{"scalar document", "hello\n", "must be a mapping", "", ""},
		{"list document", "- a\n- b\n", "must be a mapping", "", ""},
		{"syntax: unclosed flow", header + "spec: {host: [\n", "invalid YAML", "", ""},
		{"syntax: tab indent", header + "spec:\n\thost: x\n", "invalid YAML", "", ""},
		{"syntax: bad indent", header + "spec:\n  host: a\n auth: b\n", "invalid YAML", "", ""},
		{"syntax: unknown anchor", header + "spec: *nope\n", "invalid YAML", "", ""},
		{"deep nesting", header + "spec:\n  host: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", "invalid YAML", "", ""},

		// Header.
		{"no apiVersion", "kind: LokiStack\nspec: {}\n", "apiVersion: required", "apiVersion", field.Required},
		{"no kind", "apiVersion: lokicmp.thedevops.dev/v1alpha1\nspec: {}\n", "kind: required", "kind", field.Required},
		{"Kubernetes object", "apiVersion: v1\nkind: Secret\ndata: {a: b}\n", `must be "lokicmp.thedevops.dev/v1alpha1"`, "apiVersion", field.NotSupported},
		{"future version", "apiVersion: lokicmp.thedevops.dev/v9\nkind: LokiStack\n", "is not supported by this loki-cmp", "apiVersion", field.NotSupported},
		{"kind as a list", "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: [LokiStack]\n", `must be "LokiStack"`, "kind", field.NotSupported},

		// Structure.
		{"unknown top-level field", doc("") + "status: {}\n", `unknown field "status"`, "status", field.NotSupported},
		{"unknown field: data", doc("") + "data: {users: x}\n", `unknown field "data"`, "data", field.NotSupported},
		{"misspelt field", doc("  storge: {}\n"), `did you mean "storage"`, "spec.storge", field.NotSupported},
		{"case-changed field", doc("  Storage: {}\n"), `did you mean "storage"`, "spec.Storage", field.NotSupported},
		{"duplicate top-level key", doc("") + "kind: LokiStack\n", "duplicate key", "kind", field.Duplicate},
		{"duplicate nested key", doc("  storage: {size: 1Gi, size: 2Gi}\n"), "duplicate key", "spec.storage.size", field.Duplicate},
		{"duplicate label key", doc("  commonLabels: {a: x, a: y}\n"), "duplicate key", "spec.commonLabels.a", field.Duplicate},
		{"merge key", doc("  loki: {<<: {image: x}}\n"), "merge keys (<<) are not supported", "spec.loki", field.NotSupported},
		{"non-string key", doc("  commonLabels: {1: x}\n"), "keys must be strings", "spec.commonLabels", field.TypeInvalid},
		{"complex key", doc("  commonLabels: {[a]: x}\n"), "keys must be strings", "spec.commonLabels", field.TypeInvalid},
		{"spec as a list", header + "spec: [host]\n", "must be a mapping, not a list", "spec", field.TypeInvalid},
		{"users as a string", header + "spec: {host: a.example.org, auth: {users: admin}}\n", "must be a list", "spec.auth.users", field.TypeInvalid},
		{"users as a mapping", header + "spec: {host: a.example.org, auth: {users: {admin: x}}}\n", "must be a list", "spec.auth.users", field.TypeInvalid},
		{"alias bomb", header + "spec:\n  host: a.example.org\n  auth:\n    users: [&u {name: a, password: {fromEnv: A}}, " + strings.Repeat("*u,", 30000) + "*u]\n", "expands to more than", "", field.Invalid},
		{"custom tag", doc("  storage: {size: !evil 1Gi}\n"), "must be a string", "spec.storage.size", field.TypeInvalid},
		{"binary tag", doc("  storage: {size: !!binary aGVsbG8=}\n"), "must be a string, not binary data", "spec.storage.size", field.TypeInvalid},
		{"timestamp for string", doc("  loki: {retention: 2024-01-01}\n"), "must be a string, not a timestamp", "spec.loki.retention", field.TypeInvalid},
		{"float for string", doc("  loki: {image: 3.7}\n"), "must be a string, not a number", "spec.loki.image", field.TypeInvalid},
		{"bool for string", doc("  tls: {clusterIssuer: true}\n"), "must be a string, not a boolean", "spec.tls.clusterIssuer", field.TypeInvalid},
		{"null label value", doc("  commonLabels: {a: }\n"), "must have a value", "spec.commonLabels[a]", field.Required},
		{"string for int", doc("  auth2: {}\n"), "unknown field", "spec.auth2", field.NotSupported},
		{"int overflow", header + "spec:\n  host: a.example.org\n  auth:\n    bcryptCost: 99999999999999999999\n    users: [{name: a, password: {fromEnv: A}}]\n", "must be an integer", "spec.auth.bcryptCost", field.TypeInvalid},
		{"yes for bool", doc("  collector: {enabled: yes}\n"), "must be a boolean", "spec.collector.enabled", field.TypeInvalid},
		{"string for bool", doc("  collector: {enabled: 'true'}\n"), "must be a boolean", "spec.collector.enabled", field.TypeInvalid},

		// Secrets in the file.
		{"literal password", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: hunter2}]}}\n", "a literal password is not allowed", "spec.auth.users[0].password", field.Forbidden},
		{"literal numeric password", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: 123456}]}}\n", "a literal password is not allowed", "spec.auth.users[0].password", field.Forbidden},
		{"literal password in a list", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: [hunter2]}]}}\n", "must be a mapping, not a list", "spec.auth.users[0].password", field.TypeInvalid},
		{"literal htpasswd", header + "spec: {host: a.example.org, auth: {users: [{name: a, htpasswd: 'a:$2y$05$x'}]}}\n", "a literal hash is not allowed", "spec.auth.users[0].htpasswd", field.Forbidden},
		{"password under an unknown key", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {value: hunter2}}]}}\n", `unknown field "value"`, "spec.auth.users[0].password.value", field.NotSupported},
		{"no password source", header + "spec: {host: a.example.org, auth: {users: [{name: a}]}}\n", "say where the password comes from", "spec.auth.users[0].password", field.Required},
		{"env and vault", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A, fromVault: {path: s/a, key: k}}}]}}\n", "set either fromEnv or fromVault", "spec.auth.users[0].password", field.Forbidden},
		{"password and htpasswd", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}, htpasswd: {fromEnv: B}}]}}\n", "set either password or htpasswd", "spec.auth.users[0].htpasswd", field.Forbidden},
		{"reserved env: VAULT_TOKEN", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: VAULT_TOKEN}}]}}\n", "configure loki-cmp itself", "spec.auth.users[0].password.fromEnv", field.Forbidden},
		{"reserved env: approle secret", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: LOKI_CMP_VAULT_SECRET_ID}}]}}\n", "configure loki-cmp itself", "spec.auth.users[0].password.fromEnv", field.Forbidden},
		{"env name with =", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: 'A=B'}}]}}\n", "must be an environment variable name", "spec.auth.users[0].password.fromEnv", field.Invalid},
		{"env name with $", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: '$HOME'}}]}}\n", "must be an environment variable name", "spec.auth.users[0].password.fromEnv", field.Invalid},
		{"vault path traversal", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: secret/loki/../../sys/raw, key: k}}}]}}\n", "must be a clean path", "spec.auth.users[0].password.fromVault.path", field.Invalid},
		{"vault absolute path", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: /sys/raw/x, key: k}}}]}}\n", "must be a clean path", "spec.auth.users[0].password.fromVault.path", field.Invalid},
		{"vault glob path", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: 'secret/*', key: k}}}]}}\n", "must not contain glob characters", "spec.auth.users[0].password.fromVault.path", field.Invalid},
		{"vault backslash path", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: 'secret\\\\loki', key: k}}}]}}\n", "must not contain glob characters or backslashes", "spec.auth.users[0].password.fromVault.path", field.Invalid},
		{"vault unknown field", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: s/a, key: k, token: t}}}]}}\n", `unknown field "token"`, "spec.auth.users[0].password.fromVault.token", field.NotSupported},
		{"vault negative version", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: s/a, key: k, version: -1}}}]}}\n", "must not be negative", "spec.auth.users[0].password.fromVault.version", field.Invalid},

		// Users.
		{"user with colon", header + "spec: {host: a.example.org, auth: {users: [{name: 'a:b', password: {fromEnv: A}}]}}\n", "must not contain colons", "spec.auth.users[0].name", field.Invalid},
		{"user with newline", header + "spec: {host: a.example.org, auth: {users: [{name: \"a\\nroot:x\", password: {fromEnv: A}}]}}\n", "must not contain control characters", "spec.auth.users[0].name", field.Invalid},
		{"user with space", header + "spec: {host: a.example.org, auth: {users: [{name: 'a b', password: {fromEnv: A}}]}}\n", "must not contain colons, spaces", "spec.auth.users[0].name", field.Invalid},
		{"empty user", header + "spec: {host: a.example.org, auth: {users: [{name: '', password: {fromEnv: A}}]}}\n", "name: required", "spec.auth.users[0].name", field.Required},
		{"duplicate users", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}, {name: a, password: {fromEnv: B}}]}}\n", "duplicate user", "spec.auth.users[1].name", field.Duplicate},
		{"no users", header + "spec: {host: a.example.org, auth: {users: []}}\n", "at least one user", "spec.auth.users", field.Required},
		{"bcrypt cost too low", doc("  auth2: {}\n"), "unknown field", "spec.auth2", field.NotSupported},
		{"realm with quote", header + "spec: {host: a.example.org, auth: {realm: 'a\"b', users: [{name: a, password: {fromEnv: A}}]}}\n", "must not contain quotes", "spec.auth.realm", field.Invalid},

		// Names and namespaces: objects must land where the user meant.
		{"name with slash", header + "metadata: {name: ../etc}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "DNS-1035", "metadata.name", field.Invalid},
		{"name uppercase", header + "metadata: {name: Loki}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "DNS-1035", "metadata.name", field.Invalid},
		{"name too long", header + "metadata: {name: " + strings.Repeat("a", 41) + "}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "at most 40 characters", "metadata.name", field.Invalid},
		{"name with dot", header + "metadata: {name: a.b}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "DNS-1035", "metadata.name", field.Invalid},
		{"namespace with slash", header + "metadata: {namespace: a/b}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123", "metadata.namespace", field.Invalid},
		{"namespace too long", header + "metadata: {namespace: " + strings.Repeat("n", 64) + "}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "must be no more than 63", "metadata.namespace", field.Invalid},
		{"unknown metadata field", header + "metadata: {labels: {a: b}}\n" + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", `unknown field "labels"`, "metadata.labels", field.NotSupported},
		{"grafana namespace invalid", doc("  monitoring: {grafanaDatasource: {namespace: 'Monitoring'}}\n"), "RFC 1123", "spec.monitoring.grafanaDatasource.namespace", field.Invalid},
		{"tls secret name invalid", doc("  tls: {secretName: 'a/b'}\n"), "RFC 1123", "spec.tls.secretName", field.Invalid},
		{"cluster issuer invalid", doc("  tls: {clusterIssuer: 'a b'}\n"), "RFC 1123", "spec.tls.clusterIssuer", field.Invalid},
		{"storage class invalid", doc("  storage: {storageClassName: 'x;y'}\n"), "RFC 1123", "spec.storage.storageClassName", field.Invalid},

		// Host.
		{"host with scheme", header + "spec: {host: 'https://a.example.org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123", "spec.host", field.Invalid},
		{"host with path", header + "spec: {host: 'a.example.org/x', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123", "spec.host", field.Invalid},
		{"host with port", header + "spec: {host: 'a.example.org:443', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "RFC 1123", "spec.host", field.Invalid},
		{"host unicode", header + "spec: {host: 'bücher.example', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "punycode", "spec.host", field.Invalid},
		{"host wildcard", header + "spec: {host: '*.example.org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "wildcard", "spec.host", field.NotSupported},
		{"host with newline", header + "spec: {host: \"a.example.org\\nevil: x\", auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "control characters", "spec.host", field.Invalid},
		{"host label too long", header + "spec: {host: '" + strings.Repeat("a", 64) + ".org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "at most 63", "spec.host", field.Invalid},
		{"host too long", header + "spec: {host: '" + strings.Repeat("a.", 130) + "org', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "must be no more than 253", "spec.host", field.Invalid},
		{"host IP-like single label", header + "spec: {host: localhost, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "fully qualified", "spec.host", field.Invalid},

		// Values.
		{"size not a quantity", doc("  storage: {size: big}\n"), "positive quantity", "spec.storage.size", field.Invalid},
		{"size zero", doc("  storage: {size: '0'}\n"), "positive quantity", "spec.storage.size", field.Invalid},
		{"size negative", doc("  storage: {size: '-5Gi'}\n"), "positive quantity", "spec.storage.size", field.Invalid},
		{"cpu not a quantity", doc("  loki: {resources: {limits: {cpu: lots}}}\n"), "positive quantity", "spec.loki.resources.limits.cpu", field.Invalid},
		{"request above limit", doc("  loki: {resources: {requests: {cpu: '4'}, limits: {cpu: '1'}}}\n"), "above the limit", "spec.loki.resources.requests.cpu", field.Invalid},
		{"retention negative", doc("  loki: {retention: -1d}\n"), "must be a duration", "spec.loki.retention", field.Invalid},
		{"retention overflow", doc("  loki: {retention: 99999999999999y}\n"), "must be a duration", "spec.loki.retention", field.Invalid},
		{"retention too short", doc("  loki: {retention: 1h}\n"), "at least 24h", "spec.loki.retention", field.Invalid},
		{"retention with spaces", doc("  loki: {retention: '1 d'}\n"), "must be a duration", "spec.loki.retention", field.Invalid},
		{"interval bad", doc("  monitoring: {serviceMonitor: {interval: 1x}}\n"), "Prometheus duration", "spec.monitoring.serviceMonitor.interval", field.Invalid},
		{"image uppercase", doc("  loki: {image: Grafana/Loki}\n"), "image reference", "spec.loki.image", field.Invalid},
		{"image with space", doc("  loki: {image: 'grafana/loki; rm -rf /'}\n"), "image reference", "spec.loki.image", field.Invalid},
		{"image with newline", doc("  collector: {image: \"grafana/promtail\\n\"}\n"), "control characters", "spec.collector.image", field.Invalid},
		{"image empty", doc("  loki: {image: ''}\n"), "image: required", "spec.loki.image", field.Required},
		{"image bad digest", doc("  loki: {image: 'grafana/loki@sha256:xyz'}\n"), "image reference", "spec.loki.image", field.Invalid},
		{"tls mode unknown", doc("  tls: {mode: none}\n"), `must be "certificate" or "annotation"`, "spec.tls.mode", field.NotSupported},
		{"acme javascript server", doc("  tls: {acme: {email: a@b.org, server: 'javascript:alert(1)'}}\n"), "https:// URL", "spec.tls.acme.server", field.Invalid},
		{"acme email with header", doc("  tls: {acme: {email: \"a@b.org\\nBcc: x@y.org\"}}\n"), "control characters", "spec.tls.acme.email", field.Invalid},
		{"acme email display name", doc("  tls: {acme: {email: 'Ops <a@b.org>'}}\n"), "plain e-mail address", "spec.tls.acme.email", field.Invalid},
		{"collector type unknown", doc("  collector: {type: fluentd}\n"), `must be "alloy" or "promtail"`, "spec.collector.type", field.NotSupported},
		{"mode unknown", doc("  mode: microservices\n"), `must be "single-binary" or "simple-scalable"`, "spec.mode", field.NotSupported},
		{"simple-scalable without confirm", doc("  mode: simple-scalable\n"), "required with mode simple-scalable", "spec.simpleScalable.confirm", field.Required},
		{"confirm with single-binary", doc("  simpleScalable: {confirm: new-install}\n"), "switching a simple-scalable stack back is a migration", "spec.simpleScalable.confirm", field.Forbidden},
		{"object storage keys with single-binary", doc("  objectStorage: {accessKeyID: {fromEnv: K}}\n"), "is only used with mode simple-scalable", "spec.objectStorage.accessKeyID", field.Forbidden},
		{"object storage key literal", doc("  mode: simple-scalable\n  objectStorage: {accessKeyID: AKIAEXAMPLE}\n"), "a literal access key ID is not allowed", "spec.objectStorage.accessKeyID", field.Forbidden},
		{"object storage endpoint with scheme", doc("  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage: {endpoint: 'http://minio:9000', accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"), "without scheme or path", "spec.objectStorage.endpoint", field.Invalid},
		{"bucket name invalid", doc("  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage: {chunksBucket: Loki_Chunks, accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"), "must be an S3 bucket name", "spec.objectStorage.chunksBucket", field.Invalid},
		{"zero writers", doc("  mode: simple-scalable\n  simpleScalable: {confirm: new-install, write: {replicas: 0}}\n  objectStorage: {accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"), "must be between 1 and 100", "spec.simpleScalable.write.replicas", field.Invalid},

		// Labels and annotations: no smuggled selectors, waves or newlines.
		{"label key invalid", doc("  commonLabels: {'a b': x}\n"), "name part must consist", "spec.commonLabels[a b]", field.Invalid},
		{"label value invalid", doc("  commonLabels: {a: 'x y'}\n"), "a valid label must be", "spec.commonLabels[a]", field.Invalid},
		{"label value too long", doc("  commonLabels: {a: " + strings.Repeat("v", 64) + "}\n"), "must be no more than 63", "spec.commonLabels[a]", field.Invalid},
		{"label overrides selector", doc("  commonLabels: {app.kubernetes.io/instance: other}\n"), "set by loki-cmp itself", "spec.commonLabels[app.kubernetes.io/instance]", field.Forbidden},
		{"label overrides managed-by", doc("  commonLabels: {app.kubernetes.io/managed-by: helm}\n"), "set by loki-cmp itself", "spec.commonLabels[app.kubernetes.io/managed-by]", field.Forbidden},
		{"service monitor label overrides name", doc("  monitoring: {serviceMonitor: {labels: {app.kubernetes.io/name: x}}}\n"), "set by loki-cmp itself", "spec.monitoring.serviceMonitor.labels[app.kubernetes.io/name]", field.Forbidden},
		{"annotation sync wave", doc("  commonAnnotations: {argocd.argoproj.io/sync-wave: '-10'}\n"), "set by loki-cmp itself", "spec.commonAnnotations[argocd.argoproj.io/sync-wave]", field.Forbidden},
		{"annotation sync options", doc("  commonAnnotations: {argocd.argoproj.io/sync-options: Prune=false}\n"), "set by loki-cmp itself", "spec.commonAnnotations[argocd.argoproj.io/sync-options]", field.Forbidden},
		{"annotation checksum", doc("  commonAnnotations: {checksum/config: x}\n"), "set by loki-cmp itself", "spec.commonAnnotations[checksum/config]", field.Forbidden},
		{"annotation value newline", doc("  commonAnnotations: {a: \"x\\ny: z\"}\n"), "control characters", "spec.commonAnnotations[a]", field.Invalid},
		{"annotation key newline", doc("  commonAnnotations: {\"a\\nb\": x}\n"), "control characters", "spec.commonAnnotations", field.Invalid},
		{"annotation key invalid", doc("  commonAnnotations: {'-a': x}\n"), "name part must consist", "spec.commonAnnotations[-a]", field.Invalid},
		{"cert-manager annotation", doc("  commonAnnotations: {cert-manager.io/cluster-issuer: x}\n"), "cert-manager annotations are set by loki-cmp", "spec.commonAnnotations[cert-manager.io/cluster-issuer]", field.Forbidden},

		// Namespaces loki-cmp must not own, or not use at all.
		{"system namespace", "metadata: {namespace: kube-system}\n" + doc(""), "is a system namespace", "metadata.namespace", field.Forbidden},
		{"system namespace not owned", "metadata: {namespace: default}\n" + doc("  createNamespace: false\n"), "is a system namespace", "metadata.namespace", field.Forbidden},
		{"shared namespace owned", "metadata: {namespace: argocd}\n" + doc(""), "is usually shared with other software", "metadata.namespace", field.Forbidden},
		{"collector in a system namespace", doc("  collector: {namespace: kube-public}\n"), "is a system namespace", "spec.collector.namespace", field.Forbidden},

		// Accepted by Kubernetes' syntax, but never working.
		{"IP address host", header + "spec: {host: 10.0.0.1, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "an IP address cannot be an Ingress host", "spec.host", field.Invalid},
		{"IPv6 address host", header + "spec: {host: '[::1]', auth: {users: [{name: a, password: {fromEnv: A}}]}}\n", "an IP address cannot be an Ingress host", "spec.host", field.Invalid},
		{"vault KV v2 API path", header + "spec: {host: a.example.org, auth: {users: [{name: a, password: {fromVault: {path: secret/data/loki, key: k}}}]}}\n", "written the KV v2 API way", "spec.auth.users[0].password.fromVault.path", field.Invalid},
		{"size without a unit", doc("  storage: {size: '10'}\n"), "a size without a unit is bytes", "spec.storage.size", field.Invalid},
		{"size as a bare number", doc("  storage: {size: 10}\n"), "must be a size with a unit", "spec.storage.size", field.TypeInvalid},
		{"memory without a unit", doc("  loki: {resources: {requests: {memory: '512'}}}\n"), "a size without a unit is bytes", "spec.loki.resources.requests.memory", field.Invalid},
		{"retention as a bare number", doc("  loki: {retention: 744}\n"), "must be a duration with a unit", "spec.loki.retention", field.TypeInvalid},
		{"Loki 2 image", doc("  loki: {image: 'grafana/loki:2.9.10'}\n"), "which Loki 2 does not accept", "spec.loki.image", field.NotSupported},
		{"bcrypt beyond the time budget", header + "spec:\n  host: a.example.org\n  auth:\n    bcryptCost: 14\n    users: [" + hashUsers(26) + "]\n", "beyond the 40s loki-cmp allows", "spec.auth.bcryptCost", field.Invalid},
	}
	// NUL, newline and escape characters in every kind of string field.
	for _, f := range []struct{ yaml, path string }{
		{"  storage: {size: %q}\n", "spec.storage.size"},
		{"  loki: {image: %q}\n", "spec.loki.image"},
		{"  tls: {clusterIssuer: %q}\n", "spec.tls.clusterIssuer"},
		{"  monitoring: {grafanaDatasource: {name: %q}}\n", "spec.monitoring.grafanaDatasource.name"},
	} {
		for _, bad := range []string{"a\x00b", "a\nb", "a\x1bb", "a\u0085b"} {
			cs = append(cs, hostileCase{fmt.Sprintf("control %q in %s", bad, strings.TrimSpace(f.yaml)), doc(fmt.Sprintf(f.yaml, bad)), "control characters", f.path, field.Invalid})
		}
	}
	return cs
}()

// TestHostileInputs: every hostile input fails with its class of error,
// at its field with its type of problem, names the file, and never echoes
// the planted secret.
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
			if p := err.(*Error).Problems[0]; p.Path.String() != tc.path || p.Type != tc.typ {
				t.Errorf("first problem at %q (%s), want %q (%s)", p.Path, p.Type, tc.path, tc.typ)
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

// hashUsers is a flow list body of n users whose passwords loki-cmp hashes.
func hashUsers(n int) string {
	us := make([]string, n)
	for i := range us {
		us[i] = fmt.Sprintf("{name: u%d, password: {fromEnv: PW}}", i)
	}
	return strings.Join(us, ", ")
}
