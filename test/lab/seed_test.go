package lab_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/test/internal/lab"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// standInTLS: these stacks' tests are about their other flows, so
// cert-manager does not run in their labs and loki-tls comes from a
// stand-in CA the test makes. Issuing it for real is TestTLSModes's
// (tls_test.go), for every TLS mode.
var standInTLS = map[string]string{"Certificate": "no cert-manager in this lab (TestTLSModes issues for real): loki-tls is the test's stand-in"}

// stack is an example applied to a fresh lab, with Traefik in front.
type stack struct {
	l              *lab.Lab
	tr             *lab.Traefik
	c              *client
	file           string
	ns, host, user string
	password       string
	spec           v1alpha1.Spec
}

// deploy starts a lab and Traefik, applies the example wave by wave and
// makes the stand-in TLS Secret; the Loki volumes come from the lab.
func deploy(t *testing.T, example string, claims ...string) *stack {
	t.Helper()
	return deployWith(t, example, nil, claims...)
}

// deployWith is deploy with before run on the lab ahead of the apply (what
// the cluster must have first, e.g. the object storage).
func deployWith(t *testing.T, example string, before func(*lab.Lab), claims ...string) *stack {
	t.Helper()
	l := lab.Start(t)
	tr := l.StartTraefik()
	if before != nil {
		before(l)
	}
	file := filepath.Join(render.RepoRoot(t), "testdata", "examples", example, "loki.yaml")
	doc := render.Stack(t, file)
	spec := doc.Stack.Spec
	s := &stack{l: l, tr: tr, file: file, ns: doc.Stack.Metadata.Namespace, host: spec.Host, spec: spec,
		user: spec.Auth.Users[0].Name, password: render.Password(spec.Auth.Users[0].Password.FromEnv)}
	for _, claim := range claims {
		l.ProvideVolume(s.ns, claim, spec.Storage.Size)
	}
	// Grafana's namespace is kube-prometheus-stack's, not the stack's.
	if spec.Monitoring.GrafanaDatasource.Enabled {
		if err := l.API.EnsureNamespace(l.Ctx(), spec.Monitoring.GrafanaDatasource.Namespace); err != nil {
			t.Fatal(err)
		}
	}
	objs := render.Objects(t, file)
	took := l.ApplyStack(objs, lab.ApplyOptions{SkipHealth: standInTLS})
	l.Logf("%s: applied %d objects in %d waves: %v", example, len(objs), len(took), took)
	roots := l.StandInTLS(s.ns, "loki-tls", s.host)
	s.c = &client{t: t, http: l.HTTPClient(s.host, roots), base: "https://" + s.host}
	// Traefik loads the TLS Secret asynchronously: wait until it serves it.
	l.Eventually("Traefik serves loki-tls for "+s.host, 30*time.Second, func() string {
		if _, _, err := s.c.do("GET", "/loki/api/v1/labels", "", "", nil); err != nil {
			return err.Error()
		}
		return ""
	})
	return s
}

