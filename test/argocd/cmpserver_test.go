package argocd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v3/cmpserver"
	cmpclient "github.com/argoproj/argo-cd/v3/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v3/cmpserver/plugin"
	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	repoclient "github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/util/app/discovery"
	"github.com/argoproj/argo-cd/v3/util/cmp"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/retry"
	log "github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The password the sidecar's environment holds in these tests. It must never
// appear in anything the cmp-server returns or logs.
const plantedPassword = "pl4nted-Sidecar-Pw-7c1e9a"

// cmpServer is Argo CD's cmp-server, in-process, serving our plugin.yaml on
// a unix socket in a plugin socket directory, as in the sidecar.
type cmpServer struct {
	sockDir string // ARGOCD_PLUGINSOCKFILEPATH
	socket  string
	log     *syncBuffer // everything the cmp-server logged
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCMPServer starts the cmp-server with the repository's plugin.yaml.
// env is the sidecar container's environment (on top of the test's).
func startCMPServer(t *testing.T, env map[string]string) *cmpServer {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	// The cmp-server's work dir (it extracts each request's repository
	// there) and the plugin socket directory shared with the repo-server.
	t.Setenv("ARGOCD_CMP_WORKDIR", t.TempDir())
	sockDir, err := os.MkdirTemp("", "cmp-sock-") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	t.Setenv("ARGOCD_PLUGINSOCKFILEPATH", sockDir)

	// Everything the server logs, at the most verbose level, to check that
	// no secret reaches the sidecar's log either.
	s := &cmpServer{sockDir: sockDir, log: &syncBuffer{}}
	oldOut, oldLevel := log.StandardLogger().Out, log.GetLevel()
	log.SetOutput(s.log)
	log.SetLevel(log.TraceLevel)
	t.Cleanup(func() { log.SetOutput(oldOut); log.SetLevel(oldLevel) })

	// The real plugin.yaml, read and validated by Argo CD's own reader (the
	// file name plugin.yaml is Argo CD's constant).
	cfg, err := plugin.ReadPluginConfig(repoRoot())
	if err != nil {
		t.Fatalf("Argo CD rejects plugin.yaml: %v", err)
	}
	srv, err := cmpserver.NewServer(plugin.CMPServerInitConstants{PluginConfig: *cfg})
	if err != nil {
		t.Fatal(err)
	}
	g, err := srv.CreateGRPC()
	if err != nil {
		t.Fatal(err)
	}
	s.socket = cfg.Address()
	lis, err := net.Listen("unix", s.socket)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Serve(lis) }()
	t.Cleanup(func() {
		g.Stop()
		if err := <-done; err != nil {
			t.Errorf("cmp-server: %v", err)
		}
	})
	return s
}

func (s *cmpServer) client(t *testing.T) cmpclient.ConfigManagementPluginServiceClient {
	t.Helper()
	conn, c, err := cmpclient.NewConfigManagementPluginClientSet(s.socket).NewConfigManagementPluginClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return c
}

// gitRepo is a checked-out repository as the repo-server has it: apps/loki
// holds the seed's loki.yaml, apps/docs has no loki.yaml.
func gitRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	copyFile(t, filepath.Join(repoRoot(), "testdata/examples/seed/loki.yaml"), filepath.Join(repo, "apps/loki/loki.yaml"), 0o644)
	writeFile(t, filepath.Join(repo, "apps/docs/README.md"), []byte("no loki.yaml here\n"), 0o644)
	writeFile(t, filepath.Join(repo, "README.md"), []byte("k3s-gitops\n"), 0o644)
	return repo
}

// app is what the repo-server knows of an Application when it calls the
// plugin.
type app struct {
	name, namespace, path string
	pluginEnv             v1alpha1.Env
	params                v1alpha1.ApplicationSourcePluginParameters
	apiVersions           []string
}

const (
	repoURL  = "https://gitea.thedevops.dev/thedevops/k3s-gitops.git"
	revision = "4f2b9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"
)

