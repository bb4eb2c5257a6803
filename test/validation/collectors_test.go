package validation

import (
	"testing"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// collectorChecks names, for each collector type, the test in which a real
// program checks what loki-cmp renders for it. A new kind in
// v1alpha1.CollectorKinds fails TestEveryCollectorKindIsChecked until it
// has a check here; naming the test function makes the compiler check
// that it exists.
var collectorChecks = map[string]struct {
	test func(*testing.T)
	what string
}{
	v1alpha1.CollectorAlloy: {TestAlloyValidatesEveryConfig, "alloy validate parses the config and checks its components, attributes and references"},
	// No Promtail binary is built for the tests (it is end of life);
	// kube-apiserver checks its objects, and that its namespace is the
	// only privileged one.
	v1alpha1.CollectorPromtail: {TestAPIServer, "kube-apiserver admits its DaemonSet, RBAC and namespace under Pod Security admission"},
}

func TestEveryCollectorKindIsChecked(t *testing.T) {
	for _, k := range v1alpha1.CollectorKinds {
		if c, ok := collectorChecks[k.Type]; !ok || c.test == nil {
			t.Errorf("collector type %q has no real-program check: add one and name it in collectorChecks", k.Type)
		}
	}
	for typ := range collectorChecks {
		found := false
		for _, k := range v1alpha1.CollectorKinds {
			found = found || k.Type == typ
		}
		if !found {
			t.Errorf("collectorChecks names %q, which v1alpha1.CollectorKinds does not list", typ)
		}
	}
}