// TestSeedFlows applies the seed example (the reference deployment) to
// the lab and walks the access flow through real Traefik to real Loki, and
// the data flow from a pod's log through Promtail (the seed's collector).
func TestSeedFlows(t *testing.T) {
	start := time.Now()
	s := deploy(t, "seed", "loki-data-loki-0")
	l, tr, c, spec, file := s.l, s.tr, s.c, s.spec, s.file
	ns, host, user, password := s.ns, s.host, s.user, s.password

	t.Run("basic auth", func(t *testing.T) {
		c.t = t
		code, hdr, body := c.must("GET", "/loki/api/v1/labels", "", "", nil)
		if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `realm="`+spec.Auth.Realm+`"`) {
			t.Fatalf("no credentials: %d %q %s, want 401 with realm %q", code, hdr.Get("WWW-Authenticate"), body, spec.Auth.Realm)
		}
		t.Logf("no credentials → %d, WWW-Authenticate: %s", code, hdr.Get("WWW-Authenticate"))
		if code, _, body := c.must("GET", "/loki/api/v1/labels", user, "wrong-"+password, nil); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d %s, want 401", code, body)
		}
		if code, _, body := c.must("GET", "/loki/api/v1/labels", "nobody", password, nil); code != http.StatusUnauthorized {
			t.Fatalf("unknown user: %d %s, want 401", code, body)
		}
		code, _, body = c.must("GET", "/loki/api/v1/labels", user, password, nil)
		if code != http.StatusOK {
			t.Fatalf("right password: %d %s, want 200", code, body)
		}
		t.Logf("wrong password → 401, unknown user → 401, right password → %d %s", code, trim(body))
	})

	line := fmt.Sprintf("lab seed line %d", time.Now().UnixNano())
	t.Run("push and query", func(t *testing.T) {
		c.t = t
		pushed := c.push(user, password, line)
		found := c.find(user, password, line, pushed)
		t.Logf("push → 204; query_range {job=\"lab\"} found %q after %s", line, found)
	})

	t.Run("plain HTTP does not reach Loki", func(t *testing.T) {
		plain := &client{t: t, http: c.http, base: "http://" + host}
		code, _, body := plain.must("GET", "/loki/api/v1/labels", user, password, nil)
		if code != http.StatusNotFound {
			t.Fatalf("http://%s (entry point web): %d %s, want 404 (no router on web)", host, code, body)
		}
		t.Logf("http:// with the right password → %d (no router on web)", code)
	})

	t.Run("Traefik's view", func(t *testing.T) {
		checkTraefik(t, tr, ns)
	})

	t.Run("NetworkPolicy selects Loki", func(t *testing.T) {
		checkNetworkPolicy(t, l, ns, "loki")
	})

	t.Run("Promtail ships a pod's log", func(t *testing.T) { checkCollectorShips(t, s, "Promtail") })

	t.Run("Prometheus scrapes Loki", func(t *testing.T) { checkScrape(t, s) })

	t.Run("password rotation", func(t *testing.T) {
		c.t = t
		pid := tr.Proc.Pid()
		next := "rotated-" + password
		rotated := render.ObjectsWithEnv(t, file, map[string]string{spec.Auth.Users[0].Password.FromEnv: next})
		secret := findObj(t, rotated, "Secret", "loki-basic-auth")
		if err := l.API.ApplyAs(l.Ctx(), secret, lab.FieldManager); err != nil {
			t.Fatal(err)
		}
		applied := time.Now()
		l.Eventually("Traefik takes the new hash", 60*time.Second, func() string {
			if code, _, _ := c.must("GET", "/loki/api/v1/labels", user, next, nil); code != http.StatusOK {
				return fmt.Sprintf("new password → %d", code)
			}
			return ""
		})
		if code, _, _ := c.must("GET", "/loki/api/v1/labels", user, password, nil); code != http.StatusUnauthorized {
			t.Fatalf("old password after rotation: %d, want 401", code)
		}
		if tr.Proc.Pid() != pid {
			t.Fatal("Traefik was restarted")
		}
		if exited, how := tr.Proc.Exited(); exited {
			t.Fatalf("Traefik exited: %s", how)
		}
		t.Logf("rotation: new password 200 after %s, old password 401, Traefik pid %d unchanged", time.Since(applied).Round(100*time.Millisecond), pid)
		password = next
	})

	t.Run("pod deleted, data kept", func(t *testing.T) {
		c.t = t
		pods := l.Client.CoreV1().Pods(ns)
		old, err := pods.Get(l.Ctx(), "loki-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := pods.Delete(l.Ctx(), "loki-0", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		deleted := time.Now()
		l.Eventually("loki-0 back and Ready", 3*time.Minute, func() string {
			p, err := pods.Get(l.Ctx(), "loki-0", metav1.GetOptions{})
			if err != nil {
				return err.Error()
			}
			if p.UID == old.UID {
				return "still the old pod"
			}
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					return ""
				}
			}
			return "not Ready"
		})
		found := c.find(user, password, line, deleted.Add(-time.Hour))
		t.Logf("loki-0 deleted → new pod Ready after %s; the line pushed before is still found (%s)", time.Since(deleted).Round(100*time.Millisecond), found)
	})
	l.Logf("seed lab run: %s in all", time.Since(start).Round(100*time.Millisecond))
}