// manifestEnv is the environment the repo-server sends with
// GenerateManifest, built as Argo CD v3.6's reposerver/repository does
// (newEnv, then getPluginEnvs: KUBE_VERSION, KUBE_API_VERSIONS,
// ARGOCD_ENV_<name> for the plugin's env, then the parameters' Environ()).
func (a app) manifestEnv(t *testing.T) []string {
	t.Helper()
	env := v1alpha1.Env{
		{Name: "ARGOCD_APP_NAME", Value: a.name},
		{Name: "ARGOCD_APP_NAMESPACE", Value: a.namespace},
		{Name: "ARGOCD_APP_PROJECT_NAME", Value: "default"}, // since v3
		{Name: "ARGOCD_APP_REVISION", Value: revision},
		{Name: "ARGOCD_APP_REVISION_SHORT", Value: revision[:7]},
		{Name: "ARGOCD_APP_REVISION_SHORT_8", Value: revision[:8]},
		{Name: "ARGOCD_APP_SOURCE_REPO_URL", Value: repoURL},
		{Name: "ARGOCD_APP_SOURCE_PATH", Value: a.path},
		{Name: "ARGOCD_APP_SOURCE_TARGET_REVISION", Value: "main"},
	}
	vars := env.Environ()
	vars = append(vars, "KUBE_VERSION=1.31.4+k3s1", "KUBE_API_VERSIONS="+strings.Join(a.apiVersions, ","))
	return a.pluginEnvs(t, env, vars)
}

// detailsEnv is the environment of GetParametersAnnouncement
// (populatePluginAppDetails: no namespace, no KUBE_*).
func (a app) detailsEnv(t *testing.T) []string {
	t.Helper()
	vars := []string{
		"ARGOCD_APP_NAME=" + a.name,
		"ARGOCD_APP_SOURCE_REPO_URL=" + repoURL,
		"ARGOCD_APP_SOURCE_PATH=" + a.path,
		"ARGOCD_APP_SOURCE_TARGET_REVISION=main",
	}
	var env v1alpha1.Env
	for _, v := range vars {
		e, err := v1alpha1.NewEnvEntry(v)
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, e)
	}
	return a.pluginEnvs(t, env, vars)
}

func (a app) pluginEnvs(t *testing.T, env v1alpha1.Env, vars []string) []string {
	t.Helper()
	for _, e := range a.pluginEnv {
		vars = append(vars, "ARGOCD_ENV_"+e.Name+"="+env.Envsubst(e.Value))
	}
	p, err := a.params.Environ()
	if err != nil {
		t.Fatal(err)
	}
	return append(vars, p...)
}

// allAPIs is what a k3s cluster with Traefik, cert-manager and
// kube-prometheus-stack serves (the part loki-cmp checks).
var allAPIs = []string{
	"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1",
	"traefik.io/v1alpha1", "traefik.io/v1alpha1/Middleware", "traefik.io/v1alpha1/IngressRoute",
	"cert-manager.io/v1", "cert-manager.io/v1/Certificate", "cert-manager.io/v1/ClusterIssuer",
	"monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor",
}

func strParam(name, value string) v1alpha1.ApplicationSourcePluginParameter {
	return v1alpha1.ApplicationSourcePluginParameter{Name: name, String_: &value}
}

func mapParam(name string, m map[string]string) v1alpha1.ApplicationSourcePluginParameter {
	return v1alpha1.ApplicationSourcePluginParameter{Name: name, OptionalMap: &v1alpha1.OptionalMap{Map: m}}
}

func rpcContext(t *testing.T) context.Context {
	// The repo-server's default deadline (server.repo.server.timeout.seconds).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func matchRepository(t *testing.T, c cmpclient.ConfigManagementPluginServiceClient, repo, appPath string, env []string) *cmpclient.RepositoryResponse {
	t.Helper()
	ctx := rpcContext(t)
	stream, err := c.MatchRepository(ctx, grpc_retry.Disable())
	if err != nil {
		t.Fatal(err)
	}
	if err := cmp.SendRepoStream(stream.Context(), filepath.Join(repo, appPath), repo, stream, env, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("MatchRepository(%s): %v", appPath, err)
	}
	return resp
}

