package generator

import (
	corev1 "k8s.io/api/core/v1"
)

// Pod Security Standards levels.
const (
	levelRestricted = "restricted"
	levelPrivileged = "privileged"
)

// buildNamespaces returns the stack's Namespace and, when the collector
// runs in another one, the collector's. Each gets the strictest Pod
// Security Standards level its pods pass: the collector kind says its own
// (Promtail's hostPath volumes need "privileged"; even "baseline" forbids
// hostPath), everything else passes "restricted". Giving the collector its
// own namespace keeps such an exception away from Loki.
//
// It renders none when spec.createNamespace is false: the namespaces are
// someone else's, and loki-cmp must neither label nor own them.
func buildNamespaces(p *plan) []Object {
	if !p.spec.CreateNamespace {
		return nil
	}
	c := p.collector
	level := levelRestricted
	if c != nil && c.ns == p.ns {
		level = c.kind.podSecurity
	}
	objs := []Object{p.namespace(p.ns, "loki", level)}
	if c != nil && c.ns != p.ns {
		objs = append(objs, p.namespace(c.ns, c.kind.app, c.kind.podSecurity))
	}
	return objs
}

func (p *plan) namespace(name, app, level string) Object {
	m := p.meta(name, "", app, "", waveNamespace)
	// A Namespace holds the volumes: Argo CD must never delete it, neither
	// when metadata.namespace changes (prune) nor when the Application is
	// deleted. Removing an old namespace is the administrator's decision.
	m.Annotations[annotationSyncOptions] = namespaceSyncOptions
	for _, mode := range []string{"enforce", "audit", "warn"} {
		m.Labels["pod-security.kubernetes.io/"+mode] = level
		m.Labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	return &corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: m}
}
