package plugin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/internal/field"
)

// ArgoCD is what Argo CD tells a config management plugin through the
// environment of `generate` (see docs/argocd.md for the contract).
type ArgoCD struct {
	AppName      string // ARGOCD_APP_NAME
	AppNamespace string // ARGOCD_APP_NAMESPACE: the destination namespace
	// Parameters set on the Application (ARGOCD_APP_PARAMETERS).
	Parameters []Parameter
	// APIVersions the destination cluster serves (KUBE_API_VERSIONS), as
	// group/version and group/version/Kind; empty outside Argo CD.
	APIVersions map[string]bool
	// KubeVersion is the destination cluster's Kubernetes version
	// (KUBE_VERSION, e.g. "1.31.4+k3s1"); empty outside Argo CD.
	KubeVersion string
}

// Parameter is one Application parameter, as Argo CD sends it.
type Parameter struct {
	Name   string            `json:"name"`
	String *string           `json:"string,omitempty"`
	Array  []string          `json:"array,omitempty"`
	Map    map[string]string `json:"map,omitempty"`
}

// ArgoCDFromEnv reads the Argo CD environment. Outside Argo CD every field
// is empty.
func ArgoCDFromEnv(env LookupEnv) (ArgoCD, error) {
	get := func(k string) string { v, _ := env(k); return strings.TrimSpace(v) }
	a := ArgoCD{AppName: get("ARGOCD_APP_NAME"), AppNamespace: get("ARGOCD_APP_NAMESPACE"), APIVersions: map[string]bool{}, KubeVersion: get("KUBE_VERSION")}
	for _, v := range strings.Split(get("KUBE_API_VERSIONS"), ",") {
		if v = strings.TrimSpace(v); v != "" {
			a.APIVersions[v] = true
		}
	}
	if raw := get("ARGOCD_APP_PARAMETERS"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &a.Parameters); err != nil {
			return a, &ParameterError{Msg: "ARGOCD_APP_PARAMETERS is not the JSON list Argo CD sends: " + err.Error()}
		}
	}
	return a, nil
}

// ParameterError is an Application parameter loki-cmp cannot apply.
type ParameterError struct{ Msg string }

func (e *ParameterError) Error() string { return e.Msg }

// ParamSpec is a parameter loki-cmp announces to Argo CD and accepts: the
// one table both directions read.
type ParamSpec struct {
	Name, Title, Tooltip string
	Path                 field.Path // the field the parameter sets, and announces the value of
	Map                  bool       // a map[string]string, else a string
}

// Params are the fields users may override per Application without editing
// loki.yaml. The order is the order of Argo CD's parameter form.
var Params = []ParamSpec{
	{Name: "host", Path: field.NewPath("spec", "host"), Title: "Public host", Tooltip: "DNS name Traefik serves Loki on"},
	{Name: "retention", Path: field.NewPath("spec", "loki", "retention"), Title: "Retention", Tooltip: "How long logs are kept: 744h, 31d, 4w, or 0s for ever"},
	{Name: "storage-size", Path: field.NewPath("spec", "storage", "size"), Title: "Storage size", Tooltip: "Size of a NEW volume; an existing PVC is resized on the PVC itself"},
	{Name: "storage-class", Path: field.NewPath("spec", "storage", "storageClassName"), Title: "Storage class", Tooltip: "StorageClass of a new volume"},
	{Name: "loki-image", Path: field.NewPath("spec", "loki", "image"), Title: "Loki image", Tooltip: "Loki container image"},
	{Name: "cluster-issuer", Path: field.NewPath("spec", "tls", "clusterIssuer"), Title: "ClusterIssuer", Tooltip: "cert-manager ClusterIssuer of the certificate"},
	{Name: "bcrypt-cost", Path: field.NewPath("spec", "auth", "bcryptCost"), Title: "bcrypt cost", Tooltip: "4-14; Traefik pays it on every request"},
	{Name: "collector-enabled", Path: field.NewPath("spec", "collector", "enabled"), Title: "Collector", Tooltip: "true or false: deploy the log collector DaemonSet"},
	{Name: "service-monitor-enabled", Path: field.NewPath("spec", "monitoring", "serviceMonitor", "enabled"), Title: "ServiceMonitor", Tooltip: "true or false"},
	{Name: "grafana-datasource-enabled", Path: field.NewPath("spec", "monitoring", "grafanaDatasource", "enabled"), Title: "Grafana datasource", Tooltip: "true or false"},
	{Name: "common-labels", Path: field.NewPath("spec", "commonLabels"), Title: "Common labels", Tooltip: "Labels added to every object (replace loki.yaml's)", Map: true},
	{Name: "common-annotations", Path: field.NewPath("spec", "commonAnnotations"), Title: "Common annotations", Tooltip: "Annotations added to every object (replace loki.yaml's)", Map: true},
}

