package lab

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// The lab's certificate path (the TLS flow): Pebble, Let's Encrypt's own
// ACME test server, with its challenge test server as the lab's DNS, and
// cert-manager's controller, which answers HTTP-01 challenges with solver
// pods (cert-manager's acmesolver, run by the lab's kubelet) behind
// Traefik's web entry point. Pebble validates exactly as Let's Encrypt
// does: it resolves the name, connects to port 80 there and fetches the
// token. All of it on the lab's host address, inside the lab's namespaces.

// ACMESolverImage is the solver image cert-manager puts in its HTTP-01
// pods (its default for this version): the lab's kubelet runs its build.
const ACMESolverImage = "quay.io/jetstack/cert-manager-acmesolver:v1.19.5"

// CertManagerNamespace is where cert-manager runs in a cluster (its Helm
// chart's namespace), and so where ClusterIssuers keep their ACME account
// keys.
const CertManagerNamespace = "cert-manager"

// The lab's ports for Pebble and its DNS, on the lab's own addresses.
const (
	pebbleAddr     = HostIP + ":14000" // ACME directory, HTTPS
	pebbleMgmtAddr = HostIP + ":15000" // Pebble's management API (its roots), HTTPS
	dnsAddr        = "127.0.0.1:8053"  // pebble-challtestsrv's DNS
	dnsMgmtAddr    = "127.0.0.1:8055"  // its management API, plain HTTP
)

// GVRs of cert-manager's kinds the tests read.
var (
	CertificateGVR   = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	ClusterIssuerGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
	ChallengeGVR     = schema.GroupVersionResource{Group: "acme.cert-manager.io", Version: "v1", Resource: "challenges"}
)

// ACME is the running certificate path.
type ACME struct {
	// Directory is Pebble's ACME directory URL: what an issuer's
	// spec.acme.server points at instead of Let's Encrypt's.
	Directory string
	// CABundle (PEM) verifies Pebble's own HTTPS listener. It is a
	// stand-in for the web PKI that vouches for Let's Encrypt's API: a
	// throwaway CA the lab makes, given to issuers as spec.acme.caBundle.
	// It is not the CA that signs the certificates Pebble issues (Roots).
	CABundle []byte

	l      *Lab
	client *http.Client // trusts CABundle
}

// StartACME runs the DNS (every name resolves to the lab's host address,
// where Traefik listens, until Resolve says otherwise), Pebble and
// cert-manager's controller, and waits until Pebble serves its directory.
func (l *Lab) StartACME() *ACME {
	t := l.t
	t.Helper()
	ca, certPEM, keyPEM := l.issue("loki-cmp lab stand-in web PKI (Pebble's listener, not an issuing CA)", HostIP)
	a := &ACME{Directory: "https://" + pebbleAddr + "/dir", l: l,
		CABundle: pemCert(ca.Raw)}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	a.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	proc.Start(t, l.Dir, "pebble-challtestsrv", exec.Command(testtools.Find(t, "pebble-challtestsrv"),
		"-dnsserver", dnsAddr, "-management", dnsMgmtAddr,
		"-defaultIPv4", HostIP, "-defaultIPv6", "",
		// Only the DNS: the challenges are cert-manager's to answer.
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", ""))

	dir := filepath.Join(l.Dir, "pebble")
	writeFiles(t, dir, map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM, "config.json": pebbleConfig(dir)})
	cmd := exec.Command(testtools.Find(t, "pebble"), "-config", filepath.Join(dir, "config.json"), "-dnsserver", dnsAddr)
	cmd.Env = append(os.Environ(),
		"PEBBLE_VA_NOSLEEP=1",      // no random wait before each validation
		"PEBBLE_WFE_NONCEREJECT=0", // no deliberately rejected nonces
		"PEBBLE_AUTHZREUSE=0",      // orders validated afresh (but 1% of the time: see the TLS test's renewal)
	)
	pebble := proc.Start(t, l.Dir, "pebble", cmd)
	l.Eventually("Pebble's ACME directory", 30*time.Second, func() string {
		if exited, how := pebble.Exited(); exited {
			t.Fatalf("pebble exited (%s):\n%s", how, pebble.Tail(4000))
		}
		var dir map[string]any
		if err := getJSON(a.client, a.Directory, &dir); err != nil {
			return err.Error()
		}
		return ""
	})
	l.startCertManager()
	l.Logf("acme: Pebble at %s, DNS at %s, cert-manager running", a.Directory, dnsAddr)
	return a
}

// pebbleConfig is Pebble's configuration: its test config but for the
// lab's addresses and port 80 for HTTP-01 (Let's Encrypt's; Pebble's test
// default is 5002), one profile of 90 days as Let's Encrypt's default.
func pebbleConfig(dir string) []byte {
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  pebbleAddr,
		"managementListenAddress":        pebbleMgmtAddr,
		"certificate":                    filepath.Join(dir, "cert.pem"),
		"privateKey":                     filepath.Join(dir, "key.pem"),
		"httpPort":                       80,
		"tlsPort":                        443,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]any{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "as Let's Encrypt's default", "validityPeriod": 90 * 24 * 3600}},
	}}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return b
}

