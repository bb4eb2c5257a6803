package generator

import (
	"encoding/base64"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/generator/crd"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// TestBasicAuthUsersRegexp: the router rule's pattern matches exactly the
// Authorization headers whose credentials start with "<user>:", for every
// length of name (each remainder of a base64 group) and password.
func TestBasicAuthUsersRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randomBytes := func(n int, colon bool) string {
		b := make([]byte, n)
		for i := range b {
			for b[i] = byte(rng.IntN(256)); !colon && b[i] == ':'; b[i] = byte(rng.IntN(256)) {
			}
		}
		return string(b)
	}
	names := []string{"a", "al", "ali", "alic", "alice", "a-writer", "b-reader", "ci.bot_01", "alice@example.org", "ü", "+/+/"}
	for range 200 {
		names = append(names, randomBytes(1+rng.IntN(20), false))
	}
	header := func(scheme, user, pw string) string {
		return scheme + " " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}
	for i, name := range names {
		re := regexp.MustCompile(basicAuthUsersRegexp([]string{name}))
		for _, pw := range []string{"", "x", "xy", "xyz", randomBytes(1+rng.IntN(30), true)} {
			for _, scheme := range []string{"Basic", "basic", "BASIC", "bAsIc"} {
				if h := header(scheme, name, pw); !re.MatchString(h) {
					t.Errorf("user %q: %q does not match %s", name, h, re)
				}
			}
			other := names[(i+1)%len(names)]
			if h := header("Basic", other, pw); re.MatchString(h) {
				t.Errorf("user %q's pattern matches user %q's header %q", name, other, h)
			}
			if h := header("Basic", name+"x", pw); re.MatchString(h) {
				t.Errorf("user %q's pattern matches user %q", name, name+"x")
			}
			if h := header("Bearer", name, pw); re.MatchString(h) {
				t.Errorf("user %q's pattern matches scheme Bearer", name)
			}
			if h := "Basic  " + base64.StdEncoding.EncodeToString([]byte(name+":"+pw)); re.MatchString(h) {
				t.Errorf("user %q's pattern matches two spaces, which Go does not accept", name)
			}
		}
	}
	two := regexp.MustCompile(basicAuthUsersRegexp([]string{"al", "alice"}))
	for _, u := range []string{"al", "alice"} {
		if !two.MatchString(header("Basic", u, "pw")) {
			t.Errorf("pattern of two users misses %q", u)
		}
	}
	if two.MatchString(header("Basic", "ali", "pw")) {
		t.Error("pattern of al and alice matches ali")
	}
}

const tenancyStack = `  tenancy: {enabled: true, confirm: new-install, tenants: [{id: team-a, retention: 14d}]}
  collector: {tenant: platform}
  monitoring: {grafanaDatasource: {tenants: [team-a, "team-a|admin"]}}
`

