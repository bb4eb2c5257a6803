package lab_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/thedevops/loki-cmp/test/internal/immutable"
	"github.com/thedevops/loki-cmp/test/internal/lab"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// TestGitOpsUpgrade upgrades loki-cmp under a synced stack: Argo CD first
// syncs what the previous release rendered for the seed (kept as
// testdata/upgrade/<version>/seed/manifests.yaml, applied as a plain
// directory: the stand-in for that release's sidecar, which cannot be
// built from a clone that may lack the release's commit), then the
// Application is switched to deploy/application's source, loki-cmp's
// sidecar built from this checkout, for the same loki.yaml. The sync must
// end Synced and Healthy with no immutable-field error and nothing
// re-created: the StatefulSet keeps its pod's claim, the Services their
// addresses.
func TestGitOpsUpgrade(t *testing.T) {
	version, dir := previousRelease(t)
	file := filepath.Join(dir, "loki.yaml")
	g := newGitOps(t, file, false)
	kept := filepath.Join(dir, "manifests.yaml")
	manifests, err := os.ReadFile(kept)
	if err != nil {
		t.Fatal(err)
	}
	old := render.Decode(t, kept, string(manifests))
	released := "apps/loki-" + version
	g.clone.WriteFile(released+"/manifests.yaml", manifests)
	g.clone.WriteFile("apps/loki/loki.yaml", []byte(g.seed))
	g.head, _ = g.clone.CommitAndPush("loki: the stack as " + version + " rendered it, and its loki.yaml")
	created := time.Now()
	g.createApplication(func(app *unstructured.Unstructured) {
		if err := unstructured.SetNestedField(app.Object, released, "spec", "source", "path"); err != nil {
			t.Fatal(err)
		}
		unstructured.RemoveNestedField(app.Object, "spec", "source", "plugin")
	})
	st := g.waitSynced(version+"'s output", g.head, 6*time.Minute)
	t.Logf("%s's output (%d objects, directory source): %s %s in %s", version, len(old), st.Sync, st.Health,
		time.Since(created).Round(100*time.Millisecond))
	g.checkAccess(t, g.pw, "")
	was := g.fingerprints(old)
	claim := g.claimUID()

	out := render.Generate(t, file)
	current := render.Decode(t, file, out)
	changed := out != stripComments(string(manifests))
	switched := time.Now()
	g.setSource(g.application())
	var after appState
	if changed {
		lab.Eventually(t, "the upgrade synced", 4*time.Minute, func() string {
			after = g.state()
			if after.Started == st.Started || after.Phase != "Succeeded" || after.OpRevision != g.head ||
				after.Sync != "Synced" || after.Health != "Healthy" || len(after.Conditions) != 0 {
				return after.String()
			}
			return ""
		})
	} else {
		after = g.waitAt("the upgrade (same output)", g.head, 4*time.Minute)
	}
	for _, r := range after.Results {
		if r.Status != "Synced" || strings.Contains(r.Message, "immutable") {
			t.Errorf("upgrade sync result %s %s/%s: %s %s", r.Kind, r.Namespace, r.Name, r.Status, r.Message)
		}
	}
	now := g.fingerprints(current)
	var rewritten []string
	for k, v := range was {
		n, ok := now[k]
		switch {
		case !ok:
			if !holds(current, k) {
				continue // the current output dropped it; checked below
			}
			t.Errorf("%s is gone after the upgrade", k)
		case strings.Fields(n)[0] != strings.Fields(v)[0]:
			t.Errorf("%s was re-created by the upgrade (%s → %s)", k, v, n)
		case n != v:
			rewritten = append(rewritten, k)
		}
	}
	if left := g.fingerprints(dropped(old, current)); len(left) != 0 {
		t.Errorf("objects %s rendered and the current output does not are still there: %v", version, left)
	}
	if uid := g.claimUID(); uid != claim {
		t.Errorf("loki-0's claim after the upgrade: %q, want kept and Bound (%s)", uid, claim)
	}
	g.checkAccess(t, g.pw, "")
	t.Logf("upgrade %s → this checkout: %s %s, operation %s in %s after the switch; nothing re-created, %d objects written in place: %s",
		version, after.Sync, after.Health, after.Phase, time.Since(switched).Round(100*time.Millisecond), len(rewritten), strings.Join(rewritten, ", "))
}

// previousRelease is the newest baseline under testdata/upgrade and its
// seed case's directory, which holds that release's whole output.
func previousRelease(t *testing.T) (string, string) {
	root := filepath.Join(render.RepoRoot(t), "testdata", "upgrade")
	versions, err := immutable.Baselines(root)
	if err != nil {
		t.Fatal(err)
	}
	version := versions[len(versions)-1]
	return version, filepath.Join(root, version, "seed")
}

// stripComments drops the comment lines a kept output starts with.
func stripComments(s string) string {
	for strings.HasPrefix(s, "#") {
		_, s, _ = strings.Cut(s, "\n")
	}
	return s
}

// holds: objs has an object of key k.
func holds(objs []*unstructured.Unstructured, k string) bool {
	for _, o := range objs {
		if key(o) == k {
			return true
		}
	}
	return false
}

// setSource replaces the Application's spec.source with app's.
func (g *gitops) setSource(app *unstructured.Unstructured) {
	g.t.Helper()
	source, _, _ := unstructured.NestedMap(app.Object, "spec", "source")
	live, err := g.argo.Application(g.app)
	if err != nil {
		g.t.Fatal(err)
	}
	if err := unstructured.SetNestedMap(live.Object, source, "spec", "source"); err != nil {
		g.t.Fatal(err)
	}
	res := g.l.API.Dynamic.Resource(lab.ApplicationGVR).Namespace(live.GetNamespace())
	if _, err := res.Update(g.l.Ctx(), live, metav1.UpdateOptions{}); err != nil {
		g.t.Fatal(err)
	}
}

// claimUID is the UID of loki-0's claim if it exists, is not being
// deleted and is Bound ("" otherwise).
func (g *gitops) claimUID() string {
	c, err := g.l.Client.CoreV1().PersistentVolumeClaims("loki").Get(g.l.Ctx(), "loki-data-loki-0", metav1.GetOptions{})
	if err != nil || c.DeletionTimestamp != nil || c.Status.Phase != "Bound" {
		return ""
	}
	return string(c.UID)
}
