package validation

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// TestAlloyValidatesEveryConfig has Grafana Alloy check the collector config
// of every example that runs Alloy: `alloy validate` parses it and checks
// component names, attribute names and types, required attributes and
// references between components.
func TestAlloyValidatesEveryConfig(t *testing.T) {
	alloy := testtools.Find(t, "alloy")
	checked := 0
	for _, ex := range render.Examples(t) {
		objs := render.Objects(t, ex.File)
		doc := render.Stack(t, ex.File).Stack
		if !doc.Spec.Collector.Enabled || doc.Spec.Collector.Type != "alloy" {
			continue
		}
		checked++
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			cm := render.Find(t, objs, "ConfigMap", doc.Metadata.Name+"-alloy")
			cfg, ok, _ := unstructured.NestedString(cm.Object, "data", "config.alloy")
			if !ok || cfg == "" {
				t.Fatal("no data.config.alloy")
			}
			if out, err := alloyValidate(t, alloy, cfg); err != nil {
				t.Fatalf("alloy validate: %v\n%s\n--- config ---\n%s", err, out, cfg)
			}
		})
	}
	if checked == 0 {
		t.Fatal("no example runs Alloy")
	}
	// The check can fail: a misspelt attribute is refused.
	t.Run("a broken config is refused", func(t *testing.T) {
		out, err := alloyValidate(t, alloy, "loki.write \"default\" {\n  endpoint {\n    uri = \"http://x\"\n  }\n}\n")
		if err == nil || !strings.Contains(out, "uri") {
			t.Errorf("alloy validate accepted a misspelt attribute: %s", out)
		}
	})
}

func alloyValidate(t *testing.T, alloy, cfg string) (string, error) {
	file := filepath.Join(t.TempDir(), "config.alloy")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(alloy, "validate", file).CombinedOutput()
	return string(out), err
}
