package generator

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/generator/crd"
)

func (g *gen) serviceMonitor() Object {
	sm := g.s.Spec.Monitoring.ServiceMonitor
	m := g.lokiMeta(g.n.loki)
	for k, v := range sm.Labels {
		m.Labels[k] = v
	}
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	// Select by name and component, not by app.kubernetes.io/instance: Argo
	// CD's label tracking rewrites that label on live objects.
	sel := g.selector("loki", componentLoki)
	delete(sel, "app.kubernetes.io/instance")
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
			UID:       g.n.datasource[:min(len(g.n.datasource), 40)],
			Access:    "proxy",
			URL:       g.lokiURL(),
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
