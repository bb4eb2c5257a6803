package generator

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
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
	// envNames are the variables the pods read the access key ID and the
	// secret access key from.
	envNames() [2]string
	// configurePod gives a Loki pod what it needs to reach the store:
	// environment, volumes, flags.
	configurePod(p *plan, pod *corev1.PodSpec, c *corev1.Container)
}

// newObjectStore picks the backend of the stack's objectStorage.
func newObjectStore(o v1alpha1.ObjectStorage) objectStore { return s3Store{o} }

// dryRunPlaceholder stands in for every credential of a dry run.
const dryRunPlaceholder = "DRY-RUN-PLACEHOLDER"
