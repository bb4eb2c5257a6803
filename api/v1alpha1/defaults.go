package v1alpha1

// Defaults that are not derived from other fields.
const (
	DefaultName             = "loki"
	DefaultNamespace        = "loki"
	DefaultClusterIssuer    = "letsencrypt-prod"
	DefaultACMEServer       = "https://acme-v02.api.letsencrypt.org/directory"
	DefaultRealm            = "Loki"
	DefaultBcryptCost       = 10
	DefaultLokiImage        = "docker.io/grafana/loki:3.7.8"
	DefaultRetention        = "744h"
	DefaultStorageSize      = "10Gi"
	DefaultStorageClass     = "longhorn"
	DefaultPromtailImage    = "docker.io/grafana/promtail:3.6.11"
	DefaultAlloyImage       = "docker.io/grafana/alloy:v1.11.0"
	DefaultGrafanaNamespace = "monitoring"
	DefaultDatasourceName   = "Loki"
	DefaultTraefikNamespace = "kube-system"
	DefaultPromNamespace    = "monitoring"
	// CollectorNamespaceSuffix makes the collector's default namespace.
	CollectorNamespaceSuffix = "-collector"
)

// Default returns a LokiStack holding every default. loki.yaml is decoded on
// top of it, so a field the file leaves out keeps its default. Defaults that
// depend on other fields are filled in by Complete.
func Default() LokiStack {
	return LokiStack{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata:   Metadata{Name: DefaultName},
		Spec: Spec{
			CreateNamespace: true,
			Mode:            ModeSingleBinary,
			TLS:             TLS{Mode: TLSModeCertificate, ClusterIssuer: DefaultClusterIssuer},
			Auth:            Auth{Realm: DefaultRealm, BcryptCost: DefaultBcryptCost},
			Loki: Loki{
				Image:     DefaultLokiImage,
				Retention: DefaultRetention,
				Resources: Resources{
					Requests: ResourceList{CPU: "100m", Memory: "256Mi"},
					Limits:   ResourceList{CPU: "2", Memory: "1Gi"},
				},
			},
			Storage: Storage{Size: DefaultStorageSize, StorageClassName: DefaultStorageClass},
			SimpleScalable: SimpleScalable{
				Write: Target{Replicas: 3, Resources: Resources{
					Requests: ResourceList{CPU: "100m", Memory: "256Mi"},
					Limits:   ResourceList{CPU: "2", Memory: "1Gi"},
				}},
				Read: Target{Replicas: 2, Resources: Resources{
					Requests: ResourceList{CPU: "100m", Memory: "256Mi"},
					Limits:   ResourceList{CPU: "2", Memory: "1Gi"},
				}},
				Backend: Target{Replicas: 2, Resources: Resources{
					Requests: ResourceList{CPU: "100m", Memory: "256Mi"},
					Limits:   ResourceList{CPU: "1", Memory: "512Mi"},
				}},
			},
			ObjectStorage: ObjectStorage{Region: "us-east-1", ChunksBucket: "loki-chunks", RulerBucket: "loki-ruler"},
			Collector: Collector{
				Enabled: true,
				Type:    CollectorAlloy,
				Resources: Resources{
					Requests: ResourceList{CPU: "50m", Memory: "64Mi"},
					Limits:   ResourceList{CPU: "500m", Memory: "256Mi"},
				},
			},
			NetworkPolicy: NetworkPolicy{
				Enabled:             true,
				TraefikNamespace:    DefaultTraefikNamespace,
				PrometheusNamespace: DefaultPromNamespace,
			},
			Monitoring: Monitoring{
				ServiceMonitor: ServiceMonitor{Enabled: true},
				GrafanaDatasource: GrafanaDatasource{
					Enabled:   true,
					Namespace: DefaultGrafanaNamespace,
					Name:      DefaultDatasourceName,
				},
			},
		},
	}
}

// Complete fills in the defaults that derive from other fields.
// defaultNamespace is used when metadata.namespace is empty (under Argo CD,
// the Application's destination namespace); empty means DefaultNamespace.
func (s *LokiStack) Complete(defaultNamespace string) {
	if s.Metadata.Namespace == "" {
		s.Metadata.Namespace = defaultNamespace
	}
	if s.Metadata.Namespace == "" {
		s.Metadata.Namespace = DefaultNamespace
	}
	if c := &s.Spec.Collector; c.Image == "" {
		// An unknown type keeps Alloy's image; validation refuses the type.
		c.Image = DefaultAlloyImage
		for _, k := range CollectorKinds {
			if k.Type == c.Type {
				c.Image = k.DefaultImage
			}
		}
	}
	if s.Spec.Collector.Namespace == "" {
		s.Spec.Collector.Namespace = s.Metadata.Namespace + CollectorNamespaceSuffix
	}
	if s.Spec.TLS.SecretName == "" {
		s.Spec.TLS.SecretName = s.Metadata.Name + "-tls"
	}
	if a := s.Spec.TLS.ACME; a != nil && a.Server == "" {
		a.Server = DefaultACMEServer
	}
	s.Spec.ObjectStorage.Credentials.complete()
}

// Defaults of the object store's credential sources: the Secret keys are
// the variables Loki reads; the remote keys are those loki-cmp's own
// fromVault examples use (secret/loki/s3: access-key-id, secret-access-key).
const (
	DefaultSecretAccessKeyIDKey     = "AWS_ACCESS_KEY_ID"
	DefaultSecretSecretAccessKeyKey = "AWS_SECRET_ACCESS_KEY"
	DefaultRemoteAccessKeyID        = "access-key-id"
	DefaultRemoteSecretAccessKey    = "secret-access-key"
	DefaultStoreKind                = "ClusterSecretStore"
	DefaultESORefreshInterval       = "1h"
	DefaultVSOType                  = "kv-v2"
	DefaultVSORefreshAfter          = "60s"
)

func (c *StorageCredentials) complete() {
	orDefault := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	if s := c.Secret; s != nil {
		orDefault(&s.AccessKeyIDKey, DefaultSecretAccessKeyIDKey)
		orDefault(&s.SecretAccessKeyKey, DefaultSecretSecretAccessKeyKey)
	}
	if e := c.ExternalSecret; e != nil {
		orDefault(&e.StoreRef.Kind, DefaultStoreKind)
		orDefault(&e.AccessKeyIDProperty, DefaultRemoteAccessKeyID)
		orDefault(&e.SecretAccessKeyProperty, DefaultRemoteSecretAccessKey)
		orDefault(&e.RefreshInterval, DefaultESORefreshInterval)
	}
	if v := c.VaultStaticSecret; v != nil {
		orDefault(&v.Type, DefaultVSOType)
		orDefault(&v.RefreshAfter, DefaultVSORefreshAfter)
		orDefault(&v.AccessKeyIDKey, DefaultRemoteAccessKeyID)
		orDefault(&v.SecretAccessKeyKey, DefaultRemoteSecretAccessKey)
	}
}
