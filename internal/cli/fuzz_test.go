package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/thedevops/loki-cmp/config"
)

// clusterScoped are the kinds that have no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "ClusterIssuer": true}

// FuzzGenerate runs the whole generate pipeline (dry run: no credential) on
// arbitrary input. Properties: no panic; either exit 0 with a YAML stream
// that re-parses and whose objects all sit in the stack's namespace (or are
// cluster-scoped, or the Grafana datasource in Grafana's namespace, or the
// collector in its namespace), or a
// non-zero exit with empty stdout and every stderr line in loki-cmp's voice.
// Run longer with: go test ./internal/cli -run '^$' -fuzz FuzzGenerate -fuzztime 10m
func FuzzGenerate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(examples, "*", "loki.yaml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), Streams{In: bytes.NewReader(data), Out: &out, Err: &errOut},
			[]string{"generate", "--dry-run", "-f", "-"}, func(string) (string, bool) { return "", false })
		if code != 0 {
			if out.Len() != 0 {
				t.Fatalf("exit %d with %d bytes on stdout", code, out.Len())
			}
			for _, line := range strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n") {
				if !strings.HasPrefix(line, "loki-cmp: ") {
					t.Fatalf("stderr line not in loki-cmp's voice: %q", line)
				}
			}
			return
		}
		doc, err := config.Load(data, config.Options{})
		if err != nil {
			t.Fatalf("generate succeeded on input that does not load: %v", err)
		}
		ns, grafanaNS := doc.Stack.Metadata.Namespace, doc.Stack.Spec.Monitoring.GrafanaDatasource.Namespace
		collectorNS, collectorSuffix := doc.Stack.Spec.Collector.Namespace, "-"+doc.Stack.Spec.Collector.Type
		objs := strings.Split(out.String(), "\n---\n")
		if len(objs) < 5 {
			t.Fatalf("only %d objects", len(objs))
		}
		for _, o := range objs {
			var m struct {
				Kind     string
				Metadata struct{ Name, Namespace string }
			}
			if err := yaml.Unmarshal([]byte(o), &m); err != nil {
				t.Fatalf("output does not re-parse: %v", err)
			}
			switch {
			case clusterScoped[m.Kind]:
				if m.Metadata.Namespace != "" {
					t.Fatalf("cluster-scoped %s has namespace %q", m.Kind, m.Metadata.Namespace)
				}
			case m.Kind == "ConfigMap" && m.Metadata.Namespace == grafanaNS && strings.HasSuffix(m.Metadata.Name, "-grafana-datasource"):
			case m.Metadata.Namespace == collectorNS && strings.HasSuffix(m.Metadata.Name, collectorSuffix):
			case m.Metadata.Namespace != ns:
				t.Fatalf("%s %s in namespace %q, want %q", m.Kind, m.Metadata.Name, m.Metadata.Namespace, ns)
			}
		}
	})
}
