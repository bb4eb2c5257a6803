package generator

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// TestEveryCollectorKindHasABuilder: every collector type of the API has a
// builder, and the builder renders that program (not another one's
// config, as a fallback would). The test module's
// TestEveryCollectorKindIsCheckedByItsProgram has the real program check
// the config.
func TestEveryCollectorKindHasABuilder(t *testing.T) {
	for _, k := range v1alpha1.CollectorKinds {
		t.Run(k.Type, func(t *testing.T) {
			kind, ok := collectorKinds[k.Type]
			if !ok {
				t.Fatalf("no builder for collector type %q: add it to collectorKinds", k.Type)
			}
			objs := generate(t, stack(t, "  collector: {type: "+k.Type+"}\n"))
			ds := find[*appsv1.DaemonSet](objs)
			if len(ds) != 1 || ds[0].Name != "loki-"+k.Type || ds[0].Labels["app.kubernetes.io/name"] != k.Type || kind.app != k.Type {
				t.Fatalf("DaemonSets %v", kinds(objs))
			}
			if img := ds[0].Spec.Template.Spec.Containers[0].Image; img != k.DefaultImage {
				t.Errorf("image %q, want the kind's default %q", img, k.DefaultImage)
			}
			var cfg string
			for _, cm := range find[*corev1.ConfigMap](objs) {
				if cm.Name == "loki-"+k.Type {
					cfg = cm.Data[kind.configFile]
				}
			}
			if !strings.Contains(cfg, "http://loki.loki.svc:3100/loki/api/v1/push") {
				t.Errorf("config %s does not push to Loki:\n%s", kind.configFile, cfg)
			}
		})
	}
	for typ := range collectorKinds {
		if !slices.Contains(v1alpha1.CollectorTypes(), typ) {
			t.Errorf("collectorKinds has %q, which v1alpha1.CollectorKinds does not list", typ)
		}
	}
}

// TestEveryTLSModeHasABuilder: each mode of the API asks for the
// certificate exactly one way (TestTLSExactlyOneWay checks which).
func TestEveryTLSModeHasABuilder(t *testing.T) {
	for _, m := range v1alpha1.TLSModes {
		if _, ok := tlsModes[m]; !ok {
			t.Errorf("no builder for TLS mode %q: add it to tlsModes", m)
		}
	}
	for m := range tlsModes {
		if !slices.Contains(v1alpha1.TLSModes, m) {
			t.Errorf("tlsModes has %q, which v1alpha1.TLSModes does not list", m)
		}
	}
}

// TestBuildersReadOnlyThePlan: each builder gives the same objects on a
// fresh plan as after every other builder has run on it, in either order,
// so no builder depends on state another one set.
func TestBuildersReadOnlyThePlan(t *testing.T) {
	for _, extra := range []string{"", "  collector: {type: promtail, namespace: loki}\n  tls: {mode: annotation, acme: {email: a@example.org}}\n",
		"  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage: {accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}\n"} {
		in := stack(t, extra)
		fresh := func() *plan {
			p, err := newPlan(in)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		builders := builderList()
		for i, build := range builders {
			alone := encode(t, build(fresh()))
			shared := fresh()
			for j, other := range slices.Backward(builders) {
				if j != i {
					other(shared)
				}
			}
			if after := encode(t, build(shared)); !bytes.Equal(alone, after) {
				t.Errorf("builder %d gives other objects after the others ran", i)
			}
		}
	}
}

func encode(t *testing.T, objs []Object) []byte {
	t.Helper()
	b, err := Encode(objs, FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
