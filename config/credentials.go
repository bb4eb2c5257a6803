package config

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
)

// credentialsHint is what a file without a source of the S3 keys is told:
// the reference forms first, since they keep the keys out of Argo CD.
const credentialsHint = "say where the S3 keys come from, e.g. credentials: {secret: {name: loki-s3}} for a Secret in the cluster, {externalSecret: ...} or {vaultStaticSecret: ...} for one an operator makes (docs/loki-yaml.md, Object storage credentials)"

// plaintextWarning is why rendering the keys is an opt-in.
const plaintextWarning = "the S3 keys are rendered in plaintext into Secret %s-object-storage: they sit in Argo CD's manifest cache (Redis), its diffs and argocd app manifests; a reference (credentials.secret, externalSecret or vaultStaticSecret) keeps them out"

// credentials checks where the object store's keys come from (mode
// simple-scalable): exactly one source, the deprecated v0.1.0 fields
// counting as plaintext.
func (v *validator) credentials(osPath field.Path, o *v1alpha1.ObjectStorage) {
	cp := osPath.Child("credentials")
	sources := o.Credentials.Sources()
	switch {
	case o.Legacy() && len(sources) > 0:
		v.forbid(osPath.Child("accessKeyID"), "set credentials.%s or the deprecated accessKeyID and secretAccessKey, not both", sources[0])
		return
	case o.Legacy():
		v.warn(osPath.Child("accessKeyID"), field.Invalid, "deprecated (the form of v0.1.0, still rendered): "+plaintextWarning+"; to keep this, move both keys under credentials.plaintext", v.stackName())
		v.plaintextRefs(osPath, o.AccessKeyID, o.SecretAccessKey)
		return
	case len(sources) == 0:
		v.require(cp, "required with mode simple-scalable: %s", credentialsHint)
		return
	case len(sources) > 1:
		v.forbid(cp, "set one of secret, externalSecret, vaultStaticSecret and plaintext, not %s", strings.Join(sources, " and "))
		return
	}
	c := o.Credentials
	switch {
	case c.Secret != nil:
		v.secretCredentials(cp.Child(v1alpha1.CredentialsSecret), c.Secret)
	case c.ExternalSecret != nil:
		v.externalSecret(cp.Child(v1alpha1.CredentialsExternalSecret), c.ExternalSecret)
	case c.VaultStaticSecret != nil:
		v.vaultStaticSecret(cp.Child(v1alpha1.CredentialsVaultStaticSecret), c.VaultStaticSecret)
	case c.Plaintext != nil:
		pp := cp.Child(v1alpha1.CredentialsPlaintext)
		v.warn(pp, field.Invalid, "opted in: "+plaintextWarning, v.stackName())
		v.plaintextRefs(pp, c.Plaintext.AccessKeyID, c.Plaintext.SecretAccessKey)
	}
}

// stackName is the stack's name, which prefixes the Secret a warning names.
func (v *validator) stackName() string { return v.doc.Stack.Metadata.Name }

func (v *validator) plaintextRefs(path field.Path, id, key v1alpha1.SecretRef) {
	v.secretRefOf(path.Child("accessKeyID"), "access key ID", id, "{fromEnv: LOKI_S3_ACCESS_KEY_ID} or {fromVault: {path: secret/loki/s3, key: access-key-id}}")
	v.secretRefOf(path.Child("secretAccessKey"), "secret access key", key, "{fromEnv: LOKI_S3_SECRET_ACCESS_KEY} or {fromVault: {path: secret/loki/s3, key: secret-access-key}}")
}

func (v *validator) secretCredentials(path field.Path, s *v1alpha1.SecretCredentials) {
	v.required(path.Child("name"), s.Name, validation.IsDNS1123Subdomain)
	v.secretKeys(path, "accessKeyIDKey", s.AccessKeyIDKey, "secretAccessKeyKey", s.SecretAccessKeyKey)
	if len(s.Rotation) > 63 || strings.ContainsAny(s.Rotation, "\n\r") {
		v.invalid(path.Child("rotation"), "must be one line of at most 63 characters (a label such as 2026-12, never a key)")
	}
}

