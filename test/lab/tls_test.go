package lab_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/thedevops/loki-cmp/test/internal/lab"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// The email of the ClusterIssuers a cluster has before loki-cmp (the
// stand-ins below).
const platformEmail = "platform@thedevops.dev"

// tlsStack is one TLS example applied to the TLS lab.
type tlsStack struct {
	example, ns, host string
	secret, cert      string // the Secret the Ingress serves; the Certificate that fills it
	user, password    string
	shim              bool                       // the Certificate is ingress-shim's (annotation mode)
	ownIssuer         *unstructured.Unstructured // the ClusterIssuer the example renders, if any
	// Seen while its challenge was open (while checkIssued waited): the
	// solver's router in Traefik and the solver pods.
	solver     *traefikRouter
	solverPods []string
}

// TestTLSModes issues the certificate of every TLS mode loki-cmp offers,
// for real: cert-manager's controller gets it from Pebble (Let's Encrypt's
// ACME test server) by HTTP-01 through Traefik's web entry point, and
// Traefik serves it on websecure to a client that trusts only Pebble's
// root. The three TLS examples share one lab, as stacks share a cluster.
func TestTLSModes(t *testing.T) {
	start := time.Now()
	l := lab.Start(t)
	tr := l.StartTraefik()
	acme := l.StartACME()
	// tls-certificate and tls-annotation name ClusterIssuers the cluster
	// already has: here, stand-ins at Pebble with the solver loki-cmp's own
	// issuer has.
	for _, name := range []string{"corporate-ca", "letsencrypt-prod"} {
		if err := l.API.ApplyAs(l.Ctx(), acme.ClusterIssuer(name, platformEmail), "helm"); err != nil {
			t.Fatal(err)
		}
	}
	roots := acme.Roots()

	// One apply of the three, wave by wave, as three Applications of one
	// cluster would sync side by side.
	var stacks []*tlsStack
	var objs []*unstructured.Unstructured
	for _, example := range []string{"tls-certificate", "tls-annotation", "tls-acme"} {
		s, o := prepareTLS(t, l, acme, example)
		stacks, objs = append(stacks, s), append(objs, o...)
	}
	l.ApplyStack(objs, lab.ApplyOptions{SkipHealth: map[string]string{"Certificate": "awaited by checkIssued"}})
	l.Logf("the three TLS examples applied: %d objects", len(objs))
	for _, s := range stacks {
		t.Run(s.example, func(t *testing.T) { checkIssued(t, l, tr, s, roots) })
	}
	t.Run("the challenge's route", func(t *testing.T) { checkChallengeRoute(t, stacks) })
	t.Run("renewal", func(t *testing.T) { checkRenewal(t, l, tr, stacks[0], roots) })
	t.Run("unsolvable challenge", func(t *testing.T) { checkUnsolvable(t, l, acme) })
	l.Logf("TLS lab run: %s in all", time.Since(start).Round(100*time.Millisecond))
}

// prepareTLS renders an example, with the one test-only change to an ACME
// ClusterIssuer it renders (Pebble instead of Let's Encrypt), and provides
// its volume.
func prepareTLS(t *testing.T, l *lab.Lab, acme *lab.ACME, example string) (*tlsStack, []*unstructured.Unstructured) {
	t.Helper()
	file := filepath.Join(render.RepoRoot(t), "testdata", "examples", example, "loki.yaml")
	doc := render.Stack(t, file)
	spec := doc.Stack.Spec
	s := &tlsStack{example: example, ns: doc.Stack.Metadata.Namespace, host: spec.Host, secret: spec.TLS.SecretName,
		user: spec.Auth.Users[0].Name, password: render.Password(spec.Auth.Users[0].Password.FromEnv)}
	l.ProvideVolume(s.ns, "loki-data-loki-0", spec.Storage.Size)
	if ds := spec.Monitoring.GrafanaDatasource; ds.Enabled {
		if err := l.API.EnsureNamespace(l.Ctx(), ds.Namespace); err != nil {
			t.Fatal(err)
		}
	}
	objs := render.Objects(t, file)
	// ingress-shim names the Certificate after the Secret; a rendered
	// Certificate has its own name.
	s.cert, s.shim = s.secret, true
	for _, o := range objs {
		switch o.GetKind() {
		case "ClusterIssuer":
			acme.PointAt(o)
			s.ownIssuer = o
		case "Certificate":
			s.cert, s.shim = o.GetName(), false
		}
	}
	return s, objs
}

