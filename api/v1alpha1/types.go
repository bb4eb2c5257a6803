// Package v1alpha1 holds the loki.yaml format, version v1alpha1: the types,
// their documentation and their defaults. Loading and validation live in
// package config; rendering lives in package generator.
//
// Every field carries a `doc` tag. docs/loki-yaml.md is generated from these
// tags and from Default(), and a test fails when the two drift apart.
package v1alpha1

import (
	"fmt"
	"strings"
)

// Identity of this version of the format.
const (
	Group      = "lokicmp.thedevops.dev"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version
	Kind       = "LokiStack"
)

// LokiStack is the whole content of a loki.yaml file.
type LokiStack struct {
	APIVersion string   `json:"apiVersion" doc:"Format version. Required: lokicmp.thedevops.dev/v1alpha1."`
	Kind       string   `json:"kind" doc:"Required: LokiStack."`
	Metadata   Metadata `json:"metadata" doc:"Name and namespace of the stack."`
	Spec       Spec     `json:"spec" doc:"What to deploy."`
}

// Metadata names the stack. Object names derive from Name.
type Metadata struct {
	Name      string `json:"name" doc:"Base name of every object (Service <name>, StatefulSet <name>, Secret <name>-basic-auth, ...). A DNS-1035 label (lowercase letters, digits, -; starting with a letter) of at most 40 characters."`
	Namespace string `json:"namespace" doc:"Namespace of the stack. Empty: the Argo CD Application's destination namespace, else loki."`
}

// Spec describes the stack.
type Spec struct {
	CreateNamespace   bool              `json:"createNamespace" doc:"Render the stack's Namespace (and the collector's, when it has its own) with its Pod Security labels; the stack's is protected from Argo CD pruning and deletion (sync-options Prune=false,Delete=false): a changed metadata.namespace or a deleted Application leaves the old namespace and its volumes in place. The collector's holds no volume and goes with the collector. false: the namespaces exist already and are someone else's; loki-cmp renders and labels none of them. Shared namespaces (monitoring, argocd, cert-manager, ...) are accepted only with false; system namespaces (kube-system, kube-public, kube-node-lease, default) never."`
	Mode              string            `json:"mode" doc:"single-binary: one Loki pod on a persistent volume. simple-scalable: Loki's write, read and backend targets, each scaled on its own, on S3-compatible object storage (see simpleScalable and objectStorage). Switching an existing stack is a migration: see docs/upgrades.md."`
	Host              string            `json:"host" doc:"Public DNS name that Traefik serves Loki on, e.g. loki.example.org. Required. IDN hosts are written in punycode (xn--...)."`
	TLS               TLS               `json:"tls" doc:"HTTPS certificate from cert-manager."`
	Auth              Auth              `json:"auth" doc:"Basic authentication in front of Loki (Traefik BasicAuth middleware)."`
	Tenancy           Tenancy           `json:"tenancy" doc:"Loki tenants: each user's logs apart, with read and write access per user and limits per tenant. Off: one tenant (Loki's fake), every user reads and writes everything. See docs/tenants.md."`
	Loki              Loki              `json:"loki" doc:"The Loki server (single binary)."`
	Storage           Storage           `json:"storage" doc:"Persistent volume of Loki (single-binary), or of each write and backend pod (simple-scalable: their write-ahead log and working files)."`
	SimpleScalable    SimpleScalable    `json:"simpleScalable" doc:"The three targets of mode simple-scalable."`
	ObjectStorage     ObjectStorage     `json:"objectStorage" doc:"S3-compatible object storage (AWS S3, MinIO, ...) holding the logs in mode simple-scalable."`
	Collector         Collector         `json:"collector" doc:"Log collector DaemonSet that ships every pod's logs to Loki."`
	Monitoring        Monitoring        `json:"monitoring" doc:"Prometheus and Grafana integration."`
	NetworkPolicy     NetworkPolicy     `json:"networkPolicy" doc:"A NetworkPolicy that lets only Traefik, the collector, Grafana and Prometheus reach Loki."`
	CommonLabels      map[string]string `json:"commonLabels" doc:"Labels added to every object and pod (not to selectors or volumeClaimTemplates, which must never change)."`
	CommonAnnotations map[string]string `json:"commonAnnotations" doc:"Annotations added to every object."`
}

