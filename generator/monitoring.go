package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/generator/crd"
)

// buildServiceMonitor returns the prometheus-operator ServiceMonitor of
// Loki's metrics, if enabled.
func buildServiceMonitor(p *plan) []Object {
	if !p.spec.Monitoring.ServiceMonitor.Enabled {
		return nil
	}
	sm := p.spec.Monitoring.ServiceMonitor
	m := p.lokiMeta(p.n.loki, "")
	for k, v := range sm.Labels {
		m.Labels[k] = v
	}
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	// Select every Loki Service of the stack (one, or one per target) by
	// loki-cmp's own stack label, not by app.kubernetes.io/instance: Argo
	// CD's label tracking may rewrite that one on live objects.
	sel := map[string]string{"app.kubernetes.io/name": "loki", StackLabel: p.name}
	return []Object{&crd.ServiceMonitor{
		TypeMeta:   typeMeta(crd.MonitoringAPIVersion, "ServiceMonitor"),
		ObjectMeta: m,
		Spec: crd.ServiceMonitorSpec{
			Selector: metav1.LabelSelector{
				MatchLabels: sel,
				MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: serviceMonitorOptOut, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"false"},
				}},
			},
			NamespaceSelector: crd.NamespaceSelector{MatchNames: []string{p.ns}},
			Endpoints:         []crd.Endpoint{{Port: lokiHTTPPortName, Path: "/metrics", Interval: sm.Interval}},
		},
	}}
}

// buildGrafanaDatasource returns the datasource ConfigMap, if enabled. It
// is picked up by Grafana's sidecar, which watches ConfigMaps labelled
// grafana_datasource: "1" in Grafana's namespace.
func buildGrafanaDatasource(p *plan) []Object {
	ds := p.spec.Monitoring.GrafanaDatasource
	if !ds.Enabled {
		return nil
	}
	m := p.meta(p.n.datasource, ds.Namespace, "loki", componentLoki, waveWorkload)
	m.Labels["grafana_datasource"] = "1"
	base := grafanaDatasource{
		Name:      ds.Name,
		Type:      "loki",
		UID:       datasourceUID(p.ns, p.name),
		Access:    "proxy",
		URL:       p.queryURL,
		IsDefault: ds.IsDefault,
		JSONData:  map[string]any{"maxLines": 1000},
	}
	file := grafanaProvisioning{APIVersion: 1, Datasources: []grafanaDatasource{base}}
	if p.tenancy != nil {
		file.Datasources = tenantDatasources(p, base, ds.Tenants)
	}
	return []Object{&corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: m,
		Data:       map[string]string{"loki-datasource.yaml": mustYAML(file)},
	}}
}

// tenantDatasources is one datasource per entry of tenants, each sending
// its tenant(s) in X-Scope-OrgID. The first keeps the name and uid, so that
// switching tenancy on keeps Grafana's dashboards on it; the others get
// their own. Only the first may be the default: two defaults stop Grafana.
func tenantDatasources(p *plan, base grafanaDatasource, tenants []string) []grafanaDatasource {
	out := make([]grafanaDatasource, len(tenants))
	for i, t := range tenants {
		d := base
		d.JSONData = map[string]any{"maxLines": 1000, "httpHeaderName1": tenantHeader}
		d.SecureJSONData = map[string]any{"httpHeaderValue1": t}
		if i > 0 {
			d.Name = fmt.Sprintf("%s (%s)", base.Name, t)
			d.UID = datasourceUID(p.ns, p.name+"/"+t)
			d.IsDefault = false
		}
		out[i] = d
	}
	return out
}

// datasourceUID is stable for a stack and unique across stacks, within
// Grafana's 40-character limit: dashboards refer to datasources by uid.
func datasourceUID(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	return "loki-" + hex.EncodeToString(sum[:])[:16]
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
	// SecureJSONData is stored encrypted by Grafana: the tenant header's
	// value goes there, as Grafana's UI puts it (it is not a secret here).
	SecureJSONData map[string]any `json:"secureJsonData,omitempty"`
}
