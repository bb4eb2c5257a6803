package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/thedevops/loki-cmp/test/internal/manifest"
)

// CRDSource is a file of CustomResourceDefinitions inside a Go module, at
// an exact version. The projects publish their CRDs in their own modules,
// so the test loads the real, pinned definitions from the module cache
// (the envtest pattern) and the repository holds no copy.
type CRDSource struct {
	Module, Version string
	Files           []string // paths inside the module
}

// CRDSources are the CRDs of every custom resource loki-cmp emits or its
// users deploy it with. Pinned; bump deliberately.
var CRDSources = []CRDSource{
	{"github.com/traefik/traefik/v3", "v3.5.3", []string{
		// every traefik.io CRD, Middleware among them
		"docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml",
	}},
	{"github.com/cert-manager/cert-manager", "v1.19.5", []string{
		"deploy/crds/cert-manager.io_certificates.yaml",
		"deploy/crds/cert-manager.io_clusterissuers.yaml",
		"deploy/crds/cert-manager.io_issuers.yaml",
	}},
	{"github.com/prometheus-operator/prometheus-operator", "v0.85.0", []string{
		"example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
	}},
	// The operators that make the object store's Secret (credentials
	// externalSecret, vaultStaticSecret): only the CRDs of what loki-cmp
	// renders. v0.16.2 is the newest ESO the proxy serves whole and serves
	// external-secrets.io/v1; v0.10.0 the one VSO it serves.
	{"github.com/external-secrets/external-secrets", "v0.16.2", []string{
		"config/crds/bases/external-secrets.io_externalsecrets.yaml",
	}},
	{"github.com/hashicorp/vault-secrets-operator", "v0.10.0", []string{
		"config/crd/bases/secrets.hashicorp.com_vaultstaticsecrets.yaml",
	}},
	// Only this one file is needed from Argo CD, whose module requires a
	// very large dependency tree: it is downloaded as a module zip, never
	// added to go.mod.
	{"github.com/argoproj/argo-cd/v3", "v3.6.1", []string{
		"manifests/crds/application-crd.yaml",
	}},
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs creates every CRD of sources for real and waits until each
// is Established. It returns the names of the CRDs installed.
func (s *Server) InstallCRDs(t testing.TB, sources []CRDSource) []string {
	t.Helper()
	// Warnings about third-party CRDs are not loki-cmp's to fix: log them.
	var warnings Warnings
	ctx := WithWarnings(context.Background(), &warnings)
	defer func() {
		for _, w := range warnings.List() {
			t.Logf("warning while installing CRDs: %s", w)
		}
	}()
	var names []string
	for _, src := range sources {
		dir := ModuleDir(t, src.Module, src.Version)
		for _, f := range src.Files {
			crds, err := manifest.DecodeFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatalf("%s@%s %s: %v", src.Module, src.Version, f, err)
			}
			for _, crd := range crds {
				if crd.GetKind() != "CustomResourceDefinition" {
					t.Fatalf("%s@%s %s: unexpected %s %s", src.Module, src.Version, f, crd.GetKind(), crd.GetName())
				}
				if _, err := s.Dynamic.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
					t.Fatalf("install CRD %s from %s@%s: %v", crd.GetName(), src.Module, src.Version, err)
				}
				names = append(names, crd.GetName())
			}
		}
	}
	for _, name := range names {
		s.waitEstablished(ctx, t, name, 60*time.Second)
	}
	s.mapper.Reset()
	return names
}

func (s *Server) waitEstablished(ctx context.Context, t testing.TB, name string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		crd, err := s.Dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get CRD %s: %v", name, err)
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			if c, ok := c.(map[string]any); ok && c["type"] == "Established" && c["status"] == "True" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRD %s not Established after %s; conditions: %v", name, timeout, conds)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ModuleDir returns the directory of module@version in the module cache,
// downloading it through the module proxy (checksum-verified) if needed.
// moduleToolchain names the Go toolchain a module needs to be downloaded at
// all: the go command refuses a module whose go line is newer than itself
// ("requires go >= 1.27.0 (running go 1.26.8; GOTOOLCHAIN=local)"). Argo
// CD v3.6 says go 1.27.0; test/argocd builds it with the same toolchain.
var moduleToolchain = map[string]string{"github.com/argoproj/argo-cd/v3": "go1.27.3"}

// ModuleToolchain is the GOTOOLCHAIN a module is downloaded with ("" for
// the machine's Go).
func ModuleToolchain(module string) string { return moduleToolchain[module] }

func ModuleDir(t testing.TB, module, version string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH, needed to fetch %s@%s: %v", module, version, err)
	}
	cmd := exec.Command(goBin, "mod", "download", "-json", module+"@"+version)
	// Outside any module, so the test module's go.mod is neither read nor changed.
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on", "GOFLAGS=")
	if tc := ModuleToolchain(module); tc != "" {
		cmd.Env = append(cmd.Env, "GOTOOLCHAIN="+tc)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || runErr != nil || info.Error != "" || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s %s %s", module, version, runErr, info.Error, stderr.String(), out)
	}
	return info.Dir
}
