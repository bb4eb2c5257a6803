package generator

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// s3Store is S3-compatible object storage (AWS S3, MinIO, ...). Its keys
// reach Loki as environment variables that the config references as
// ${AWS_...} (-config.expand-env=true): they are never written into the
// ConfigMap.
type s3Store struct{ o v1alpha1.ObjectStorage }

// Environment variables that carry the S3 keys into Loki.
const (
	envAccessKeyID     = "AWS_ACCESS_KEY_ID"
	envSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
)

func (s s3Store) lokiName() string { return "s3" }

func (s s3Store) client(bucket string) *lokiS3 {
	return &lokiS3{
		Endpoint: s.o.Endpoint, Region: s.o.Region, BucketNames: bucket,
		AccessKeyID: "${" + envAccessKeyID + "}", SecretAccessKey: "${" + envSecretAccessKey + "}",
		S3ForcePathStyle: s.o.PathStyle, Insecure: s.o.Insecure,
	}
}

func (s s3Store) configure(c *lokiConfig) {
	c.Common.Storage.S3 = s.client(s.o.ChunksBucket)
	c.Ruler = &lokiRuler{Storage: lokiRulerStorage{Type: s.lokiName(), S3: s.client(s.o.RulerBucket)}}
}

func (s s3Store) envNames() [2]string { return [2]string{envAccessKeyID, envSecretAccessKey} }

func (s s3Store) configurePod(p *plan, _ *corev1.PodSpec, c *corev1.Container) {
	c.Args = append(c.Args, "-config.expand-env=true")
	p.storeCreds.configure(c, s.envNames())
}

// lokiS3 is Loki's S3 client config. The keys are ${...} references that
// Loki expands from its environment (-config.expand-env=true), filled from
// the object-storage Secret: they are never written into the ConfigMap.
type lokiS3 struct {
	Endpoint         string `json:"endpoint,omitempty"`
	Region           string `json:"region"`
	BucketNames      string `json:"bucketnames"`
	AccessKeyID      string `json:"access_key_id"`
	SecretAccessKey  string `json:"secret_access_key"`
	S3ForcePathStyle bool   `json:"s3forcepathstyle"`
	Insecure         bool   `json:"insecure"`
}