func paramSpec(name string) (ParamSpec, bool) {
	for _, p := range Params {
		if p.Name == name {
			return p, true
		}
	}
	return ParamSpec{}, false
}

// Overrides turns the Application's parameters into config overrides,
// applied after loki.yaml with the same checks. Precedence: loki.yaml, then
// parameters.
func (a ArgoCD) Overrides() ([]config.Override, error) {
	var out []config.Override
	for _, p := range a.Parameters {
		spec, ok := paramSpec(p.Name)
		if !ok {
			return nil, &ParameterError{Msg: fmt.Sprintf("unknown Argo CD parameter %q; loki-cmp accepts: %s", p.Name, paramNames())}
		}
		o := config.Override{Source: fmt.Sprintf("Argo CD parameter %q", p.Name), Path: spec.Path}
		switch {
		case spec.Map && p.Map != nil && p.String == nil && p.Array == nil:
			o.Value = p.Map
		case !spec.Map && p.String != nil && p.Map == nil && p.Array == nil:
			o.Value = *p.String
		case spec.Map:
			return nil, &ParameterError{Msg: fmt.Sprintf("Argo CD parameter %q must be a map", p.Name)}
		default:
			return nil, &ParameterError{Msg: fmt.Sprintf("Argo CD parameter %q must be a string", p.Name)}
		}
		out = append(out, o)
	}
	return out, nil
}