// TLS modes: exactly one way of asking cert-manager for the certificate.
const (
	TLSModeCertificate = "certificate"
	TLSModeAnnotation  = "annotation"
)

// TLSModes lists every TLS mode, in the order messages and the schema name
// them. The generator has a builder for each (a test checks).
var TLSModes = []string{TLSModeCertificate, TLSModeAnnotation}

// TLS configures the certificate of the public host.
type TLS struct {
	Mode          string `json:"mode" doc:"certificate: emit a cert-manager Certificate. annotation: annotate the Ingress with cert-manager.io/cluster-issuer and let cert-manager create it. Exactly one is emitted."`
	ClusterIssuer string `json:"clusterIssuer" doc:"Name of the cert-manager ClusterIssuer."`
	SecretName    string `json:"secretName" doc:"Secret that holds the certificate. Empty: <name>-tls."`
	ACME          *ACME  `json:"acme" doc:"When set, loki-cmp also emits the ClusterIssuer (ACME, HTTP-01 through Traefik). Leave unset when the issuer already exists: it is cluster-wide."`
}

// ACME describes a Let's Encrypt (or other ACME) ClusterIssuer.
type ACME struct {
	Email  string `json:"email" doc:"Account e-mail for expiry notices. Required when acme is set."`
	Server string `json:"server" doc:"ACME directory URL. Empty: Let's Encrypt production (https://acme-v02.api.letsencrypt.org/directory); use https://acme-staging-v02.api.letsencrypt.org/directory while testing."`
}

// Auth configures HTTP basic authentication.
type Auth struct {
	Realm      string `json:"realm" doc:"Realm shown by the browser's login prompt."`
	BcryptCost int    `json:"bcryptCost" doc:"bcrypt cost of the password hashes (4-14). Traefik verifies the hash on every request: each step doubles its CPU cost."`
	Users      []User `json:"users" doc:"Users allowed in. At least one."`
}

// User is one basic-auth user. Exactly one of password and htpasswd is set.
type User struct {
	Name     string    `json:"name" doc:"User name (no colon, no spaces)."`
	Password SecretRef `json:"password" doc:"Where the password comes from; loki-cmp hashes it with bcrypt. Never a literal: loki.yaml lives in git."`
	Htpasswd SecretRef `json:"htpasswd" doc:"Instead of password: where a ready hash comes from, for teams that keep hashes rather than passwords (e.g. in Vault). The value is a bcrypt ($2y$, $2b$, $2a$), $apr1$ or {SHA} hash, or a whole htpasswd line <name>:<hash> for this user."`
	Tenant   string    `json:"tenant" doc:"With tenancy: the Loki tenant this user pushes to and queries (several users may share one). Empty: the user's name, which must then be a valid tenant ID."`
	Access   []string  `json:"access" doc:"With tenancy: what the user may do, push (/loki/api/v1/push, /otlp/...) and/or query (the rest of /loki/api/ and /prometheus/api/v1/). Empty: both. A query-only user cannot push; a push-only user (an external shipper) cannot read."`
}

// Access rights of a user (spec.auth.users[].access).
const (
	AccessPush  = "push"
	AccessQuery = "query"
)

// Accesses lists every access right, in the order messages name them.
var Accesses = []string{AccessPush, AccessQuery}

// Can reports whether the user has the access right a (empty Access: all).
func (u User) Can(a string) bool {
	if len(u.Access) == 0 {
		return true
	}
	for _, x := range u.Access {
		if x == a {
			return true
		}
	}
	return false
}

// TenantID is the user's Loki tenant: Tenant, else the user's name.
func (u User) TenantID() string {
	if u.Tenant != "" {
		return u.Tenant
	}
	return u.Name
}

