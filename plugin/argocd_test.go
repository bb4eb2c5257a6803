package plugin

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/internal/field"
)

func TestArgoCDFromEnv(t *testing.T) {
	a, err := ArgoCDFromEnv(envOf(map[string]string{
		"ARGOCD_APP_NAME":       "logging",
		"ARGOCD_APP_NAMESPACE":  "obs",
		"KUBE_API_VERSIONS":     "v1, apps/v1,traefik.io/v1alpha1/Middleware",
		"ARGOCD_APP_PARAMETERS": `[{"name":"host","string":"x.example.org"},{"name":"common-labels","map":{"a":"b"}}]`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if a.AppName != "logging" || a.AppNamespace != "obs" || !a.APIVersions["apps/v1"] || !a.APIVersions["traefik.io/v1alpha1/Middleware"] {
		t.Errorf("parsed: %+v", a)
	}
	got, err := a.Overrides()
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Override{
		{Source: `Argo CD parameter "host"`, Path: field.NewPath("spec", "host"), Value: "x.example.org"},
		{Source: `Argo CD parameter "common-labels"`, Path: field.NewPath("spec", "commonLabels"), Value: map[string]string{"a": "b"}},
	}
	if diff := cmp.Diff(want, got, cmp.Transformer("path", field.Path.String)); diff != "" {
		t.Errorf("overrides (-want +got):\n%s", diff)
	}
}

func TestArgoCDParameterErrors(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`not json`, "ARGOCD_APP_PARAMETERS is not the JSON list Argo CD sends"},
		{`[{"name":"nope","string":"x"}]`, `unknown Argo CD parameter "nope"`},
		{`[{"name":"host","array":["a"]}]`, `Argo CD parameter "host" must be a string`},
		{`[{"name":"common-labels","string":"a=b"}]`, `Argo CD parameter "common-labels" must be a map`},
	} {
		a, err := ArgoCDFromEnv(envOf(map[string]string{"ARGOCD_APP_PARAMETERS": tc.params}))
		if err == nil {
			_, err = a.Overrides()
		}
		if _, ok := err.(*ParameterError); !ok || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ParameterError containing %q", tc.params, err, tc.want)
		}
	}
}

func TestAnnounce(t *testing.T) {
	doc := load(t)
	anns := Announce(doc)
	if len(anns) != len(Params) {
		t.Fatalf("%d announcements for %d params", len(anns), len(Params))
	}
	byName := map[string]Announcement{}
	for _, a := range anns {
		byName[a.Name] = a
	}
	if h := byName["host"]; h.String == nil || *h.String != "loki.example.org" {
		t.Errorf("host announcement: %+v", h)
	}
	if c := byName["bcrypt-cost"]; c.String == nil || *c.String != "10" {
		t.Errorf("bcrypt-cost announcement: %+v", c)
	}
	if l := byName["common-labels"]; l.CollectionType != "map" {
		t.Errorf("common-labels announcement: %+v", l)
	}
	for _, a := range Announce(nil) {
		if a.String != nil || a.Map != nil {
			t.Errorf("Announce(nil) has a value for %s", a.Name)
		}
	}
}

// paramSamples is a valid value for every parameter, unlike the default.
var paramSamples = map[string]any{
	"host": "other.example.org", "retention": "14d", "storage-size": "20Gi", "storage-class": "fast",
	"loki-image": "docker.io/grafana/loki:3.7.9", "cluster-issuer": "letsencrypt-staging", "bcrypt-cost": "12",
	"collector-enabled": "false", "service-monitor-enabled": "false", "grafana-datasource-enabled": "false",
	"common-labels": map[string]string{"team": "obs"}, "common-annotations": map[string]string{"note": "x"},
}

// TestEveryParamRoundTrips: each parameter sets its field, and Announce
// reads the value back from the same field: Params is the one table.
func TestEveryParamRoundTrips(t *testing.T) {
	for _, p := range Params {
		sample, ok := paramSamples[p.Name]
		if !ok {
			t.Errorf("parameter %s has no sample value in paramSamples", p.Name)
			continue
		}
		doc, err := config.Load([]byte("apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\nspec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n"),
			config.Options{Overrides: []config.Override{{Source: p.Name, Path: p.Path, Value: sample}}})
		if err != nil {
			t.Errorf("parameter %s: %v", p.Name, err)
			continue
		}
		for _, a := range Announce(doc) {
			if a.Name != p.Name {
				continue
			}
			var got any
			if a.String != nil {
				got = *a.String
			} else if a.Map != nil {
				got = a.Map
			}
			if diff := cmp.Diff(sample, got); diff != "" {
				t.Errorf("parameter %s: announced (-set +announced):\n%s", p.Name, diff)
			}
		}
	}
}

// TestEveryParamPathExists: each parameter applies to a real field.
func TestEveryParamPathExists(t *testing.T) {
	for _, p := range Params {
		var v any = "x"
		if p.Map {
			v = map[string]string{"k": "v"}
		}
		_, err := config.Load([]byte("apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\nspec: {host: a.example.org, auth: {users: [{name: a, password: {fromEnv: A}}]}}\n"),
			config.Options{Overrides: []config.Override{{Source: p.Name, Path: p.Path, Value: v}}})
		if err != nil && strings.Contains(err.Error(), "unknown field") {
			t.Errorf("parameter %s: path %s does not exist: %v", p.Name, p.Path, err)
		}
	}
}

func TestCheckKubeVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		refused bool
	}{
		{"", false},     // outside Argo CD
		{"1.31", false}, // Argo CD's short form
		{"1.31.4+k3s1", false},
		{"v1.25.0", false},
		{"1.25", false},
		{"2.0", false},
		{"1.24", true},
		{"v1.24.17-eks-1234", true},
		{"1.9", true},
		{"1.100", false},
		{"garbage", false}, // unreadable: not checked
		{"1.x", false},
	} {
		err := ArgoCD{KubeVersion: tc.version}.CheckKubeVersion()
		if (err != nil) != tc.refused {
			t.Errorf("KUBE_VERSION %q: error %v, want refused=%v", tc.version, err, tc.refused)
		}
		if err != nil && !strings.Contains(err.Error(), tc.version) {
			t.Errorf("KUBE_VERSION %q: error does not name the version: %v", tc.version, err)
		}
	}
}
