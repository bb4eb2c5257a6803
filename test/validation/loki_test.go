package validation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/proc"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// lokiConfigKey is the key of the rendered Loki config in ConfigMap <name>-config.
const lokiConfigKey = "config.yaml"

// TestLokiVerifiesEveryConfig has Loki itself check the rendered config of
// every example, once per Loki workload with that workload's own arguments
// (-target, -config.expand-env): `loki -verify-config` parses the config
// into Loki's own config structs (unknown or misplaced keys fail) and runs
// Loki's validation for that target.
func TestLokiVerifiesEveryConfig(t *testing.T) {
	loki := testtools.Find(t, "loki")
	for _, ex := range render.Examples(t) {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			file := writeLokiConfig(t, lokiConfig(t, ex.File))
			workloads := lokiWorkloads(t, render.Objects(t, ex.File))
			if len(workloads) == 0 {
				t.Fatal("no Loki workload")
			}
			for _, w := range workloads {
				args := append(withConfigFile(containerArgs(t, w, "loki"), file), "-verify-config")
				cmd := exec.Command(loki, args...)
				// The object-storage keys reach Loki as environment
				// variables; -config.expand-env fills them in.
				cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
				out, err := cmd.CombinedOutput()
				if err != nil || !strings.Contains(string(out), `msg="config is valid"`) {
					t.Fatalf("%s %s: loki %s: %v\n%s", w.GetKind(), w.GetName(), strings.Join(args, " "), err, out)
				}
				// Loki logs what it accepts but will not honour (deprecated
				// or ignored settings) as warnings: none is acceptable either.
				for _, line := range strings.Split(string(out), "\n") {
					if strings.Contains(line, "level=warn") || strings.Contains(line, "level=error") {
						t.Errorf("%s %s: loki -verify-config: %s", w.GetKind(), w.GetName(), line)
					}
				}
			}
		})
	}
}

// lokiWorkloads are the StatefulSets and Deployments running Loki.
func lokiWorkloads(t *testing.T, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if (o.GetKind() == "StatefulSet" || o.GetKind() == "Deployment") && o.GetLabels()["app.kubernetes.io/name"] == "loki" {
			out = append(out, o)
		}
	}
	return out
}

// withConfigFile points -config.file at file.
func withConfigFile(args []string, file string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if strings.HasPrefix(a, "-config.file=") {
			out[i] = "-config.file=" + file
		}
	}
	return out
}

// TestLokiPushAndQuery starts Loki with the seed's rendered config and
// arguments, changing only what a test must (paths under /var/loki move to
// a temp dir; listen ports and addresses move to free ports on 127.0.0.1),
// pushes a log line through the JSON push API and reads it back with LogQL.
func TestLokiPushAndQuery(t *testing.T) {
	t.Parallel() // beside the apiserver: the servers are independent
	lokiBin := testtools.Find(t, "loki")
	seed := exampleFile(t, "seed")
	objs := render.Objects(t, seed)
	cfg := lokiConfig(t, seed)
	ports := proc.FreePorts(t, 2)
	httpPort, grpcPort := ports[0], ports[1]
	dataDir := t.TempDir()
	cfg = rewriteForTest(t, cfg, dataDir, httpPort, grpcPort)
	file := writeLokiConfig(t, cfg)

	doc := render.Stack(t, seed)
	args := withConfigFile(containerArgs(t, render.Find(t, objs, "StatefulSet", doc.Stack.Metadata.Name), "loki"), file)
	loki := proc.Start(t, t.TempDir(), "loki", exec.Command(lokiBin, args...))
	base := proc.URL(httpPort)
	waitReady(t, loki, base+"/ready", 3*time.Minute)

	pushAndQuery(t, base, base, "seed", 60*time.Second)
}