// Answers to tenancy.confirm (besides ConfirmNewInstall).
const ConfirmMigratedFromSingleTenant = "migrated-from-single-tenant"

// Tenancy configures Loki's tenants.
type Tenancy struct {
	Enabled bool     `json:"enabled" doc:"Run Loki with auth_enabled: true. Traefik maps each authenticated user to its tenant and sets X-Scope-OrgID itself: a client-sent header never reaches Loki. Needs tls.mode certificate (the routes are a Traefik IngressRoute, which cert-manager's Ingress annotation does not cover)."`
	Confirm string   `json:"confirm" doc:"Required with enabled, so that switching tenancy on is never an accident: new-install for a stack without data, or migrated-from-single-tenant for a stack with data: logs written before are under tenant fake, readable by a user or datasource of tenant fake (docs/upgrades.md)."`
	Tenants []Tenant `json:"tenants" doc:"Retention and limits per tenant, through Loki's runtime overrides (a ConfigMap Loki reloads without a restart). A tenant not listed gets spec.loki.retention and Loki's default limits."`
}

// Tenant holds the overrides of one tenant.
type Tenant struct {
	ID        string       `json:"id" doc:"Tenant ID: at most 150 characters of letters, digits and !-_.*'() (Loki's rule), not . or .."`
	Retention string       `json:"retention" doc:"How long this tenant's logs are kept (as spec.loki.retention). Empty: spec.loki.retention."`
	Limits    TenantLimits `json:"limits" doc:"Ingestion and stream limits. 0: Loki's default."`
}

// TenantLimits are some of Loki's per-tenant limits.
type TenantLimits struct {
	IngestionRateMB      int `json:"ingestionRateMB" doc:"Ingestion rate limit in MB/s (Loki's ingestion_rate_mb)."`
	IngestionBurstSizeMB int `json:"ingestionBurstSizeMB" doc:"Ingestion burst size in MB (ingestion_burst_size_mb)."`
	MaxGlobalStreams     int `json:"maxGlobalStreams" doc:"Active streams across the cluster (max_global_streams_per_user)."`
}

// SecretRef says where a secret value comes from. Exactly one field is set.
// Package plugin finds every SecretRef of a stack by its type: one outside
// a User is a credential of the object store, named in messages by its
// field's credential tag, and reaches the generator by its field path.
type SecretRef struct {
	FromEnv   string    `json:"fromEnv" doc:"Name of an environment variable of the loki-cmp process (under Argo CD: of the plugin sidecar). Variables that configure loki-cmp or Vault (LOKI_CMP_*, VAULT_*) cannot be referenced."`
	FromVault *VaultRef `json:"fromVault" doc:"A key of a secret in HashiCorp Vault (or OpenBao) KV v1 or v2. The sidecar's administrator configures the Vault address, authentication and the paths repositories may read (LOKI_CMP_VAULT_ALLOWED_PATHS)."`
}

// IsSet reports whether the reference names a source.
func (r SecretRef) IsSet() bool { return r.FromEnv != "" || r.FromVault != nil }

// VaultRef names one key of one Vault KV secret.
type VaultRef struct {
	Path      string `json:"path" doc:"Secret path as given to vault kv get: mount and secret path, e.g. secret/loki/basic-auth."`
	Key       string `json:"key" doc:"Key inside the secret, e.g. admin."`
	Version   int    `json:"version" doc:"KV v2 only: pin this version of the secret. 0: the latest."`
	KVVersion int    `json:"kvVersion" doc:"1 or 2 to skip detecting the KV version from the mount (one sys/internal/ui/mounts request, as the vault CLI does). 0: detect."`
	Mount     string `json:"mount" doc:"With kvVersion: the mount path, if not the first segment of path (e.g. kv/team-a for a mount nested in a path)."`
}

