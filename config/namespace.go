package config

import (
	"slices"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
)

// SystemNamespaces belong to Kubernetes itself (and, on k3s, to its system
// pods, Traefik included). A stack there would share a Pod Security level,
// NetworkPolicies and, through Argo CD, an owner with them: never.
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", "default"}

// SharedNamespaces are where other software commonly lives on the clusters
// loki-cmp targets (kube-prometheus-stack, Argo CD, cert-manager, Traefik,
// Longhorn, ...). loki-cmp may deploy into one (spec.createNamespace:
// false) but never own it: its Pod Security labels would break pods such
// as node-exporter, and Argo CD would adopt the Namespace.
var SharedNamespaces = []string{
	"monitoring", "prometheus", "grafana", "argocd", "argo-cd", "cert-manager", "traefik",
	"ingress-nginx", "longhorn-system", "metallb-system", "flux-system", "vault",
	"gitea", "minio", "cattle-system", "calico-system", "tigera-operator",
	"kubernetes-dashboard", "local-path-storage",
}

// namespaces refuses a system namespace for the stack or its collector, and
// a shared one that loki-cmp would own.
func (v *validator) namespaces(s *v1alpha1.LokiStack) {
	v.namespace(metadataPath.Child("namespace"), s.Metadata.Namespace, s.Spec.CreateNamespace)
	if c := s.Spec.Collector; c.Enabled && c.Namespace != s.Metadata.Namespace {
		v.namespace(specPath.Child("collector").Child("namespace"), c.Namespace, s.Spec.CreateNamespace)
	}
}

func (v *validator) namespace(path field.Path, ns string, create bool) {
	switch {
	case slices.Contains(SystemNamespaces, ns):
		v.forbid(path, "%q is a system namespace, shared with Kubernetes' own pods; give the stack a namespace of its own, e.g. loki", ns)
	case create && slices.Contains(SharedNamespaces, ns):
		v.forbid(path, "%q is usually shared with other software: loki-cmp would own it and set Pod Security \"restricted\" on it, breaking pods that need more (e.g. node-exporter); give the stack a namespace of its own, e.g. loki, or set spec.createNamespace: false to deploy into the existing namespace without touching it", ns)
	}
}
