// Package apiserver runs a real kube-apiserver (with its etcd) on 127.0.0.1
// for tests, installs CustomResourceDefinitions into it and submits objects
// with server-side dry-run. Nothing is imitated: admission (Pod Security
// included), defaulting, schema and CRD validation are the server's own.
package apiserver

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// Server is a running kube-apiserver and the clients to talk to it.
type Server struct {
	Config  *rest.Config // admin (system:masters), warnings routed by context
	Dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper

	// What the lab's other components (controller manager, scheduler)
	// need to talk to it and to sign service-account tokens.
	Dir                  string // state and certs of this server
	Token                string // the admin bearer token
	SAKeyFile, SAPubFile string // service-account signing key pair
	CAFile               string // the serving certificate (self-signed)
}

// Options place the server; the zero value is the tests' default: free
// ports of 127.0.0.1 and the service range 10.0.0.0/24.
type Options struct {
	Address     string // bind and advertise address of the secure port
	Port        int    // secure port (0: a free one)
	ServiceCIDR string
}

// Start starts etcd and kube-apiserver on free ports of 127.0.0.1 with
// their state in temp dirs, waits until the apiserver is ready, and stops
// both when t ends.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith is Start at the address, port and service range of opts.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	etcdBin := testtools.Find(t, "etcd")
	apiserverBin := testtools.Find(t, "kube-apiserver")
	dir := t.TempDir()
	if opts.Address == "" {
		opts.Address = "127.0.0.1"
	}
	if opts.ServiceCIDR == "" {
		opts.ServiceCIDR = "10.0.0.0/24"
	}

	ports := proc.FreePorts(t, 3)
	etcdClient, etcdPeer, securePort := ports[0], ports[1], ports[2]
	if opts.Port != 0 {
		securePort = opts.Port
	}
	etcd := proc.Start(t, dir, "etcd", exec.Command(etcdBin,
		"--name=test",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+proc.URL(etcdClient),
		"--advertise-client-urls="+proc.URL(etcdClient),
		"--listen-peer-urls="+proc.URL(etcdPeer),
		"--initial-advertise-peer-urls="+proc.URL(etcdPeer),
		"--initial-cluster=test="+proc.URL(etcdPeer),
	))
	waitHTTP(t, etcd, http.DefaultClient, proc.URL(etcdClient)+"/health", 30*time.Second)

	token := randomHex(t, 16)
	tokens := writeFile(t, dir, "tokens.csv", token+",admin,admin,system:masters\n")
	saKey, saPub := serviceAccountKeys(t, dir)
	certDir := filepath.Join(dir, "certs")
	apiserver := proc.Start(t, dir, "kube-apiserver", exec.Command(apiserverBin,
		"--etcd-servers="+proc.URL(etcdClient),
		"--bind-address="+opts.Address,
		"--advertise-address="+opts.Address,
		"--secure-port="+strconv.Itoa(securePort),
		"--cert-dir="+certDir,
		"--token-auth-file="+tokens,
		"--authorization-mode=AlwaysAllow",
		"--service-account-key-file="+saPub,
		"--service-account-signing-key-file="+saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range="+opts.ServiceCIDR,
		// Admission stays at its defaults: PodSecurity is one of them.
	))

	cfg := &rest.Config{
		Host:            "https://" + net.JoinHostPort(opts.Address, strconv.Itoa(securePort)),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(certDir, "apiserver.crt")},
		// Each request's warnings go to the collector in its context.
		WarningHandlerWithContext: contextWarnings{},
		QPS:                       -1, // no client-side throttling
	}
	waitFile(t, apiserver, cfg.TLSClientConfig.CAFile, 60*time.Second)
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, apiserver, httpClient, cfg.Host+"/readyz", 120*time.Second)

	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{
		Config:  cfg,
		Dynamic: dyn,
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		Dir:     dir, Token: token, SAKeyFile: saKey, SAPubFile: saPub, CAFile: cfg.TLSClientConfig.CAFile,
	}
}

// waitHTTP polls url until it answers 200, failing early if p exits.
func waitHTTP(t testing.TB, p *proc.Process, client *http.Client, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if exited, how := p.Exited(); exited {
			t.Fatalf("%s exited (%s) before %s was ready:\n%s", p.Name, how, url, p.Tail(4000))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		cancel()
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s (last: %s)", url, timeout, last)
}

// waitFile waits until p has written name (the self-signed serving cert).
func waitFile(t testing.TB, p *proc.Process, name string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(name); err == nil && st.Size() > 0 {
			return
		}
		if exited, how := p.Exited(); exited {
			t.Fatalf("%s exited (%s):\n%s", p.Name, how, p.Tail(4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not write %s within %s", p.Name, name, timeout)
}

// serviceAccountKeys writes the key pair kube-apiserver requires for
// service-account tokens (none are issued in these tests).
func serviceAccountKeys(t testing.TB, dir string) (keyFile, pubFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = writeFile(t, dir, "sa.key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	pubFile = writeFile(t, dir, "sa.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
	return keyFile, pubFile
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// String names the server in messages.
func (s *Server) String() string { return fmt.Sprintf("kube-apiserver at %s", s.Config.Host) }