// ScalarHint is what the decoder says when a SecretRef at path is written
// as a plain value: a literal secret must never be accepted, nor echoed.
// The example names what the field holds.
func (SecretRef) ScalarHint(path string) string {
	what, env, vault := "password", "LOKI_ADMIN_PASSWORD", "{path: secret/loki/basic-auth, key: admin}"
	switch {
	case strings.HasSuffix(path, ".accessKeyID"):
		what, env, vault = "access key ID", "LOKI_S3_ACCESS_KEY_ID", "{path: secret/loki/s3, key: access-key-id}"
	case strings.HasSuffix(path, ".secretAccessKey"):
		what, env, vault = "secret access key", "LOKI_S3_SECRET_ACCESS_KEY", "{path: secret/loki/s3, key: secret-access-key}"
	case strings.HasSuffix(path, ".htpasswd"):
		what, env, vault = "hash", "LOKI_ADMIN_HTPASSWD", "{path: secret/loki/hashes, key: admin}"
	}
	return fmt.Sprintf("a literal %s is not allowed in loki.yaml (it lives in git); reference one instead: {fromEnv: %s} or {fromVault: %s}", what, env, vault)
}

// Loki configures the Loki server.
type Loki struct {
	Image     string    `json:"image" doc:"Loki container image."`
	Retention string    `json:"retention" doc:"How long logs are kept, as a Loki duration (744h, 31d, 4w). 0s keeps logs forever. At least 24h otherwise."`
	Resources Resources `json:"resources" doc:"CPU and memory of the Loki container."`
}

// Resources are container requests and limits, as Kubernetes quantities.
type Resources struct {
	Requests ResourceList `json:"requests" doc:"Guaranteed resources."`
	Limits   ResourceList `json:"limits" doc:"Upper bounds."`
}

// ResourceList is CPU and memory. An empty value leaves it unset.
type ResourceList struct {
	CPU    string `json:"cpu" doc:"CPU quantity, e.g. 100m or 2."`
	Memory string `json:"memory" doc:"Memory quantity, e.g. 256Mi."`
}

// Storage configures the persistent volume claimed by the StatefulSet.
type Storage struct {
	Size             string `json:"size" doc:"Requested size, with a unit (10Gi, 512Mi; a bare number would be bytes). Do not just change it on a running stack: Kubernetes refuses any change to a StatefulSet's volumeClaimTemplates, so every later sync fails. To grow the volume, follow Growing the volume in docs/upgrades.md (resize the PVC, re-create the StatefulSet with --cascade=orphan, then change this field)."`
	StorageClassName string `json:"storageClassName" doc:"StorageClass of the volume."`
}

// Deployment modes.
const (
	ModeSingleBinary   = "single-binary"
	ModeSimpleScalable = "simple-scalable"
)

// Answers to simpleScalable.confirm.
const (
	ConfirmNewInstall    = "new-install"
	ConfirmMigratedFrom1 = "migrated-from-single-binary"
)

// SimpleScalable configures Loki's write, read and backend targets.
type SimpleScalable struct {
	Confirm string `json:"confirm" doc:"Required with mode simple-scalable, so that a mode switch is never an accident: new-install for a stack without data, or migrated-from-single-binary once the steps in docs/upgrades.md are done (the single-binary StatefulSet and its volume are replaced; logs on it are not moved)."`
	Write   Target `json:"write" doc:"Write target (distributor, ingester): a StatefulSet, each pod with a persistent volume for its write-ahead log."`
	Read    Target `json:"read" doc:"Read target (query frontend, querier): a stateless Deployment."`
	Backend Target `json:"backend" doc:"Backend target (compactor, index gateway, query scheduler, ruler): a StatefulSet with a persistent volume."`
}

// Target is one of the simple-scalable targets.
type Target struct {
	Replicas  int       `json:"replicas" doc:"Number of pods."`
	Resources Resources `json:"resources" doc:"CPU and memory of each pod."`
}

