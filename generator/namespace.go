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
	objs := []Object{p.namespace(p.ns, "loki", level, true)}
	if c != nil && c.ns != p.ns {
		objs = append(objs, p.namespace(c.ns, c.kind.app, c.kind.podSecurity, false))
	}
	return objs
}

// namespace is one Namespace. The stack's holds the volumes (protect): Argo
// CD must never delete it, neither when metadata.namespace changes (prune)
// nor when the Application is deleted; removing an old one is the
// administrator's decision. The collector's holds no volume (Promtail's
// state is on the node): it goes with the collector, as any object of a
// feature switched off does, instead of staying behind and leaving the
// Application OutOfSync for ever ("requires pruning").
func (p *plan) namespace(name, app, level string, protect bool) Object {
	m := p.meta(name, "", app, "", waveNamespace)
	if protect {
		m.Annotations[annotationSyncOptions] = namespaceSyncOptions
	}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		m.Labels["pod-security.kubernetes.io/"+mode] = level
		m.Labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	return &corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: m}
}
