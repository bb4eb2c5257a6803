package testtools

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Vault is a real Vault server in dev mode on 127.0.0.1 (in-memory storage,
// unsealed, root token RootToken), stopped when the test ends.
type Vault struct {
	Addr      string // http(s)://127.0.0.1:port
	RootToken string
	CACert    string // with TLS: the CA that signed the server certificate
	bin       string
	home      string
}

// StartVault starts `vault server -dev`; with tls, -dev-tls and its own CA.
func StartVault(t testing.TB, withTLS bool) *Vault {
	t.Helper()
	bin := Find(t, "vault")
	v := &Vault{RootToken: "root-" + strings.ReplaceAll(t.Name(), "/", "-"), bin: bin, home: t.TempDir()}
	listen := Addr(FreePort(t))
	args := []string{"server", "-dev", "-dev-root-token-id=" + v.RootToken, "-dev-listen-address=" + listen, "-dev-no-store-token"}
	client := &http.Client{Timeout: 2 * time.Second}
	v.Addr = "http://" + listen
	if withTLS {
		dir := t.TempDir()
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+dir)
		v.Addr = "https://" + listen
		v.CACert = filepath.Join(dir, "vault-ca.pem")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + v.home, "PATH=" + os.Getenv("PATH"), "VAULT_DISABLE_MLOCK=true"}
	StartProcess(t, "vault", cmd)
	if withTLS {
		waitFile(t, v.CACert, 30*time.Second)
		pem, err := os.ReadFile(v.CACert)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	WaitHTTP(t, client, v.Addr+"/v1/sys/health", 60*time.Second, 200)
	return v
}

func waitFile(t testing.TB, name string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if st, err := os.Stat(name); err == nil && st.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", name, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CLI runs the vault CLI against the server as root and returns its stdout.
func (v *Vault) CLI(t testing.TB, args ...string) string {
	t.Helper()
	return v.CLIAs(t, v.RootToken, args...)
}

// CLIAs runs the vault CLI with another token.
func (v *Vault) CLIAs(t testing.TB, token string, args ...string) string {
	t.Helper()
	cmd := exec.Command(v.bin, args...)
	cmd.Env = []string{"HOME=" + v.home, "VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + token, "VAULT_CACERT=" + v.CACert, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("vault %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}