// ObjectStorage is an S3-compatible bucket store.
type ObjectStorage struct {
	Endpoint        string             `json:"endpoint" doc:"host[:port] of the S3 API, e.g. minio.minio.svc:9000. Empty: AWS S3 in region."`
	Region          string             `json:"region" doc:"Region of the buckets."`
	ChunksBucket    string             `json:"chunksBucket" doc:"Bucket for log chunks and the index."`
	RulerBucket     string             `json:"rulerBucket" doc:"Bucket for ruler rules."`
	PathStyle       bool               `json:"pathStyle" doc:"Address buckets as endpoint/bucket instead of bucket.endpoint: true for MinIO."`
	Insecure        bool               `json:"insecure" doc:"Plain HTTP to the endpoint (an in-cluster MinIO without TLS)."`
	Credentials     StorageCredentials `json:"credentials" doc:"Where Loki's S3 keys come from: a Secret in the cluster (secret), one that an operator makes from a secret store (externalSecret, vaultStaticSecret), or, by opt-in, keys loki-cmp renders itself (plaintext). Exactly one. docs/loki-yaml.md compares them."`
	AccessKeyID     SecretRef          `json:"accessKeyID" credential:"S3 access key ID" doc:"Deprecated: the form of v0.1.0, still rendered for existing files, with a warning. Same as credentials.plaintext.accessKeyID: the key is rendered in plaintext into a Secret."`
	SecretAccessKey SecretRef          `json:"secretAccessKey" credential:"S3 secret access key" doc:"Deprecated, as accessKeyID: same as credentials.plaintext.secretAccessKey."`
}

// Legacy reports whether the keys are given in the deprecated form of
// v0.1.0 (accessKeyID and secretAccessKey beside the buckets).
func (o ObjectStorage) Legacy() bool { return o.AccessKeyID.IsSet() || o.SecretAccessKey.IsSet() }

// StorageCredentials says where the object store's keys come from. Exactly
// one field is set. Only plaintext (and the deprecated legacy fields) puts
// the keys into what loki-cmp prints, and so into Argo CD's manifest cache.
type StorageCredentials struct {
	Secret            *SecretCredentials            `json:"secret" doc:"A Secret that already exists in Loki's namespace, made by anyone (kubectl, Sealed Secrets, an operator). loki-cmp renders no Secret and never sees the keys."`
	ExternalSecret    *ExternalSecretCredentials    `json:"externalSecret" doc:"An ExternalSecret (External Secrets Operator, external-secrets.io/v1) that copies the keys from a SecretStore or ClusterSecretStore into the Secret <name>-s3-keys. Needs ESO v0.16 or later."`
	VaultStaticSecret *VaultStaticSecretCredentials `json:"vaultStaticSecret" doc:"A VaultStaticSecret (HashiCorp Vault Secrets Operator, secrets.hashicorp.com/v1beta1) that copies a Vault KV secret into the Secret <name>-s3-keys and restarts the Loki pods when it changes."`
	Plaintext         *PlaintextCredentials         `json:"plaintext" doc:"Opt-in: loki-cmp resolves the keys (fromEnv, fromVault) and renders them into the Secret <name>-object-storage, so they sit in Argo CD's manifest cache, its diffs and argocd app manifests. validate warns about it."`
}

// SecretCredentials names an existing Secret and the keys in it.
type SecretCredentials struct {
	Name               string `json:"name" doc:"Name of the Secret, in Loki's namespace."`
	AccessKeyIDKey     string `json:"accessKeyIDKey" doc:"Key of the access key ID in the Secret."`
	SecretAccessKeyKey string `json:"secretAccessKeyKey" doc:"Key of the secret access key in the Secret."`
	Rotation           string `json:"rotation" doc:"Any label of the keys' current generation, e.g. 2026-12 (never a key): changing it rolls the Loki pods that read the keys. Kubernetes does not restart pods when a Secret they read as environment variables changes, and loki-cmp cannot see the Secret: after rotating it, change this (docs/argocd.md, Rotating the S3 keys)."`
}

