// Package validation checks loki-cmp's output with the real programs that
// will consume it: kube-apiserver (with the CRDs of Traefik, cert-manager,
// prometheus-operator and Argo CD), Loki and Apache htpasswd. Every example
// under testdata/examples is one case of the matrix.
package validation

import (
	"path/filepath"
	"testing"

	"github.com/thedevops/loki-cmp/test/internal/render"
)

// exampleFile is the loki.yaml of one named example.
func exampleFile(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(render.RepoRoot(t), "testdata", "examples", name, "loki.yaml")
}
