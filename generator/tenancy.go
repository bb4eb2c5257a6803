package generator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/generator/crd"
)

// Tenancy: Traefik maps each authenticated user to its Loki tenant.
//
// Traefik's BasicAuth can forward only the user's own name (headerField),
// and one Middleware checks one set of users. So the stack gets one router
// per tenant and access (push or query), on an IngressRoute:
//
//   - its rule matches the request's Authorization header against the
//     base64 of "<user>:" for the users of that tenant with that access, so
//     only their requests reach it;
//   - its BasicAuth Middleware's Secret holds only those users, so the
//     credentials are checked against them whatever the rule matched (a
//     second Authorization header that matches the rule does not help: the
//     check reads the first);
//   - its Headers Middleware sets X-Scope-OrgID to the tenant. Traefik
//     writes it with http.Header.Set, which replaces every value the client
//     sent under any spelling Go folds to the same key, in every v3 release
//     (headerField replaces it only from v3.6.12 on).
//
// A catch-all router (priority 1) answers everything else: its BasicAuth
// Middleware knows every user, so bad or no credentials get 401 as
// without tenancy, and good credentials on a path the user may not use get
// 403 from the deny Middleware. Nothing reaches Loki through it.

// The headers the routers read and write.
const (
	tenantHeader        = "X-Scope-OrgID"
	authorizationHeader = "Authorization"
)

// Paths of each access. Push: Loki's push API and OTLP. Query: the rest of
// Loki's API and the ruler's Prometheus-style API, but not the delete API
// (an administrator's) nor the operational endpoints (/flush,
// /ingester/shutdown, rings), which no tenant's user needs.
var (
	pushPaths     = []string{"/loki/api/v1/push", "/otlp/"}
	queryPaths    = []string{"/loki/api/", "/prometheus/api/v1/"}
	notQueryPaths = []string{"/loki/api/v1/push", "/loki/api/v1/delete"}
)

// tenancyPlan is the routes of a stack with tenancy, in a stable order:
// tenants in the order their first user appears in loki.yaml, push before
// query.
type tenancyPlan struct {
	tenants []string
	routes  []tenantRoute
	// overrides is Loki's runtime config, shared by its ConfigMap and pods.
	overrides string
}

// tenantRoute is one router: the users of one tenant with one access.
type tenantRoute struct {
	tenant, access string
	users          []int  // indexes into spec.auth.users
	name           string // of its Secret and BasicAuth Middleware
}

func newTenancyPlan(p *plan) *tenancyPlan {
	if !p.spec.Tenancy.Enabled {
		return nil
	}
	tp := &tenancyPlan{}
	byTenant := map[string][]int{}
	for i, u := range p.spec.Auth.Users {
		id := u.TenantID()
		if _, seen := byTenant[id]; !seen {
			tp.tenants = append(tp.tenants, id)
		}
		byTenant[id] = append(byTenant[id], i)
	}
	for _, id := range tp.tenants {
		for _, access := range v1alpha1.Accesses {
			r := tenantRoute{tenant: id, access: access, name: fmt.Sprintf("%s-%s-%s", p.name, access, tenantSlug(id))}
			for _, i := range byTenant[id] {
				if p.spec.Auth.Users[i].Can(access) {
					r.users = append(r.users, i)
				}
			}
			if len(r.users) > 0 {
				tp.routes = append(tp.routes, r)
			}
		}
	}
	tp.overrides = runtimeConfigYAML(p.spec.Tenancy.Tenants)
	return tp
}

// tenantSlug makes a tenant ID part of an object name: lowercase letters,
// digits and "-". An ID that does not map to itself gets a hash of the
// whole, so that Team_A and team-a stay apart.
func tenantSlug(id string) string {
	clean := strings.Trim(strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, id), "-")
	if clean == id && len(id) <= 60 {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	clean = strings.Trim(clean[:min(len(clean), 50)], "-")
	if clean == "" {
		clean = "tenant"
	}
	return clean + "-" + hex.EncodeToString(sum[:])[:8]
}