// ExternalSecretCredentials is an ExternalSecret's source of the keys.
type ExternalSecretCredentials struct {
	StoreRef                StoreRef `json:"storeRef" doc:"The SecretStore or ClusterSecretStore the keys are read from."`
	Key                     string   `json:"key" doc:"The remote key: for Vault the secret's path in the store's KV mount, e.g. loki/s3."`
	Version                 string   `json:"version" doc:"The version of the remote secret (for Vault KV v2 its version number, e.g. \"3\"). Required: External Secrets Operator does not restart pods, so a rotation is a commit that changes it, which updates the Secret and rolls the Loki pods in one sync."`
	AccessKeyIDProperty     string   `json:"accessKeyIDProperty" doc:"Property (field) of the remote secret that holds the access key ID."`
	SecretAccessKeyProperty string   `json:"secretAccessKeyProperty" doc:"Property of the remote secret that holds the secret access key."`
	RefreshInterval         string   `json:"refreshInterval" doc:"How often ESO re-reads the remote secret, as a Go duration (1h, 15m)."`
}

// StoreRef names an External Secrets Operator store.
type StoreRef struct {
	Name string `json:"name" doc:"Name of the store."`
	Kind string `json:"kind" doc:"ClusterSecretStore or SecretStore (one in Loki's namespace)."`
}

// VaultStaticSecretCredentials is a VaultStaticSecret's source of the keys.
type VaultStaticSecretCredentials struct {
	VaultAuthRef       string `json:"vaultAuthRef" doc:"The VaultAuth to log in with, as name or namespace/name. Empty: the operator's default VaultAuth."`
	Mount              string `json:"mount" doc:"The KV mount, e.g. secret."`
	Path               string `json:"path" doc:"The secret's path in the mount, e.g. loki/s3."`
	Type               string `json:"type" doc:"kv-v2 or kv-v1: the KV engine version of the mount."`
	Version            int    `json:"version" doc:"kv-v2 only: pin this version of the secret. 0: the latest, which the operator re-reads every refreshAfter."`
	RefreshAfter       string `json:"refreshAfter" doc:"How often the operator re-reads the secret, as a Go duration. When the keys changed it updates the Secret and restarts the Loki pods (rolloutRestartTargets)."`
	AccessKeyIDKey     string `json:"accessKeyIDKey" doc:"Key of the access key ID in the Vault secret."`
	SecretAccessKeyKey string `json:"secretAccessKeyKey" doc:"Key of the secret access key in the Vault secret."`
}

// PlaintextCredentials are keys loki-cmp resolves and renders itself.
type PlaintextCredentials struct {
	AccessKeyID     SecretRef `json:"accessKeyID" credential:"S3 access key ID" doc:"Where the access key ID comes from (fromEnv or fromVault). It reaches Loki through a Secret and environment variables, never through the ConfigMap."`
	SecretAccessKey SecretRef `json:"secretAccessKey" credential:"S3 secret access key" doc:"Where the secret access key comes from (fromEnv or fromVault)."`
}

// Credential sources, as named in messages and docs.
const (
	CredentialsSecret            = "secret"
	CredentialsExternalSecret    = "externalSecret"
	CredentialsVaultStaticSecret = "vaultStaticSecret"
	CredentialsPlaintext         = "plaintext"
)

// Sources lists the sources set, in field order: valid when exactly one.
func (c StorageCredentials) Sources() []string {
	var out []string
	for _, s := range []struct {
		name string
		set  bool
	}{
		{CredentialsSecret, c.Secret != nil},
		{CredentialsExternalSecret, c.ExternalSecret != nil},
		{CredentialsVaultStaticSecret, c.VaultStaticSecret != nil},
		{CredentialsPlaintext, c.Plaintext != nil},
	} {
		if s.set {
			out = append(out, s.name)
		}
	}
	return out
}

// Collector types.
const (
	CollectorPromtail = "promtail"
	CollectorAlloy    = "alloy"
)

// CollectorKind is one collector program loki-cmp can deploy.
type CollectorKind struct {
	Type         string // the value of spec.collector.type
	DefaultImage string // the image when spec.collector.image is empty
}

