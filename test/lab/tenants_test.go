package lab_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/thedevops/loki-cmp/test/internal/lab"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// TestTenants applies the tenants example (tenancy on: Traefik maps each
// user to a Loki tenant and sets X-Scope-OrgID) and checks, through real
// Traefik and real Loki, that tenants stay apart, that no client-sent
// tenant header reaches Loki, that access per user holds, and the
// in-cluster paths: the collector's tenants, Grafana's datasources,
// metrics and probes without a tenant, and the runtime overrides.
//
// Which tenant holds a line is asked of Loki directly (its pod, inside the
// lab), with the tenant header, as an in-cluster client may: that is what
// Loki saw, independent of the routes under test.
func TestTenants(t *testing.T) {
	start := time.Now()
	s := deploy(t, "tenants", "loki-data-loki-0")
	tn := &tenants{stack: s, pw: map[string]string{}}
	for _, u := range s.spec.Auth.Users {
		tn.pw[u.Name] = render.Password(u.Password.FromEnv)
	}
	tn.loki = "http://" + tn.lokiIP(t) + ":3100"

	t.Run("tenants apart", func(t *testing.T) { tn.checkApart(t) })
	t.Run("impersonation", func(t *testing.T) { tn.checkImpersonation(t) })
	t.Run("access per user", func(t *testing.T) { tn.checkAccess(t) })
	t.Run("data of tenant fake", func(t *testing.T) { tn.checkFake(t) })
	t.Run("runtime overrides", func(t *testing.T) { tn.checkOverrides(t) })
	t.Run("overrides reloaded without a restart", func(t *testing.T) { tn.checkReload(t) })
	t.Run("metrics and probes without a tenant", func(t *testing.T) { tn.checkUnauthenticated(t) })
	t.Run("Grafana's datasources", func(t *testing.T) { tn.checkDatasources(t) })
	t.Run("Alloy ships to the namespace's tenant", func(t *testing.T) { tn.checkCollector(t) })
	t.Run("Traefik's view", func(t *testing.T) { checkTraefikRoutes(t, s.tr, s.ns) })
	s.l.Logf("tenants lab run: %s in all", time.Since(start).Round(100*time.Millisecond))
}

type tenants struct {
	*stack
	pw   map[string]string // password by user
	loki string            // Loki's pod, http://ip:3100
	t0   time.Time         // before the first push
}

func (tn *tenants) lokiIP(t *testing.T) string {
	var ip string
	tn.l.Eventually("loki-0's IP", 30*time.Second, func() string {
		p, err := tn.l.Client.CoreV1().Pods(tn.ns).Get(tn.l.Ctx(), "loki-0", metav1.GetOptions{})
		if err != nil || p.Status.PodIP == "" {
			return fmt.Sprint("no IP yet ", err)
		}
		ip = p.Status.PodIP
		return ""
	})
	return ip
}

// send is one request through Traefik with exactly the headers given:
// spellings and repeated values as written (HTTP/1.1 sends map keys as
// they are). The credentials, if any, are the first Authorization value.
func (tn *tenants) send(t *testing.T, method, path, user string, hdr map[string][]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, tn.c.base+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// Sent as written, query included: no cleaning of .., // or %xx.
	req.URL.Opaque = "//" + req.URL.Host + path
	if user != "" {
		req.SetBasicAuth(user, tn.pw[user])
	}
	for k, vs := range hdr {
		req.Header[k] = append(req.Header[k], vs...)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := tn.c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func pushBody(line string) string {
	return fmt.Sprintf(`{"streams":[{"stream":{"job":"lab-tenants"},"values":[[%q,%q]]}]}`, strconv.FormatInt(time.Now().UnixNano(), 10), line)
}

// lines returns the lines of job lab-tenants that Loki holds for tenant
// (one ID, or several joined by |), asked of Loki directly.
func (tn *tenants) lines(t *testing.T, tenant, selector string) []string {
	t.Helper()
	code, body := tn.direct(t, "GET", tn.rangeQuery(selector), tenant, "")
	if code != http.StatusOK {
		t.Fatalf("query of tenant %s: %d %s", tenant, code, trim(body))
	}
	return parseLines(t, []byte(body))
}

// rangeQuery is the query_range path of selector, from a minute before
// the first push to a minute from now.
func (tn *tenants) rangeQuery(selector string) string {
	q := url.Values{
		"query": {selector}, "limit": {"1000"},
		"start": {strconv.FormatInt(tn.t0.Add(-time.Minute).UnixNano(), 10)},
		"end":   {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)},
	}
	return "/loki/api/v1/query_range?" + q.Encode()
}

func queryLines(t *testing.T, req *http.Request) []string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query %s: %d %s", req.URL, resp.StatusCode, trim(string(b)))
	}
	return parseLines(t, b)
}

