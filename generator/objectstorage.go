package generator

import (
	corev1 "k8s.io/api/core/v1"
)

// objectStorageSecret holds the S3 keys that the Loki pods read as
// environment variables (simple-scalable). A core Secret, so Argo CD masks
// it; the ConfigMap only refers to the variables.
func (g *gen) objectStorageSecret(in Input) Object {
	m := g.meta(g.n.objectStorage, g.ns, "loki", "", waveSecret)
	id, key := in.ObjectStorage.AccessKeyID.Bytes(), in.ObjectStorage.SecretAccessKey.Bytes()
	if in.DryRun {
		m.Annotations[DryRunAnnotation] = "true: the keys are placeholders"
		id, key = []byte("DRY-RUN-PLACEHOLDER"), []byte("DRY-RUN-PLACEHOLDER")
	}
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: m,
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{envAccessKeyID: id, envSecretAccessKey: key},
	}
}