// buildTenancy returns, with tenancy on, the IngressRoute (in place of the
// Ingress), each route's Secret and Middlewares, and Loki's runtime
// overrides.
func buildTenancy(p *plan) []Object {
	if p.tenancy == nil {
		return nil
	}
	objs := []Object{p.runtimeConfigMap(), p.denyMiddleware()}
	for _, id := range p.tenancy.tenants {
		objs = append(objs, p.tenantHeaderMiddleware(id))
	}
	for _, r := range p.tenancy.routes {
		var lines []string
		for _, i := range r.users {
			lines = append(lines, p.userLines[i])
		}
		objs = append(objs, p.basicAuthSecret(r.name, lines), p.basicAuthMiddleware(r.name))
	}
	return append(objs, p.ingressRoute())
}

func (p *plan) tenantHeaderName(id string) string { return p.name + "-tenant-" + tenantSlug(id) }
func (p *plan) denyName() string                  { return p.name + "-deny" }

// tenantHeaderMiddleware sets the tenant header, replacing whatever the
// client sent.
func (p *plan) tenantHeaderMiddleware(id string) Object {
	return p.middleware(p.tenantHeaderName(id), crd.MiddlewareSpec{Headers: &crd.Headers{
		CustomRequestHeaders: map[string]string{tenantHeader: id},
	}})
}

// denyMiddleware refuses every request with 403: its only allowed source
// is 0.0.0.0, which is never a client's address.
func (p *plan) denyMiddleware() Object {
	return p.middleware(p.denyName(), crd.MiddlewareSpec{IPAllowList: &crd.IPAllowList{SourceRange: []string{"0.0.0.0/32"}}})
}

func (p *plan) middleware(name string, spec crd.MiddlewareSpec) Object {
	m := p.meta(name, p.ns, "loki", componentGateway, waveMiddleware)
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	return &crd.Middleware{TypeMeta: typeMeta(crd.TraefikAPIVersion, "Middleware"), ObjectMeta: m, Spec: spec}
}

// ingressRoute is the tenants' routers and the catch-all, HTTPS only.
func (p *plan) ingressRoute() Object {
	m := p.meta(p.n.ingress, p.ns, "loki", componentGateway, waveIngress)
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	host := fmt.Sprintf("Host(`%s`)", p.spec.Host)
	var routes []crd.Route
	for _, r := range p.tenancy.routes {
		paths, service := anyPrefix(pushPaths), p.writeService
		if r.access == v1alpha1.AccessQuery {
			paths, service = anyPrefix(queryPaths)+" && "+noPrefix(notQueryPaths), p.readService
		}
		names := make([]string, len(r.users))
		for i, u := range r.users {
			names[i] = p.spec.Auth.Users[u].Name
		}
		routes = append(routes, crd.Route{
			Kind:        "Rule",
			Match:       fmt.Sprintf("%s && %s && HeaderRegexp(`%s`, `%s`)", host, paths, authorizationHeader, basicAuthUsersRegexp(names)),
			Middlewares: []crd.MiddlewareRef{{Name: r.name}, {Name: p.tenantHeaderName(r.tenant)}},
			Services:    []crd.RouteService{{Name: service, Port: lokiHTTPPortName}},
		})
	}
	routes = append(routes, crd.Route{
		Kind:        "Rule",
		Match:       host,
		Priority:    1,
		Middlewares: []crd.MiddlewareRef{{Name: p.n.basicAuth}, {Name: p.denyName()}},
		Services:    []crd.RouteService{{Name: p.readService, Port: lokiHTTPPortName}},
	})
	return &crd.IngressRoute{
		TypeMeta:   typeMeta(crd.TraefikAPIVersion, "IngressRoute"),
		ObjectMeta: m,
		Spec: crd.IngressRouteSpec{
			EntryPoints: []string{"websecure"},
			Routes:      routes,
			TLS:         &crd.RouteTLS{SecretName: p.spec.TLS.SecretName},
		},
	}
}

func anyPrefix(paths []string) string {
	parts := make([]string, len(paths))
	for i, path := range paths {
		parts[i] = fmt.Sprintf("PathPrefix(`%s`)", path)
	}
	return "(" + strings.Join(parts, " || ") + ")"
}