// parseLines returns the lines of a query_range answer.
func parseLines(t *testing.T, body []byte) []string {
	t.Helper()
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]string `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("query_range: %v: %s", err, trim(string(body)))
	}
	var out []string
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			out = append(out, v[1])
		}
	}
	return out
}

func has(lines []string, line string) bool {
	for _, l := range lines {
		if l == line {
			return true
		}
	}
	return false
}

// contains reports whether a line holds s: the collector ships the
// container's log line, which may carry more than what was written.
func contains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// waitLine waits until Loki holds line for tenant.
func (tn *tenants) waitLine(t *testing.T, tenant, line string) {
	t.Helper()
	lab.Eventually(t, fmt.Sprintf("%q in tenant %s", line, tenant), 2*time.Minute, func() string {
		if has(tn.lines(t, tenant, `{job="lab-tenants"}`), line) {
			return ""
		}
		return "not yet"
	})
}

// query is a query_range through Traefik as user: the lines it returns.
func (tn *tenants) query(t *testing.T, user string, hdr map[string][]string) (int, []string) {
	t.Helper()
	code, body := tn.send(t, "GET", tn.rangeQuery(`{job="lab-tenants"}`), user, hdr, "")
	if code != http.StatusOK {
		return code, nil
	}
	return code, parseLines(t, []byte(body))
}

var (
	lineA = fmt.Sprintf("tenant team-a line %d", time.Now().UnixNano())
	lineB = fmt.Sprintf("tenant team-b line %d", time.Now().UnixNano())
)

func (tn *tenants) checkApart(t *testing.T) {
	tn.t0 = time.Now()
	for user, line := range map[string]string{"a-writer": lineA, "b-writer": lineB} {
		if code, body := tn.send(t, "POST", "/loki/api/v1/push", user, nil, pushBody(line)); code != http.StatusNoContent {
			t.Fatalf("push as %s: %d %s, want 204", user, code, trim(body))
		}
	}
	tn.waitLine(t, "team-a", lineA)
	tn.waitLine(t, "team-b", lineB)
	for reader, want := range map[string]string{"a-reader": lineA, "b-reader": lineB, "team-b": lineB} {
		code, got := tn.query(t, reader, nil)
		other := lineB
		if want == lineB {
			other = lineA
		}
		if code != http.StatusOK || !has(got, want) || has(got, other) {
			t.Errorf("%s: %d, lines %q; want 200 with %q and without %q", reader, code, got, want, other)
		}
	}
	if fake := tn.lines(t, "fake", `{job="lab-tenants"}`); has(fake, lineA) || has(fake, lineB) {
		t.Errorf("tenant fake holds a team's line: %q", fake)
	}
	t.Logf("a-writer's line is in tenant team-a only, b-writer's in team-b only (asked of Loki); a-reader sees A's and not B's, b-reader and team-b see B's and not A's")
}

// checkImpersonation: a-writer (tenant team-a, push only) and a-reader
// try to act as tenant team-b. Each attempt's line must land in team-a,
// or the request be refused; never in team-b.
func (tn *tenants) checkImpersonation(t *testing.T) {
	type attempt struct {
		name string
		hdr  map[string][]string
	}
	basic := func(user, pw string) string {
		r, _ := http.NewRequest("GET", "http://x", nil)
		r.SetBasicAuth(user, pw)
		return r.Header.Get("Authorization")
	}
	attempts := []attempt{
		{"X-Scope-OrgID: team-b", map[string][]string{"X-Scope-Orgid": {"team-b"}}},
		{"x-scope-orgid: team-b (lower case)", map[string][]string{"x-scope-orgid": {"team-b"}}},
		{"X-SCOPE-ORGID: team-b (upper case)", map[string][]string{"X-SCOPE-ORGID": {"team-b"}}},
		{"X-Scope-OrgID: team-b twice, and X-Scope-Orgid: team-b", map[string][]string{"X-Scope-OrgID": {"team-b", "team-b"}, "X-Scope-Orgid": {"team-b"}}},
		{"X-Scope-OrgID: team-a|team-b (across tenants)", map[string][]string{"X-Scope-OrgID": {"team-a|team-b"}}},
		{"X-Scope-OrgID: team-b with Connection: X-Scope-OrgID", map[string][]string{"X-Scope-OrgID": {"team-b"}, "Connection": {"X-Scope-OrgID"}}},
		{"X_Scope_OrgID: team-b (underscores)", map[string][]string{"X_Scope_OrgID": {"team-b"}}},
		{"a second Authorization, b-writer's", map[string][]string{"Authorization": {basic("b-writer", tn.pw["b-writer"])}}},
	}
	var report []string
	for i, a := range attempts {
		line := fmt.Sprintf("impersonation %d %d", i, time.Now().UnixNano())
		code, body := tn.send(t, "POST", "/loki/api/v1/push", "a-writer", a.hdr, pushBody(line))
		if code != http.StatusNoContent && code != http.StatusUnauthorized {
			t.Errorf("%s: push → %d %s, want 204 (as team-a) or 401", a.name, code, trim(body))
		}
		if code == http.StatusNoContent {
			tn.waitLine(t, "team-a", line)
		}
		if has(tn.lines(t, "team-b", `{job="lab-tenants"}`), line) {
			t.Errorf("%s: the line landed in tenant team-b", a.name)
		}
		saw := "refused (401), nowhere"
		if code == http.StatusNoContent {
			saw = "204, Loki stored it under team-a, not team-b"
		}
		report = append(report, fmt.Sprintf("%s → %s", a.name, saw))
	}
	// Credentials of another user first, then a-writer's: checked are the first.
	line := fmt.Sprintf("impersonation first-auth %d", time.Now().UnixNano())
	code, _ := tn.send(t, "POST", "/loki/api/v1/push", "", map[string][]string{"Authorization": {basic("b-writer", "wrong"), basic("a-writer", tn.pw["a-writer"])}}, pushBody(line))
	if code != http.StatusUnauthorized {
		t.Errorf("b-writer with a wrong password, then a-writer's credentials: %d, want 401", code)
	}
	report = append(report, fmt.Sprintf("b-writer's name with a wrong password, then a-writer's credentials → %d", code))
	// The reader side: a-reader asks for team-b's lines.
	for _, hdr := range []map[string][]string{{"X-Scope-OrgID": {"team-b"}}, {"x-scope-orgid": {"team-b|team-a"}}} {
		code, got := tn.query(t, "a-reader", hdr)
		if code != http.StatusOK || has(got, lineB) || !has(got, lineA) {
			t.Errorf("a-reader with %v: %d, lines %q; want 200 with team-a's line only", hdr, code, got)
		}
		report = append(report, fmt.Sprintf("a-reader querying with %v → 200, team-a's lines only", hdr))
	}
	for _, r := range report {
		t.Log(r)
	}
}

// checkAccess: push and query are separate rights.
func (tn *tenants) checkAccess(t *testing.T) {
	labels := "/loki/api/v1/labels"
	for _, c := range []struct {
		what, method, path, user, body string
		want                           int
	}{
		{"a-reader pushes", "POST", "/loki/api/v1/push", "a-reader", pushBody("reader push"), http.StatusForbidden},
		{"a-reader pushes OTLP", "POST", "/otlp/v1/logs", "a-reader", "{}", http.StatusForbidden},
		{"a-reader pushes through /loki/api/v1/../v1/push", "POST", "/loki/api/v1/../v1/push", "a-reader", pushBody("reader dotdot"), http.StatusForbidden},
		{"a-reader pushes through //loki/api/v1/push", "POST", "//loki/api/v1/push", "a-reader", pushBody("reader slashes"), http.StatusForbidden},
		{"a-reader pushes through /loki/api/v1/%70ush", "POST", "/loki/api/v1/%70ush", "a-reader", pushBody("reader escaped"), 0},
		{"admin (tenant fake, query only) pushes", "POST", "/loki/api/v1/push", "admin", pushBody("admin push"), http.StatusForbidden},
		{"a-writer queries", "GET", labels, "a-writer", "", http.StatusForbidden},
		{"shipper queries", "GET", "/loki/api/v1/query_range?query=%7Bjob%3D%22lab-tenants%22%7D", "shipper", "", http.StatusForbidden},
		{"a-reader deletes", "POST", "/loki/api/v1/delete?query=%7Bjob%3D%22lab-tenants%22%7D&start=0", "a-reader", "", http.StatusForbidden},
		{"a-reader flushes the ingester", "POST", "/flush", "a-reader", "", http.StatusForbidden},
		{"a-reader reads labels", "GET", labels, "a-reader", "", http.StatusOK},
		{"team-b (push and query) reads labels", "GET", labels, "team-b", "", http.StatusOK},
		{"shipper pushes", "POST", "/loki/api/v1/push", "shipper", pushBody("shipper line"), http.StatusNoContent},
		{"no credentials", "GET", labels, "", "", http.StatusUnauthorized},
		{"unknown user", "GET", labels, "nobody", "", http.StatusUnauthorized},
	} {
		code, body := tn.send(t, c.method, c.path, c.user, nil, c.body)
		switch {
		case c.want == 0 && (code == http.StatusNoContent || code == http.StatusOK):
			t.Errorf("%s: %d %s, want it refused", c.what, code, trim(body))
		case c.want != 0 && code != c.want:
			t.Errorf("%s: %d %s, want %d", c.what, code, trim(body), c.want)
		}
		t.Logf("%s → %d", c.what, code)
	}
	tn.waitLine(t, "team-a", "shipper line")
	for _, tenant := range []string{"team-a", "team-b", "fake"} {
		for _, l := range []string{"reader push", "reader dotdot", "reader slashes", "reader escaped", "admin push"} {
			if has(tn.lines(t, tenant, `{job="lab-tenants"}`), l) {
				t.Errorf("refused push %q landed in tenant %s", l, tenant)
			}
		}
	}
}

// checkFake: logs written before tenancy are under tenant fake. Written
// here straight to Loki with that header (a stand-in for a stack that ran
// with auth_enabled: false), they are read through Traefik by admin, whose
// tenant is fake.
func (tn *tenants) checkFake(t *testing.T) {
	line := fmt.Sprintf("written before tenancy %d", time.Now().UnixNano())
	if code, body := tn.direct(t, "POST", "/loki/api/v1/push", "fake", pushBody(line)); code != http.StatusNoContent {
		t.Fatalf("push to tenant fake: %d %s", code, trim(body))
	}
	lab.Eventually(t, "admin reads tenant fake", 2*time.Minute, func() string {
		code, got := tn.query(t, "admin", nil)
		if code != http.StatusOK || !has(got, line) || has(got, lineA) {
			return fmt.Sprintf("%d %q", code, got)
		}
		return ""
	})
	t.Logf("a line under tenant fake is read through Traefik by admin (tenant fake), without team-a's lines")
}

// direct is a request to Loki's pod, with tenant (if any) as
// X-Scope-OrgID, as an in-cluster client sends it.
func (tn *tenants) direct(t *testing.T, method, path, tenant, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, tn.loki+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkOverrides: Loki applies each tenant's retention from the runtime
// overrides. Loki 3.7 has no /runtime_config endpoint (404); it serves a
// tenant's effective limits at /config/tenant/v1/limits, for the tenant
// in X-Scope-OrgID (its default allow-list publishes retention_period,
// not the ingestion limits). A tenant without overrides gets the global
// retention.
func (tn *tenants) checkOverrides(t *testing.T) {
	// Loki prints durations in its own form: 14d is 2w, 744h is 31d.
	for tenant, want := range map[string]string{"team-a": "2w", "team-b": "90d", "lab-apps": "31d"} {
		code, body := tn.direct(t, "GET", "/config/tenant/v1/limits", tenant, "")
		var limits map[string]any
		if err := yaml.Unmarshal([]byte(body), &limits); err != nil || code != http.StatusOK {
			t.Fatalf("limits of %s: %d %v\n%s", tenant, code, err, trim(body))
		}
		if got := fmt.Sprint(limits["retention_period"]); got != want {
			t.Errorf("tenant %s: retention_period %s, want %s", tenant, got, want)
		}
		t.Logf("Loki's limits of tenant %s: retention_period %v", tenant, limits["retention_period"])
	}
}

// checkReload: a changed tenant retention reaches Loki without a restart.
// The new ConfigMap is applied; the lab's kubelet writes ConfigMap volumes
// once, at pod start, so the test then writes the file into loki-0's
// volume directory itself, standing in for the kubelet's sync (which
// updates a directory-mounted ConfigMap in place). Loki re-reads it
// (runtime_config.period 10s) and loki-0 is the same pod, not restarted.
func (tn *tenants) checkReload(t *testing.T) {
	data, err := os.ReadFile(tn.file)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "retention: 14d", "retention: 21d", 1)
	file := filepath.Join(t.TempDir(), "loki.yaml")
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	cm := findObj(t, render.Objects(t, file), "ConfigMap", "loki-runtime")
	runtime, _, _ := unstructuredString(cm.Object, "data", "runtime.yaml")
	if !strings.Contains(runtime, "retention_period: 21d") {
		t.Fatalf("rendered overrides without the new retention:\n%s", runtime)
	}
	pods := tn.l.Client.CoreV1().Pods(tn.ns)
	before, err := pods.Get(tn.l.Ctx(), "loki-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.l.API.ApplyAs(tn.l.Ctx(), cm, lab.FieldManager); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tn.l.Dir, "pods", tn.ns+"_loki-0_"+string(before.UID), "volumes", "runtime")
	tmp := filepath.Join(dir, ".runtime.yaml.new")
	if err := os.WriteFile(tmp, []byte(runtime), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "runtime.yaml")); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	lab.Eventually(t, "team-a's new retention in Loki", time.Minute, func() string {
		code, body := tn.direct(t, "GET", "/config/tenant/v1/limits", "team-a", "")
		var limits map[string]any
		if err := yaml.Unmarshal([]byte(body), &limits); err != nil || code != http.StatusOK {
			return fmt.Sprintf("%d %v", code, err)
		}
		if got := fmt.Sprint(limits["retention_period"]); got != "3w" {
			return "retention_period " + got
		}
		return ""
	})
	after, err := pods.Get(tn.l.Ctx(), "loki-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.UID != before.UID || restarts(after) != restarts(before) {
		t.Errorf("loki-0 was replaced or restarted (uid %s → %s, restarts %d → %d)", before.UID, after.UID, restarts(before), restarts(after))
	}
	t.Logf("team-a's retention 14d → 21d: Loki serves 3w %s after the file changed; loki-0 the same pod, %d restarts", time.Since(written).Round(100*time.Millisecond), restarts(after))
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

// checkUnauthenticated: Prometheus scrapes and the kubelet probes Loki
// without a tenant header; with auth on both still get 200.
func (tn *tenants) checkUnauthenticated(t *testing.T) {
	for _, path := range []string{"/metrics", "/ready"} {
		if code, _ := tn.direct(t, "GET", path, "", ""); code != http.StatusOK {
			t.Errorf("%s without X-Scope-OrgID: %d, want 200", path, code)
		}
	}
	if code, _ := tn.direct(t, "GET", "/loki/api/v1/labels", "", ""); code != http.StatusUnauthorized {
		t.Errorf("a query without X-Scope-OrgID: %d, want 401 (auth_enabled)", code)
	}
	t.Logf("/metrics and /ready without a tenant → 200; a query without one → 401 (Loki has auth on)")
}

// checkDatasources queries Loki as each rendered Grafana datasource would:
// its URL (the Service, here its pod) with its header.
func (tn *tenants) checkDatasources(t *testing.T) {
	objs := render.Objects(t, tn.file)
	cm := findObj(t, objs, "ConfigMap", "loki-tenants-loki-grafana-datasource")
	data, _, _ := unstructuredString(cm.Object, "data", "loki-datasource.yaml")
	var file struct {
		Datasources []struct {
			Name           string            `json:"name"`
			URL            string            `json:"url"`
			JSONData       map[string]any    `json:"jsonData"`
			SecureJSONData map[string]string `json:"secureJsonData"`
		} `json:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(data), &file); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]bool{"Loki": {true, false}, "Loki (team-b)": {false, true}, "Loki (team-a|team-b)": {true, true}}
	if len(file.Datasources) != len(want) {
		t.Fatalf("%d datasources, want %d", len(file.Datasources), len(want))
	}
	for _, ds := range file.Datasources {
		u, err := url.Parse(ds.URL)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", tn.loki+u.Path+tn.rangeQuery(`{job="lab-tenants"}`), nil)
		req.Header.Set(fmt.Sprint(ds.JSONData["httpHeaderName1"]), ds.SecureJSONData["httpHeaderValue1"])
		got := queryLines(t, req)
		w := want[ds.Name]
		if has(got, lineA) != w[0] || has(got, lineB) != w[1] {
			t.Errorf("datasource %q (%s: %s): team-a's line %v, team-b's %v; want %v, %v", ds.Name, ds.JSONData["httpHeaderName1"], ds.SecureJSONData["httpHeaderValue1"], has(got, lineA), has(got, lineB), w[0], w[1])
		}
		t.Logf("datasource %q sends %s: %s → team-a's line %v, team-b's %v", ds.Name, ds.JSONData["httpHeaderName1"], ds.SecureJSONData["httpHeaderValue1"], has(got, lineA), has(got, lineB))
	}
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[f]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

