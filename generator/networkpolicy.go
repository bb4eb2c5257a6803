package generator

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// buildNetworkPolicy returns, if enabled, a NetworkPolicy that lets only the pods that have business with Loki reach its
// HTTP port: Traefik (the public path), the collector (pushes), Grafana
// (queries) and Prometheus (metrics). gRPC (9095) and memberlist (7946) are
// for Loki's own pods, which in simple-scalable mode talk to each other.
func buildNetworkPolicy(p *plan) []Object {
	np := p.spec.NetworkPolicy
	if !np.Enabled {
		return nil
	}
	from := map[string]bool{np.TraefikNamespace: true, np.PrometheusNamespace: true}
	if c := p.collector; c != nil {
		from[c.ns] = true
	}
	if ds := p.spec.Monitoring.GrafanaDatasource; ds.Enabled {
		from[ds.Namespace] = true
	}
	var peers []networkingv1.NetworkPolicyPeer
	for _, ns := range slices.Sorted(maps.Keys(from)) {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
		}})
	}
	port := intstr.FromString(lokiHTTPPortName)
	tcp := corev1.ProtocolTCP
	rules := []networkingv1.NetworkPolicyIngressRule{{
		From:  peers,
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
	}}
	pods := p.selector("loki", componentLoki)
	if p.scalable {
		pods = p.selector("loki", "")
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{
			PodSelector: &metav1.LabelSelector{MatchLabels: pods},
		}}})
	}
	return []Object{&networkingv1.NetworkPolicy{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: p.lokiMeta(p.n.loki, ""),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: pods},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		},
	}}
}