// checkIssued: the Certificate becomes Ready, Traefik serves it for the
// host, a client trusting only Pebble's root verifies it and gets the
// access flow (401 without credentials, 200 with), and cert-manager has
// cleaned up its solver.
func checkIssued(t *testing.T, l *lab.Lab, tr *lab.Traefik, s *tlsStack, roots *x509.CertPool) {
	var conds []string
	l.Eventually(fmt.Sprintf("Certificate %s/%s Ready", s.ns, s.cert), 3*time.Minute, func() string {
		if s.solver == nil {
			s.solver, s.solverPods = openChallenge(t, l, tr, s.ns)
		}
		c, ready, err := l.Conditions(lab.CertificateGVR, s.ns, s.cert)
		if err != nil {
			return err.Error()
		}
		if conds = c; !ready {
			return fmt.Sprintf("not Ready, conditions %v", c) // never "" (done)
		}
		return ""
	})
	took := createdToReady(t, l, s.ns, s.cert)
	if c, _, err := l.Conditions(lab.CertificateGVR, s.ns, s.cert); err == nil {
		conds = c // once settled: Issuing goes when the Secret is written
	}
	var served *x509.Certificate
	l.Eventually("Traefik serves the issued certificate for "+s.host, 30*time.Second, func() string {
		c, err := l.ServedCertificate(s.host, roots)
		if err != nil {
			return err.Error()
		}
		served = c
		return ""
	})
	if got := secretLeaf(t, l, s.ns, s.secret); !got.Equal(served) {
		t.Fatalf("Traefik serves %s, Secret %s holds %s", lab.Describe(served), s.secret, lab.Describe(got))
	}
	if len(served.DNSNames) != 1 || served.DNSNames[0] != s.host || !strings.HasPrefix(served.Issuer.CommonName, "Pebble") {
		t.Fatalf("served certificate: %s; want DNS %s from Pebble", lab.Describe(served), s.host)
	}
	c := &client{t: t, http: l.HTTPClient(s.host, roots), base: "https://" + s.host}
	if code, _, body := c.must("GET", "/loki/api/v1/labels", "", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d %s, want 401", code, body)
	}
	if code, _, body := c.must("GET", "/loki/api/v1/labels", s.user, s.password, nil); code != http.StatusOK {
		t.Fatalf("right password: %d %s, want 200", code, body)
	}
	checkSolverGone(t, l, s.ns)
	checkOneCertificate(t, l, s)
	if s.ownIssuer != nil {
		checkOwnIssuer(t, l, s.ownIssuer)
	}
	t.Logf("%s: Certificate %s created → Ready in %s (API server's clock); conditions: %s", s.example, s.cert, took, strings.Join(conds, "; "))
	t.Logf("%s: served for %s: %s; verified with Pebble's root only; no credentials → 401, right password → 200", s.example, s.host, lab.Describe(served))
}

