// Package crd holds small typed structs for the custom resources loki-cmp
// emits: only the fields it sets, with the exact apiVersion and kind the
// installed CRDs serve. Importing the projects' own Go types would pull in
// their controllers' dependency trees for four structs.
package crd

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// API versions of the emitted custom resources.
const (
	// Traefik v3 serves only traefik.io; traefik.containo.us was removed.
	TraefikAPIVersion     = "traefik.io/v1alpha1"
	CertManagerAPIVersion = "cert-manager.io/v1"
	MonitoringAPIVersion  = "monitoring.coreos.com/v1"
	// External Secrets Operator serves v1 from v0.16.0 on (v1beta1 before).
	ExternalSecretsAPIVersion = "external-secrets.io/v1"
	VaultSecretsAPIVersion    = "secrets.hashicorp.com/v1beta1"
)

// Middleware is a Traefik Middleware: basicAuth, and with tenancy headers
// and ipAllowList.
type Middleware struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              MiddlewareSpec `json:"spec"`
}

// MiddlewareSpec holds the middleware's configuration.
type MiddlewareSpec struct {
	BasicAuth   *BasicAuth   `json:"basicAuth,omitempty"`
	Headers     *Headers     `json:"headers,omitempty"`
	IPAllowList *IPAllowList `json:"ipAllowList,omitempty"`
}

// Headers sets request headers; Traefik replaces any value the client sent.
type Headers struct {
	CustomRequestHeaders map[string]string `json:"customRequestHeaders"`
}

// IPAllowList lets only the listed source addresses through (403 else).
type IPAllowList struct {
	SourceRange []string `json:"sourceRange"`
}

// IngressRoute is Traefik's own route object: rules on any request
// attribute, headers among them, which an Ingress cannot express.
type IngressRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              IngressRouteSpec `json:"spec"`
}

// IngressRouteSpec lists the routers of one IngressRoute.
type IngressRouteSpec struct {
	EntryPoints []string  `json:"entryPoints"`
	Routes      []Route   `json:"routes"`
	TLS         *RouteTLS `json:"tls,omitempty"`
}

// Route is one router: a rule, its middlewares and its service.
type Route struct {
	Kind        string          `json:"kind"`
	Match       string          `json:"match"`
	Priority    int             `json:"priority,omitempty"`
	Middlewares []MiddlewareRef `json:"middlewares"`
	Services    []RouteService  `json:"services"`
}

// MiddlewareRef names a Middleware in the IngressRoute's namespace.
type MiddlewareRef struct {
	Name string `json:"name"`
}

// RouteService is a Kubernetes Service and its named port.
type RouteService struct {
	Name string `json:"name"`
	Port string `json:"port"`
}

// RouteTLS serves the route on HTTPS with the certificate in SecretName.
type RouteTLS struct {
	SecretName string `json:"secretName"`
}

// BasicAuth checks credentials against the htpasswd lines in a Secret.
type BasicAuth struct {
	// Secret is the name of a Secret in the Middleware's namespace.
	Secret string `json:"secret"`
	Realm  string `json:"realm,omitempty"`
	// RemoveHeader stops the Authorization header from reaching the backend.
	RemoveHeader bool `json:"removeHeader"`
}

// Certificate is a cert-manager Certificate.
type Certificate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              CertificateSpec `json:"spec"`
}

// CertificateSpec is the subset of cert-manager's CertificateSpec we set.
type CertificateSpec struct {
	SecretName string    `json:"secretName"`
	DNSNames   []string  `json:"dnsNames"`
	IssuerRef  IssuerRef `json:"issuerRef"`
}

// IssuerRef names the issuer of a Certificate.
type IssuerRef struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Group string `json:"group"`
}

// ClusterIssuer is a cert-manager ClusterIssuer (cluster-scoped).
type ClusterIssuer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              IssuerSpec `json:"spec"`
}

// IssuerSpec configures an ACME issuer.
type IssuerSpec struct {
	ACME ACMEIssuer `json:"acme"`
}

