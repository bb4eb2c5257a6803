package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The side-by-side comparison: `helm template` of the community Loki chart
// (the copy in the Loki module source, production/helm/loki, the Loki
// version hack/test-tools.sh pins) with values equivalent to the seed
// example, against loki-cmp on the seed. Helm is a bench tool only: it is
// installed here, into a cache outside the clone, never by the tests.
const (
	helmModule  = "helm.sh/helm/v3/cmd/helm"
	helmVersion = "v3.20.2"
	lokiModule  = "github.com/grafana/loki/v3"
	lokiVersion = "v3.7.8" // LOKI_VERSION in hack/test-tools.sh
)

// helmValues are the seed's choices in the chart's terms: single binary,
// filesystem storage on a 10Gi Longhorn volume, one basic-auth user at
// bcrypt cost 10 (the chart's htpasswd function uses bcrypt's default cost,
// 10, the seed's cost), an Ingress for the host with a cert-manager issuer,
// a ServiceMonitor. Everything the chart would add beyond that (caches,
// canary, test pod, self-monitoring, MinIO, the rollout operator) is off.
// Promtail, the Grafana datasource and the ClusterIssuer are not part of
// the chart; loki-cmp renders them too, so the comparison favours helm.
const helmValues = `deploymentMode: SingleBinary
loki:
  auth_enabled: false
  commonConfig: {replication_factor: 1}
  storage: {type: filesystem}
  schemaConfig:
    configs:
      - {from: "2024-04-01", store: tsdb, object_store: filesystem, schema: v13, index: {prefix: index_, period: 24h}}
singleBinary:
  replicas: 1
  persistence: {enabled: true, size: 10Gi, storageClass: longhorn}
gateway:
  enabled: true
  basicAuth: {enabled: true, username: admin, password: procbench-password}
  ingress:
    enabled: true
    ingressClassName: traefik
    annotations: {cert-manager.io/cluster-issuer: letsencrypt-prod}
    hosts:
      - host: loki.thedevops.dev
        paths: [{path: /, pathType: Prefix}]
    tls:
      - {secretName: loki-tls, hosts: [loki.thedevops.dev]}
monitoring:
  serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
  selfMonitoring: {enabled: false, grafanaAgent: {installOperator: false}}
  dashboards: {enabled: false}
  rules: {enabled: false}
lokiCanary: {enabled: false}
test: {enabled: false}
chunksCache: {enabled: false}
resultsCache: {enabled: false}
minio: {enabled: false}
rollout_operator: {enabled: false}
backend: {replicas: 0}
read: {replicas: 0}
write: {replicas: 0}
ingester: {replicas: 0}
querier: {replicas: 0}
queryFrontend: {replicas: 0}
queryScheduler: {replicas: 0}
distributor: {replicas: 0}
compactor: {replicas: 0}
indexGateway: {replicas: 0}
bloomCompactor: {replicas: 0}
bloomGateway: {replicas: 0}
`