func tenancyInput(t *testing.T, users string) Input {
	t.Helper()
	file := "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\nspec:\n  host: loki.example.org\n" +
		"  auth: {bcryptCost: 4, users: [" + users + "]}\n" + tenancyStack
	doc, err := config.Load([]byte(file), config.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	in := Input{Stack: doc.Stack, Credentials: map[string]Credential{}}
	for _, u := range in.Stack.Spec.Auth.Users {
		in.Credentials[u.Name] = Credential{Password: secret.New([]byte("pw-" + u.Name))}
	}
	return in
}

// TestTenancyRoutes: one router per tenant and access, each behind a
// Secret of exactly its users and the tenant's header; the catch-all last.
func TestTenancyRoutes(t *testing.T) {
	in := tenancyInput(t, "{name: admin, password: {fromEnv: A}}, {name: w, tenant: team-a, access: [push], password: {fromEnv: W}}, {name: r, tenant: team-a, access: [query], password: {fromEnv: R}}, {name: rw, tenant: team-a, password: {fromEnv: RW}}")
	objs := generate(t, in)
	if len(find[*networkingv1.Ingress](objs)) != 0 {
		t.Error("an Ingress beside the IngressRoute")
	}
	routes := find[*crd.IngressRoute](objs)
	if len(routes) != 1 {
		t.Fatalf("%d IngressRoutes", len(routes))
	}
	secrets := map[string]string{}
	for _, s := range find[*corev1.Secret](objs) {
		var names []string
		for _, line := range strings.Split(strings.TrimSpace(string(s.Data["users"])), "\n") {
			names = append(names, strings.SplitN(line, ":", 2)[0])
		}
		secrets[s.Name] = strings.Join(names, ",")
	}
	want := map[string]string{
		"loki-basic-auth": "admin,w,r,rw", "loki-push-admin": "admin", "loki-query-admin": "admin",
		"loki-push-team-a": "w,rw", "loki-query-team-a": "r,rw",
	}
	for name, users := range want {
		if secrets[name] != users {
			t.Errorf("Secret %s holds %q, want %q", name, secrets[name], users)
		}
	}
	headers := map[string]string{}
	for _, m := range find[*crd.Middleware](objs) {
		if h := m.Spec.Headers; h != nil {
			headers[m.Name] = h.CustomRequestHeaders["X-Scope-OrgID"]
		}
	}
	r := routes[0].Spec.Routes
	if len(r) != 5 {
		t.Fatalf("%d routes, want 4 and the catch-all", len(r))
	}
	for _, route := range r[:4] {
		auth, tenant := route.Middlewares[0].Name, route.Middlewares[1].Name
		if headers[tenant] == "" || !strings.HasSuffix(auth, "-"+headers[tenant]) {
			t.Errorf("route %s: checks %s, sets tenant %q", route.Match, auth, headers[tenant])
		}
		push := strings.Contains(auth, "-push-")
		if push != strings.Contains(route.Match, "PathPrefix(`/otlp/`)") || push == strings.Contains(route.Match, "!PathPrefix(`/loki/api/v1/push`)") {
			t.Errorf("route %s (%s): wrong paths", auth, route.Match)
		}
	}
	last := r[4]
	if last.Priority != 1 || last.Match != "Host(`loki.example.org`)" || !slices.Equal([]crd.MiddlewareRef{{Name: "loki-basic-auth"}, {Name: "loki-deny"}}, last.Middlewares) {
		t.Errorf("catch-all: %+v", last)
	}
	if routes[0].Spec.TLS == nil || routes[0].Spec.TLS.SecretName != "loki-tls" || !slices.Equal(routes[0].Spec.EntryPoints, []string{"websecure"}) {
		t.Errorf("IngressRoute not HTTPS only: %+v", routes[0].Spec)
	}
}

// TestTenancyLokiConfig: auth on, the overrides in their own ConfigMap
// (mounted as a directory, outside the checksum), the collector's tenant
// and Grafana's headers.
func TestTenancyLokiConfig(t *testing.T) {
	in := tenancyInput(t, "{name: admin, password: {fromEnv: A}}")
	p, err := newPlan(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"auth_enabled: true", "multi_tenant_queries_enabled: true", "file: /etc/loki/runtime/runtime.yaml"} {
		if !strings.Contains(p.lokiConfig, want) {
			t.Errorf("Loki config lacks %q:\n%s", want, p.lokiConfig)
		}
	}
	if want := "overrides:\n  team-a:\n    retention_period: 14d\n"; p.tenancy.overrides != want {
		t.Errorf("overrides:\n%s\nwant:\n%s", p.tenancy.overrides, want)
	}
	if !strings.Contains(p.collector.config, `tenant_id = "platform"`) {
		t.Errorf("Alloy config without the tenant:\n%s", p.collector.config)
	}
	// A changed override must not roll Loki: Loki reloads it.
	in2 := in
	in2.Stack.Spec.Tenancy.Tenants = nil
	p2, _ := newPlan(in2)
	if p2.lokiChecksum != p.lokiChecksum || p2.tenancy.overrides == p.tenancy.overrides {
		t.Error("the overrides are inside the config checksum")
	}
	objs := generate(t, in)
	var ds string
	for _, cm := range find[*corev1.ConfigMap](objs) {
		ds += cm.Data["loki-datasource.yaml"]
	}
	for _, want := range []string{"httpHeaderName1: X-Scope-OrgID", "httpHeaderValue1: team-a\n", `httpHeaderValue1: "team-a|admin"`, `name: "Loki (team-a|admin)"`} {
		if !strings.Contains(ds, want) {
			t.Errorf("datasources lack %q:\n%s", want, ds)
		}
	}
}

func TestTenantSlug(t *testing.T) {
	for id, want := range map[string]string{"team-a": "team-a", "fake": "fake"} {
		if got := tenantSlug(id); got != want {
			t.Errorf("tenantSlug(%q) = %q, want %q", id, got, want)
		}
	}
	a, b := tenantSlug("Team_A"), tenantSlug("team-a")
	if a == b || !regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`).MatchString(a) {
		t.Errorf("Team_A → %q, team-a → %q", a, b)
	}
	if s := tenantSlug("()*!"); !strings.HasPrefix(s, "tenant-") {
		t.Errorf("()*! → %q", s)
	}
	if s := tenantSlug(strings.Repeat("x", 150)); len(s) > 60 {
		t.Errorf("long ID → %d characters", len(s))
	}
}
