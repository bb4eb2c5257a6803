// Package lab_test runs the rendered stack in the live lab (test/internal/lab)
// and asserts the flows users run: browser → Traefik → basic auth → Loki,
// push and LogQL, password rotation and a pod's restart on its volume.
package lab_test

import (
	"testing"

	"github.com/thedevops/loki-cmp/test/internal/lab"
)

// The tests run inside the lab's own network and mount namespaces, each in
// a lab of its own, four at once: the longest first (measured on the
// 2-core machine, three at once: 403 s, 215 s, 174 s, 147 s, 115 s; the
// others take 30-100 s), so that no long one starts last.
func TestMain(m *testing.M) {
	lab.Main(m, "TestGitOps", "TestS3KeyRotation", "TestGitOpsUpgrade", "TestSeedFlows", "TestSimpleScalableFlows")
}