func paramNames() string {
	names := make([]string, len(Params))
	for i, p := range Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// apiNeed is a custom resource API the output needs, and the field that
// asks for it.
type apiNeed struct {
	groupVersion, kind string
	path               field.Path
	hint               string
}

func needs(s *v1alpha1.LokiStack) []apiNeed {
	out := []apiNeed{{"traefik.io/v1alpha1", "Middleware", field.NewPath("spec", "auth"), "install Traefik v3's CRDs (k3s ships them; the old traefik.containo.us group is not supported)"}}
	if s.Spec.TLS.Mode == v1alpha1.TLSModeCertificate || s.Spec.TLS.ACME != nil {
		out = append(out, apiNeed{"cert-manager.io/v1", "Certificate", field.NewPath("spec", "tls"), "install cert-manager"})
	}
	if s.Spec.Monitoring.ServiceMonitor.Enabled {
		out = append(out, apiNeed{"monitoring.coreos.com/v1", "ServiceMonitor", field.NewPath("spec", "monitoring", "serviceMonitor", "enabled"), "install the prometheus-operator CRDs, or set it to false"})
	}
	return out
}

// CheckAPIs reports, at the field that asks for it, each custom resource
// API the cluster does not serve: Argo CD would otherwise fail the sync on
// every retry with "no matches for kind". Outside Argo CD (no
// KUBE_API_VERSIONS) nothing is checked.
func (a ArgoCD) CheckAPIs(doc *config.Document) error {
	if len(a.APIVersions) == 0 {
		return nil
	}
	var problems []config.Problem
	for _, n := range needs(&doc.Stack) {
		if !a.APIVersions[n.groupVersion] && !a.APIVersions[n.groupVersion+"/"+n.kind] {
			problems = append(problems, doc.Problem(n.path, field.NotSupported, fmt.Sprintf("the destination cluster does not serve %s (%s): %s", n.groupVersion, n.kind, n.hint)))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return config.NewError(problems)
}

// MinKube is the oldest Kubernetes loki-cmp's output is for: Pod Security
// admission, which enforces the namespaces' "restricted" level, is GA from
// 1.25. On an older cluster the labels would be ignored without a word and
// the stack would run without that protection.
var MinKube = [2]int{1, 25}

// CheckKubeVersion refuses a destination cluster older than MinKube. A
// version it cannot read (or none, outside Argo CD) is not checked: a new
// format of KUBE_VERSION must not block every sync.
func (a ArgoCD) CheckKubeVersion() error {
	major, minor, ok := kubeMinor(a.KubeVersion)
	if !ok || major > MinKube[0] || major == MinKube[0] && minor >= MinKube[1] {
		return nil
	}
	return &ClusterError{Msg: fmt.Sprintf("the destination cluster runs Kubernetes %s (KUBE_VERSION); loki-cmp's output needs %d.%d or newer (Pod Security admission, which enforces the namespaces' restricted level, is GA from 1.25)",
		a.KubeVersion, MinKube[0], MinKube[1])}
}

// kubeMinor reads "1.31", "v1.31.4" or "1.31.4+k3s1" as (1, 31).
func kubeMinor(v string) (major, minor int, ok bool) {
	v = strings.TrimPrefix(v, "v")
	maj, rest, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	var err1, err2 error
	major, err1 = strconv.Atoi(maj)
	minor, err2 = strconv.Atoi(rest[:end])
	return major, minor, err1 == nil && err2 == nil
}

// ClusterError is a destination cluster loki-cmp's output cannot serve.
type ClusterError struct{ Msg string }

func (e *ClusterError) Error() string { return e.Msg }

// Announcement is one entry of the parameter list Argo CD shows, in the
// format of its static parameters and of `loki-cmp parameters`.
type Announcement struct {
	Name           string            `json:"name"`
	Title          string            `json:"title"`
	Tooltip        string            `json:"tooltip"`
	ItemType       string            `json:"itemType"`
	CollectionType string            `json:"collectionType"`
	String         *string           `json:"string,omitempty"`
	Map            map[string]string `json:"map,omitempty"`
}

// Announce lists the parameters with the values loki.yaml gives them (nil
// doc: no values), each read from the field its Path names.
func Announce(doc *config.Document) []Announcement {
	out := make([]Announcement, 0, len(Params))
	for _, p := range Params {
		a := Announcement{Name: p.Name, Title: p.Title, Tooltip: p.Tooltip, ItemType: "string", CollectionType: "string"}
		if p.Map {
			a.CollectionType = "map"
		}
		if doc != nil {
			switch v := valueAt(reflect.ValueOf(doc.Stack), p.Path); v.Kind() {
			case reflect.Map:
				a.Map, _ = v.Interface().(map[string]string)
			case reflect.String, reflect.Int, reflect.Bool:
				s := fmt.Sprint(v.Interface())
				a.String = &s
			}
		}
		out = append(out, a)
	}
	return out
}

// valueAt follows a path of field names through structs by their json
// names; it returns the invalid Value when the path leads nowhere.
func valueAt(v reflect.Value, p field.Path) reflect.Value {
	names, ok := p.Names()
	if !ok {
		return reflect.Value{}
	}
	for _, name := range names {
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}
		}
		next := reflect.Value{}
		for i := range v.NumField() {
			if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); tag == name {
				next = v.Field(i)
			}
		}
		if !next.IsValid() {
			return next
		}
		v = next
	}
	return v
}