func compareHelm(bin, dir string, runs int, grind bool) error {
	helm, err := installHelm()
	if err != nil {
		return err
	}
	chart, err := lokiChart(dir)
	if err != nil {
		return err
	}
	values := filepath.Join(dir, "helm-values.yaml")
	if err := os.WriteFile(values, []byte(helmValues), 0o600); err != nil {
		return err
	}
	home := filepath.Join(dir, "helm-home")
	h := scenario{name: "helm template (Loki chart, seed values)", bin: helm,
		args: []string{"template", "loki", chart, "-n", "loki", "-f", values, "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"},
		env:  []string{"HOME=" + home, "HELM_CACHE_HOME=" + home, "HELM_CONFIG_HOME=" + home, "HELM_DATA_HOME=" + home}}
	// Alternating: loki-cmp generate, helm, loki-cmp --dry-run, helm, ...
	// so that changes in machine load hit both sides alike.
	order := []scenario{generate, h, dryRun, h}
	got := map[string][]sample{}
	for i := 0; i < runs; i++ {
		for j, s := range order {
			r, err := once(bin, s)
			if err != nil {
				return fmt.Errorf("%s: %v", s.name, err)
			}
			key := s.name
			if j == 3 {
				key += " #2"
			}
			got[key] = append(got[key], r)
		}
	}
	helmAll := append(got[h.name], got[h.name+" #2"]...)
	fmt.Printf("\nSide by side with helm %s (%d alternating rounds, load average %s):\n\n", helmVersion, runs, loadAverage())
	fmt.Println(tableHead)
	printRow(h.name, helmAll)
	printRow(generate.name, got[generate.name])
	printRow(dryRun.name, got[dryRun.name])
	hm, hc := medianOf(helmAll, wallOf), medianOf(helmAll, cpuOf)
	fmt.Println()
	fmt.Println("| loki-cmp | helm / loki-cmp: median wall | median CPU | instructions |")
	fmt.Println("|---|---|---|---|")
	var helmInstr int64
	if grind {
		if helmInstr, err = instructions(bin, h); err != nil {
			return fmt.Errorf("callgrind helm: %v", err)
		}
	}
	for _, s := range []scenario{generate, dryRun} {
		instr := "—"
		if grind {
			n, err := instructions(bin, s)
			if err != nil {
				return err
			}
			instr = fmt.Sprintf("%.1f× (%s vs %s)", float64(helmInstr)/float64(n), mega(helmInstr), mega(n))
		}
		fmt.Printf("| %s | %.1f× | %.1f× | %s |\n", s.name, float64(hm)/float64(medianOf(got[s.name], wallOf)),
			float64(hc)/float64(medianOf(got[s.name], cpuOf)), instr)
	}
	return nil
}

func medianOf(samples []sample, f func(sample) time.Duration) int64 {
	var w []int64
	for _, s := range samples {
		w = append(w, int64(f(s)))
	}
	return median(w)
}

func wallOf(s sample) time.Duration { return s.wall }
func cpuOf(s sample) time.Duration  { return s.cpu }

// installHelm returns the pinned helm, building it once into
// ~/.cache/loki-cmp-bench (outside the clone) with go install.
func installHelm() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	gobin := filepath.Join(cache, "loki-cmp-bench", "helm-"+helmVersion)
	exe := filepath.Join(gobin, "helm")
	if _, err := os.Stat(exe); err == nil {
		return exe, nil
	}
	fmt.Fprintf(os.Stderr, "procbench: installing helm %s into %s (once; several minutes)\n", helmVersion, gobin)
	cmd := exec.Command("go", "install", "-trimpath", "-ldflags=-s -w", helmModule+"@"+helmVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", helmModule, helmVersion, err, b)
	}
	return exe, nil
}

// lokiChart copies production/helm/loki out of the Loki module source
// (read-only in the module cache) and drops its chart dependencies (MinIO,
// grafana-agent-operator, rollout-operator): helm would refuse to render
// without them in charts/, `helm dependency build` needs the internet, and
// helmValues turns all three off, so the output is the same without them.
func lokiChart(dir string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", lokiModule+"@"+lokiVersion).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v", lokiModule, lokiVersion, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: no directory (%v)", lokiModule, lokiVersion, err)
	}
	chart := filepath.Join(dir, "loki-chart")
	if b, err := exec.Command("cp", "-r", filepath.Join(mod.Dir, "production", "helm", "loki"), chart).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy the chart: %v\n%s", err, b)
	}
	if err := exec.Command("chmod", "-R", "u+w", chart).Run(); err != nil {
		return "", err
	}
	meta := filepath.Join(chart, "Chart.yaml")
	b, err := os.ReadFile(meta)
	if err != nil {
		return "", err
	}
	text := string(b)
	start := strings.Index(text, "\ndependencies:")
	if start < 0 {
		return chart, nil
	}
	end := strings.Index(text[start+1:], "\nmaintainers:")
	if end < 0 {
		return "", fmt.Errorf("%s: cannot find the end of dependencies", meta)
	}
	text = text[:start+1] + text[start+1+end+1:]
	if err := os.Remove(filepath.Join(chart, "Chart.lock")); err != nil && !os.IsNotExist(err) {
		return "", err
	}
	return chart, os.WriteFile(meta, []byte(text), 0o644)
}