// checkOwnIssuer: the ClusterIssuer loki-cmp rendered registered its ACME
// account at the server it names, with the example's email.
func checkOwnIssuer(t *testing.T, l *lab.Lab, rendered *unstructured.Unstructured) {
	t.Helper()
	live, err := l.API.Dynamic.Resource(lab.ClusterIssuerGVR).Get(l.Ctx(), rendered.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server, _, _ := unstructured.NestedString(rendered.Object, "spec", "acme", "server")
	email, _, _ := unstructured.NestedString(rendered.Object, "spec", "acme", "email")
	uri, _, _ := unstructured.NestedString(live.Object, "status", "acme", "uri")
	registered, _, _ := unstructured.NestedString(live.Object, "status", "acme", "lastRegisteredEmail")
	if registered != email || !strings.HasPrefix(uri, strings.TrimSuffix(server, "/dir")) {
		t.Fatalf("ClusterIssuer %s: account %q with email %q; want one at %s with %q", rendered.GetName(), uri, registered, server, email)
	}
	t.Logf("ClusterIssuer %s (loki-cmp's): ACME account %s, email %s", rendered.GetName(), uri, registered)
}

// checkOneCertificate: exactly one Certificate fills the Secret (a
// rendered Certificate and an ingress-shim one would fight over it); in
// annotation mode it is ingress-shim's, owned by the Ingress.
func checkOneCertificate(t *testing.T, l *lab.Lab, s *tlsStack) {
	t.Helper()
	list, err := l.API.Dynamic.Resource(lab.CertificateGVR).Namespace(s.ns).List(l.Ctx(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list.Items {
		if secret, _, _ := unstructured.NestedString(c.Object, "spec", "secretName"); secret == s.secret {
			names = append(names, c.GetName())
		}
	}
	if len(names) != 1 || names[0] != s.cert {
		t.Fatalf("Certificates for Secret %s/%s: %v, want only %s", s.ns, s.secret, names, s.cert)
	}
	if s.shim {
		owners := list.Items[0].GetOwnerReferences()
		if len(owners) != 1 || owners[0].Kind != "Ingress" {
			t.Fatalf("ingress-shim's Certificate %s: owners %v, want the Ingress", s.cert, owners)
		}
	}
}

// checkSolverGone: once the certificate is issued, cert-manager deletes its
// Challenges and with them the solver's pod, Service and Ingress.
func checkSolverGone(t *testing.T, l *lab.Lab, ns string) {
	t.Helper()
	l.Eventually("the HTTP-01 solver cleaned up in "+ns, 60*time.Second, func() string {
		ch, err := l.API.Dynamic.Resource(lab.ChallengeGVR).Namespace(ns).List(l.Ctx(), metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		sel := metav1.ListOptions{LabelSelector: "acme.cert-manager.io/http01-solver=true"}
		pods, err := l.Client.CoreV1().Pods(ns).List(l.Ctx(), sel)
		if err != nil {
			return err.Error()
		}
		ings, err := l.Client.NetworkingV1().Ingresses(ns).List(l.Ctx(), sel)
		if err != nil {
			return err.Error()
		}
		if n := len(ch.Items) + len(pods.Items) + len(ings.Items); n > 0 {
			return fmt.Sprintf("%d challenges, %d solver pods, %d solver ingresses left", len(ch.Items), len(pods.Items), len(ings.Items))
		}
		return ""
	})
}

// checkRenewal forces a renewal as `cmctl renew` does (the Issuing
// condition set with reason ManuallyTriggered) and waits until Traefik
// serves the new certificate, without a restart.
func checkRenewal(t *testing.T, l *lab.Lab, tr *lab.Traefik, s *tlsStack, roots *x509.CertPool) {
	pid := tr.Proc.Pid()
	old := secretLeaf(t, l, s.ns, s.secret)
	certs := l.API.Dynamic.Resource(lab.CertificateGVR).Namespace(s.ns)
	crt, err := certs.Get(l.Ctx(), s.cert, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	revision, _, _ := unstructured.NestedInt64(crt.Object, "status", "revision")
	var conds []any
	all, _, _ := unstructured.NestedSlice(crt.Object, "status", "conditions")
	for _, c := range all {
		if c, ok := c.(map[string]any); ok && c["type"] != "Issuing" {
			conds = append(conds, c)
		}
	}
	conds = append(conds, map[string]any{"type": "Issuing", "status": "True", "reason": "ManuallyTriggered",
		"message": "Certificate re-issuance manually triggered", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)})
	if err := unstructured.SetNestedSlice(crt.Object, conds, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.UpdateStatus(l.Ctx(), crt, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("trigger the renewal: %v", err)
	}
	triggered := time.Now()
	var served *x509.Certificate
	var solver *traefikRouter
	l.Eventually("Traefik serves the renewed certificate", 3*time.Minute, func() string {
		if solver == nil {
			solver = solverRouter(tr, s.ns)
		}
		c, err := l.ServedCertificate(s.host, roots)
		if err != nil {
			return err.Error()
		}
		if c.Equal(old) {
			return "still the first certificate, serial " + old.SerialNumber.Text(16)
		}
		served = c
		return ""
	})
	took := time.Since(triggered).Round(100 * time.Millisecond)
	crt, err = certs.Get(l.Ctx(), s.cert, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(crt.Object, "status", "revision"); r != revision+1 {
		t.Fatalf("Certificate revision %d after the renewal, want %d", r, revision+1)
	}
	if tr.Proc.Pid() != pid {
		t.Fatal("Traefik was restarted")
	}
	// An ACME server may reuse the account's valid authorization for the
	// name (Let's Encrypt does, for 30 days; Pebble 1% of the time even with
	// PEBBLE_AUTHZREUSE=0): then no challenge runs.
	challenge := "no new challenge (the valid authorization was reused)"
	if solver != nil {
		challenge = "a new HTTP-01 challenge, through " + solver.Name
	}
	t.Logf("renewal: %s", challenge)
	t.Logf("renewal of %s: revision %d → %d, Traefik (pid %d, not restarted) serves the new certificate %s after the trigger: %s (was serial %x)",
		s.cert, revision, revision+1, pid, took, lab.Describe(served), old.SerialNumber)
}

// openChallenge is the solver's router in Traefik and the solver pods of
// ns while a challenge is open there (nil when none is).
func openChallenge(t *testing.T, l *lab.Lab, tr *lab.Traefik, ns string) (*traefikRouter, []string) {
	r := solverRouter(tr, ns)
	if r == nil {
		return nil, nil
	}
	return r, notSelectedByPolicy(t, l, ns, "loki")
}

// checkChallengeRoute: while a challenge was open, Traefik routed the
// solver's path on web with no middleware (past loki-cmp's basic auth and
// HTTPS-only router), and the NetworkPolicy left the solver pod alone. The
// first stack's challenge is always seen (checkIssued waits for it from
// the start); the others' may be over before their check begins.
func checkChallengeRoute(t *testing.T, stacks []*tlsStack) {
	seen := 0
	for _, s := range stacks {
		if s.solver == nil {
			continue
		}
		seen++
		if !slices.Contains(s.solver.EntryPoints, "web") || len(s.solver.Middlewares) > 0 {
			t.Errorf("%s: solver router %s on %v, middlewares %v; want web among them and no middleware", s.example, s.solver.Name, s.solver.EntryPoints, s.solver.Middlewares)
		}
		t.Logf("%s: the solver's router while the challenge was open: %s (%s) on %v, middlewares %v; solver pods %v, not selected by NetworkPolicy loki",
			s.example, s.solver.Name, s.solver.Rule, s.solver.EntryPoints, s.solver.Middlewares, s.solverPods)
	}
	if seen == 0 {
		t.Fatalf("no stack's challenge was seen open in Traefik (%s's should have been)", stacks[0].example)
	}
}

// notSelectedByPolicy lists ns's HTTP-01 solver pods and fails if the
// NetworkPolicy policy selects one (it would cut the solver off from
// Traefik on a cluster that enforces it).
func notSelectedByPolicy(t *testing.T, l *lab.Lab, ns, policy string) []string {
	t.Helper()
	_, sel := policySelector(t, l, ns, policy)
	pods, err := l.Client.CoreV1().Pods(ns).List(l.Ctx(), metav1.ListOptions{LabelSelector: "acme.cert-manager.io/http01-solver=true"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		if sel.Matches(labels.Set(p.Labels)) {
			t.Fatalf("NetworkPolicy %s/%s selects the solver pod %s", ns, policy, p.Name)
		}
		names = append(names, p.Name)
	}
	return names
}

// traefikRouter is a router in Traefik's API.
type traefikRouter struct {
	Name        string   `json:"name"`
	Rule        string   `json:"rule"`
	EntryPoints []string `json:"entryPoints"`
	Middlewares []string `json:"middlewares"`
}

// solverRouter is Traefik's router for a cert-manager HTTP-01 solver
// Ingress in ns, if it has one now.
func solverRouter(tr *lab.Traefik, ns string) *traefikRouter {
	var routers []traefikRouter
	if err := tr.Get("/api/http/routers", &routers); err != nil {
		return nil
	}
	for i, r := range routers {
		if strings.HasPrefix(r.Name, ns+"-cm-acme-http-solver-") && strings.Contains(r.Rule, "/.well-known/acme-challenge/") {
			return &routers[i]
		}
	}
	return nil
}

// checkUnsolvable: when the host resolves elsewhere (here, an address of
// the lab where nothing listens, as a DNS record left at an old load
// balancer), the challenge cannot be solved and the Certificate stays not
// Ready, with cert-manager's reason on the Challenge (docs/tls.md says
// where to look).
func checkUnsolvable(t *testing.T, l *lab.Lab, acme *lab.ACME) {
	file := filepath.Join(render.RepoRoot(t), "testdata", "examples", "seed", "loki.yaml")
	doc := render.Stack(t, file)
	ns, host := doc.Stack.Metadata.Namespace, doc.Stack.Spec.Host
	acme.Resolve(host, "198.18.9.9")
	if err := l.API.EnsureNamespace(l.Ctx(), ns); err != nil {
		t.Fatal(err)
	}
	crt := findObj(t, render.Objects(t, file), "Certificate", "loki-tls")
	if err := l.API.ApplyAs(l.Ctx(), crt, lab.FieldManager); err != nil {
		t.Fatal(err)
	}
	var reason string
	l.Eventually("a Challenge for "+host+" with cert-manager's reason", 2*time.Minute, func() string {
		list, err := l.API.Dynamic.Resource(lab.ChallengeGVR).Namespace(ns).List(l.Ctx(), metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		for _, ch := range list.Items {
			if r, _, _ := unstructured.NestedString(ch.Object, "status", "reason"); strings.Contains(r, "198.18.9.9") {
				reason = r
				return ""
			}
		}
		return fmt.Sprintf("%d challenges, none failing yet at 198.18.9.9", len(list.Items))
	})
	conds, ready, err := l.Conditions(lab.CertificateGVR, ns, crt.GetName())
	if err != nil {
		t.Fatal(err)
	}
	if ready {
		t.Fatalf("Certificate %s/%s Ready with its host resolving elsewhere: %v", ns, crt.GetName(), conds)
	}
	t.Logf("host %s → 198.18.9.9: Certificate %s/%s not Ready: %s", host, ns, crt.GetName(), strings.Join(conds, "; "))
	t.Logf("Challenge status.reason: %s", reason)
}

// createdToReady is the time from the Certificate's creation (by the apply,
// or by ingress-shim from the Ingress) to its Ready condition, by the API
// server's timestamps (whole seconds).
func createdToReady(t *testing.T, l *lab.Lab, ns, name string) time.Duration {
	t.Helper()
	crt, err := l.API.Dynamic.Resource(lab.CertificateGVR).Namespace(ns).Get(l.Ctx(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := lab.Condition(crt, "Ready")
	if c == nil {
		t.Fatalf("Certificate %s/%s has no Ready condition", ns, name)
	}
	at, err := time.Parse(time.RFC3339, fmt.Sprint(c["lastTransitionTime"]))
	if err != nil {
		t.Fatal(err)
	}
	return at.Sub(crt.GetCreationTimestamp().Time)
}

// secretLeaf is the first certificate in a kubernetes.io/tls Secret.
func secretLeaf(t *testing.T, l *lab.Lab, ns, name string) *x509.Certificate {
	t.Helper()
	sec, err := l.Client.CoreV1().Secrets(ns).Get(l.Ctx(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(sec.Data["tls.crt"])
	if block == nil {
		t.Fatalf("Secret %s/%s: no PEM in tls.crt", ns, name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
