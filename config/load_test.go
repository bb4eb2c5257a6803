package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
)

// header starts every test document; spec lines follow at two spaces.
const header = "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\n"

// minimal is the smallest valid spec.
const minimal = `spec:
  host: loki.example.org
  auth:
    users:
    - {name: admin, password: {fromEnv: PW}}
`

func TestLoadMinimalAppliesDefaults(t *testing.T) {
	doc, err := Load([]byte(header+minimal), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := v1alpha1.Default()
	want.Metadata.Namespace = "loki"
	want.Spec.Host = "loki.example.org"
	want.Spec.TLS.SecretName = "loki-tls"
	want.Spec.Collector.Namespace = "loki-collector"
	want.Spec.Collector.Image = v1alpha1.DefaultAlloyImage
	want.Spec.Auth.Users = []v1alpha1.User{{Name: "admin", Password: v1alpha1.SecretRef{FromEnv: "PW"}}}
	if diff := cmp.Diff(want, doc.Stack); diff != "" {
		t.Errorf("stack (-want +got):\n%s", diff)
	}
}

func TestLoadDefaultNamespace(t *testing.T) {
	doc, err := Load([]byte(header+minimal), Options{DefaultNamespace: "from-argocd"})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Stack.Metadata.Namespace; got != "from-argocd" {
		t.Errorf("namespace = %q, want the default from Options", got)
	}
	doc, err = Load([]byte(header+"metadata: {namespace: own}\n"+minimal), Options{DefaultNamespace: "from-argocd"})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Stack.Metadata.Namespace; got != "own" {
		t.Errorf("namespace = %q, want the file's own", got)
	}
}

func TestLoadOverridesEveryField(t *testing.T) {
	in := header + `metadata: {name: logs, namespace: obs}
spec:
  createNamespace: false
  host: logs.example.org
  tls:
    mode: annotation
    clusterIssuer: le-staging
    secretName: logs-cert
    acme: {email: ops@example.org, server: "https://acme-staging-v02.api.letsencrypt.org/directory"}
  auth:
    realm: Logs
    bcryptCost: 12
    users:
    - {name: admin, password: {fromEnv: A}}
    - {name: grafana, password: {fromEnv: G}}
  loki:
    image: registry.example.org/loki:3.7.1
    retention: 31d
    resources: {requests: {cpu: 200m, memory: 512Mi}, limits: {cpu: "4", memory: 2Gi}}
  storage: {size: 50Gi, storageClassName: local-path}
  collector:
    enabled: false
    type: promtail
    image: registry.example.org/promtail:3.6.11
    resources: {requests: {cpu: 10m}}
    namespace: logging
  networkPolicy: {enabled: false, traefikNamespace: traefik, prometheusNamespace: prom}
  monitoring:
    serviceMonitor: {enabled: false, labels: {release: prom}, interval: 1m}
    grafanaDatasource: {enabled: false, namespace: grafana, name: Logs, isDefault: true}
  commonLabels: {team: platform}
  commonAnnotations: {owner: "platform@example.org"}
`
	doc, err := Load([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := v1alpha1.LokiStack{
		APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind,
		Metadata: v1alpha1.Metadata{Name: "logs", Namespace: "obs"},
		Spec: v1alpha1.Spec{
			Host: "logs.example.org",
			TLS: v1alpha1.TLS{Mode: "annotation", ClusterIssuer: "le-staging", SecretName: "logs-cert",
				ACME: &v1alpha1.ACME{Email: "ops@example.org", Server: "https://acme-staging-v02.api.letsencrypt.org/directory"}},
			Auth: v1alpha1.Auth{Realm: "Logs", BcryptCost: 12, Users: []v1alpha1.User{
				{Name: "admin", Password: v1alpha1.SecretRef{FromEnv: "A"}},
				{Name: "grafana", Password: v1alpha1.SecretRef{FromEnv: "G"}},
			}},
			Loki: v1alpha1.Loki{Image: "registry.example.org/loki:3.7.1", Retention: "31d", Resources: v1alpha1.Resources{
				Requests: v1alpha1.ResourceList{CPU: "200m", Memory: "512Mi"},
				Limits:   v1alpha1.ResourceList{CPU: "4", Memory: "2Gi"},
			}},
			Storage: v1alpha1.Storage{Size: "50Gi", StorageClassName: "local-path"},
			Collector: v1alpha1.Collector{Enabled: false, Type: "promtail", Image: "registry.example.org/promtail:3.6.11",
				// A mapping in the file replaces the default mapping as a whole
				// for maps, but structs merge field by field.
				Resources: v1alpha1.Resources{
					Requests: v1alpha1.ResourceList{CPU: "10m", Memory: "64Mi"},
					Limits:   v1alpha1.ResourceList{CPU: "500m", Memory: "256Mi"},
				},
				Namespace: "logging"},
			NetworkPolicy: v1alpha1.NetworkPolicy{Enabled: false, TraefikNamespace: "traefik", PrometheusNamespace: "prom"},
			Monitoring: v1alpha1.Monitoring{
				ServiceMonitor:    v1alpha1.ServiceMonitor{Enabled: false, Labels: map[string]string{"release": "prom"}, Interval: "1m"},
				GrafanaDatasource: v1alpha1.GrafanaDatasource{Enabled: false, Namespace: "grafana", Name: "Logs", IsDefault: true},
			},
			CommonLabels:      map[string]string{"team": "platform"},
			CommonAnnotations: map[string]string{"owner": "platform@example.org"},
		},
	}
	// Fields the file leaves out keep their defaults.
	def := v1alpha1.Default()
	want.Spec.Mode, want.Spec.SimpleScalable, want.Spec.ObjectStorage = def.Spec.Mode, def.Spec.SimpleScalable, def.Spec.ObjectStorage
	if diff := cmp.Diff(want, doc.Stack); diff != "" {
		t.Errorf("stack (-want +got):\n%s", diff)
	}
}

// TestLoadErrors checks each error: its message, field path and position.
// The input is header + spec text; line 3 is the first line after header.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // the whole first line of the error
	}{
		{"misspelt top-level field", minimal + "metdata: {}\n",
			"loki.yaml:8:1: metdata: unknown field \"metdata\"; did you mean \"metadata\"?"},
		{"misspelt nested field", minimal + "  storge: {size: 1Gi}\n",
			"loki.yaml:8:3: spec.storge: unknown field \"storge\"; did you mean \"storage\"?"},
		{"unknown field without a near name", minimal + "  frobnicate: 1\n",
			"loki.yaml:8:3: spec.frobnicate: unknown field \"frobnicate\""},
		{"duplicate key", minimal + "  host: other.example.org\n",
			"loki.yaml:8:3: spec.host: duplicate key (first at line 4)"},
		{"literal password", "spec:\n  host: a.example.org\n  auth:\n    users:\n    - name: admin\n      password: hunter2\n",
			"loki.yaml:8:17: spec.auth.users[0].password: a literal password is not allowed in loki.yaml (it lives in git); reference one instead: {fromEnv: LOKI_ADMIN_PASSWORD} or {fromVault: {path: secret/loki/basic-auth, key: admin}}"},
		{"wrong type: number for string", minimal + "  storage: {size: 10}\n",
			"loki.yaml:8:19: spec.storage.size: must be a size with a unit, e.g. 10Gi or 512Mi, not a bare number (which would be bytes)"},
		{"wrong type: string for int", minimal + "  loki: {}\n  collector: {enabled: yes}\n",
			"loki.yaml:9:24: spec.collector.enabled: must be a boolean (true or false), not a string"},
		{"wrong type: list for mapping", minimal + "  tls: [a]\n",
			"loki.yaml:8:8: spec.tls: must be a mapping, not a list"},
		{"int out of range", minimal + "  loki: {}\n  auth2: 1\n",
			"loki.yaml:9:3: spec.auth2: unknown field \"auth2\"; did you mean \"auth\"?"},
		{"missing host", "spec:\n  auth: {users: [{name: a, password: {fromEnv: PW}}]}\n",
			"loki.yaml:3:1: spec.host: required: the public DNS name of Loki, e.g. loki.example.org"},
		{"bad host", strings.Replace(minimal, "loki.example.org", "Loki_Example", 1),
			`loki.yaml:4:9: spec.host: invalid value "Loki_Example": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		{"unqualified host", strings.Replace(minimal, "loki.example.org", "loki", 1),
			`loki.yaml:4:9: spec.host: invalid value "loki": must be a fully qualified name such as loki.example.org`},
		{"wildcard host", strings.Replace(minimal, "loki.example.org", `"*.example.org"`, 1),
			`loki.yaml:4:9: spec.host: invalid value "*.example.org": a wildcard cannot get a Let's Encrypt HTTP-01 certificate; use a single host`},
		{"no users", "spec:\n  host: a.example.org\n",
			"loki.yaml:3:1: spec.auth.users: required: at least one user, e.g. [{name: admin, password: {fromEnv: LOKI_ADMIN_PASSWORD}}]"},
		{"duplicate user", minimal + "    - {name: admin, password: {fromEnv: PW2}}\n",
			`loki.yaml:8:14: spec.auth.users[1].name: duplicate user "admin" (also users[0])`},
		{"colon in user", strings.Replace(minimal, "name: admin", `name: "ad:min"`, 1),
			`loki.yaml:7:14: spec.auth.users[0].name: invalid value "ad:min": must not contain colons, spaces or control characters`},
		{"empty password ref", strings.Replace(minimal, "password: {fromEnv: PW}", "password: {}", 1),
			"loki.yaml:7:21: spec.auth.users[0].password: required: say where the password comes from: {fromEnv: LOKI_ADMIN_PASSWORD} or {fromVault: {path: secret/loki/basic-auth, key: admin}}"},
		{"reserved env name", strings.Replace(minimal, "fromEnv: PW", "fromEnv: VAULT_TOKEN", 1),
			`loki.yaml:7:41: spec.auth.users[0].password.fromEnv: invalid value "VAULT_TOKEN": variables starting with VAULT_ configure loki-cmp itself and cannot be referenced`},
		{"reserved env name, other case", strings.Replace(minimal, "fromEnv: PW", "fromEnv: loki_cmp_vault_secret", 1),
			`loki.yaml:7:41: spec.auth.users[0].password.fromEnv: invalid value "loki_cmp_vault_secret": variables starting with LOKI_CMP_ configure loki-cmp itself and cannot be referenced`},
		{"both env and vault", strings.Replace(minimal, "fromEnv: PW", "fromEnv: PW, fromVault: {path: secret/a, key: b}", 1),
			"loki.yaml:7:21: spec.auth.users[0].password: set either fromEnv or fromVault, not both"},
		{"both password and htpasswd", strings.Replace(minimal, "password: {fromEnv: PW}", "password: {fromEnv: PW}, htpasswd: {fromEnv: H}", 1),
			"loki.yaml:7:46: spec.auth.users[0].htpasswd: set either password or htpasswd, not both"},
		{"vault path with ..", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: secret/loki/../admin, key: k}}", 1),
			`loki.yaml:7:50: spec.auth.users[0].password.fromVault.path: invalid value "secret/loki/../admin": must be a clean path: no leading, trailing or double "/", no "." or ".." segments`},
		{"vault path with leading slash", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: /secret/loki, key: k}}", 1),
			`loki.yaml:7:50: spec.auth.users[0].password.fromVault.path: invalid value "/secret/loki": must be a clean path: no leading, trailing or double "/", no "." or ".." segments`},
		{"vault path with glob", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: secret/*, key: k}}", 1),
			`loki.yaml:7:50: spec.auth.users[0].password.fromVault.path: invalid value "secret/*": must not contain glob characters or backslashes`},
		{"vault path without secret", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: secret, key: k}}", 1),
			`loki.yaml:7:50: spec.auth.users[0].password.fromVault.path: invalid value "secret": must name a mount and a secret, e.g. secret/loki/basic-auth`},
		{"vault without key", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: secret/loki}}", 1),
			"loki.yaml:7:32: spec.auth.users[0].password.fromVault.key: required: the key inside the secret, e.g. admin"},
		{"vault bad kvVersion", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: secret/loki, key: k, kvVersion: 3}}", 1),
			"loki.yaml:7:82: spec.auth.users[0].password.fromVault.kvVersion: must be 1 or 2 (or left out to detect it)"},
		{"vault version on v1", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: secret/loki, key: k, kvVersion: 1, version: 3}}", 1),
			"loki.yaml:7:94: spec.auth.users[0].password.fromVault.version: KV v1 secrets have no versions"},
		{"vault mount without kvVersion", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: kv/a/b, key: k, mount: kv/a}}", 1),
			"loki.yaml:7:73: spec.auth.users[0].password.fromVault.mount: only with kvVersion: without it the mount is detected"},
		{"vault mount not a prefix", strings.Replace(minimal, "{fromEnv: PW}", "{fromVault: {path: kv/a/b, key: k, kvVersion: 2, mount: kv/b}}", 1),
			`loki.yaml:7:87: spec.auth.users[0].password.fromVault.mount: invalid value "kv/b": must be a leading part of path, ending at a /`},
		{"bad env name", strings.Replace(minimal, "fromEnv: PW", "fromEnv: 1PW", 1),
			`loki.yaml:7:41: spec.auth.users[0].password.fromEnv: invalid value "1PW": must be an environment variable name (letters, digits, _)`},
		{"bcrypt cost", minimal + "  auth2: {}\n",
			"loki.yaml:8:3: spec.auth2: unknown field \"auth2\"; did you mean \"auth\"?"},
		{"bad tls mode", minimal + "  tls: {mode: both}\n",
			`loki.yaml:8:15: spec.tls.mode: must be "certificate" or "annotation"`},
		{"acme without email", minimal + "  tls: {acme: {}}\n",
			"loki.yaml:8:9: spec.tls.acme.email: required when acme is set: Let's Encrypt sends expiry notices there"},
		{"acme bad email", minimal + "  tls: {acme: {email: 'Ops <ops@example.org>'}}\n",
			`loki.yaml:8:23: spec.tls.acme.email: invalid value "Ops <ops@example.org>": must be a plain e-mail address`},
		{"acme http server", minimal + "  tls: {acme: {email: a@b.org, server: 'http://acme.example.org/dir'}}\n",
			`loki.yaml:8:40: spec.tls.acme.server: invalid value "http://acme.example.org/dir": must be an https:// URL of an ACME directory`},
		{"retention too short", minimal + "  loki: {retention: 12h}\n",
			`loki.yaml:8:21: spec.loki.retention: invalid value "12h": must be 0s (keep forever) or at least 24h`},
		{"retention not a duration", minimal + "  loki: {retention: 1 month}\n",
			`loki.yaml:8:21: spec.loki.retention: invalid value "1 month": must be a duration such as 744h, 31d or 4w`},
		{"bad image", minimal + "  loki: {image: 'Grafana/Loki:latest'}\n",
			`loki.yaml:8:17: spec.loki.image: invalid value "Grafana/Loki:latest": must be an image reference such as docker.io/grafana/loki:3.7.8`},
		{"bad quantity", minimal + "  storage: {size: ten}\n",
			`loki.yaml:8:19: spec.storage.size: invalid value "ten": must be a positive quantity such as 10Gi, 512Mi or 100m`},
		{"negative quantity", minimal + "  storage: {size: '-1Gi'}\n",
			`loki.yaml:8:19: spec.storage.size: invalid value "-1Gi": must be a positive quantity such as 10Gi, 512Mi or 100m`},
		{"request above limit", minimal + "  loki: {resources: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}}\n",
			"loki.yaml:8:41: spec.loki.resources.requests.memory: request 2Gi is above the limit 1Gi"},
		{"bad label key", minimal + "  commonLabels: {'bad key!': x}\n",
			`loki.yaml:8:30: spec.commonLabels[bad key!]: invalid value "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
		{"managed label", minimal + "  commonLabels: {app.kubernetes.io/name: x}\n",
			"loki.yaml:8:42: spec.commonLabels[app.kubernetes.io/name]: is set by loki-cmp itself and cannot be overridden"},
		{"managed annotation", minimal + "  commonAnnotations: {argocd.argoproj.io/sync-wave: '5'}\n",
			"loki.yaml:8:53: spec.commonAnnotations[argocd.argoproj.io/sync-wave]: is set by loki-cmp itself and cannot be overridden"},
		{"label value not a string", minimal + "  commonLabels: {tier: 1}\n",
			"loki.yaml:8:24: spec.commonLabels[tier]: must be a string, not an integer (put the value in quotes)"},
		{"control character", minimal + "  auth2: x\n",
			"loki.yaml:8:3: spec.auth2: unknown field \"auth2\"; did you mean \"auth\"?"},
		{"newline in a string", minimal + "  loki: {image: \"a\\nb\"}\n",
			"loki.yaml:8:17: spec.loki.image: must not contain control characters (newlines, tabs, NUL)"},
		{"NUL in a label", minimal + "  commonLabels: {a: \"x\\0\"}\n",
			"loki.yaml:8:21: spec.commonLabels[a]: must not contain control characters (newlines, tabs, NUL)"},
		{"merge key", "base: &b {host: a.example.org}\nspec:\n  <<: *b\n",
			"loki.yaml:3:1: base: unknown field \"base\""},
		{"bad collector type", minimal + "  collector: {type: fluentbit}\n",
			`loki.yaml:8:21: spec.collector.type: must be "alloy" or "promtail"`},
		{"bad interval", minimal + "  monitoring: {serviceMonitor: {interval: 30}}\n",
			"loki.yaml:8:43: spec.monitoring.serviceMonitor.interval: must be a duration with a unit, e.g. 744h, 31d or 30s, not a bare number"},
		{"bad interval unit", minimal + "  monitoring: {serviceMonitor: {interval: 30 seconds}}\n",
			`loki.yaml:8:43: spec.monitoring.serviceMonitor.interval: invalid value "30 seconds": must be a Prometheus duration such as 30s or 1m`},
		{"collector namespace too long", "metadata: {namespace: " + strings.Repeat("n", 60) + "}\n" + minimal,
			"loki.yaml:4:1: spec.collector.namespace: invalid value \"" + strings.Repeat("n", 60) + "-collector\": must be no more than 63 characters (set spec.collector.namespace when <namespace>-collector is too long)"},
		{"long name", "metadata: {name: " + strings.Repeat("a", 41) + "}\n" + minimal,
			"loki.yaml:3:18: metadata.name: must be at most 40 characters (derived names such as " + strings.Repeat("a", 41) + "-basic-auth must fit Kubernetes' limits)"},
		{"name not DNS-1035", "metadata: {name: 1loki}\n" + minimal,
			`loki.yaml:3:18: metadata.name: invalid value "1loki": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(header+tc.in), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if first != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", first, tc.want)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "loki.yaml: file is empty; it needs at least apiVersion, kind and spec.host"},
		{"only comments", "# nothing\n", "loki.yaml: file is empty; it needs at least apiVersion, kind and spec.host"},
		{"not utf-8", "apiVersion: \xff\xfe\n", "loki.yaml: file is not UTF-8 text"},
		{"NUL byte", "apiVersion: x\nkind: \x00\n", "loki.yaml:2: file holds binary data (a NUL or other control byte); loki.yaml is YAML text"},
		{"escape byte", "# \x1b[31m\n", "loki.yaml:1: file holds binary data (a NUL or other control byte); loki.yaml is YAML text"},
		{"JSON", `{"apiVersion": "lokicmp.thedevops.dev/v1alpha1", "kind": "LokiStack"}`, "loki.yaml:1:1: file is JSON; loki.yaml is YAML (block style, as in docs/loki-yaml.md), so that it can carry comments and stay readable in review"},
		{"JSON after comments", "# c\n\n  {\"a\": 1}\n", "loki.yaml:1:1: file is JSON; loki.yaml is YAML (block style, as in docs/loki-yaml.md), so that it can carry comments and stay readable in review"},
		{"too large", strings.Repeat("#", MaxInputBytes+1), "loki.yaml: file is larger than 1048576 bytes; a loki.yaml is a few hundred"},
		{"syntax", "spec:\n  host: [\n", "loki.yaml:2:9: invalid YAML: this [ is never closed: add ] after its last entry"},
		{"tab indentation", "spec:\n\thost: x\n", "loki.yaml:2:1: invalid YAML: a tab indents this line: YAML indents with spaces only; replace the tab with spaces"},
		{"two documents", header + minimal + "---\n" + header, "loki.yaml:8:1: a second YAML document starts here; loki.yaml holds exactly one"},
		{"scalar document", "just text\n", "loki.yaml:1:1: must be a mapping with apiVersion, kind, metadata and spec, not a string"},
		{"no apiVersion", "kind: LokiStack\nspec: {}\n", "loki.yaml:1:1: apiVersion: required: apiVersion: lokicmp.thedevops.dev/v1alpha1"},
		{"other apiVersion", "apiVersion: v1\nkind: ConfigMap\n", `loki.yaml:1:13: apiVersion: must be "lokicmp.thedevops.dev/v1alpha1"`},
		{"future version", "apiVersion: lokicmp.thedevops.dev/v2\nkind: LokiStack\n", `loki.yaml:1:13: apiVersion: version "lokicmp.thedevops.dev/v2" is not supported by this loki-cmp; supported: lokicmp.thedevops.dev/v1alpha1`},
		{"wrong kind", "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: Loki\n", `loki.yaml:2:7: kind: must be "LokiStack"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.in), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if first != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", first, tc.want)
			}
		})
	}
}

// TestLoadReportsAllProblemsSorted checks that problems are gathered, not
// returned one at a time, and come out in file order.
func TestLoadReportsAllProblemsSorted(t *testing.T) {
	in := header + "spec:\n  storage: {size: ten}\n  host: Bad_Host\n  loki: {retention: 1h}\n"
	_, err := Load([]byte(in), Options{})
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *Error", err, err)
	}
	var got []string
	for _, p := range e.Problems {
		got = append(got, p.Path.String()+" "+string(p.Type))
	}
	want := []string{"spec.auth.users required", "spec.storage.size invalid", "spec.host invalid", "spec.loki.retention invalid"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
}

// TestLoadNeverEchoesMisplacedSecret: a password typed into a field of the
// wrong type must not appear in the error.
func TestLoadNeverEchoesMisplacedSecret(t *testing.T) {
	const planted = "Planted-S3cret-Value"
	for _, in := range []string{
		"spec:\n  auth:\n    users:\n    - name: admin\n      password: " + planted + "\n",
		"spec:\n  auth:\n    users:\n    - name: admin\n      password: [" + planted + "]\n",
		"spec:\n  auth:\n    users:\n    - name: admin\n      password: {fromEnv: {x: " + planted + "}}\n",
		"spec:\n  auth:\n    bcryptCost: " + planted + "\n",
		"spec:\n  auth: {realm: {" + planted + ": 1}}\n",
	} {
		_, err := Load([]byte(header+in), Options{})
		if err == nil {
			t.Fatalf("no error for %q", in)
		}
		if strings.Contains(err.Error(), planted) {
			t.Errorf("error echoes the value: %v", err)
		}
	}
}

// TestLoadAliasBomb: aliases are followed, but the work is bounded, so a
// file that expands to millions of nodes fails fast.
func TestLoadAliasBomb(t *testing.T) {
	in := header + "x: &u {name: a, password: {fromEnv: A}}\nspec:\n  host: a.example.org\n  auth:\n    users: [" +
		strings.Repeat("*u, ", 100000) + "*u]\n"
	_, err := Load([]byte(in), Options{})
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "the file expands to more than 20000 YAML nodes") {
		t.Errorf("unexpected error: %.500s", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n > maxReported+1 {
		t.Errorf("%d lines of errors, want at most %d", n, maxReported+1)
	}
}

// Aliases within the budget work like the text they stand for.
func TestLoadAliases(t *testing.T) {
	in := header + "spec:\n  host: a.example.org\n  commonLabels: &l {team: x}\n  monitoring: {serviceMonitor: {labels: *l}}\n" +
		"  auth: {users: [{name: a, password: {fromEnv: A}}]}\n"
	doc, err := Load([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Stack.Spec.Monitoring.ServiceMonitor.Labels["team"]; got != "x" {
		t.Errorf("alias not followed: %q", got)
	}
}

func TestOverrides(t *testing.T) {
	ov := func(path string, v any) Override {
		return Override{Source: `Argo CD parameter "` + path + `"`, Path: field.NewPath(strings.Split(path, ".")...), Value: v}
	}
	doc, err := Load([]byte(header+minimal+"  commonLabels: {a: b}\n"), Options{Overrides: []Override{
		ov("spec.host", "other.example.org"),
		ov("spec.auth.bcryptCost", "12"),
		ov("spec.collector.enabled", "false"),
		ov("spec.storage.size", "20Gi"),
		ov("spec.commonLabels", map[string]string{"team": "x"}),
		ov("spec.loki.retention", "14d"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Stack.Spec
	if s.Host != "other.example.org" || s.Auth.BcryptCost != 12 || s.Collector.Enabled || s.Storage.Size != "20Gi" ||
		s.Loki.Retention != "14d" || len(s.CommonLabels) != 1 || s.CommonLabels["team"] != "x" {
		t.Errorf("overrides not applied: %+v", s)
	}
	// Untouched fields keep the file's values and positions.
	if s.Auth.Users[0].Name != "admin" {
		t.Errorf("users lost")
	}
}

func TestOverrideErrors(t *testing.T) {
	ov := func(path string, v any) Override {
		return Override{Source: `Argo CD parameter "p"`, Path: field.NewPath(strings.Split(path, ".")...), Value: v}
	}
	for _, tc := range []struct {
		o    Override
		in   string
		want string
	}{
		{ov("spec.host", "Bad_Host"), minimal, `Argo CD parameter "p": spec.host: invalid value "Bad_Host"`},
		{ov("spec.auth.bcryptCost", "high"), minimal, `Argo CD parameter "p": spec.auth.bcryptCost: must be an integer between`},
		{ov("spec.auth.bcryptCost", "20"), minimal, `Argo CD parameter "p": spec.auth.bcryptCost: must be between 4 and 14`},
		{ov("spec.collector.enabled", "yes please"), minimal, `Argo CD parameter "p": spec.collector.enabled: must be a boolean (true or false)`},
		{ov("spec.storage.size", "ten"), minimal, `Argo CD parameter "p": spec.storage.size: invalid value "ten"`},
		{ov("spec.commonLabels", map[string]string{"a": "b\nc"}), minimal, `Argo CD parameter "p": spec.commonLabels[a]: must not contain control characters`},
		// A problem elsewhere still points into the file.
		{ov("spec.host", "a.example.org"), "spec:\n  auth: {}\n", `loki.yaml:4:3: spec.auth.users: required`},
	} {
		_, err := Load([]byte(header+tc.in), Options{Overrides: []Override{tc.o}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%v: error %v, want %q", tc.o.Path, tc.o.Value, err, tc.want)
		}
	}
}
