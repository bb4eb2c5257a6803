package alloyconfig

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestComponents(t *testing.T) {
	cfg := `// loki.echo "commented" {}
/* prometheus.scrape "also commented" { } */
logging {
  level = "info"
}
discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    field = "a{b}" + sys.env("NODE_NAME")
  }
}
loki.write "default" {
  endpoint {
    url = "http://x/\"}{loki.echo \"y\" {"
  }
}
loki.write "second" {
  endpoint { url = ` + "`raw } string`" + ` }
}
`
	got, err := Components(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"discovery.kubernetes", "loki.write"}; !slices.Equal(got, want) {
		t.Errorf("Components = %q, want %q", got, want)
	}
}

func TestComponentsRefusesBrokenConfig(t *testing.T) {
	for _, cfg := range []string{
		`loki.write "x" {`,
		`loki.write "x {}`,
		`loki.write "x" = 1`,
		`= 1`,
	} {
		if got, err := Components(cfg); err == nil {
			t.Errorf("Components(%q) = %q, want an error", cfg, got)
		}
	}
}

// The generator's own examples render the components the collector needs;
// the exact set is the build's business, but the pipeline's ends must be in it.
func TestExampleComponents(t *testing.T) {
	got, err := ExampleComponents(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"loki.source.kubernetes", "loki.write"} {
		if !slices.Contains(got, want) {
			t.Errorf("ExampleComponents = %q, missing %s", got, want)
		}
	}
	if !slices.IsSorted(got) || strings.Join(slices.Compact(slices.Clone(got)), ",") != strings.Join(got, ",") {
		t.Errorf("ExampleComponents = %q, want sorted and distinct", got)
	}
}
