// Package upgrade checks that upgrading loki-cmp keeps existing installs
// working: what Kubernetes (or Loki) will not change in place must render
// as it did in every released version, unless docs/upgrades.md declares the
// change as a migration.
package upgrade

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thedevops/loki-cmp/test/internal/immutable"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

var snapshot = flag.String("snapshot", "", "at a release: record the immutable fields of the current output as baseline `vX.Y.Z` under testdata/upgrade")

// snapshotCases are the examples recorded as baselines at a release: the
// seed deployment and cases that differ in what is immutable (defaults
// only, Promtail off, every feature on, other names and namespaces).
// manifestsCase keeps the release's whole output too, as manifestsFile:
// the GitOps lab syncs it and upgrades it to the current output.
const (
	manifestsCase = "seed"
	manifestsFile = "manifests.yaml"
)

var snapshotCases = []string{"seed", "minimal", "features-off", "features-on", "custom-names", "simple-scalable"}

// TestImmutableFieldsUnchanged renders each baseline's loki.yaml (a copy of
// the input as it was at that release, standing for an existing install)
// with the current code and compares the immutable fields with what that
// release rendered. Each difference must be a migration in
// docs/upgrades.md for a version after the baseline.
func TestImmutableFieldsUnchanged(t *testing.T) {
	root := render.RepoRoot(t)
	dir := filepath.Join(root, "testdata", "upgrade")
	if *snapshot != "" {
		writeSnapshot(t, root, dir, *snapshot)
	}
	migrations, err := immutable.ReadMigrations(filepath.Join(root, "docs", "upgrades.md"))
	if err != nil {
		t.Fatal(err)
	}
	versions, err := immutable.Baselines(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		cases, err := filepath.Glob(filepath.Join(dir, v, "*", "loki.yaml"))
		if err != nil || len(cases) == 0 {
			t.Fatalf("baseline %s holds no case (%v)", v, err)
		}
		for _, input := range cases {
			caseDir := filepath.Dir(input)
			t.Run(v+"/"+filepath.Base(caseDir), func(t *testing.T) {
				t.Parallel()
				baseline, err := immutable.Read(filepath.Join(caseDir, "immutable.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				checkManifests(t, caseDir, baseline)
				current, err := immutable.Take(render.Objects(t, input))
				if err != nil {
					t.Fatal(err)
				}
				stack := stackOf(t, input)
				for _, c := range immutable.Diff(baseline, current) {
					if m, ok := declared(migrations, v, stack, c); ok {
						t.Logf("%s (declared in docs/upgrades.md line %d for %s)", c, m.Line, m.Version)
						continue
					}
					t.Errorf("%s\n\tan install rendered by %s cannot take this in place; if it is deliberate, declare the migration in docs/upgrades.md", c, v)
				}
			})
		}
	}
}

// checkManifests: where a case keeps its release's whole output
// (manifests.yaml, which TestGitOpsUpgrade syncs before upgrading), the
// immutable fields of that output are the baseline's: it is what the
// release rendered.
func checkManifests(t *testing.T, caseDir string, baseline immutable.Snapshot) {
	file := filepath.Join(caseDir, manifestsFile)
	if _, err := os.Stat(file); err != nil {
		if filepath.Base(caseDir) == manifestsCase {
			t.Fatalf("%s: the %s case keeps its release's output (%v)", caseDir, manifestsCase, err)
		}
		return
	}
	kept, err := immutable.Take(render.Manifests(t, file))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range immutable.Diff(baseline, kept) {
		t.Errorf("%s is not what this release rendered: %s", file, c)
	}
}

func declared(ms []immutable.Migration, baseline string, stack immutable.Stack, c immutable.Change) (immutable.Migration, bool) {
	for _, m := range ms {
		if m.Covers(baseline, stack, c) {
			return m, true
		}
	}
	return immutable.Migration{}, false
}

func stackOf(t *testing.T, file string) immutable.Stack {
	s := render.Stack(t, file).Stack
	return immutable.Stack{Name: s.Metadata.Name, Namespace: s.Metadata.Namespace, GrafanaNamespace: s.Spec.Monitoring.GrafanaDatasource.Namespace}
}

// writeSnapshot records version's baseline: for each snapshot case, a copy
// of its loki.yaml and the immutable fields of its current output. A
// released baseline is never overwritten.
func writeSnapshot(t *testing.T, root, dir, version string) {
	t.Helper()
	if !immutable.IsVersion(version) {
		t.Fatalf("-snapshot=%s: want vX.Y.Z", version)
	}
	out := filepath.Join(dir, version)
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("%s exists: a released baseline is never rewritten", out)
	}
	for _, name := range snapshotCases {
		input, err := os.ReadFile(filepath.Join(root, "testdata", "examples", name, "loki.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		caseDir := filepath.Join(out, name)
		if err := os.MkdirAll(caseDir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(caseDir, "loki.yaml")
		note := "# Input of the " + version + " upgrade baseline, copied from testdata/examples/" + name + ": never edit.\n"
		if err := os.WriteFile(file, append([]byte(note), input...), 0o644); err != nil {
			t.Fatal(err)
		}
		snap, err := immutable.Take(render.Objects(t, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := immutable.Write(filepath.Join(caseDir, "immutable.yaml"), version, snap); err != nil {
			t.Fatal(err)
		}
		if name == manifestsCase {
			head := "# Output of loki-cmp " + version + " for loki.yaml next to this file, the whole stream\n" +
				"# (see docs/upgrades.md), with the tests' passwords (render.Password, not\n" +
				"# secrets). TestGitOpsUpgrade syncs it, then upgrades it; never edit it.\n"
			if err := os.WriteFile(filepath.Join(caseDir, manifestsFile), []byte(head+render.Generate(t, file)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %s", strings.TrimPrefix(caseDir, root+"/"))
	}
}