// ACMEIssuer is an ACME account and how it solves challenges.
type ACMEIssuer struct {
	Server              string          `json:"server"`
	Email               string          `json:"email"`
	PrivateKeySecretRef SecretKeyRef    `json:"privateKeySecretRef"`
	Solvers             []ACMEChallenge `json:"solvers"`
}

// SecretKeyRef names a Secret.
type SecretKeyRef struct {
	Name string `json:"name"`
}

// ACMEChallenge is one solver; loki-cmp uses HTTP-01 through an Ingress.
type ACMEChallenge struct {
	HTTP01 *HTTP01 `json:"http01"`
}

// HTTP01 solves challenges with a temporary Ingress.
type HTTP01 struct {
	Ingress HTTP01Ingress `json:"ingress"`
}

// HTTP01Ingress names the ingress class of the solver's Ingress.
type HTTP01Ingress struct {
	IngressClassName string `json:"ingressClassName"`
}

// ServiceMonitor is a prometheus-operator ServiceMonitor.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

// ServiceMonitorSpec selects Services and says how to scrape them.
type ServiceMonitorSpec struct {
	Selector          metav1.LabelSelector `json:"selector"`
	NamespaceSelector NamespaceSelector    `json:"namespaceSelector"`
	Endpoints         []Endpoint           `json:"endpoints"`
}

// NamespaceSelector restricts the namespaces searched for Services.
type NamespaceSelector struct {
	MatchNames []string `json:"matchNames"`
}

// Endpoint is one scraped port.
type Endpoint struct {
	Port     string `json:"port"`
	Path     string `json:"path"`
	Interval string `json:"interval,omitempty"`
}

// ExternalSecret (External Secrets Operator) copies remote secrets into a
// Secret it owns.
type ExternalSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ExternalSecretSpec `json:"spec"`
}

// ExternalSecretSpec is what to read, from which store, into which Secret.
type ExternalSecretSpec struct {
	RefreshInterval string               `json:"refreshInterval"`
	SecretStoreRef  SecretStoreRef       `json:"secretStoreRef"`
	Target          ExternalSecretTarget `json:"target"`
	Data            []ExternalSecretData `json:"data"`
}

// SecretStoreRef names a SecretStore or ClusterSecretStore.
type SecretStoreRef struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// ExternalSecretTarget is the Secret the operator writes.
type ExternalSecretTarget struct {
	Name           string `json:"name"`
	CreationPolicy string `json:"creationPolicy"`
	DeletionPolicy string `json:"deletionPolicy"`
}

// ExternalSecretData is one key of the target, read from one remote property.
type ExternalSecretData struct {
	SecretKey string    `json:"secretKey"`
	RemoteRef RemoteRef `json:"remoteRef"`
}

// RemoteRef is a property of a version of a remote secret.
type RemoteRef struct {
	Key      string `json:"key"`
	Property string `json:"property"`
	Version  string `json:"version,omitempty"`
}

// VaultStaticSecret (Vault Secrets Operator) copies a Vault KV secret into
// a Secret and restarts the workloads that read it when it changes.
type VaultStaticSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              VaultStaticSecretSpec `json:"spec"`
}

// VaultStaticSecretSpec is the KV secret, the Secret and who to restart.
type VaultStaticSecretSpec struct {
	VaultAuthRef          string                 `json:"vaultAuthRef,omitempty"`
	Mount                 string                 `json:"mount"`
	Path                  string                 `json:"path"`
	Type                  string                 `json:"type"`
	Version               int                    `json:"version,omitempty"`
	RefreshAfter          string                 `json:"refreshAfter"`
	HMACSecretData        bool                   `json:"hmacSecretData"`
	Destination           VaultDestination       `json:"destination"`
	RolloutRestartTargets []RolloutRestartTarget `json:"rolloutRestartTargets"`
}

// VaultDestination is the Secret the operator writes.
type VaultDestination struct {
	Name   string `json:"name"`
	Create bool   `json:"create"`
}

// RolloutRestartTarget is a workload the operator restarts when the
// Secret's data changed.
type RolloutRestartTarget struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}
