// Package vaultk8s tests loki-cmp's Vault Kubernetes auth end to end: a real
// kube-apiserver issues the service account token (TokenRequest) and
// reviews it for a real Vault (TokenReview), exactly as in a cluster where
// the plugin sidecar logs in with the repo-server's service account.
package vaultk8s

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/thedevops/loki-cmp/internal/cli"
	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/apiserver"
)

const (
	namespace = "argocd"
	boundSA   = "argocd-repo-server"
	otherSA   = "some-other-app"
	password  = "k8s-auth-PLANTED-password"
	policy    = `path "secret/data/loki/*" { capabilities = ["read"] }`
)

func TestKubernetesAuth(t *testing.T) {
	kube := apiserver.Start(t)
	clients, err := kubernetes.NewForConfig(kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := clients.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	jwt := map[string]string{}
	for _, sa := range []string{boundSA, otherSA} {
		if _, err := clients.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		tr, err := clients.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("TokenRequest for %s: %v", sa, err)
		}
		jwt[sa] = writeFile(t, sa+".jwt", tr.Status.Token)
	}

	v := testtools.StartVault(t, false)
	v.CLI(t, "kv", "put", "-mount=secret", "loki/basic-auth", "admin="+password)
	v.CLI(t, "policy", "write", "loki-read", writeFile(t, "policy.hcl", policy))
	v.CLI(t, "auth", "enable", "kubernetes")
	// Vault reviews the sidecar's token with the apiserver's TokenReview
	// API, authenticating with a reviewer token (here the admin token).
	v.CLI(t, "write", "auth/kubernetes/config",
		"kubernetes_host="+kube.Config.Host,
		"kubernetes_ca_cert=@"+kube.Config.TLSClientConfig.CAFile,
		"token_reviewer_jwt="+kube.Config.BearerToken)
	v.CLI(t, "write", "auth/kubernetes/role/loki-cmp",
		"bound_service_account_names="+boundSA,
		"bound_service_account_namespaces="+namespace,
		"token_policies=loki-read", "token_ttl=5m")

	file := writeFile(t, "loki.yaml", `apiVersion: lokicmp.thedevops.dev/v1alpha1
kind: LokiStack
spec:
  host: loki.example.org
  auth:
    bcryptCost: 4
    users:
    - {name: admin, password: {fromVault: {path: secret/loki/basic-auth, key: admin}}}
`)
	env := func(tokenFile string) func(string) (string, bool) {
		m := map[string]string{
			"VAULT_ADDR":                    v.Addr,
			"LOKI_CMP_VAULT_AUTH":           "kubernetes",
			"LOKI_CMP_VAULT_K8S_ROLE":       "loki-cmp",
			"LOKI_CMP_VAULT_K8S_TOKEN_FILE": tokenFile,
			"LOKI_CMP_VAULT_ALLOWED_PATHS":  "secret/loki/*",
		}
		return func(k string) (string, bool) { s, ok := m[k]; return s, ok }
	}
	secrets := []string{"PLANTED", v.RootToken, kube.Config.BearerToken, readFile(t, jwt[boundSA]), readFile(t, jwt[otherSA])}

	t.Run("the bound service account reads the secret; its token is revoked", func(t *testing.T) {
		before := loginTokens(t, v)
		stdout, stderr, code := run(env(jwt[boundSA]), file)
		noLeak(t, secrets, stdout, stderr)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "kind: Secret") {
			t.Errorf("no Secret in the output")
		}
		if after := loginTokens(t, v); after != before {
			t.Errorf("kubernetes login tokens alive: %d before, %d after: not revoked", before, after)
		}
	})
	t.Run("another service account is refused", func(t *testing.T) {
		stdout, stderr, code := run(env(jwt[otherSA]), file)
		noLeak(t, secrets, stdout, stderr)
		if code != cli.ExitVaultDenied || stdout != "" ||
			!strings.Contains(stderr, ": kubernetes login (role loki-cmp, mount kubernetes): login refused") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("a missing token file is named", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "token")
		_, stderr, code := run(env(missing), file)
		if code != cli.ExitVaultDenied || !strings.Contains(stderr, "cannot read "+missing+" (LOKI_CMP_VAULT_K8S_TOKEN_FILE): no such file") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func run(env func(string) (string, bool), file string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, []string{"generate", "-f", file}, env)
	return out.String(), errOut.String(), code
}

func noLeak(t *testing.T, secrets []string, outs ...string) {
	t.Helper()
	for _, o := range outs {
		for _, s := range secrets {
			if s != "" && strings.Contains(o, s) {
				t.Errorf("output leaks a secret (%.8s...)", s)
			}
		}
	}
}

// loginTokens counts live tokens created by Kubernetes logins.
func loginTokens(t *testing.T, v *testtools.Vault) int {
	n := 0
	for _, a := range strings.Split(strings.Trim(v.CLI(t, "list", "-format=json", "auth/token/accessors"), "[]\n "), ",") {
		if a = strings.Trim(strings.TrimSpace(a), `"`); a != "" &&
			strings.Contains(v.CLI(t, "token", "lookup", "-accessor", "-format=json", a), `"path": "auth/kubernetes/login"`) {
			n++
		}
	}
	return n
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