// checkCollector: Alloy puts an app's line in the tenant named after the
// app's namespace (tenantFromNamespace), and in no other.
func (tn *tenants) checkCollector(t *testing.T) {
	start := time.Now()
	startApp(t, tn.l, "shop")
	line := fmt.Sprintf("lab tenant app line %d", time.Now().UnixNano())
	sel := `{namespace="` + lab.AppNamespace + `"}`
	shipped := false
	defer func() {
		if !shipped {
			t.Logf("where the lines went, by Loki's and Alloy's metrics:\n%s", tn.shippingMetrics(t))
		}
	}()
	lab.Eventually(t, "the app's line in tenant "+lab.AppNamespace, 3*time.Minute, func() string {
		tn.l.WriteAppLog(line)
		if contains(tn.lines(t, lab.AppNamespace, sel), line) {
			return ""
		}
		return "not yet"
	})
	shipped = true
	for _, other := range []string{"team-a", "team-b", "fake"} {
		if contains(tn.lines(t, other, sel), line) {
			t.Errorf("the app's line is in tenant %s too", other)
		}
	}
	t.Logf("Alloy: the line of pod in namespace %s is in tenant %s, not in team-a, team-b or fake (%s after the pod started)", lab.AppNamespace, lab.AppNamespace, time.Since(start).Round(100*time.Millisecond))
}