func generateManifest(t *testing.T, c cmpclient.ConfigManagementPluginServiceClient, repo, appPath string, env []string) ([]string, error) {
	t.Helper()
	ctx := rpcContext(t)
	stream, err := c.GenerateManifest(ctx, grpc_retry.Disable())
	if err != nil {
		t.Fatal(err)
	}
	if err := cmp.SendRepoStream(stream.Context(), filepath.Join(repo, appPath), repo, stream, env, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	if len(resp.Manifests) == 0 {
		// With prune, Argo CD would delete every object of the app.
		t.Fatalf("GenerateManifest(%s) succeeded with an empty manifest list", appPath)
	}
	return resp.Manifests, nil
}

func parametersAnnouncement(t *testing.T, c cmpclient.ConfigManagementPluginServiceClient, repo, appPath string, env []string) ([]*repoclient.ParameterAnnouncement, error) {
	t.Helper()
	ctx := rpcContext(t)
	stream, err := c.GetParametersAnnouncement(ctx, grpc_retry.Disable())
	if err != nil {
		t.Fatal(err)
	}
	if err := cmp.SendRepoStream(stream.Context(), filepath.Join(repo, appPath), repo, stream, env, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.ParameterAnnouncements, nil
}

// objects decodes a YAML stream (or manifest strings) into objects.
func objects(t *testing.T, docs ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range docs {
		d := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(doc), 4096)
		for {
			var o map[string]any
			if err := d.Decode(&o); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("decoding manifests: %v", err)
			}
			if o != nil {
				out = append(out, o)
			}
		}
	}
	return out
}

func objKey(o map[string]any) string {
	md, _ := o["metadata"].(map[string]any)
	return o["apiVersion"].(string) + "/" + o["kind"].(string) + " " + str(md["namespace"]) + "/" + str(md["name"])
}

func str(v any) string { s, _ := v.(string); return s }