// pushAndQuery pushes one unique line to pushBase through the JSON push API
// and reads it back from queryBase with a LogQL range query, retrying the
// query until wait has passed (the query path may need a moment after
// /ready to connect its queriers to the scheduler and ingesters).
func pushAndQuery(t *testing.T, pushBase, queryBase, example string, wait time.Duration) {
	t.Helper()
	line := "loki-cmp test line " + randomHex(t)
	now := time.Now()
	push := map[string]any{"streams": []any{map[string]any{
		"stream": map[string]string{"job": "loki-cmp-test", "example": example},
		"values": [][]string{{strconv.FormatInt(now.UnixNano(), 10), line}},
	}}}
	body, _ := json.Marshal(push)
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Post(pushBase+"/loki/api/v1/push", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		respBody, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNoContent {
			break
		}
		// A write ring still forming answers 5xx ("too many unhealthy instances").
		if resp.StatusCode < 500 || time.Now().After(deadline) {
			t.Fatalf("push: %s: %s", resp.Status, respBody)
		}
		time.Sleep(time.Second)
	}
	q := url.Values{
		"query": {`{job="loki-cmp-test"} |= "` + line + `"`},
		"start": {strconv.FormatInt(now.Add(-time.Hour).UnixNano(), 10)},
		"end":   {strconv.FormatInt(now.Add(time.Minute).UnixNano(), 10)},
		"limit": {"10"},
	}
	for {
		got, status, err := queryRange(queryBase, q)
		if err == nil && len(got) == 1 && got[0] == line {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("query_range %s: got %q (HTTP %s, %v), want [%q]", q.Get("query"), got, status, err, line)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// lokiConfig returns the rendered Loki config of an example: key
// config.yaml of ConfigMap <name>-config.
func lokiConfig(t *testing.T, file string) string {
	t.Helper()
	name := render.Stack(t, file).Stack.Metadata.Name + "-config"
	cm := render.Find(t, render.Objects(t, file), "ConfigMap", name)
	cfg, ok, _ := unstructured.NestedString(cm.Object, "data", lokiConfigKey)
	if !ok || cfg == "" {
		t.Fatalf("ConfigMap %s has no data.%s", name, lokiConfigKey)
	}
	return cfg
}

func writeLokiConfig(t *testing.T, cfg string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), lokiConfigKey)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// rewriteForTest moves every path under /var/loki (the volume in the pod)
// into dataDir and the listeners to 127.0.0.1:httpPort/grpcPort. Nothing
// else changes, so the Loki that runs is the Loki the config describes.
func rewriteForTest(t *testing.T, cfg, dataDir string, httpPort, grpcPort int) string {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(cfg), &m); err != nil {
		t.Fatal(err)
	}
	moved := 0
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			if v == "/var/loki" || strings.HasPrefix(v, "/var/loki/") {
				moved++
				return dataDir + strings.TrimPrefix(v, "/var/loki")
			}
		case map[string]any:
			for k, x := range v {
				v[k] = walk(x)
			}
		case []any:
			for i, x := range v {
				v[i] = walk(x)
			}
		}
		return v
	}
	walk(m)
	if moved == 0 {
		t.Fatal("the Loki config names no path under /var/loki (the volume): has the layout changed?")
	}
	server, ok := m["server"].(map[string]any)
	if !ok {
		t.Fatal("the Loki config has no server section")
	}
	server["http_listen_port"] = httpPort
	server["grpc_listen_port"] = grpcPort
	server["http_listen_address"] = "127.0.0.1"
	server["grpc_listen_address"] = "127.0.0.1"
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// containerArgs returns the args of the named container of a workload.
func containerArgs(t *testing.T, workload *unstructured.Unstructured, name string) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(workload.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		c, _ := c.(map[string]any)
		if c["name"] != name {
			continue
		}
		args, _, err := unstructured.NestedStringSlice(c, "args")
		if err != nil || len(args) == 0 {
			t.Fatalf("container %s has no args: %v", name, err)
		}
		return args
	}
	t.Fatalf("%s has no container %q", workload.GetName(), name)
	return nil
}

// waitReady polls Loki's /ready (the StatefulSet's readiness probe) until
// it answers 200, failing early if Loki exits.
func waitReady(t *testing.T, p *proc.Process, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for time.Now().Before(deadline) {
		if exited, how := p.Exited(); exited {
			t.Fatalf("loki exited (%s) before it was ready:\n%s", how, p.Tail(4000))
		}
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status + ": " + strings.TrimSpace(string(b))
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s (last: %s)", url, timeout, last)
}

// queryRange runs a LogQL range query and returns the lines found.
func queryRange(base string, q url.Values) ([]string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/loki/api/v1/query_range?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, resp.Status, fmt.Errorf("%s", body)
	}
	var r struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Stream map[string]string
				Values [][2]string
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, resp.Status, err
	}
	var lines []string
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			lines = append(lines, v[1])
		}
	}
	return lines, resp.Status, nil
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