// traefikItem is a router, middleware or service in Traefik's API.
type traefikItem struct {
	Name        string   `json:"name"`
	Status      string   `json:"status"`
	Provider    string   `json:"provider"`
	EntryPoints []string `json:"entryPoints"`
	Middlewares []string `json:"middlewares"`
	Rule        string   `json:"rule"`
	TLS         any      `json:"tls"`
	Error       []string `json:"error"`
	Type        string   `json:"type"`
}

// traefikState reads Traefik's routers, middlewares and services, and
// fails the test for any that is in error.
func traefikState(t *testing.T, tr *lab.Traefik) (routers, mws, svcs []traefikItem) {
	t.Helper()
	for path, into := range map[string]*[]traefikItem{"/api/http/routers": &routers, "/api/http/middlewares": &mws, "/api/http/services": &svcs} {
		if err := tr.Get(path, into); err != nil {
			t.Fatal(err)
		}
		for _, it := range *into {
			if len(it.Error) > 0 || (it.Status != "" && it.Status != "enabled") {
				t.Errorf("Traefik %s %s: status %s, errors %v", path, it.Name, it.Status, it.Error)
			}
		}
	}
	return routers, mws, svcs
}

// checkTraefik asserts, through Traefik's API, that the router of the
// Ingress exists on websecure with the basic-auth middleware and TLS, and
// that no router, middleware or service Traefik built is in error.
func checkTraefik(t *testing.T, tr *lab.Traefik, ns string) {
	t.Helper()
	routers, mws, svcs := traefikState(t, tr)
	var router *traefikItem
	for i := range routers {
		if strings.HasPrefix(routers[i].Name, ns+"-loki-") && routers[i].Provider == "kubernetes" {
			router = &routers[i]
		}
	}
	if router == nil {
		t.Fatalf("no router of Ingress %s/loki; routers: %+v", ns, routers)
	}
	want := ns + "-loki-basic-auth@kubernetescrd"
	if len(router.EntryPoints) != 1 || router.EntryPoints[0] != "websecure" || router.TLS == nil ||
		len(router.Middlewares) != 1 || router.Middlewares[0] != want {
		t.Fatalf("router %s: entry points %v, tls %v, middlewares %v; want [websecure], tls, [%s]", router.Name, router.EntryPoints, router.TLS, router.Middlewares, want)
	}
	var mw *traefikItem
	for i := range mws {
		if mws[i].Name == want {
			mw = &mws[i]
		}
	}
	if mw == nil || mw.Type != "basicauth" {
		t.Fatalf("middleware %s: %+v, want a basicauth middleware", want, mw)
	}
	t.Logf("Traefik: router %s (%s) on %v, tls, middlewares %v; %d routers, %d middlewares, %d services, none in error",
		router.Name, router.Rule, router.EntryPoints, router.Middlewares, len(routers), len(mws), len(svcs))
}