func (v *validator) externalSecret(path field.Path, e *v1alpha1.ExternalSecretCredentials) {
	sp := path.Child("storeRef")
	v.required(sp.Child("name"), e.StoreRef.Name, validation.IsDNS1123Subdomain)
	if e.StoreRef.Kind != "ClusterSecretStore" && e.StoreRef.Kind != "SecretStore" {
		v.notSupported(sp.Child("kind"), "must be %q or %q", "ClusterSecretStore", "SecretStore")
	}
	if e.Key == "" {
		v.require(path.Child("key"), "required: the remote secret, e.g. loki/s3")
	}
	if e.Version == "" {
		v.require(path.Child("version"), "required: the remote secret's version, e.g. \"1\" for Vault KV v2. External Secrets Operator does not restart the pods that read a Secret, so a rotation is a commit that changes version: it updates the Secret and rolls the Loki pods in one sync (docs/argocd.md)")
	}
	if e.AccessKeyIDProperty == "" || e.SecretAccessKeyProperty == "" || e.AccessKeyIDProperty == e.SecretAccessKeyProperty {
		v.invalid(path.Child("secretAccessKeyProperty"), "the two properties must be set and differ")
	}
	v.goDuration(path.Child("refreshInterval"), e.RefreshInterval)
}

func (v *validator) vaultStaticSecret(path field.Path, s *v1alpha1.VaultStaticSecretCredentials) {
	if s.VaultAuthRef != "" {
		for _, part := range strings.SplitN(s.VaultAuthRef, "/", 2) {
			if len(validation.IsDNS1123Subdomain(part)) > 0 {
				v.invalid(path.Child("vaultAuthRef"), "invalid value %q: must be name or namespace/name of a VaultAuth", s.VaultAuthRef)
				break
			}
		}
	}
	if s.Mount == "" || strings.Trim(s.Mount, "/") != s.Mount {
		v.invalid(path.Child("mount"), "invalid value %q: the KV mount, without slashes at the ends, e.g. secret", s.Mount)
	}
	if s.Path == "" || strings.Trim(s.Path, "/") != s.Path {
		v.invalid(path.Child("path"), "invalid value %q: the secret's path in the mount, without slashes at the ends, e.g. loki/s3", s.Path)
	}
	switch s.Type {
	case "kv-v2":
	case "kv-v1":
		if s.Version != 0 {
			v.forbid(path.Child("version"), "KV v1 keeps no versions")
		}
	default:
		v.notSupported(path.Child("type"), "must be %q or %q", "kv-v2", "kv-v1")
	}
	if s.Version < 0 {
		v.invalid(path.Child("version"), "must be 0 (the latest) or a version number")
	}
	v.goDuration(path.Child("refreshAfter"), s.RefreshAfter)
	v.secretKeys(path, "accessKeyIDKey", s.AccessKeyIDKey, "secretAccessKeyKey", s.SecretAccessKeyKey)
}

// secretKeys checks the two keys the pods read from a Secret.
func (v *validator) secretKeys(path field.Path, idName, id, keyName, key string) {
	v.required(path.Child(idName), id, validation.IsConfigMapKey)
	v.required(path.Child(keyName), key, validation.IsConfigMapKey)
	if id == key && id != "" {
		v.add(path.Child(keyName), field.Duplicate, "must differ from %s", idName)
	}
}

// goDuration checks a duration the operators parse with time.ParseDuration.
func (v *validator) goDuration(path field.Path, d string) {
	if x, err := time.ParseDuration(d); err != nil || x <= 0 {
		v.invalid(path, "invalid value %q: must be a positive Go duration such as 1h or 60s", d)
	}
}

// credentialsOff refuses every source of keys in mode single-binary, which
// has no object store.
func (v *validator) credentialsOff(osPath field.Path, o v1alpha1.ObjectStorage) {
	const why = "is only used with mode simple-scalable"
	if o.AccessKeyID.IsSet() {
		v.forbid(osPath.Child("accessKeyID"), why)
	}
	if o.SecretAccessKey.IsSet() {
		v.forbid(osPath.Child("secretAccessKey"), why)
	}
	for _, s := range o.Credentials.Sources() {
		v.forbid(osPath.Child("credentials").Child(s), why)
	}
}
