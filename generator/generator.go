// Package generator turns a loaded LokiStack and its resolved credentials
// into Kubernetes objects. It is a pure function of its input: it reads no
// environment, file, clock or network and draws no random numbers, so the
// same input always gives the same objects (and bytes, see Encode).
package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// Object is what Generate returns: any typed Kubernetes object with its
// apiVersion and kind set.
type Object interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// Credential is the resolved password of one basic-auth user: either a
// plain password, hashed here, or a ready hash kept elsewhere (e.g. Vault).
type Credential struct {
	Password secret.Value
	Hash     secret.Value
}

// Input is everything Generate needs.
type Input struct {
	Stack v1alpha1.LokiStack
	// Credentials by user name. Ignored with DryRun.
	Credentials map[string]Credential
	// DryRun renders a clearly marked placeholder instead of each hash, so
	// output can be previewed without any credential.
	DryRun bool
	// PartOf is the app.kubernetes.io/part-of label: under Argo CD the
	// Application's name; empty means "loki".
	PartOf string
	// ObjectStorage holds the S3 keys of mode simple-scalable. Ignored
	// with DryRun.
	ObjectStorage ObjectStorageKeys
}

// ObjectStorageKeys are the resolved S3 credentials.
type ObjectStorageKeys struct {
	AccessKeyID, SecretAccessKey secret.Value
}

// Generate builds every object of the stack, in the documented order (see
// Sort). It fails only on credentials that cannot be hashed; the stack
// itself has been validated by package config.
func Generate(in Input) ([]Object, error) {
	g := newGen(&in.Stack, in.PartOf)
	secret, err := g.basicAuthSecret(in)
	if err != nil {
		return nil, err
	}
	objs := append(g.namespaces(), secret, g.middleware())
	objs = append(objs, g.loki(in)...)
	objs = append(objs, g.ingress())
	if s := g.s.Spec.TLS; s.Mode == v1alpha1.TLSModeCertificate {
		objs = append(objs, g.certificate())
	}
	if g.s.Spec.TLS.ACME != nil {
		objs = append(objs, g.clusterIssuer())
	}
	if c := g.s.Spec.Collector; c.Enabled && c.Type == v1alpha1.CollectorPromtail {
		objs = append(objs, g.promtail()...)
	} else if c.Enabled {
		objs = append(objs, g.alloy()...)
	}
	if g.s.Spec.Monitoring.ServiceMonitor.Enabled {
		objs = append(objs, g.serviceMonitor())
	}
	if g.s.Spec.Monitoring.GrafanaDatasource.Enabled {
		objs = append(objs, g.grafanaDatasource())
	}
	if g.s.Spec.NetworkPolicy.Enabled {
		objs = append(objs, g.networkPolicy())
	}
	Sort(objs)
	return objs, nil
}

// gen carries the stack and the names derived from it while building.
type gen struct {
	s      *v1alpha1.LokiStack
	ns     string
	n      names
	partOf string
	cfg    string // rendered Loki config, shared by the ConfigMap and its checksum
}

func newGen(s *v1alpha1.LokiStack, partOf string) *gen {
	return &gen{s: s, ns: s.Metadata.Namespace, n: namesFor(s), partOf: labelValue(partOf, "loki")}
}

// labelValue makes v a valid label value: Argo CD allows Application names
// of up to 253 characters (and, for Applications in other namespaces, a
// "namespace/name" form), label values stop at 63 characters of
// [A-Za-z0-9_.-]. Other characters become "-"; a longer name keeps its
// start and gets a hash of the whole, so it stays unique and stable.
func labelValue(v, empty string) string {
	clean := strings.Trim(strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '_' || r == '.' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return r
		}
		return '-'
	}, v), "_.-")
	switch {
	case clean == "":
		return empty
	case len(clean) <= 63 && clean == v:
		return clean
	}
	sum := sha256.Sum256([]byte(v))
	return strings.Trim(clean[:min(len(clean), 52)], "_.-") + "-" + hex.EncodeToString(sum[:])[:10]
}

// names are the object names derived from metadata.name. Changing any of
// them renames a live object: see docs/upgrades.md.
type names struct {
	loki, config, serviceAccount          string
	basicAuth, ingress, certificate, data string
	memberlist, objectStorage             string
	collector, collectorCluster           string
	datasource                            string
}

