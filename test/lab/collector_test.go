package lab_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/test/internal/lab"
)

// checkCollectorShips follows a line from a pod in another namespace:
// written to the pod's container log (lab.WriteAppLog), read by the real
// collector as its rendered config says (Alloy: through the API server's
// pods/log endpoint, served by kwok as the node's kubelet; Promtail: from
// the node's /var/log/pods), pushed through the Service to real Loki, and
// found with LogQL through Traefik, with the labels the docs promise
// (namespace, pod, container, node_name, app).
func checkCollectorShips(t *testing.T, s *stack, collector string) {
	start := time.Now()
	l := s.l
	c := &client{t: t, http: s.c.http, base: s.c.base}
	app := startApp(t, l, "shop")
	line := fmt.Sprintf("lab app line %d", time.Now().UnixNano())
	// A collector reads from the time it first sees the pod (Alloy) or
	// the file (Promtail): write until the line is shipped.
	var labels map[string]string
	l.Eventually("the app's line in Loki, shipped by "+collector, 3*time.Minute, func() string {
		l.WriteAppLog(line)
		var err error
		labels, err = c.findStream(s.user, s.password, `{namespace="`+lab.AppNamespace+`"} |= "`+line+`"`, start)
		if err != nil {
			return err.Error()
		}
		return ""
	})
	want := map[string]string{"namespace": lab.AppNamespace, "pod": app.Name, "container": "shop", "node_name": lab.NodeName, "app": "shop"}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q (all: %v)", k, labels[k], v, labels)
		}
	}
	t.Logf("%s: line %q written by pod %s/%s found with LogQL %s after the pod started; stream labels %v", collector, line, lab.AppNamespace, app.Name, time.Since(start).Round(100*time.Millisecond), labels)
}

// startApp runs a Deployment of one pod in lab.AppNamespace (played by
// kwok; its log is the lab's app log) and returns the pod once Running.
func startApp(t *testing.T, l *lab.Lab, name string) *corev1.Pod {
	t.Helper()
	ctx := l.Ctx()
	if err := l.API.EnsureNamespace(ctx, lab.AppNamespace); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app.kubernetes.io/name": name}
	dep := deployment(lab.AppNamespace, name, labels, corev1.Container{Name: name, Image: "registry.k8s.io/pause:3.10"})
	if _, err := l.Client.AppsV1().Deployments(lab.AppNamespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pod *corev1.Pod
	l.Eventually("app pod Running", 60*time.Second, func() string {
		pods, err := l.Client.CoreV1().Pods(lab.AppNamespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodRunning {
			return fmt.Sprintf("%v %v", err, pods)
		}
		pod = &pods.Items[0]
		return ""
	})
	return pod
}

// findStream runs a LogQL query_range and returns the labels of the first
// stream with a line.
func (c *client) findStream(user, password, query string, since time.Time) (map[string]string, error) {
	q := url.Values{
		"query": {query}, "limit": {"10"},
		"start": {strconv.FormatInt(since.Add(-time.Minute).UnixNano(), 10)},
		"end":   {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)},
	}
	code, _, body := c.must("GET", "/loki/api/v1/query_range?"+q.Encode(), user, password, nil)
	if code != 200 {
		return nil, fmt.Errorf("query_range: %d %s", code, trim(body))
	}
	var r struct {
		Data struct {
			Result []struct {
				Stream map[string]string `json:"stream"`
				Values [][2]string       `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, err
	}
	for _, s := range r.Data.Result {
		if len(s.Values) > 0 {
			return s.Stream, nil
		}
	}
	return nil, fmt.Errorf("no line yet: %s", trim(body))
}