func noPrefix(paths []string) string {
	parts := make([]string, len(paths))
	for i, path := range paths {
		parts[i] = fmt.Sprintf("!PathPrefix(`%s`)", path)
	}
	return strings.Join(parts, " && ")
}

// basicAuthUsersRegexp matches an Authorization header whose Basic
// credentials start with "<name>:" for one of names. Go reads the scheme
// case-insensitively and then exactly one space and standard base64
// (net/http's parseBasicAuth), and base64 is case-sensitive, so only the
// scheme is folded. The last, partial base64 group of "<name>:" also
// carries bits of the password: it becomes the class of every character
// with the known bits.
func basicAuthUsersRegexp(names []string) string {
	alts := make([]string, len(names))
	for i, n := range names {
		alts[i] = base64PrefixRegexp([]byte(n + ":"))
	}
	return "^[Bb][Aa][Ss][Ii][Cc] (?:" + strings.Join(alts, "|") + ")"
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64PrefixRegexp matches the standard base64 of every byte string that
// starts with prefix.
func base64PrefixRegexp(prefix []byte) string {
	full := len(prefix) / 3 * 3
	re := regexp.QuoteMeta(base64.StdEncoding.EncodeToString(prefix[:full]))
	rest := prefix[full:]
	char := func(i int) string { return regexp.QuoteMeta(base64Alphabet[i : i+1]) }
	class := func(from, n int) string { return "[" + regexp.QuoteMeta(base64Alphabet[from:from+n]) + "]" }
	switch len(rest) {
	case 1: // 6 known bits, then 2 known and 4 of the password's
		b := int(rest[0])
		re += char(b>>2) + class((b&3)<<4, 16)
	case 2: // 6, 6, then 4 known and 2 of the password's
		b1, b2 := int(rest[0]), int(rest[1])
		re += char(b1>>2) + char((b1&3)<<4|b2>>4) + class((b2&15)<<2, 4)
	}
	return re
}

// The runtime overrides: a file of their own, so that a changed limit is
// reloaded by Loki (every runtimeConfigPeriod) instead of rolling its pods.
const (
	lokiRuntimeDir      = "/etc/loki/runtime"
	lokiRuntimeFile     = "runtime.yaml"
	runtimeConfigPeriod = "10s"
)

// lokiOverrides are one tenant's limits in Loki's runtime config.
type lokiOverrides struct {
	RetentionPeriod         string `json:"retention_period,omitempty"`
	IngestionRateMB         int    `json:"ingestion_rate_mb,omitempty"`
	IngestionBurstSizeMB    int    `json:"ingestion_burst_size_mb,omitempty"`
	MaxGlobalStreamsPerUser int    `json:"max_global_streams_per_user,omitempty"`
}

type lokiRuntimeConfig struct {
	Overrides map[string]lokiOverrides `json:"overrides"`
}

func runtimeConfigYAML(tenants []v1alpha1.Tenant) string {
	c := lokiRuntimeConfig{Overrides: map[string]lokiOverrides{}}
	for _, t := range tenants {
		o := lokiOverrides{
			RetentionPeriod:         t.Retention,
			IngestionRateMB:         t.Limits.IngestionRateMB,
			IngestionBurstSizeMB:    t.Limits.IngestionBurstSizeMB,
			MaxGlobalStreamsPerUser: t.Limits.MaxGlobalStreams,
		}
		if o != (lokiOverrides{}) {
			c.Overrides[t.ID] = o
		}
	}
	return mustYAML(c)
}

func (p *plan) runtimeConfigMap() Object {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: p.lokiMeta(p.n.runtime, ""),
		Data:       map[string]string{lokiRuntimeFile: p.tenancy.overrides},
	}
}

// tenantRetention reports whether any tenant keeps its logs for a limited
// time: the compactor's retention must then be on.
func (p *plan) tenantRetention() bool {
	for _, t := range p.spec.Tenancy.Tenants {
		if t.Retention != "" && !isZeroDuration(t.Retention) {
			return true
		}
	}
	return false
}
