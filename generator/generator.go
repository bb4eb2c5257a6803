// Package generator turns a loaded LokiStack and its resolved credentials
// into Kubernetes objects. It is a pure function of its input: it reads no
// environment, file, clock or network and draws no random numbers, so the
// same input always gives the same objects (and bytes, see Encode).
//
// It works in two steps, as the Loki Operator does: newPlan resolves the
// input into one plan holding every derived fact (mode, targets, names,
// the Loki config and its checksum, the collector kind, the TLS mode, the
// object store, the password hashes); then one builder per component reads
// the plan, and only the plan. No builder depends on another having run.
// Each variant has one seam: collectorKinds (collector.go), objectStore
// (objectstorage.go), tlsModes (tls.go).
package generator

import (
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
	// ObjectStorage holds the object store's credentials (mode
	// simple-scalable), by the field path of their reference in loki.yaml,
	// e.g. spec.objectStorage.accessKeyID. Ignored with DryRun.
	ObjectStorage map[string]secret.Value
	// HashPepper is the installation's secret pepper for the password
	// hashes' salts (empty: none). Ignored with DryRun.
	HashPepper secret.Value
}

// Generate builds every object of the stack, in the documented order (see
// Sort). It fails only on credentials that cannot be hashed; the stack
// itself has been validated by package config.
func Generate(in Input) ([]Object, error) {
	p, err := newPlan(in)
	if err != nil {
		return nil, err
	}
	objs := buildAll(p)
	Sort(objs)
	return objs, nil
}

// buildAll runs every component's builder on the plan. Each builder
// returns nothing when its component is switched off.
func buildAll(p *plan) []Object {
	var objs []Object
	for _, build := range builderList() {
		objs = append(objs, build(p)...)
	}
	return objs
}

// builderList is every component's builder.
func builderList() []func(*plan) []Object {
	return []func(*plan) []Object{
		buildNamespaces,
		buildBasicAuth,
		buildLoki,
		buildIngress,
		buildTenancy,
		buildTLS,
		buildCollector,
		buildServiceMonitor,
		buildGrafanaDatasource,
		buildNetworkPolicy,
	}
}
