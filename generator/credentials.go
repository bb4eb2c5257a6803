package generator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/generator/crd"
)

// The object store's keys reach the Loki pods as two environment variables
// (the backend names them, see objectStore.envNames) read from one Secret.
// Where that Secret comes from is the credential source of loki.yaml:
//
//	secret             one that exists; loki-cmp renders nothing
//	externalSecret     an ExternalSecret that External Secrets Operator turns into <name>-s3-keys
//	vaultStaticSecret  a VaultStaticSecret that Vault Secrets Operator turns into <name>-s3-keys
//	plaintext          the Secret <name>-object-storage with the keys loki-cmp resolved (opt-in)
//
// Kubernetes does not restart a pod when a Secret it reads as environment
// changes, so each source also decides what rolls the pods that read the
// keys (and only those: write, read, backend):
//   - every source: the pod-template annotation checksum/object-storage, a
//     SHA-256 of the reference as rendered (Secret name and keys, rotation
//     label, remote key and pinned version). A rotation announced in git
//     rolls the pods in the sync that carries it; no key is in the hash.
//   - vaultStaticSecret: the operator sees the change itself (it compares an
//     HMAC of the data) and restarts the workloads of rolloutRestartTargets.
//   - plaintext: the hash covers the keys too, as an HMAC keyed with the
//     installation's pepper (LOKI_CMP_HASH_PEPPER): the keys are in the
//     rendered Secret beside it already, and without the pepper the digest
//     cannot be tested against a guessed key.
type storeCredentials struct {
	src        v1alpha1.StorageCredentials // exactly one source set (legacy fields as plaintext)
	keyPaths   [2]string                   // plaintext: field paths of the two references (Input.ObjectStorage)
	secretName string                      // the Secret the pods read
	keys       [2]string                   // its keys: access key ID, secret access key
}

// Field paths of the plaintext references, in the current and the
// deprecated form.
const (
	plaintextPath = "spec.objectStorage.credentials.plaintext"
	legacyPath    = "spec.objectStorage"
)

func newStoreCredentials(p *plan, o v1alpha1.ObjectStorage, envNames [2]string) storeCredentials {
	c := storeCredentials{src: o.Credentials, secretName: p.n.s3Keys}
	switch {
	case o.Legacy():
		c.src = v1alpha1.StorageCredentials{Plaintext: &v1alpha1.PlaintextCredentials{AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey}}
		c.keyPaths = [2]string{legacyPath + ".accessKeyID", legacyPath + ".secretAccessKey"}
		c.secretName, c.keys = p.n.objectStorage, envNames
	case c.src.Plaintext != nil:
		c.keyPaths = [2]string{plaintextPath + ".accessKeyID", plaintextPath + ".secretAccessKey"}
		c.secretName, c.keys = p.n.objectStorage, envNames
	case c.src.Secret != nil:
		c.secretName, c.keys = c.src.Secret.Name, [2]string{c.src.Secret.AccessKeyIDKey, c.src.Secret.SecretAccessKeyKey}
	case c.src.ExternalSecret != nil:
		c.keys = envNames
	case c.src.VaultStaticSecret != nil:
		c.keys = [2]string{c.src.VaultStaticSecret.AccessKeyIDKey, c.src.VaultStaticSecret.SecretAccessKeyKey}
	}
	return c
}

// objects are what loki-cmp renders for the source: a Secret, an
// ExternalSecret, a VaultStaticSecret, or nothing.
func (c storeCredentials) objects(p *plan) []Object {
	switch {
	case c.src.Plaintext != nil:
		return []Object{c.plaintextSecret(p)}
	case c.src.ExternalSecret != nil:
		return []Object{c.externalSecret(p)}
	case c.src.VaultStaticSecret != nil:
		return []Object{c.vaultStaticSecret(p)}
	}
	return nil
}

// plaintextSecret holds the keys loki-cmp resolved. A core Secret, so Argo
// CD masks it in its UI, but its cache holds it.
func (c storeCredentials) plaintextSecret(p *plan) Object {
	m := p.meta(c.secretName, p.ns, "loki", "", waveSecret)
	if p.dryRun {
		m.Annotations[DryRunAnnotation] = "true: the keys are placeholders"
	}
	id, key := c.plaintextKeys(p)
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: m,
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{c.keys[0]: id, c.keys[1]: key},
	}
}