func TestCMPServer(t *testing.T) {
	s := startCMPServer(t, map[string]string{"LOKI_ADMIN_PASSWORD": plantedPassword})
	c := s.client(t)
	repo := gitRepo(t)
	seed := app{name: "loki", namespace: "loki", path: "apps/loki", apiVersions: allAPIs}

	t.Run("CheckPluginConfiguration", func(t *testing.T) {
		resp, err := c.CheckPluginConfiguration(rpcContext(t), &emptypb.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("CheckPluginConfiguration: %+v", resp)
		if !resp.IsDiscoveryConfigured || resp.ProvideGitCreds {
			t.Errorf("got %+v, want discovery configured and no git credentials", resp)
		}
	})

	t.Run("MatchRepository", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			want bool
		}{{"apps/loki", true}, {"apps/docs", false}, {".", false}} {
			resp := matchRepository(t, c, repo, tc.path, seed.manifestEnv(t))
			t.Logf("MatchRepository(%s): isSupported=%v isDiscoveryEnabled=%v", tc.path, resp.IsSupported, resp.IsDiscoveryEnabled)
			if resp.IsSupported != tc.want || !resp.IsDiscoveryEnabled {
				t.Errorf("MatchRepository(%s) = %+v, want isSupported=%v, discovery enabled", tc.path, resp, tc.want)
			}
		}
	})

	// The repo-server's own lookup: by plugin name (the socket
	// <name>-<version>.sock), and by discovery when the Application names
	// no plugin.
	t.Run("DetectConfigManagementPlugin", func(t *testing.T) {
		for _, tc := range []struct {
			plugin, path string
			wantErr      string
		}{
			{"loki-cmp-v1", "apps/loki", ""},
			{"", "apps/loki", ""},
			{"loki-cmp", "apps/loki", `could not find cmp-server plugin with name "loki-cmp"`},
			{"loki-cmp-v1", "apps/docs", `could not find cmp-server plugin with name "loki-cmp-v1" supporting the given repository`},
			{"", "apps/docs", "could not find plugin supporting the given repository"},
		} {
			conn, _, err := discovery.DetectConfigManagementPlugin(rpcContext(t), filepath.Join(repo, tc.path), repo, tc.plugin, seed.manifestEnv(t), nil)
			if conn != nil {
				conn.Close()
			}
			t.Logf("DetectConfigManagementPlugin(name=%q, %s): err=%v", tc.plugin, tc.path, err)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("name %q, %s: %v", tc.plugin, tc.path, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("name %q, %s: got error %v, want %q", tc.plugin, tc.path, err, tc.wantErr)
			}
		}
	})

	t.Run("GenerateManifest", func(t *testing.T) {
		a := seed
		a.name = "logging"
		a.params = v1alpha1.ApplicationSourcePluginParameters{
			strParam("retention", "14d"),
			mapParam("common-labels", map[string]string{"team": "platform"}),
		}
		env := a.manifestEnv(t)
		got, err := generateManifest(t, c, repo, "apps/loki", env)
		if err != nil {
			t.Fatalf("GenerateManifest: %v", err)
		}
		gotObjs := objects(t, got...)
		t.Logf("GenerateManifest(apps/loki): %d manifests: %s", len(got), keys(gotObjs))

		// The same input, run directly with the same environment.
		stdout, stderr, code := runLokiCmp(t, filepath.Join(repo, "apps/loki"), env, "generate")
		if code != 0 {
			t.Fatalf("loki-cmp generate: exit %d: %s", code, stderr)
		}
		wantObjs := objects(t, stdout)
		if diff := gocmp.Diff(wantObjs, gotObjs); diff != "" {
			t.Errorf("cmp-server manifests differ from `loki-cmp generate` (-generate +cmp-server):\n%s", diff)
		}

		// The Application's name, parameters and the sidecar's password
		// arrived.
		var secret map[string]any
		for _, o := range gotObjs {
			md := o["metadata"].(map[string]any)
			labels, _ := md["labels"].(map[string]any)
			if labels["app.kubernetes.io/part-of"] != "logging" || labels["team"] != "platform" {
				t.Errorf("%s: labels %v, want part-of=logging (ARGOCD_APP_NAME) and team=platform (parameter)", objKey(o), labels)
			}
			if o["kind"] == "Secret" {
				secret = o
			}
			if o["kind"] == "ConfigMap" && md["name"] == "loki-config" {
				data, _ := o["data"].(map[string]any)
				if cfg := str(data["config.yaml"]); !strings.Contains(cfg, "retention_period: 14d") {
					t.Errorf("loki-config has no retention_period: 14d (parameter retention):\n%s", cfg)
				}
			}
		}
		if secret == nil {
			t.Fatal("no Secret in the manifests")
		}
		checkHtpasswd(t, secret, "admin", plantedPassword)
		checkNoSecret(t, "manifests", strings.Join(got, "\n"))
	})

	t.Run("GenerateManifest/destination namespace", func(t *testing.T) {
		// loki.yaml without metadata.namespace: the destination namespace.
		data, err := os.ReadFile(filepath.Join(repo, "apps/loki/loki.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		noNS := strings.Replace(string(data), "  namespace: loki\n", "", 1)
		if noNS == string(data) {
			t.Fatal("seed loki.yaml has no '  namespace: loki' line")
		}
		writeFile(t, filepath.Join(repo, "apps/loki-ns/loki.yaml"), []byte(noNS), 0o644)
		a := seed
		a.namespace, a.path = "observability", "apps/loki-ns"
		got, err := generateManifest(t, c, repo, a.path, a.manifestEnv(t))
		if err != nil {
			t.Fatalf("GenerateManifest: %v", err)
		}
		objs := objects(t, got...)
		var sts int
		for _, o := range objs {
			md := o["metadata"].(map[string]any)
			ns := str(md["namespace"])
			if o["kind"] == "Namespace" {
				ns = str(md["name"])
			}
			if ns == "loki" || strings.HasPrefix(ns, "loki-") {
				t.Errorf("%s: namespace %q: the destination namespace (ARGOCD_APP_NAMESPACE=observability) was not used", objKey(o), ns)
			}
			if o["kind"] == "StatefulSet" {
				sts++
				if ns != "observability" {
					t.Errorf("StatefulSet in %q, want observability", ns)
				}
			}
		}
		if sts != 1 {
			t.Errorf("%d StatefulSets, want 1", sts)
		}
		t.Logf("GenerateManifest(%s, ARGOCD_APP_NAMESPACE=observability): %s", a.path, keys(objs))
	})

	t.Run("GetParametersAnnouncement", func(t *testing.T) {
		got, err := parametersAnnouncement(t, c, repo, "apps/loki", seed.detailsEnv(t))
		if err != nil {
			t.Fatalf("GetParametersAnnouncement: %v", err)
		}
		for _, p := range got {
			t.Logf("GetParametersAnnouncement: %s", p.String())
		}
		stdout, stderr, code := runLokiCmp(t, filepath.Join(repo, "apps/loki"), nil, "parameters")
		if code != 0 {
			t.Fatalf("loki-cmp parameters: exit %d: %s", code, stderr)
		}
		var want []*repoclient.ParameterAnnouncement
		if err := json.Unmarshal([]byte(stdout), &want); err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, got, cmpopts.IgnoreUnexported(repoclient.ParameterAnnouncement{})); diff != "" {
			t.Errorf("announcement differs from `loki-cmp parameters` (-want +got):\n%s", diff)
		}
		values := map[string]string{}
		for _, p := range got {
			values[p.Name] = p.String_
		}
		for name, want := range map[string]string{
			"host": "loki.thedevops.dev", "storage-size": "10Gi", "storage-class": "longhorn",
			"cluster-issuer": "letsencrypt-prod", "retention": "744h", "bcrypt-cost": "10",
		} {
			if values[name] != want {
				t.Errorf("parameter %q announced with %q, want loki.yaml's %q", name, values[name], want)
			}
		}
		if len(got) == 0 || got[len(got)-1].Name != "common-annotations" || got[len(got)-1].CollectionType != "map" {
			t.Errorf("last parameter: want the map common-annotations, got %v", got)
		}
	})

	t.Run("GetParametersAnnouncement/no loki.yaml", func(t *testing.T) {
		_, err := parametersAnnouncement(t, c, repo, "apps/docs", seed.detailsEnv(t))
		t.Logf("GetParametersAnnouncement(apps/docs): %v", err)
		if err == nil || !strings.Contains(err.Error(), "cannot read loki.yaml") {
			t.Errorf("got %v, want an error naming loki.yaml", err)
		}
	})

	checkNoSecret(t, "cmp-server log", s.log.String())
}

