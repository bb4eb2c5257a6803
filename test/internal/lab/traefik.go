package lab

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// Traefik is the lab's ingress controller, configured as k3s ships it: the
// kubernetesingress and kubernetescrd providers watching the lab's API
// server, entry points web (:80) and websecure (:443, TLS), ingress class
// traefik; its API (read-only, on loopback) is how the tests see what it
// made of the rendered objects. It runs on the lab's host address, as
// k3s's ServiceLB puts it on the node's.
type Traefik struct {
	Proc *proc.Process
	API  string // http://127.0.0.1:9000
}

// StartTraefik runs Traefik against the lab. Version checks and usage
// reports are off: the lab has no way out, and Traefik should not try.
func (l *Lab) StartTraefik() *Traefik {
	t := l.t
	t.Helper()
	cmd := exec.Command(testtools.Find(t, "traefik"),
		"--providers.kubernetesingress=true",
		"--providers.kubernetescrd=true",
		// Without a published address the Ingress has no status and Argo
		// CD's health check keeps it Progressing (k3s: the ServiceLB address).
		"--providers.kubernetesingress.ingressendpoint.ip="+HostIP,
		"--entrypoints.web.address="+HostIP+":80",
		"--entrypoints.websecure.address="+HostIP+":443",
		"--entrypoints.websecure.http.tls=true",
		"--entrypoints.traefik.address=127.0.0.1:9000",
		"--api.insecure=true",
		"--ping=true",
		"--log.level=INFO",
		"--accesslog=true",
		"--global.checknewversion=false",
		"--global.sendanonymoususage=false",
	)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+l.Kubeconfig)
	tr := &Traefik{Proc: proc.Start(t, l.Dir, "traefik", cmd), API: "http://127.0.0.1:9000"}
	l.Eventually("Traefik's ping", 60*time.Second, func() string {
		if exited, how := tr.Proc.Exited(); exited {
			t.Fatalf("traefik exited (%s):\n%s", how, tr.Proc.Tail(4000))
		}
		resp, err := http.Get(tr.API + "/ping")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return ""
	})
	l.Logf("traefik: up (pid %d)", tr.Proc.Pid())
	return tr
}

// Get decodes one of Traefik's API documents (e.g. /api/http/routers).
func (tr *Traefik) Get(path string, into any) error {
	return getJSON(http.DefaultClient, tr.API+path, into)
}

// getJSON decodes the JSON document at url into v (the lab reads Traefik's
// and Prometheus's APIs so); any status but 200 is an error with the body.
func getJSON(c *http.Client, url string, v any) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %v", url, err)
	}
	return nil
}

// HTTPClient is an HTTP client that reaches host on Traefik's entry points
// (the lab's host address, whatever the name resolves to) and trusts only
// roots.
func (l *Lab) HTTPClient(host string, roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return dialer.DialContext(ctx, network, net.JoinHostPort(HostIP, port))
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: host},
			DisableKeepAlives: true,
		},
	}
}

// StandInTLS is a stand-in for cert-manager, for a lab that does not run
// it (StartACME): a throwaway CA made by the test signs a certificate for
// host, stored as the kubernetes.io/tls Secret the Ingress names. It
// returns the CA to trust.
func (l *Lab) StandInTLS(namespace, secret, host string) *x509.CertPool {
	t := l.t
	t.Helper()
	ca, certPEM, keyPEM := l.issue("loki-cmp lab stand-in CA (not cert-manager)", host)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: namespace},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM},
	}
	_, err := l.Client.CoreV1().Secrets(namespace).Create(l.Ctx(), s, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = l.Client.CoreV1().Secrets(namespace).Update(l.Ctx(), s, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("stand-in TLS Secret %s/%s: %v", namespace, secret, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool
}

// issue makes a throwaway CA named caName and a serving certificate for
// name (a DNS name or an IP), valid for a day; PEM cert and key.
func (l *Lab) issue(caName, name string) (ca *x509.Certificate, certPEM, keyPEM []byte) {
	t := l.t
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: caName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(name); ip != nil {
		leaf.IPAddresses = []net.IP{ip}
	} else {
		leaf.DNSNames = []string{name}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return ca, pemCert(leafDER), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// pemCert is a DER certificate as PEM.
func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// writeFiles writes name -> content into dir (made if missing), 0600.
func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// selfSignedFiles writes a serving certificate for name and its key (the
// kubelet API's: the API server does not verify it without
// --kubelet-certificate-authority, as on most clusters).
func (l *Lab) selfSignedFiles(base, name string) (certFile, keyFile string) {
	_, certPEM, keyPEM := l.issue("loki-cmp lab "+base, name)
	certFile, keyFile = filepath.Join(l.Dir, base+".crt"), filepath.Join(l.Dir, base+".key")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		l.t.Fatal(err)
	}
	return certFile, keyFile
}