// startCertManager runs cert-manager's controller against the lab's API
// server (out of cluster, as with --kubeconfig), its HTTP-01 self-check
// resolving through the lab's DNS, as Pebble does.
func (l *Lab) startCertManager() {
	t := l.t
	if err := l.API.EnsureNamespace(l.Ctx(), CertManagerNamespace); err != nil {
		t.Fatal(err)
	}
	proc.Start(t, l.Dir, "cert-manager", exec.Command(testtools.Find(t, "cert-manager"),
		"--kubeconfig="+l.Kubeconfig,
		"--cluster-resource-namespace="+CertManagerNamespace,
		"--acme-http01-solver-image="+ACMESolverImage,
		"--acme-http01-solver-nameservers="+dnsAddr,
		"--v=2",
	))
}

// Roots are the CAs of the certificates Pebble issues (it makes a new root
// at every start, as a client that trusts only Pebble must know).
func (a *ACME) Roots() *x509.CertPool {
	t := a.l.t
	t.Helper()
	resp, err := a.client.Get("https://" + pebbleMgmtAddr + "/roots/0")
	if err != nil {
		t.Fatalf("Pebble's root: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if resp.StatusCode != http.StatusOK || !pool.AppendCertsFromPEM(b) {
		t.Fatalf("Pebble's root: %s: %s", resp.Status, b)
	}
	return pool
}

// Resolve makes the lab's DNS answer host with ip (an A record), for
// Pebble and for cert-manager's self-check alike.
func (a *ACME) Resolve(host, ip string) {
	t := a.l.t
	t.Helper()
	body, _ := json.Marshal(map[string]any{"host": host, "addresses": []string{ip}})
	resp, err := http.Post("http://"+dnsMgmtAddr+"/add-a", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("DNS: add %s A %s: %v", host, ip, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DNS: add %s A %s: %s", host, ip, resp.Status)
	}
}

// ClusterIssuer is an ACME ClusterIssuer named name at Pebble, with
// HTTP-01 through Traefik: a stand-in for the Let's Encrypt ClusterIssuer
// a cluster already has (stack-facts: the issuer loki-cmp renders has the
// same solver).
func (a *ACME) ClusterIssuer(name, email string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "ClusterIssuer",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{"acme": map[string]any{
			"email":               email,
			"privateKeySecretRef": map[string]any{"name": name + "-account-key"},
			"solvers": []any{map[string]any{"http01": map[string]any{
				"ingress": map[string]any{"ingressClassName": "traefik"}}}},
		}},
	}}
	a.PointAt(u)
	return u
}

// PointAt is the one test-only change to an ACME issuer: its server is
// Pebble's directory instead of Let's Encrypt's, trusted by CABundle.
func (a *ACME) PointAt(issuer *unstructured.Unstructured) {
	t := a.l.t
	t.Helper()
	if err := unstructured.SetNestedField(issuer.Object, a.Directory, "spec", "acme", "server"); err != nil {
		t.Fatal(err)
	}
	// caBundle is bytes in the API: base64 in JSON.
	if err := unstructured.SetNestedField(issuer.Object, base64.StdEncoding.EncodeToString(a.CABundle), "spec", "acme", "caBundle"); err != nil {
		t.Fatal(err)
	}
}

// Conditions are a cert-manager object's status conditions, "Type=Status
// (Reason): message" each, and whether its Ready condition is True.
func (l *Lab) Conditions(gvr schema.GroupVersionResource, namespace, name string) (conds []string, ready bool, err error) {
	u, err := l.API.Dynamic.Resource(gvr).Namespace(namespace).Get(l.Ctx(), name, metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range list {
		c, _ := c.(map[string]any)
		conds = append(conds, fmt.Sprintf("%v=%v (%v): %v", c["type"], c["status"], c["reason"], c["message"]))
	}
	r := Condition(u, "Ready")
	return conds, r != nil && r["status"] == "True", nil
}

// ServedCertificate is the certificate Traefik's websecure entry point
// presents for host, verified against roots (an error if it does not
// verify).
func (l *Lab) ServedCertificate(host string, roots *x509.CertPool) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(HostIP, "443"), &tls.Config{ServerName: host, RootCAs: roots})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// Describe is one line about a certificate: subject names, issuer,
// validity and serial.
func Describe(c *x509.Certificate) string {
	return fmt.Sprintf("DNS %s, issuer %q, valid %s to %s (%s), serial %x",
		strings.Join(c.DNSNames, ","), c.Issuer.CommonName, c.NotBefore.UTC().Format(time.RFC3339),
		c.NotAfter.UTC().Format(time.RFC3339), c.NotAfter.Sub(c.NotBefore).Round(time.Minute), c.SerialNumber)
}
