package generator

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// objectStore is an object storage backend of mode simple-scalable, applied
// as mutations of the Loki config and pods (as the Loki Operator's
// storage.ConfigureStatefulSet does). S3 is the one backend today; another
// implements this interface in a file of its own and is chosen in
// newObjectStore.
type objectStore interface {
	// lokiName is the store's name in Loki's config: the schema's
	// object_store, the delete-request store and the ruler's storage type.
	lokiName() string
	// configure writes the client config of the chunks and ruler stores.
	configure(c *lokiConfig)
	// secretData is the content of the Secret that carries the store's
	// credentials to the pods. creds holds the resolved credentials by the
	// field path of their reference (see Input.ObjectStorage).
	secretData(creds map[string]secret.Value, dryRun bool) map[string][]byte
	// configurePod gives a Loki pod what it needs to reach the store:
	// environment, volumes, flags.
	configurePod(p *plan, pod *corev1.PodSpec, c *corev1.Container)
}

// newObjectStore picks the backend of the stack's objectStorage.
func newObjectStore(o v1alpha1.ObjectStorage) objectStore { return s3Store{o} }

// dryRunPlaceholder stands in for every credential of a dry run.
const dryRunPlaceholder = "DRY-RUN-PLACEHOLDER"

// objectStorageSecret holds the store's credentials. A core Secret, so Argo
// CD masks it; the ConfigMap only refers to them.
func (p *plan) objectStorageSecret() Object {
	m := p.meta(p.n.objectStorage, p.ns, "loki", "", waveSecret)
	if p.dryRun {
		m.Annotations[DryRunAnnotation] = "true: the keys are placeholders"
	}
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: m,
		Type:       corev1.SecretTypeOpaque,
		Data:       p.store.secretData(p.storeSecrets, p.dryRun),
	}
}

// secretEnv passes every key of the object-storage Secret as an
// environment variable.
func (p *plan) secretEnv() []corev1.EnvFromSource {
	return []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: p.n.objectStorage},
	}}}
}
