package immutable

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/thedevops/loki-cmp/test/internal/render"
)

// seed renders the seed example: the real output, which the cases below
// damage the way a careless change of the generator would.
func seed(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	return render.Objects(t, filepath.Join(render.RepoRoot(t), "testdata", "examples", "seed", "loki.yaml"))
}

func take(t *testing.T, objs []*unstructured.Unstructured) Snapshot {
	t.Helper()
	s, err := Take(objs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func object(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

func set(t *testing.T, o *unstructured.Unstructured, value any, path ...string) {
	t.Helper()
	if err := unstructured.SetNestedField(o.Object, value, path...); err != nil {
		t.Fatal(err)
	}
}

func TestDiffFindsEachKindOfChange(t *testing.T) {
	base := take(t, seed(t))
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, objs []*unstructured.Unstructured)
		want   []string // "object field"
	}{
		{"nothing", func(*testing.T, []*unstructured.Unstructured) {}, nil},
		{"selector label changed", func(t *testing.T, objs []*unstructured.Unstructured) {
			set(t, object(t, objs, "StatefulSet", "loki"), "loki-server", "spec", "selector", "matchLabels", "app.kubernetes.io/component")
		}, []string{"StatefulSet.apps loki/loki spec.selector"}},
		{"selector label added", func(t *testing.T, objs []*unstructured.Unstructured) {
			set(t, object(t, objs, "DaemonSet", "loki-promtail"), "x", "spec", "selector", "matchLabels", "team")
		}, []string{"DaemonSet.apps loki-collector/loki-promtail spec.selector"}},
		{"volume claim grown", func(t *testing.T, objs []*unstructured.Unstructured) {
			sts := object(t, objs, "StatefulSet", "loki")
			claims, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates")
			_ = unstructured.SetNestedField(claims[0].(map[string]any), "20Gi", "spec", "resources", "requests", "storage")
			set(t, sts, claims, "spec", "volumeClaimTemplates")
		}, []string{"StatefulSet.apps loki/loki spec.volumeClaimTemplates"}},
		{"service turned headless", func(t *testing.T, objs []*unstructured.Unstructured) {
			set(t, object(t, objs, "Service", "loki"), "None", "spec", "clusterIP")
		}, []string{"Service loki/loki spec.clusterIP"}},
		{"headless service renamed", func(t *testing.T, objs []*unstructured.Unstructured) {
			object(t, objs, "Service", "loki-headless").SetName("loki-hl")
		}, []string{"Service loki/loki-headless (object)"}},
		{"moved to another namespace", func(t *testing.T, objs []*unstructured.Unstructured) {
			object(t, objs, "ConfigMap", "loki-promtail").SetNamespace("logging")
		}, []string{"ConfigMap loki-collector/loki-promtail (object)"}},
		{"API group changed", func(t *testing.T, objs []*unstructured.Unstructured) {
			object(t, objs, "Middleware", "loki-basic-auth").SetAPIVersion("traefik.containo.us/v1alpha1")
		}, []string{"Middleware.traefik.io loki/loki-basic-auth (object)"}},
		{"schema period changed", func(t *testing.T, objs []*unstructured.Unstructured) {
			cm := object(t, objs, "ConfigMap", "loki-config")
			cfg, _, _ := unstructured.NestedString(cm.Object, "data", "config.yaml")
			set(t, cm, strings.Replace(cfg, `from: "2024-04-01"`, `from: "2025-01-01"`, 1), "data", "config.yaml")
		}, []string{"ConfigMap loki/loki-config " + lokiSchemaPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := seed(t)
			tc.damage(t, objs)
			var got []string
			for _, c := range Diff(base, take(t, objs)) {
				got = append(got, c.Object+" "+c.Field)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// An appended schema period is Loki's way to change the schema: allowed.
func TestDiffAllowsAppendedSchemaPeriod(t *testing.T) {
	objs := seed(t)
	base := take(t, objs)
	cm := object(t, objs, "ConfigMap", "loki-config")
	cfg, _, _ := unstructured.NestedString(cm.Object, "data", "config.yaml")
	period := "\n  - from: \"2030-01-01\"\n    index: {period: 24h, prefix: index_}\n    object_store: filesystem\n    schema: v14\n    store: tsdb\n"
	i := strings.Index(cfg, "\nserver:")
	if i < 0 || !strings.Contains(cfg[:i], "schema_config:") {
		t.Fatalf("unexpected config layout:\n%s", cfg)
	}
	set(t, cm, cfg[:i]+strings.TrimSuffix(period, "\n")+cfg[i:], "data", "config.yaml")
	now := take(t, objs)
	if got := now["ConfigMap loki/loki-config"][lokiSchemaPath].([]any); len(got) != 2 {
		t.Fatalf("the appended period was not parsed: %v", got)
	}
	if d := Diff(base, now); len(d) != 0 {
		t.Errorf("appending a schema period reported: %v", d)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	s := take(t, seed(t))
	file := filepath.Join(t.TempDir(), "immutable.yaml")
	if err := Write(file, "v9.9.9", s); err != nil {
		t.Fatal(err)
	}
	back, err := Read(file)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(back, s); len(d) != 0 || len(back) != len(s) {
		t.Errorf("round trip: %d objects, %d changes: %v", len(back), len(s), d)
	}
}

func TestMigrations(t *testing.T) {
	doc := "# x\n\n<!-- BEGIN MIGRATIONS -->\n" +
		"| Version | Object | Field | Migration steps |\n|---|---|---|---|\n" +
		"| v0.2.0 | `StatefulSet.apps <namespace>/<name>` | `spec.selector` | orphan-delete and sync |\n" +
		"| v0.3.0 | ConfigMap <grafana-namespace>/*-datasource | (object) | nothing |\n" +
		"<!-- END MIGRATIONS -->\n"
	file := filepath.Join(t.TempDir(), "upgrades.md")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := ReadMigrations(file)
	if err != nil || len(ms) != 2 {
		t.Fatalf("ReadMigrations: %v, %d rows", err, len(ms))
	}
	stack := Stack{Name: "logs", Namespace: "obs", GrafanaNamespace: "grafana"}
	sel := Change{Object: "StatefulSet.apps obs/logs", Field: "spec.selector"}
	ds := Change{Object: "ConfigMap grafana/obs-logs-grafana-datasource", Field: ObjectField}
	for _, tc := range []struct {
		m        Migration
		baseline string
		c        Change
		want     bool
	}{
		{ms[0], "v0.1.0", sel, true},
		{ms[0], "v0.2.0", sel, false}, // already in the baseline's version
		{ms[0], "v0.1.0", Change{Object: "StatefulSet.apps obs/other", Field: "spec.selector"}, false},
		{ms[0], "v0.1.0", Change{Object: sel.Object, Field: "spec.serviceName"}, false},
		{ms[1], "v0.2.5", ds, true},
		{ms[1], "v0.2.5", Change{Object: "ConfigMap obs/obs-logs-grafana-datasource", Field: ObjectField}, false},
	} {
		if got := tc.m.Covers(tc.baseline, stack, tc.c); got != tc.want {
			t.Errorf("row %d covers %v from %s: %v, want %v", tc.m.Line, tc.c, tc.baseline, got, tc.want)
		}
	}

	for _, bad := range []string{
		"| 0.2.0 | StatefulSet.apps a/b | spec.selector | x |",
		"| v0.2.0 | StatefulSet.apps a/b | spec.selector |",
		"| v0.2.0 | StatefulSet.apps a/b | spec.selector | |",
		"| v0.2.0 | [ | spec.selector | x |",
	} {
		if err := os.WriteFile(file, []byte("<!-- BEGIN MIGRATIONS -->\n"+bad+"\n<!-- END MIGRATIONS -->\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadMigrations(file); err == nil {
			t.Errorf("row %q accepted", bad)
		}
	}
	if err := os.WriteFile(file, []byte("no table\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMigrations(file); err == nil {
		t.Error("a file without the table was accepted")
	}
}

func TestBaselines(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v0.10.0", "v0.2.0", "v0.2.1"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Baselines(dir)
	if want := []string{"v0.2.0", "v0.2.1", "v0.10.0"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Baselines = %v, %v; want %v (numeric order)", got, err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Baselines(dir); err == nil || !strings.Contains(err.Error(), "unexpected notes.txt") {
		t.Errorf("a stray file: err = %v, want unexpected notes.txt", err)
	}
	if _, err := Baselines(t.TempDir()); err == nil {
		t.Error("an empty directory: no error, want one (nothing would be checked)")
	}
}
