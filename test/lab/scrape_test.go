package lab_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/test/internal/lab"
)

// checkScrape follows the metrics flow: the real prometheus-operator turns
// the rendered ServiceMonitor into the scrape configuration of a Prometheus
// deployed as kube-prometheus-stack deploys it (selecting ServiceMonitors
// labelled release: kube-prometheus-stack), and the real Prometheus, in
// namespace monitoring, discovers Loki's endpoints through the API server
// and scrapes them. Every Loki pod must be a target exactly once (the
// headless Services are not selected, or each pod would be scraped twice)
// and up, and Loki's own metric must be in Prometheus.
func checkScrape(t *testing.T, s *stack) {
	start := time.Now()
	l := s.l
	l.StartPrometheusOperator()
	p := l.DeployPrometheus("monitoring")
	pods, err := l.Client.CoreV1().Pods(s.ns).List(l.Ctx(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=loki"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, pod := range pods.Items {
		want[pod.Name] = true
	}
	if len(want) == 0 {
		t.Fatalf("no Loki pod in %s", s.ns)
	}
	pool := "serviceMonitor/" + s.ns + "/loki/0" // <namespace>/<ServiceMonitor>/<endpoint>
	var got []lab.Target
	l.Eventually("every Loki pod a target of "+pool+", up", 2*time.Minute, func() string {
		all, err := p.Targets()
		if err != nil {
			return err.Error()
		}
		got = got[:0]
		seen := map[string]int{}
		for _, tg := range all {
			if tg.ScrapePool != pool {
				continue
			}
			got = append(got, tg)
			seen[tg.Labels["pod"]]++
			if tg.Health != "up" {
				return fmt.Sprintf("target %s (pod %s): %s %s", tg.ScrapeURL, tg.Labels["pod"], tg.Health, tg.LastError)
			}
		}
		for pod := range want {
			if seen[pod] != 1 {
				return fmt.Sprintf("pod %s is a target %d times, want once (targets of %s: %d of %d active)", pod, seen[pod], pool, len(got), len(all))
			}
		}
		if len(got) != len(want) {
			return fmt.Sprintf("%d targets in %s for %d Loki pods", len(got), pool, len(want))
		}
		return ""
	})
	sort.Slice(got, func(i, j int) bool { return got[i].Labels["pod"] < got[j].Labels["pod"] })
	for _, tg := range got {
		if tg.Labels["namespace"] != s.ns || tg.Labels["endpoint"] != "http-metrics" {
			t.Errorf("target %s: labels %v, want namespace %s and endpoint http-metrics", tg.ScrapeURL, tg.Labels, s.ns)
		}
		t.Logf("target %s: pod %s, service %s, job %s, health %s", tg.ScrapeURL, tg.Labels["pod"], tg.Labels["service"], tg.Labels["job"], tg.Health)
	}
	expr := `count by (pod) (loki_build_info{namespace="` + s.ns + `"})`
	var series []string
	l.Eventually("Loki's metrics in Prometheus", time.Minute, func() string {
		res, err := p.Query(expr)
		if err != nil {
			return err.Error()
		}
		series = series[:0]
		for _, r := range res {
			series = append(series, r.Metric["pod"])
		}
		if len(series) != len(want) {
			return fmt.Sprintf("%s: %d series (%v), want %d", expr, len(series), series, len(want))
		}
		return ""
	})
	sort.Strings(series)
	t.Logf("prometheus-operator → Prometheus %s/%s: %d Loki targets up, %s → pods %s; %s from the operator's start",
		p.Namespace, p.Name, len(got), expr, strings.Join(series, ", "), time.Since(start).Round(100*time.Millisecond))
}