func (c storeCredentials) plaintextKeys(p *plan) (id, key []byte) {
	if p.dryRun {
		return []byte(dryRunPlaceholder), []byte(dryRunPlaceholder)
	}
	return p.storeSecrets[c.keyPaths[0]].Bytes(), p.storeSecrets[c.keyPaths[1]].Bytes()
}

// externalSecret asks ESO for the keys at a pinned version: the operator
// re-reads it at once when the ExternalSecret changes, in the same sync
// that rolls the pods. It owns the Secret (deleted with it) and keeps it
// when the remote secret disappears, so Loki does not lose its keys.
func (c storeCredentials) externalSecret(p *plan) Object {
	e := c.src.ExternalSecret
	ref := func(property string) crd.RemoteRef {
		return crd.RemoteRef{Key: e.Key, Property: property, Version: e.Version}
	}
	return &crd.ExternalSecret{
		TypeMeta:   typeMeta(crd.ExternalSecretsAPIVersion, "ExternalSecret"),
		ObjectMeta: p.meta(c.secretName, p.ns, "loki", "", waveSecret),
		Spec: crd.ExternalSecretSpec{
			RefreshInterval: e.RefreshInterval,
			SecretStoreRef:  crd.SecretStoreRef{Name: e.StoreRef.Name, Kind: e.StoreRef.Kind},
			Target:          crd.ExternalSecretTarget{Name: c.secretName, CreationPolicy: "Owner", DeletionPolicy: "Retain"},
			Data: []crd.ExternalSecretData{
				{SecretKey: c.keys[0], RemoteRef: ref(e.AccessKeyIDProperty)},
				{SecretKey: c.keys[1], RemoteRef: ref(e.SecretAccessKeyProperty)},
			},
		},
	}
}

// vaultStaticSecret asks VSO for the keys and to restart exactly the
// workloads that read them when they change.
func (c storeCredentials) vaultStaticSecret(p *plan) Object {
	v := c.src.VaultStaticSecret
	var targets []crd.RolloutRestartTarget
	for _, t := range p.targets {
		kind := "Deployment"
		if t.stateful {
			kind = "StatefulSet"
		}
		targets = append(targets, crd.RolloutRestartTarget{Kind: kind, Name: t.name})
	}
	return &crd.VaultStaticSecret{
		TypeMeta:   typeMeta(crd.VaultSecretsAPIVersion, "VaultStaticSecret"),
		ObjectMeta: p.meta(c.secretName, p.ns, "loki", "", waveSecret),
		Spec: crd.VaultStaticSecretSpec{
			VaultAuthRef: v.VaultAuthRef, Mount: v.Mount, Path: v.Path, Type: v.Type, Version: v.Version,
			RefreshAfter: v.RefreshAfter, HMACSecretData: true,
			Destination:           crd.VaultDestination{Name: c.secretName, Create: true},
			RolloutRestartTargets: targets,
		},
	}
}

// env passes the two keys as the backend's variables. The plaintext
// Secret holds nothing else and is passed whole (as v0.1.0 did); from a
// referenced Secret only the two keys are taken.
func (c storeCredentials) configure(ct *corev1.Container, envNames [2]string) {
	if c.src.Plaintext != nil {
		ct.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: c.secretName},
		}}}
		return
	}
	for i, name := range envNames {
		ct.Env = append(ct.Env, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: c.secretName},
				Key:                  c.keys[i],
			},
		}})
	}
}

// revisionAnnotation rolls the pods that read the keys when the source
// says the keys changed (see storeCredentials).
const revisionAnnotation = "checksum/object-storage"

// revision is the value of revisionAnnotation.
func (c storeCredentials) revision(p *plan) string {
	if c.src.Plaintext != nil {
		mac := hmac.New(sha256.New, p.pepper.Bytes())
		id, key := c.plaintextKeys(p)
		for _, v := range [][]byte{[]byte(c.secretName), id, key} {
			mac.Write(v)
			mac.Write([]byte{0})
		}
		return hex.EncodeToString(mac.Sum(nil))
	}
	doc, err := json.Marshal(struct {
		Source v1alpha1.StorageCredentials `json:"source"`
		Secret string                      `json:"secret"`
		Keys   [2]string                   `json:"keys"`
	}{c.src, c.secretName, c.keys})
	if err != nil {
		panic(err) // plain structs of strings and ints always marshal
	}
	return checksum(string(doc))
}
