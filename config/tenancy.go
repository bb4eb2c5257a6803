package config

import (
	"strings"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
)

// MaxTenantIDLength is Loki's bound on a tenant ID (dskit tenant.MaxTenantIDLength).
const MaxTenantIDLength = 150

// CheckTenantID returns why id is not a tenant ID Loki accepts, or "".
// The rule is dskit's tenant.ValidTenantID: letters, digits and
// !-_.*'(), at most 150 bytes, and not "." or ".." (unsafe as a path).
// "|" is not allowed: it joins tenants in a query across tenants.
func CheckTenantID(id string) string {
	switch {
	case id == "":
		return "required"
	case len(id) > MaxTenantIDLength:
		return "must be at most 150 characters"
	case id == "." || id == "..":
		return `must not be "." or ".."`
	}
	for _, r := range id {
		if !tenantChar(r) {
			return "may hold only letters, digits and !-_.*'() (Loki's rule for tenant IDs)"
		}
	}
	return ""
}

func tenantChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!-_.*'()", r)
}

// tenancy checks spec.tenancy and every tenancy field elsewhere: with
// tenancy off they must be empty (they would do nothing), with it on they
// must say who writes and reads which tenant.
func (v *validator) tenancy(s *v1alpha1.Spec) {
	tp := specPath.Child("tenancy")
	users := specPath.Child("auth").Child("users")
	t := s.Tenancy
	if !t.Enabled {
		v.tenancyOff(s, tp, users)
		return
	}
	v.confirm(tp.Child("confirm"), t.Confirm, v1alpha1.ConfirmMigratedFromSingleTenant,
		"required with tenancy: %s for a stack without data, or %s for a stack with data (logs written before stay under tenant fake: see docs/upgrades.md)")
	if s.TLS.Mode == v1alpha1.TLSModeAnnotation {
		v.forbid(specPath.Child("tls").Child("mode"), "annotation cannot be used with tenancy: the tenants' routes are a Traefik IngressRoute, which cert-manager's Ingress annotation does not cover; use certificate")
	}
	for i, u := range s.Auth.Users {
		p := users.Index(i)
		if u.Tenant != "" {
			v.tenantID(p.Child("tenant"), u.Tenant)
		} else if msg := CheckTenantID(u.Name); msg != "" && u.Name != "" {
			v.invalid(p.Child("name"), "user %q is not a valid tenant ID (%s): set tenant", u.Name, msg)
		}
		v.access(p.Child("access"), u.Access)
	}
	seen := map[string]int{}
	for i, tn := range t.Tenants {
		p := tp.Child("tenants").Index(i)
		v.tenantID(p.Child("id"), tn.ID)
		if j, dup := seen[tn.ID]; dup && tn.ID != "" {
			v.add(p.Child("id"), field.Duplicate, "duplicate tenant %q (also tenants[%d])", tn.ID, j)
		}
		seen[tn.ID] = i
		if tn.Retention != "" {
			v.retention(p.Child("retention"), tn.Retention)
		}
		l := p.Child("limits")
		for _, f := range []struct {
			name string
			n    int
		}{{"ingestionRateMB", tn.Limits.IngestionRateMB}, {"ingestionBurstSizeMB", tn.Limits.IngestionBurstSizeMB}, {"maxGlobalStreams", tn.Limits.MaxGlobalStreams}} {
			if f.n < 0 {
				v.invalid(l.Child(f.name), "must not be negative (0: Loki's default)")
			}
		}
	}
	v.unusedTenants(s, tp)
	if c := s.Collector; c.Enabled {
		cp := specPath.Child("collector")
		switch {
		case c.Tenant != "" && c.TenantFromNamespace:
			v.forbid(cp.Child("tenantFromNamespace"), "set either tenant or tenantFromNamespace, not both")
		case c.Tenant != "":
			v.tenantID(cp.Child("tenant"), c.Tenant)
		case !c.TenantFromNamespace:
			v.require(cp.Child("tenant"), "required with tenancy: the tenant of the collected logs (e.g. platform), or tenantFromNamespace: true for one tenant per namespace")
		}
	}
	if g := s.Monitoring.GrafanaDatasource; g.Enabled {
		gp := specPath.Child("monitoring").Child("grafanaDatasource").Child("tenants")
		if len(g.Tenants) == 0 {
			v.require(gp, "required with tenancy: the tenant(s) Grafana queries, e.g. [team-a] or [team-a|team-b]")
		}
		seen := map[string]int{}
		for i, q := range g.Tenants {
			for _, id := range strings.Split(q, "|") {
				v.tenantID(gp.Index(i), id)
			}
			if j, dup := seen[q]; dup {
				v.add(gp.Index(i), field.Duplicate, "duplicate %q (also tenants[%d])", q, j)
			}
			seen[q] = i
		}
	}
}

