// Package lab_test runs the rendered stack in the live lab (test/internal/lab)
// and asserts the flows users run: browser → Traefik → basic auth → Loki,
// push and LogQL, password rotation and a pod's restart on its volume.
package lab_test

import (
	"testing"

	"github.com/thedevops/loki-cmp/test/internal/lab"
)

// The tests run inside the lab's own network and mount namespaces.
func TestMain(m *testing.M) { lab.Main(m) }
