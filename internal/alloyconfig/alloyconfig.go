// Package alloyconfig reads what hack/test-tools.sh and the tests need to know
// about the Alloy configuration loki-cmp renders: which components it uses.
// The slim Alloy build links exactly those, so both the build and the test
// that guards it get the set from here, from the generator itself.
package alloyconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/generator"
)

// ConfigKey is the ConfigMap key that holds the rendered Alloy configuration.
const ConfigKey = "config.alloy"

// Render generates the stack of one loki.yaml as `loki-cmp generate
// --dry-run` does (no credential is read) and returns the rendered Alloy
// configuration; ok is false when the stack runs no Alloy.
func Render(file string) (cfg string, ok bool, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", false, err
	}
	doc, err := config.Load(data, config.Options{File: file})
	if err != nil {
		return "", false, err
	}
	objs, err := generator.Generate(generator.Input{Stack: doc.Stack, DryRun: true})
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", file, err)
	}
	for _, o := range objs {
		if cm, isCM := o.(*corev1.ConfigMap); isCM {
			if cfg, ok := cm.Data[ConfigKey]; ok {
				return cfg, true, nil
			}
		}
	}
	return "", false, nil
}

// ExampleComponents renders every testdata/examples/*/loki.yaml under the
// repository root and returns the sorted set of components their Alloy
// configurations use.
func ExampleComponents(root string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "testdata", "examples", "*", "loki.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no testdata/examples/*/loki.yaml under %s", root)
	}
	set := map[string]bool{}
	for _, f := range files {
		cfg, ok, err := Render(f)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		names, err := Components(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: rendered %s: %w", f, ConfigKey, err)
		}
		for _, n := range names {
			set[n] = true
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("no example under %s renders an Alloy configuration", root)
	}
	return sorted(set), nil
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