// unusedTenants warns about overrides for a tenant no user, collector or
// datasource names: most likely a typo, whose limits would never apply.
// With tenantFromNamespace any namespace may be a tenant, so it cannot tell.
func (v *validator) unusedTenants(s *v1alpha1.Spec, tp field.Path) {
	if s.Collector.Enabled && s.Collector.TenantFromNamespace {
		return
	}
	used := map[string]bool{s.Collector.Tenant: s.Collector.Enabled}
	for _, u := range s.Auth.Users {
		used[u.TenantID()] = true
	}
	for _, q := range s.Monitoring.GrafanaDatasource.Tenants {
		for _, id := range strings.Split(q, "|") {
			used[id] = true
		}
	}
	for i, tn := range s.Tenancy.Tenants {
		if tn.ID != "" && !used[tn.ID] {
			v.warn(tp.Child("tenants").Index(i).Child("id"), field.Invalid, "tenant %q has overrides, but no user, collector or Grafana datasource uses it: a typo? (its limits apply only if something writes to it)", tn.ID)
		}
	}
}

// tenancyOff refuses the tenancy fields that would do nothing.
func (v *validator) tenancyOff(s *v1alpha1.Spec, tp, users field.Path) {
	const why = "is only used with spec.tenancy.enabled"
	if s.Tenancy.Confirm != "" {
		v.forbid(tp.Child("confirm"), "is set, but tenancy is off: switching tenancy off puts every tenant's logs out of reach (Loki reads only tenant fake then); remove confirm only after reading docs/upgrades.md")
	}
	if len(s.Tenancy.Tenants) > 0 {
		v.forbid(tp.Child("tenants"), why)
	}
	for i, u := range s.Auth.Users {
		if u.Tenant != "" {
			v.forbid(users.Index(i).Child("tenant"), why)
		}
		if len(u.Access) > 0 {
			v.forbid(users.Index(i).Child("access"), "%s (per-user routes are part of tenancy)", why)
		}
	}
	if c := s.Collector; c.Tenant != "" || c.TenantFromNamespace {
		name := "tenant"
		if c.TenantFromNamespace {
			name = "tenantFromNamespace"
		}
		v.forbid(specPath.Child("collector").Child(name), why)
	}
	if len(s.Monitoring.GrafanaDatasource.Tenants) > 0 {
		v.forbid(specPath.Child("monitoring").Child("grafanaDatasource").Child("tenants"), why)
	}
}

func (v *validator) tenantID(path field.Path, id string) {
	switch msg := CheckTenantID(id); {
	case msg == "required":
		v.require(path, "required: a tenant ID")
	case msg != "":
		v.invalid(path, "invalid value %q: %s", id, msg)
	}
}

func (v *validator) access(path field.Path, access []string) {
	if access != nil && len(access) == 0 {
		v.invalid(path, "must not be empty: leave it out for both, or list %s", oneOf(v1alpha1.Accesses))
	}
	seen := map[string]bool{}
	for i, a := range access {
		switch {
		case !contains(v1alpha1.Accesses, a):
			v.notSupported(path.Index(i), "must be %s", oneOf(v1alpha1.Accesses))
		case seen[a]:
			v.add(path.Index(i), field.Duplicate, "duplicate %q", a)
		}
		seen[a] = true
	}
}
