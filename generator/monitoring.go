package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/generator/crd"
)

func (g *gen) serviceMonitor() Object {
	sm := g.s.Spec.Monitoring.ServiceMonitor
	m := g.lokiMeta(g.n.loki, "")
	for k, v := range sm.Labels {
		m.Labels[k] = v
	}
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	// Select every Loki Service of the stack (one, or one per target) by
	// loki-cmp's own stack label, not by app.kubernetes.io/instance: Argo
	// CD's label tracking may rewrite that one on live objects.
	sel := map[string]string{"app.kubernetes.io/name": "loki", StackLabel: g.s.Metadata.Name}
	return &crd.ServiceMonitor{
		TypeMeta:   typeMeta(crd.MonitoringAPIVersion, "ServiceMonitor"),
		ObjectMeta: m,
		Spec: crd.ServiceMonitorSpec{
			Selector: metav1.LabelSelector{
				MatchLabels: sel,
				MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: serviceMonitorOptOut, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"false"},
				}},
			},
			NamespaceSelector: crd.NamespaceSelector{MatchNames: []string{g.ns}},
			Endpoints:         []crd.Endpoint{{Port: lokiHTTPPortName, Path: "/metrics", Interval: sm.Interval}},
		},
	}
}

// grafanaDatasource is picked up by Grafana's sidecar, which watches
// ConfigMaps labelled grafana_datasource: "1" in Grafana's namespace.
func (g *gen) grafanaDatasource() Object {
	ds := g.s.Spec.Monitoring.GrafanaDatasource
	m := g.meta(g.n.datasource, ds.Namespace, "loki", componentLoki, waveWorkload)
	m.Labels["grafana_datasource"] = "1"
	file := grafanaProvisioning{
		APIVersion: 1,
		Datasources: []grafanaDatasource{{
			Name:      ds.Name,
			Type:      "loki",
			UID:       datasourceUID(g.ns, g.s.Metadata.Name),
			Access:    "proxy",
			URL:       g.queryURL(),
			IsDefault: ds.IsDefault,
			JSONData:  map[string]any{"maxLines": 1000},
		}},
	}
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: m,
		Data:       map[string]string{"loki-datasource.yaml": mustYAML(file)},
	}
}

// datasourceUID is stable for a stack and unique across stacks, within
// Grafana's 40-character limit: dashboards refer to datasources by uid.
func datasourceUID(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return "loki-" + hex.EncodeToString(sum[:])[:16]
}

// networkPolicy lets only the pods that have business with Loki reach its
// HTTP port: Traefik (the public path), the collector (pushes), Grafana
// (queries) and Prometheus (metrics). gRPC (9095) and memberlist (7946) are
// for Loki's own pods, which in simple-scalable mode talk to each other.
func (g *gen) networkPolicy() Object {
	np := g.s.Spec.NetworkPolicy
	from := map[string]bool{np.TraefikNamespace: true, np.PrometheusNamespace: true}
	if c := g.s.Spec.Collector; c.Enabled {
		from[c.Namespace] = true
	}
	if ds := g.s.Spec.Monitoring.GrafanaDatasource; ds.Enabled {
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
	pods := g.selector("loki", componentLoki)
	if g.scalable() {
		pods = g.selector("loki", "")
		rules = append(rules, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{
			PodSelector: &metav1.LabelSelector{MatchLabels: pods},
		}}})
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: g.lokiMeta(g.n.loki, ""),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: pods},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		},
	}
}

// grafanaProvisioning is Grafana's datasource provisioning file.
type grafanaProvisioning struct {
	APIVersion  int                 `json:"apiVersion"`
	Datasources []grafanaDatasource `json:"datasources"`
}

type grafanaDatasource struct {
	Name      string         `json:"name"`
	Type      string         `json:"type"`
	UID       string         `json:"uid"`
	Access    string         `json:"access"`
	URL       string         `json:"url"`
	IsDefault bool           `json:"isDefault"`
	JSONData  map[string]any `json:"jsonData"`
}
