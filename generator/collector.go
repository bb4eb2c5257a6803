package generator

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// collectorObjects are the objects every collector type has: its
// ServiceAccount, its config in a ConfigMap, read-only RBAC on the cluster
// and the DaemonSet that daemonSet builds from its metadata.
func (g *gen) collectorObjects(app, configFile, cfg string, rules []rbacv1.PolicyRule,
	daemonSet func(metav1.ObjectMeta, string) Object) []Object {
	ns := g.s.Spec.Collector.Namespace
	meta := func(name string) metav1.ObjectMeta {
		return g.meta(name, ns, app, componentCollector, waveWorkload)
	}
	clusterMeta := func() metav1.ObjectMeta {
		return g.meta(g.n.collectorCluster, "", app, componentCollector, waveWorkload)
	}
	return []Object{
		&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: meta(g.n.collector)},
		&corev1.ConfigMap{
			TypeMeta:   typeMeta("v1", "ConfigMap"),
			ObjectMeta: meta(g.n.collector),
			Data:       map[string]string{configFile: cfg},
		},
		&rbacv1.ClusterRole{
			TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRole"),
			ObjectMeta: clusterMeta(),
			Rules:      rules,
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
			ObjectMeta: clusterMeta(),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: g.n.collectorCluster},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: g.n.collector, Namespace: ns}},
		},
		daemonSet(meta(g.n.collector), cfg),
	}
}

// readOnly grants get, list and watch on core resources.
func readOnly(resources ...string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: resources, Verbs: []string{"get", "list", "watch"}}}
}