// TestCMPServerErrors: each failure reaches the client as an error with
// loki-cmp's message and exit code, never an empty success, and never with
// the secret in it.
func TestCMPServerErrors(t *testing.T) {
	repo := gitRepo(t)
	seed := app{name: "loki", namespace: "loki", path: "apps/loki", apiVersions: allAPIs}
	literal := strings.Replace(mustRead(t, filepath.Join(repo, "apps/loki/loki.yaml")),
		"{fromEnv: LOKI_ADMIN_PASSWORD}", plantedPassword, 1)
	writeFile(t, filepath.Join(repo, "apps/literal/loki.yaml"), []byte(literal), 0o644)
	writeFile(t, filepath.Join(repo, "apps/empty/loki.yaml"), []byte("# nothing yet\n"), 0o644)
	tooLong := plantedPassword + strings.Repeat("x", 80)

	for _, tc := range []struct {
		name       string
		sidecarEnv map[string]string
		app        func(a *app)
		want       []string
	}{{
		name: "password variable unset in the sidecar",
		want: []string{"exit status 4", "loki-cmp: error: loki.yaml:16:29: spec.auth.users[0].password.fromEnv: environment variable LOKI_ADMIN_PASSWORD is not set"},
	}, {
		name:       "password over bcrypt's 72 bytes",
		sidecarEnv: map[string]string{"LOKI_ADMIN_PASSWORD": tooLong},
		want:       []string{"exit status 4", "longer than 72 bytes"},
	}, {
		name:       "literal password in loki.yaml",
		sidecarEnv: map[string]string{"LOKI_ADMIN_PASSWORD": plantedPassword},
		app:        func(a *app) { a.path = "apps/literal" },
		want:       []string{"exit status 3", "loki.yaml:16:19: spec.auth.users[0].password: a literal password is not allowed"},
	}, {
		name:       "loki.yaml without a stack",
		sidecarEnv: map[string]string{"LOKI_ADMIN_PASSWORD": plantedPassword},
		app:        func(a *app) { a.path = "apps/empty" },
		want:       []string{"exit status 3", "loki-cmp: error: loki.yaml: file is empty"},
	}, {
		name:       "unknown parameter",
		sidecarEnv: map[string]string{"LOKI_ADMIN_PASSWORD": plantedPassword},
		app:        func(a *app) { a.params = v1alpha1.ApplicationSourcePluginParameters{strParam("hostname", "x")} },
		want:       []string{"exit status 3", `unknown Argo CD parameter "hostname"`},
	}, {
		name:       "cluster without the ServiceMonitor API",
		sidecarEnv: map[string]string{"LOKI_ADMIN_PASSWORD": plantedPassword},
		app:        func(a *app) { a.apiVersions = allAPIs[:len(allAPIs)-2] },
		want:       []string{"exit status 3", "does not serve monitoring.coreos.com/v1 (ServiceMonitor)"},
	}, {
		name:       "Vault reference without VAULT_ADDR",
		sidecarEnv: map[string]string{"LOKI_ADMIN_PASSWORD": plantedPassword},
		app: func(a *app) {
			a.path = "apps/vault"
		},
		want: []string{"exit status 5", "VAULT_ADDR"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			vaultYAML := strings.Replace(mustRead(t, filepath.Join(repo, "apps/loki/loki.yaml")),
				"{fromEnv: LOKI_ADMIN_PASSWORD}", "{fromVault: {path: secret/loki/basic-auth, key: admin}}", 1)
			writeFile(t, filepath.Join(repo, "apps/vault/loki.yaml"), []byte(vaultYAML), 0o644)
			// The unset case must not inherit a password from the machine.
			t.Setenv("LOKI_ADMIN_PASSWORD", "")
			os.Unsetenv("LOKI_ADMIN_PASSWORD")
			t.Setenv("VAULT_ADDR", "")
			os.Unsetenv("VAULT_ADDR")
			s := startCMPServer(t, tc.sidecarEnv)
			c := s.client(t)
			a := seed
			if tc.app != nil {
				tc.app(&a)
			}
			_, err := generateManifest(t, c, repo, a.path, a.manifestEnv(t))
			if err == nil {
				t.Fatal("GenerateManifest succeeded")
			}
			msg := status.Convert(err).Message()
			t.Logf("GenerateManifest(%s): %s: %s", a.path, status.Code(err), msg)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			checkNoSecret(t, "error", msg)
			checkNoSecret(t, "cmp-server log", s.log.String())
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func keys(objs []map[string]any) string {
	var out []string
	for _, o := range objs {
		out = append(out, objKey(o))
	}
	return strings.Join(out, ", ")
}

// checkNoSecret fails if text holds the planted password.
func checkNoSecret(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, plantedPassword) {
		t.Errorf("the password appears in the %s", what)
	}
}

// checkHtpasswd checks that the basic-auth Secret's users line for user
// verifies with password.
func checkHtpasswd(t *testing.T, secret map[string]any, user, password string) {
	t.Helper()
	var users string
	if data, ok := secret["data"].(map[string]any); ok {
		b, err := decodeBase64(str(data["users"]))
		if err != nil {
			t.Fatal(err)
		}
		users = string(b)
	} else if sd, ok := secret["stringData"].(map[string]any); ok {
		users = str(sd["users"])
	}
	for _, line := range strings.Split(strings.TrimSpace(users), "\n") {
		name, hash, ok := strings.Cut(line, ":")
		if ok && name == user {
			if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
				t.Errorf("the hash of %q does not verify with the sidecar's password: %v", user, err)
			}
			return
		}
	}
	t.Errorf("no line for %q in the Secret's users (%d lines)", user, strings.Count(users, "\n")+1)
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