// CollectorKinds lists every collector type, in the order messages and the
// schema name them. Adding one here is the start of a new collector: the
// generator's tests fail until it has a builder, the test module's until
// a real program checks its config.
var CollectorKinds = []CollectorKind{
	{Type: CollectorAlloy, DefaultImage: DefaultAlloyImage},
	{Type: CollectorPromtail, DefaultImage: DefaultPromtailImage},
}

// CollectorTypes are the types of CollectorKinds.
func CollectorTypes() []string {
	out := make([]string, len(CollectorKinds))
	for i, k := range CollectorKinds {
		out[i] = k.Type
	}
	return out
}

// Collector configures the log collector DaemonSet.
type Collector struct {
	Enabled             bool      `json:"enabled" doc:"Deploy the collector."`
	Type                string    `json:"type" doc:"Collector program: alloy (Grafana Alloy, which reads logs through the Kubernetes API: no hostPath, runs restricted) or promtail (end of life since March 2026; reads the nodes' log files through hostPath, as root)."`
	Image               string    `json:"image" doc:"Collector container image. Empty: the pinned image of the chosen type (Promtail's last images are 3.6.x)."`
	Resources           Resources `json:"resources" doc:"CPU and memory of the collector container."`
	Tenant              string    `json:"tenant" doc:"With tenancy: the tenant of every line the collector pushes. Set this or tenantFromNamespace."`
	TenantFromNamespace bool      `json:"tenantFromNamespace" doc:"With tenancy: each line's tenant is its pod's namespace (namespace names are valid tenant IDs)."`
	Namespace           string    `json:"namespace" doc:"Namespace of the collector. Empty: <namespace>-collector. Promtail reads the nodes' log files through hostPath volumes as root, which only the Pod Security level privileged allows; in its own namespace that exception does not weaken the stack's namespace, which stays restricted. Alloy runs restricted."`
}

// NetworkPolicy configures who may reach Loki.
type NetworkPolicy struct {
	Enabled             bool   `json:"enabled" doc:"Emit the NetworkPolicy. Needs a CNI that enforces NetworkPolicy (k3s's default flannel does, through its embedded network policy controller)."`
	TraefikNamespace    string `json:"traefikNamespace" doc:"Namespace of Traefik, whose pods forward the public traffic (kube-system on k3s)."`
	PrometheusNamespace string `json:"prometheusNamespace" doc:"Namespace of Prometheus, which scrapes /metrics."`
}

// Monitoring configures Prometheus and Grafana integration.
type Monitoring struct {
	ServiceMonitor    ServiceMonitor    `json:"serviceMonitor" doc:"prometheus-operator ServiceMonitor for Loki's metrics."`
	GrafanaDatasource GrafanaDatasource `json:"grafanaDatasource" doc:"Datasource ConfigMap for Grafana's sidecar."`
}

// ServiceMonitor configures the ServiceMonitor.
type ServiceMonitor struct {
	Enabled  bool              `json:"enabled" doc:"Emit the ServiceMonitor (needs the prometheus-operator CRDs)."`
	Labels   map[string]string `json:"labels" doc:"Extra labels, e.g. release: kube-prometheus-stack, which kube-prometheus-stack requires to pick it up."`
	Interval string            `json:"interval" doc:"Scrape interval, e.g. 30s. Empty: Prometheus' default."`
}

// GrafanaDatasource configures the Grafana datasource ConfigMap.
type GrafanaDatasource struct {
	Enabled   bool     `json:"enabled" doc:"Emit the datasource ConfigMap (labelled grafana_datasource: \"1\")."`
	Namespace string   `json:"namespace" doc:"Grafana's namespace, where its sidecar looks for datasources."`
	Name      string   `json:"name" doc:"Datasource name shown in Grafana."`
	IsDefault bool     `json:"isDefault" doc:"Make it Grafana's default datasource. Two defaults stop Grafana from starting, hence false."`
	Tenants   []string `json:"tenants" doc:"With tenancy: one datasource per entry, sending it as X-Scope-OrgID: a tenant ID, or several joined by | for a query across tenants (e.g. team-a|fake). Required with tenancy. The first keeps name and uid; the others are named <name> (<tenants>)."`
}
