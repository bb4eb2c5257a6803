package generator

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// collectorKind is one log collector program: everything the generator
// needs to know to deploy it. A new kind is an entry in
// v1alpha1.CollectorKinds, one here and a file of its own (alloy.go,
// promtail.go); a test fails when the two tables differ.
type collectorKind struct {
	app        string // app.kubernetes.io/name of its objects and pods
	configFile string // key of its config in the ConfigMap
	// podSecurity is the strictest Pod Security Standards level its pods
	// pass, given to the namespace it runs in.
	podSecurity string
	// rules are its read-only permissions on the cluster.
	rules []rbacv1.PolicyRule
	// config renders its configuration.
	config func(p *plan) string
	// pod is its DaemonSet's pod spec.
	pod func(p *plan) corev1.PodSpec
}

// collectorKinds has a builder for every kind in v1alpha1.CollectorKinds.
var collectorKinds = map[string]collectorKind{
	v1alpha1.CollectorAlloy:    alloyKind,
	v1alpha1.CollectorPromtail: promtailKind,
}

// buildCollector returns the collector's objects, which every kind has:
// its ServiceAccount, its config in a ConfigMap, read-only RBAC on the
// cluster and the DaemonSet.
func buildCollector(p *plan) []Object {
	c := p.collector
	if c == nil {
		return nil
	}
	app := c.kind.app
	meta := func(name string) metav1.ObjectMeta {
		return p.meta(name, c.ns, app, componentCollector, waveWorkload)
	}
	clusterMeta := func() metav1.ObjectMeta {
		return p.meta(p.n.collectorCluster, "", app, componentCollector, waveWorkload)
	}
	return []Object{
		&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: meta(p.n.collector)},
		&corev1.ConfigMap{
			TypeMeta:   typeMeta("v1", "ConfigMap"),
			ObjectMeta: meta(p.n.collector),
			Data:       map[string]string{c.kind.configFile: c.config},
		},
		&rbacv1.ClusterRole{
			TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRole"),
			ObjectMeta: clusterMeta(),
			Rules:      c.kind.rules,
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
			ObjectMeta: clusterMeta(),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: p.n.collectorCluster},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: p.n.collector, Namespace: c.ns}},
		},
		&appsv1.DaemonSet{
			TypeMeta:   typeMeta("apps/v1", "DaemonSet"),
			ObjectMeta: meta(p.n.collector),
			Spec: appsv1.DaemonSetSpec{
				Selector:       &metav1.LabelSelector{MatchLabels: p.selector(app, componentCollector)},
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: p.podTemplateMeta(app, componentCollector, c.checksum),
					Spec:       c.kind.pod(p),
				},
			},
		},
	}
}
