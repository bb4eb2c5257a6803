package lab

import (
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// The scrape flow: the real prometheus-operator turns ServiceMonitors into
// the scrape configuration of a Prometheus object and makes its
// StatefulSet; the lab's kubelet runs that pod's init container (the
// operator's prometheus-config-reloader, which writes the configuration
// out) and Prometheus itself, which discovers its targets through the lab's
// API server as in a cluster.
const (
	// PrometheusImage and ConfigReloaderImage are the images the operator
	// puts in a Prometheus pod (its defaults for Prometheus v3.5.0 and its
	// own version); the lab runs its builds of those versions for them.
	// Start checks them against hack/test-tools.sh's pins.
	PrometheusImage     = "quay.io/prometheus/prometheus:v3.5.0"
	ConfigReloaderImage = "quay.io/prometheus-operator/prometheus-config-reloader:v0.85.0"

	// KubePrometheusStack is the release name kube-prometheus-stack is
	// installed under in the reference cluster: its Prometheus selects
	// ServiceMonitors labelled release: <this>.
	KubePrometheusStack = "kube-prometheus-stack"
)

// checkImagePins fails when an image the lab runs a build for names
// another version than the build's pin.
func checkImagePins(pins map[string]string) error {
	for image, tool := range map[string]string{PrometheusImage: "prometheus", ConfigReloaderImage: "prometheus-operator", ACMESolverImage: "cert-manager"} {
		if tag := imageTag(image); tag != pins[tool] {
			return fmt.Errorf("image %s: the lab's %s build is pinned at %s (hack/test-tools.sh): keep them equal", image, tool, pins[tool])
		}
	}
	return nil
}

// imageTag is the tag of an image reference (what follows the last colon).
func imageTag(image string) string { return image[strings.LastIndex(image, ":")+1:] }

// StartPrometheusOperator runs the operator against the lab's API server
// (KUBECONFIG, as out of cluster), with the config reloader of its version.
func (l *Lab) StartPrometheusOperator() *proc.Process {
	t := l.t
	t.Helper()
	cmd := exec.Command(testtools.Find(t, "prometheus-operator"),
		"--web.listen-address="+proc.Addr(proc.FreePorts(t, 1)[0]),
		"--prometheus-config-reloader="+ConfigReloaderImage,
		"--log-level=info",
	)
	cmd.Env = append(cmd.Environ(), "KUBECONFIG="+l.Kubeconfig)
	return proc.Start(t, l.Dir, "prometheus-operator", cmd)
}

// Prometheus is a Prometheus the operator made in the lab.
type Prometheus struct {
	Namespace, Name string
	URL             string // http://<pod IP>:9090
}

// DeployPrometheus creates a Prometheus object as kube-prometheus-stack's
// chart does under the release KubePrometheusStack (name, service account,
// security context, ServiceMonitor selectors: release label, every
// namespace), with one change: a 5 s scrape interval instead of 30 s, so
// a target's first scrape comes soon. It waits until the operator's pod
// is Ready.
func (l *Lab) DeployPrometheus(namespace string) *Prometheus {
	t := l.t
	t.Helper()
	ctx := l.Ctx()
	name := KubePrometheusStack + "-prometheus"
	if err := l.API.EnsureNamespace(ctx, namespace); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if _, err := l.Client.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	release := map[string]any{"matchLabels": map[string]any{"release": KubePrometheusStack}}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "Prometheus",
		"metadata": map[string]any{"name": name, "namespace": namespace,
			"labels": map[string]any{"release": KubePrometheusStack, "app": "kube-prometheus-stack-prometheus"}},
		"spec": map[string]any{
			"image":                           PrometheusImage,
			"version":                         imageTag(PrometheusImage),
			"replicas":                        int64(1),
			"serviceAccountName":              name,
			"portName":                        "http-web",
			"scrapeInterval":                  "5s",
			"evaluationInterval":              "30s",
			"retention":                       "10d",
			"serviceMonitorSelector":          release,
			"serviceMonitorNamespaceSelector": map[string]any{},
			"podMonitorSelector":              release,
			"podMonitorNamespaceSelector":     map[string]any{},
			"probeSelector":                   release,
			"probeNamespaceSelector":          map[string]any{},
			"ruleSelector":                    release,
			"ruleNamespaceSelector":           map[string]any{},
			"securityContext": map[string]any{"fsGroup": int64(2000), "runAsGroup": int64(2000),
				"runAsNonRoot": true, "runAsUser": int64(1000), "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		},
	}}
	began := time.Now()
	if err := l.API.ApplyAs(ctx, obj, "helm"); err != nil {
		t.Fatalf("apply Prometheus %s/%s: %v", namespace, name, err)
	}
	created := time.Now()
	pod := "prometheus-" + name + "-0"
	var ip string
	l.Eventually("the operator's Prometheus pod "+pod+" Ready", 3*time.Minute, func() string {
		p, err := l.Client.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if !podReady(p) {
			return "pod not Ready"
		}
		ip = p.Status.PodIP
		return ""
	})
	l.Logf("prometheus: Prometheus %s/%s applied in %s; its pod %s Ready at %s %s later", namespace, name,
		created.Sub(began).Round(100*time.Millisecond), pod, ip, time.Since(created).Round(100*time.Millisecond))
	return &Prometheus{Namespace: namespace, Name: name, URL: "http://" + ip + ":9090"}
}

// Target is one active target as Prometheus's /api/v1/targets reports it.
type Target struct {
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Labels     map[string]string `json:"labels"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
	LastScrape time.Time         `json:"lastScrape"`
}

// Targets are Prometheus's active targets.
func (p *Prometheus) Targets() ([]Target, error) {
	var out struct {
		Data struct {
			ActiveTargets []Target `json:"activeTargets"`
		} `json:"data"`
	}
	if err := p.get("/api/v1/targets?state=active", &out); err != nil {
		return nil, err
	}
	return out.Data.ActiveTargets, nil
}

// Sample is one series of an instant query's vector result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"` // [unix time, "value"]
}

// Query runs an instant PromQL query and returns its vector.
func (p *Prometheus) Query(expr string) ([]Sample, error) {
	var out struct {
		Data struct {
			ResultType string   `json:"resultType"`
			Result     []Sample `json:"result"`
		} `json:"data"`
	}
	if err := p.get("/api/v1/query?query="+url.QueryEscape(expr), &out); err != nil {
		return nil, err
	}
	if out.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %q, want vector", expr, out.Data.ResultType)
	}
	return out.Data.Result, nil
}

// get reads one JSON answer of Prometheus's API into v.
func (p *Prometheus) get(path string, v any) error {
	return getJSON(&http.Client{Timeout: 5 * time.Second}, p.URL+path, v)
}
