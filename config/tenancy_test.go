package config

import (
	"strings"
	"testing"
)

// tenantsOn is a valid file with tenancy: what each case below changes.
const tenantsOn = `spec:
  host: loki.example.org
  tenancy: {enabled: true, confirm: new-install}
  auth:
    users:
    - {name: admin, password: {fromEnv: PW}}
  collector: {tenant: platform}
  monitoring: {grafanaDatasource: {tenants: [admin]}}
`

// withTenancy is tenantsOn with another spec.tenancy.
func withTenancy(tenancy string) string {
	return strings.Replace(tenantsOn, "  tenancy: {enabled: true, confirm: new-install}\n", "  tenancy: "+tenancy+"\n", 1)
}

func TestTenancyValid(t *testing.T) {
	for name, in := range map[string]string{
		"tenancy on":       tenantsOn,
		"shared tenant":    strings.Replace(tenantsOn, "{name: admin,", "{name: admin, tenant: \"Team_A.(x)*!'-\", access: [query],", 1),
		"per namespace":    strings.Replace(tenantsOn, "{tenant: platform}", "{tenantFromNamespace: true}", 1),
		"across tenants":   strings.Replace(tenantsOn, "[admin]", "[admin, \"admin|fake\"]", 1),
		"overrides":        withTenancy("{enabled: true, confirm: migrated-from-single-tenant, tenants: [{id: admin, retention: 14d, limits: {ingestionRateMB: 4}}]}") + "  loki: {retention: 0s}\n",
		"tenancy off file": minimal,
	} {
		if _, err := Load([]byte(header+in), Options{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTenancyMistakes: each mistake is refused with its position and fix.
func TestTenancyMistakes(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no confirm", strings.Replace(tenantsOn, ", confirm: new-install", "", 1),
			"spec.tenancy.confirm: required with tenancy: new-install for a stack without data, or migrated-from-single-tenant"},
		{"wrong confirm", strings.Replace(tenantsOn, "new-install", "yes", 1), `spec.tenancy.confirm: must be "new-install" or "migrated-from-single-tenant"`},
		{"annotation TLS", tenantsOn + "  tls: {mode: annotation}\n", "spec.tls.mode: annotation cannot be used with tenancy"},
		{"user name not a tenant", strings.Replace(tenantsOn, "name: admin", "name: alice@example.org", 1),
			`spec.auth.users[0].name: user "alice@example.org" is not a valid tenant ID (may hold only letters, digits and !-_.*'() (Loki's rule for tenant IDs)): set tenant`},
		{"tenant with a bar", strings.Replace(tenantsOn, "{name: admin,", "{name: admin, tenant: a|b,", 1), `spec.auth.users[0].tenant: invalid value "a|b"`},
		{"tenant too long", strings.Replace(tenantsOn, "{name: admin,", "{name: admin, tenant: "+strings.Repeat("x", 151)+",", 1), "must be at most 150 characters"},
		{"tenant dot-dot", strings.Replace(tenantsOn, "{name: admin,", "{name: admin, tenant: \"..\",", 1), `must not be "." or ".."`},
		{"unknown access", strings.Replace(tenantsOn, "{name: admin,", "{name: admin, access: [write],", 1), `spec.auth.users[0].access[0]: must be "push" or "query"`},
		{"empty access", strings.Replace(tenantsOn, "{name: admin,", "{name: admin, access: [],", 1), "spec.auth.users[0].access: must not be empty"},
		{"duplicate access", strings.Replace(tenantsOn, "{name: admin,", "{name: admin, access: [push, push],", 1), `spec.auth.users[0].access[1]: duplicate "push"`},
		{"no collector tenant", strings.Replace(tenantsOn, "  collector: {tenant: platform}\n", "", 1), "spec.collector.tenant: required with tenancy"},
		{"both collector tenants", strings.Replace(tenantsOn, "{tenant: platform}", "{tenant: platform, tenantFromNamespace: true}", 1), "spec.collector.tenantFromNamespace: set either tenant or tenantFromNamespace, not both"},
		{"no datasource tenant", strings.Replace(tenantsOn, "  monitoring: {grafanaDatasource: {tenants: [admin]}}\n", "", 1), "spec.monitoring.grafanaDatasource.tenants: required with tenancy"},
		{"bad datasource tenant", strings.Replace(tenantsOn, "[admin]", "[\"admin||x\"]", 1), "spec.monitoring.grafanaDatasource.tenants[0]: required: a tenant ID"},
		{"bad tenant retention", withTenancy("{enabled: true, confirm: new-install, tenants: [{id: admin, retention: 1h}]}"), `spec.tenancy.tenants[0].retention: invalid value "1h": must be 0s (keep forever) or at least 24h`},
		{"duplicate tenant", withTenancy("{enabled: true, confirm: new-install, tenants: [{id: a}, {id: a}]}"), `spec.tenancy.tenants[1].id: duplicate tenant "a" (also tenants[0])`},
		{"negative limit", withTenancy("{enabled: true, confirm: new-install, tenants: [{id: a, limits: {maxGlobalStreams: -1}}]}"), "spec.tenancy.tenants[0].limits.maxGlobalStreams: must not be negative"},
		{"tenant without tenancy", strings.Replace(minimal, "{name: admin,", "{name: admin, tenant: team-a,", 1), "spec.auth.users[0].tenant: is only used with spec.tenancy.enabled"},
		{"access without tenancy", strings.Replace(minimal, "{name: admin,", "{name: admin, access: [query],", 1), "spec.auth.users[0].access: is only used with spec.tenancy.enabled"},
		{"confirm left after switching off", minimal + "  tenancy: {confirm: new-install}\n", "spec.tenancy.confirm: is set, but tenancy is off"},
		{"collector tenant without tenancy", minimal + "  collector: {tenantFromNamespace: true}\n", "spec.collector.tenantFromNamespace: is only used with spec.tenancy.enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			_, err := Load([]byte(header+in), Options{})
			if err == nil {
				t.Fatalf("accepted:\n%s", in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got:\n%v\nwant a line containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "loki.yaml:") {
				t.Errorf("no position: %v", err)
			}
		})
	}
}

// TestUnusedTenantWarns: overrides for a tenant nothing uses are a
// warning, not an error; with tenantFromNamespace there is none.
func TestUnusedTenantWarns(t *testing.T) {
	in := withTenancy("{enabled: true, confirm: new-install, tenants: [{id: admin, retention: 14d}, {id: teamm-a, retention: 14d}]}")
	doc, err := Load([]byte(header+in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0].String(), `spec.tenancy.tenants[1].id: tenant "teamm-a" has overrides, but no user`) {
		t.Errorf("warnings: %v", doc.Warnings)
	}
	doc, err = Load([]byte(header+strings.Replace(in, "{tenant: platform}", "{tenantFromNamespace: true}", 1)), Options{})
	if err != nil || len(doc.Warnings) != 0 {
		t.Errorf("with tenantFromNamespace: %v %v", err, doc.Warnings)
	}
}

func TestCheckTenantID(t *testing.T) {
	for id, ok := range map[string]bool{
		"fake": true, "team-a": true, "A_b.c*!'()": true, strings.Repeat("x", 150): true,
		"": false, ".": false, "..": false, "a|b": false, "a b": false, "a/b": false, "ü": false, strings.Repeat("x", 151): false,
	} {
		if got := CheckTenantID(id) == ""; got != ok {
			t.Errorf("CheckTenantID(%q) valid = %v, want %v (%s)", id, got, ok, CheckTenantID(id))
		}
	}
}
