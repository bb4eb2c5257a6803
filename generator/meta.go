package generator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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
	// A Namespace is never pruned nor deleted with the Application.
	namespaceSyncOptions = "Prune=false,Delete=false"
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

// StackLabel names the stack an object belongs to. Unlike
// app.kubernetes.io/instance, which Argo CD's label tracking may rewrite on
// live objects, it is loki-cmp's own, so the ServiceMonitor can select by it.
const StackLabel = "lokicmp.thedevops.dev/stack"

// DryRunAnnotation marks objects whose content is a placeholder.
const DryRunAnnotation = "lokicmp.thedevops.dev/dry-run"

// meta builds ObjectMeta with the common and standard labels, the common
// annotations and the sync wave. ns is empty for cluster-scoped objects.
func (p *plan) meta(name, ns, app, component, wave string) metav1.ObjectMeta {
	labels := map[string]string{}
	for k, v := range p.spec.CommonLabels {
		labels[k] = v
	}
	for k, v := range p.selector(app, component) {
		labels[k] = v
	}
	labels["app.kubernetes.io/part-of"] = p.partOf
	labels["app.kubernetes.io/managed-by"] = "loki-cmp"
	labels[StackLabel] = p.name
	annotations := map[string]string{annotationSyncWave: wave}
	for k, v := range p.spec.CommonAnnotations {
		annotations[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations}
}

// lokiMeta is the metadata of an object of the Loki server, in the stack's
// namespace.
func (p *plan) lokiMeta(name, component string) metav1.ObjectMeta {
	return p.meta(name, p.ns, "loki", component, waveWorkload)
}

// selector is the immutable label set that ties a workload to its pods.
// Never add to it: StatefulSet and DaemonSet selectors cannot change.
func (p *plan) selector(app, component string) map[string]string {
	sel := map[string]string{
		"app.kubernetes.io/name":     app,
		"app.kubernetes.io/instance": p.name,
	}
	if component != "" {
		sel["app.kubernetes.io/component"] = component
	}
	return sel
}

// podLabels are the pod template's labels: the selector plus the common
// labels (which may change without touching the selector).
func (p *plan) podLabels(app, component string) map[string]string {
	l := map[string]string{}
	for k, v := range p.spec.CommonLabels {
		l[k] = v
	}
	for k, v := range p.selector(app, component) {
		l[k] = v
	}
	return l
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
