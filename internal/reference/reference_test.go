package reference

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/loki-yaml.md")

const (
	docFile = "../../docs/loki-yaml.md"
	begin   = "<!-- BEGIN GENERATED FIELD TABLE: go test ./internal/reference -update -->\n"
	end     = "<!-- END GENERATED FIELD TABLE -->\n"
)

// TestDocsUpToDate fails when docs/loki-yaml.md's field table differs from
// the Go types; -update rewrites it.
func TestDocsUpToDate(t *testing.T) {
	raw, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated-table markers", docFile)
	}
	got := doc[i+len(begin) : j]
	want := Markdown()
	if *update {
		if err := os.WriteFile(docFile, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s is stale (-want +got); run go test ./internal/reference -update:\n%s", docFile, diff)
	}
}

// TestEveryFieldDocumented: a field without a doc tag is a field users
// cannot discover.
func TestEveryFieldDocumented(t *testing.T) {
	for _, f := range Fields() {
		if strings.TrimSpace(f.Doc) == "" {
			t.Errorf("%s has no doc tag", f.Path)
		}
	}
}