func namesFor(s *v1alpha1.LokiStack) names {
	b, ns := s.Metadata.Name, s.Metadata.Namespace
	return names{
		loki:           b,
		config:         b + "-config",
		serviceAccount: b,
		basicAuth:      b + "-basic-auth",
		ingress:        b,
		certificate:    b + "-tls",
		data:           b + "-data",
		memberlist:     b + "-memberlist",
		objectStorage:  b + "-object-storage",
		collector:      b + "-" + s.Spec.Collector.Type,
		// Cluster-scoped and foreign-namespace objects carry the namespace
		// too, so two stacks never fight over one name.
		collectorCluster: ns + "-" + b + "-" + s.Spec.Collector.Type,
		datasource:       ns + "-" + b + "-grafana-datasource",
	}
}

// Argo CD sync waves, in the order the stack must come up: the Secret before
// the Middleware that reads it, the Middleware before the Ingress that uses
// it, the Ingress before the Certificate whose HTTP-01 challenge it serves.
const (
	waveNamespace   = "-3"
	waveSecret      = "-2"
	waveMiddleware  = "-1"
	waveWorkload    = "0"
	waveIngress     = "1"
	waveCertificate = "2"
)

const (
	annotationSyncWave    = "argocd.argoproj.io/sync-wave"
	annotationSyncOptions = "argocd.argoproj.io/sync-options"
	// Custom resources whose CRD may be installed by the same sync.
	skipDryRunOnMissing = "SkipDryRunOnMissingResource=true"
)

// Component names, used in labels and selectors. The simple-scalable
// ones double as Loki's -target values.
const (
	componentLoki      = "single-binary"
	componentWrite     = "write"
	componentRead      = "read"
	componentBackend   = "backend"
	componentGateway   = "gateway"
	componentCollector = "collector"
)

// meta builds ObjectMeta with the common and standard labels, the common
// annotations and the sync wave. ns is empty for cluster-scoped objects.
func (g *gen) meta(name, ns, app, component, wave string) metav1.ObjectMeta {
	labels := map[string]string{}
	for k, v := range g.s.Spec.CommonLabels {
		labels[k] = v
	}
	for k, v := range g.selector(app, component) {
		labels[k] = v
	}
	labels["app.kubernetes.io/part-of"] = g.partOf
	labels["app.kubernetes.io/managed-by"] = "loki-cmp"
	labels[StackLabel] = g.s.Metadata.Name
	annotations := map[string]string{annotationSyncWave: wave}
	for k, v := range g.s.Spec.CommonAnnotations {
		annotations[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations}
}

// StackLabel names the stack an object belongs to. Unlike
// app.kubernetes.io/instance, which Argo CD's label tracking may rewrite on
// live objects, it is loki-cmp's own, so the ServiceMonitor can select by it.
const StackLabel = "lokicmp.thedevops.dev/stack"

// selector is the immutable label set that ties a workload to its pods.
// Never add to it: StatefulSet and DaemonSet selectors cannot change.
func (g *gen) selector(app, component string) map[string]string {
	sel := map[string]string{
		"app.kubernetes.io/name":     app,
		"app.kubernetes.io/instance": g.s.Metadata.Name,
	}
	if component != "" {
		sel["app.kubernetes.io/component"] = component
	}
	return sel
}

// podLabels are the pod template's labels: the selector plus the common
// labels (which may change without touching the selector).
func (g *gen) podLabels(app, component string) map[string]string {
	l := map[string]string{}
	for k, v := range g.s.Spec.CommonLabels {
		l[k] = v
	}
	for k, v := range g.selector(app, component) {
		l[k] = v
	}
	return l
}

// pushURL is where the collector pushes: the write target, or the single
// binary.
func (g *gen) pushURL() string {
	return g.serviceURL(g.writeService()) + "/loki/api/v1/push"
}

// queryURL is where Grafana queries: the read target, or the single binary.
func (g *gen) queryURL() string {
	if g.scalable() {
		return g.serviceURL(g.n.loki + "-read")
	}
	return g.serviceURL(g.n.loki)
}

func (g *gen) writeService() string {
	if g.scalable() {
		return g.n.loki + "-write"
	}
	return g.n.loki
}

func (g *gen) serviceURL(service string) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", service, g.ns, lokiHTTPPort)
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
