package validation

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/thedevops/loki-cmp/internal/alloyconfig"
	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// TestAlloyValidatesEveryConfig has Grafana Alloy check the collector config
// of every example that runs Alloy: `alloy validate` parses it and checks
// component names, attribute names and types, required attributes and
// references between components.
func TestAlloyValidatesEveryConfig(t *testing.T) {
	alloy := testtools.Find(t, "alloy")
	for name, cfg := range alloyConfigs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if out, err := alloyValidate(t, alloy, cfg); err != nil {
				t.Fatalf("alloy validate: %v\n%s\n--- config ---\n%s", err, out, cfg)
			}
		})
	}
	// The check can fail: a misspelt attribute is refused.
	t.Run("a broken config is refused", func(t *testing.T) {
		out, err := alloyValidate(t, alloy, "loki.write \"default\" {\n  endpoint {\n    uri = \"http://x\"\n  }\n}\n")
		if err == nil || !strings.Contains(out, "uri") {
			t.Errorf("alloy validate accepted a misspelt attribute: %s", out)
		}
	})
}

// TestAlloyBuildHasEveryRenderedComponent: the Alloy that the tests run is a
// slim build linking only the components listed in components.txt next to
// its binary (hack/test-tools.sh). Every component a rendered config uses
// must be in it, or that config could not run.
func TestAlloyBuildHasEveryRenderedComponent(t *testing.T) {
	built := alloyBuildComponents(t, testtools.Find(t, "alloy"))
	for name, cfg := range alloyConfigs(t) {
		used, err := alloyconfig.Components(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, c := range used {
			if !slices.Contains(built, c) {
				t.Errorf("%s: the rendered config uses %s, which the Alloy build lacks (built with %q); run hack/test-tools.sh alloy", name, c, built)
			}
		}
	}
}

// TestAlloyRefusesComponentOutsideBuild: a real Alloy component that the
// slim build leaves out is refused with Alloy's own error, so a config
// using it can never pass for valid.
func TestAlloyRefusesComponentOutsideBuild(t *testing.T) {
	alloy := testtools.Find(t, "alloy")
	built := alloyBuildComponents(t, alloy)
	configs := map[string]string{ // real components of upstream Alloy
		"prometheus.scrape": "prometheus.scrape \"x\" {\n  targets    = []\n  forward_to = []\n}\n",
		"loki.echo":         "loki.echo \"x\" { }\n",
	}
	checked := 0
	for name, cfg := range configs {
		if slices.Contains(built, name) {
			continue
		}
		checked++
		out, err := alloyValidate(t, alloy, cfg)
		want := `cannot find the definition of component name "` + name + `"`
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("alloy validate of a %s config: err %v, want the error %q in:\n%s", name, err, want, out)
		}
	}
	if checked == 0 {
		t.Fatalf("every probe component is in the build (%q): pick another", built)
	}
}

// alloyConfigs renders every example that runs Alloy and returns its
// config.alloy by example name.
func alloyConfigs(t *testing.T) map[string]string {
	t.Helper()
	cfgs := map[string]string{}
	for _, ex := range render.Examples(t) {
		doc := render.Stack(t, ex.File).Stack
		if !doc.Spec.Collector.Enabled || doc.Spec.Collector.Type != "alloy" {
			continue
		}
		cm := render.Find(t, render.Objects(t, ex.File), "ConfigMap", doc.Metadata.Name+"-alloy")
		cfg, ok, _ := unstructured.NestedString(cm.Object, "data", alloyconfig.ConfigKey)
		if !ok || cfg == "" {
			t.Fatalf("%s: no data.%s", ex.Name, alloyconfig.ConfigKey)
		}
		cfgs[ex.Name] = cfg
	}
	if len(cfgs) == 0 {
		t.Fatal("no example runs Alloy")
	}
	return cfgs
}

// alloyBuildComponents reads components.txt next to the real binary that
// the alloy symlink of the tools cache points to.
func alloyBuildComponents(t *testing.T, alloy string) []string {
	t.Helper()
	bin, err := filepath.EvalSymlinks(alloy)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "components.txt"))
	if err != nil {
		t.Fatalf("%v (is %s a slim build of hack/test-tools.sh?)", err, bin)
	}
	built := strings.Fields(string(data))
	if len(built) == 0 {
		t.Fatalf("%s/components.txt lists no component", filepath.Dir(bin))
	}
	return built
}

func alloyValidate(t *testing.T, alloy, cfg string) (string, error) {
	file := filepath.Join(t.TempDir(), "config.alloy")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(alloy, "validate", file).CombinedOutput()
	return string(out), err
}