// checkNetworkPolicy: the lab enforces no NetworkPolicy (no CNI), so the
// rendered policy is checked for what would make it wrong on a cluster:
// its pod selector selects the running Loki pods, every port it opens is a
// port of those pods (a name no container has opens nothing), and every
// namespace it admits exists.
func checkNetworkPolicy(t *testing.T, l *lab.Lab, ns, name string) {
	t.Helper()
	np, sel := policySelector(t, l, ns, name)
	pods, err := l.Client.CoreV1().Pods(ns).List(l.Ctx(), metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) == 0 {
		t.Fatalf("NetworkPolicy %s selects no pod (%s)", name, sel)
	}
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name)
		ports := map[string]bool{}
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				ports[cp.Name] = true
				ports[strconv.Itoa(int(cp.ContainerPort))] = true
			}
		}
		for _, rule := range np.Spec.Ingress {
			for _, rp := range rule.Ports {
				if rp.Port != nil && !ports[rp.Port.String()] {
					t.Errorf("NetworkPolicy %s opens port %s, which pod %s does not have", name, rp.Port, p.Name)
				}
			}
		}
	}
	var peers []string
	for _, rule := range np.Spec.Ingress {
		for _, from := range rule.From {
			if from.NamespaceSelector == nil {
				continue
			}
			nsSel, err := metav1.LabelSelectorAsSelector(from.NamespaceSelector)
			if err != nil {
				t.Fatal(err)
			}
			list, err := l.Client.CoreV1().Namespaces().List(l.Ctx(), metav1.ListOptions{LabelSelector: nsSel.String()})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Items) == 0 {
				t.Errorf("NetworkPolicy %s admits namespaces %s: none exists", name, nsSel)
			}
			for _, n := range list.Items {
				peers = append(peers, n.Name)
			}
		}
	}
	t.Logf("NetworkPolicy %s selects %v; its ports exist on them; peers from namespaces %v (not enforced: the lab has no CNI)", name, names, peers)
}

// policySelector is the live NetworkPolicy ns/name and its pod selector.
func policySelector(t *testing.T, l *lab.Lab, ns, name string) (*networkingv1.NetworkPolicy, labels.Selector) {
	t.Helper()
	np, err := l.Client.NetworkingV1().NetworkPolicies(ns).Get(l.Ctx(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		t.Fatal(err)
	}
	return np, sel
}

// client speaks to Loki through Traefik.
type client struct {
	t    testing.TB
	http *http.Client
	base string
}

func (c *client) do(method, path, user, password string, body io.Reader) (int, http.Header, error) {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	resp.Header.Set("X-Lab-Body", string(b))
	return resp.StatusCode, resp.Header, nil
}

func (c *client) must(method, path, user, password string, body io.Reader) (int, http.Header, string) {
	c.t.Helper()
	code, hdr, err := c.do(method, path, user, password, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	b := hdr.Get("X-Lab-Body")
	hdr.Del("X-Lab-Body")
	return code, hdr, b
}

// push sends one line with label job=lab and returns when it was sent.
func (c *client) push(user, password, line string) time.Time {
	c.t.Helper()
	now := time.Now()
	payload := fmt.Sprintf(`{"streams":[{"stream":{"job":"lab"},"values":[[%q,%q]]}]}`, strconv.FormatInt(now.UnixNano(), 10), line)
	code, _, body := c.must("POST", "/loki/api/v1/push", user, password, strings.NewReader(payload))
	if code != http.StatusNoContent {
		c.t.Fatalf("push: %d %s, want 204", code, body)
	}
	return now
}

// find polls query_range for the line and says how long it took.
func (c *client) find(user, password, line string, since time.Time) time.Duration {
	c.t.Helper()
	start := time.Now()
	q := url.Values{
		"query": {`{job="lab"}`}, "limit": {"1000"},
		"start": {strconv.FormatInt(since.Add(-time.Minute).UnixNano(), 10)},
		"end":   {strconv.FormatInt(time.Now().Add(time.Minute).UnixNano(), 10)},
	}
	var last string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		code, _, body := c.must("GET", "/loki/api/v1/query_range?"+q.Encode(), user, password, nil)
		if code != http.StatusOK {
			last = fmt.Sprintf("%d %s", code, trim(body))
			continue
		}
		var r struct {
			Data struct {
				Result []struct {
					Values [][2]string `json:"values"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			c.t.Fatalf("query_range: %v: %s", err, trim(body))
		}
		for _, s := range r.Data.Result {
			for _, v := range s.Values {
				if v[1] == line {
					return time.Since(start).Round(100 * time.Millisecond)
				}
			}
		}
		last = "200 without the line: " + trim(body)
	}
	c.t.Fatalf("query_range never returned %q; last: %s", line, last)
	return 0
}

func findObj(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	return render.Find(t, objs, kind, name)
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