// shippingMetrics are the counters that say which tenant Loki received
// lines for and what Alloy sent, dropped or relabelled.
func (tn *tenants) shippingMetrics(t *testing.T) string {
	urls := []string{tn.loki + "/metrics"}
	pods, err := tn.l.Client.CoreV1().Pods(tn.spec.Collector.Namespace).List(tn.l.Ctx(), metav1.ListOptions{})
	if err == nil {
		for _, p := range pods.Items {
			urls = append(urls, "http://"+p.Status.PodIP+":12345/metrics")
		}
	}
	var out []string
	for _, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			out = append(out, u+": "+err.Error())
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "loki_distributor_lines_received_total") || strings.HasPrefix(line, "loki_write_") || strings.HasPrefix(line, "loki_relabel_") || strings.HasPrefix(line, "loki_source_kubernetes") {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}

// checkTraefikRoutes: Traefik built every router of the IngressRoute, on
// websecure with TLS, and nothing it built is in error.
func checkTraefikRoutes(t *testing.T, tr *lab.Traefik, ns string) {
	routers, mws, _ := traefikState(t, tr)
	n := 0
	for _, r := range routers {
		if r.Provider != "kubernetescrd" || !strings.HasPrefix(r.Name, ns+"-loki-") {
			continue
		}
		n++
		if len(r.EntryPoints) != 1 || r.EntryPoints[0] != "websecure" || r.TLS == nil || len(r.Middlewares) != 2 {
			t.Errorf("router %s: entry points %v, tls %v, middlewares %v", r.Name, r.EntryPoints, r.TLS, r.Middlewares)
		}
	}
	// 3 tenants: team-a push and query, team-b push and query, fake query; and the catch-all.
	if n != 6 {
		t.Errorf("%d routers of IngressRoute %s/loki, want 6", n, ns)
	}
	t.Logf("Traefik: %d routers of the IngressRoute on websecure with TLS, %d middlewares, none in error", n, len(mws))
}
