package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/apiserver"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// ArgoCD is Argo CD in the lab, as an install runs it: the application
// controller, the repo-server with loki-cmp's sidecar (Argo CD's
// cmp-server with plugin.yaml and the built loki-cmp, sharing the plugin
// socket directory with the repo-server), Redis, and argocd-server for the
// webhook endpoint. They are processes on the lab's host address, not
// pods: the lab's kubelet runs one program per pod, and Argo CD's own
// manifests (install.yaml) are not what loki-cmp tests. What they are
// configured with is what install.yaml gives them, except where a field
// here says otherwise.
type ArgoCD struct {
	Server        string // argocd-server's HTTP address (insecure, as behind a TLS-terminating ingress)
	WebhookSecret string // argocd-secret's webhook.gogs.secret (Gitea signs as Gogs does)
	Procs         map[string]*proc.Process

	l   *Lab
	dir string
}

// ArgoCDOptions are the settings a test chooses.
type ArgoCDOptions struct {
	// PluginEnv is the sidecar's environment (the passwords loki.yaml's
	// fromEnv names, VAULT_*), as the pod spec would set it from Secrets.
	PluginEnv []string
	// Reconciliation is argocd-cm's timeout.reconciliation: how often the
	// controller polls git (install.yaml's default: 120 s, jitter 60 s).
	// The jitter is set to 0 so that a test can tell a poll from a webhook.
	Reconciliation time.Duration
	// HardReconciliation is timeout.hard.reconciliation (0: off, the
	// default): a periodic refresh that regenerates the manifests.
	HardReconciliation time.Duration
	// RevisionCache is the repo-server's --revision-cache-expiration (0:
	// its default, 3 min): how long what a branch points to is cached, so
	// how much later than the poll a push without a webhook can be seen.
	RevisionCache time.Duration
}

// Argo CD's ports on the lab's host, as in install.yaml.
const (
	argoRepoServerAddr = "127.0.0.1:8081"
	argoRedisAddr      = "127.0.0.1:6379"
	argoServerPort     = "8080"
	argoNamespace      = "argocd"
)

// ApplicationGVR and AppProjectGVR are Argo CD's resources.
var (
	ApplicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	AppProjectGVR  = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}
)

const argoModule = "github.com/argoproj/argo-cd/v3"

// argocd-server watches ApplicationSets too: all three CRDs, as install.yaml.
var argoCRDs = []string{"manifests/crds/application-crd.yaml", "manifests/crds/appproject-crd.yaml", "manifests/crds/applicationset-crd.yaml"}

// StartArgoCD installs Argo CD's CRDs and settings and starts its
// programs; they stop when the test ends.
func (l *Lab) StartArgoCD(opts ArgoCDOptions) *ArgoCD {
	t := l.t
	t.Helper()
	a := &ArgoCD{Server: "http://" + HostIP + ":" + argoServerPort,
		WebhookSecret: randomHex(16), Procs: map[string]*proc.Process{}, l: l, dir: filepath.Join(l.Dir, "argocd")}
	l.API.InstallCRDs(t, []apiserver.CRDSource{{Module: argoModule, Version: l.pins["argocd"], Files: argoCRDs}})
	a.createSettings(opts)
	bin := a.binDir()
	// install.yaml hands argocd-cm's timeouts to these two as environment.
	timeouts := reconcileEnv(opts)
	a.start("redis", exec.Command(testtools.Find(t, "redis"), "--bind", "127.0.0.1", "--port", "6379",
		"--save", "", "--appendonly", "no", "--dir", a.mkdir("redis")))
	sock := a.mkdir("plugins") // the emptyDir both containers mount at /home/argocd/cmp-server/plugins
	a.startSidecar(bin, sock, opts.PluginEnv)
	a.start("argocd-repo-server", a.command(bin, "argocd-repo-server",
		append([]string{"ARGOCD_PLUGINSOCKFILEPATH=" + sock, "ARGOCD_GPG_ENABLED=false",
			"ARGOCD_ASK_PASS_SOCK=" + filepath.Join(a.mkdir("askpass"), "reposerver-ask-pass.sock")}, timeouts...),
		a.repoServerArgs(opts)...))
	a.start("argocd-application-controller", a.command(bin, "argocd-application-controller",
		append([]string{"ARGOCD_FAKE_IN_CLUSTER=true", "KUBECONFIG=" + l.Kubeconfig}, timeouts...),
		"--kubeconfig="+l.Kubeconfig, "--namespace="+argoNamespace, "--metrics-port=8082",
		"--repo-server="+argoRepoServerAddr, "--repo-server-plaintext", "--redis="+argoRedisAddr))
	a.start("argocd-server", a.command(bin, "argocd-server", []string{"ARGOCD_FAKE_IN_CLUSTER=true", "KUBECONFIG=" + l.Kubeconfig},
		"--kubeconfig="+l.Kubeconfig, "--namespace="+argoNamespace, "--insecure",
		"--address="+HostIP, "--port="+argoServerPort, "--metrics-port=8083",
		"--repo-server="+argoRepoServerAddr, "--repo-server-plaintext", "--redis="+argoRedisAddr,
		"--staticassets="+a.mkdir("static"), "--dex-server=", "--disable-auth=false"))
	a.waitServer()
	return a
}

// repoServerArgs: plain gRPC on loopback, as the controller is told
// (install.yaml: TLS), and the revision cache the options set.
func (a *ArgoCD) repoServerArgs(opts ArgoCDOptions) []string {
	args := []string{"--port=8081", "--metrics-port=8084", "--address=127.0.0.1", "--disable-tls",
		"--client-ca-path=", "--redis=" + argoRedisAddr}
	if opts.RevisionCache > 0 {
		args = append(args, "--revision-cache-expiration="+opts.RevisionCache.String())
	}
	return args
}

// createSettings makes what install.yaml ships before any program starts:
// the namespace, argocd-cm, argocd-rbac-cm, argocd-cmd-params-cm and
// argocd-secret (the server's signing key and the webhook secret). The
// default AppProject is argocd-server's to make (waitServer).
func (a *ArgoCD) createSettings(opts ArgoCDOptions) {
	l, t := a.l, a.l.t
	if err := l.API.EnsureNamespace(l.Ctx(), argoNamespace); err != nil {
		t.Fatal(err)
	}
	// Argo CD's settings informers select app.kubernetes.io/part-of=argocd.
	named := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: argoNamespace,
			Labels: map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "argocd"}}
	}
	for _, c := range []*corev1.ConfigMap{
		{ObjectMeta: named("argocd-cm"), Data: reconcileSettings(opts)},
		{ObjectMeta: named("argocd-rbac-cm")},
		{ObjectMeta: named("argocd-cmd-params-cm")},
	} {
		if _, err := l.Client.CoreV1().ConfigMaps(argoNamespace).Create(l.Ctx(), c, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sec := &corev1.Secret{ObjectMeta: named("argocd-secret"), StringData: map[string]string{
		"server.secretkey":    randomHex(32),
		"webhook.gogs.secret": a.WebhookSecret,
	}}
	if _, err := l.Client.CoreV1().Secrets(argoNamespace).Create(l.Ctx(), sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// reconcileSettings are argocd-cm's timeouts the options set.
func reconcileSettings(opts ArgoCDOptions) map[string]string {
	cm := map[string]string{"timeout.reconciliation.jitter": "0s"}
	if opts.Reconciliation > 0 {
		cm["timeout.reconciliation"] = opts.Reconciliation.String()
	}
	if opts.HardReconciliation > 0 {
		cm["timeout.hard.reconciliation"] = opts.HardReconciliation.String()
	}
	return cm
}

// reconcileEnv is reconcileSettings as the environment install.yaml maps
// them to (configMapKeyRef) in the controller and the repo-server.
func reconcileEnv(opts ArgoCDOptions) []string {
	names := map[string]string{"timeout.reconciliation": "ARGOCD_RECONCILIATION_TIMEOUT",
		"timeout.hard.reconciliation":   "ARGOCD_HARD_RECONCILIATION_TIMEOUT",
		"timeout.reconciliation.jitter": "ARGOCD_RECONCILIATION_JITTER"}
	var env []string
	for k, v := range reconcileSettings(opts) {
		env = append(env, names[k]+"="+v)
	}
	slices.Sort(env)
	return env
}

// binDir is a directory with Argo CD's binary under each name it is run
// as, and `argocd` itself (the repo-server runs git with
// GIT_ASKPASS=argocd and ARGOCD_BINARY_NAME=argocd-git-ask-pass).
func (a *ArgoCD) binDir() string {
	t := a.l.t
	dir := a.mkdir("bin")
	target := testtools.Find(t, "argocd")
	for _, name := range []string{"argocd", "argocd-application-controller", "argocd-repo-server", "argocd-server",
		"argocd-cmp-server", "argocd-git-ask-pass"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// The image's wrappers the repo-server runs git's signature checks
	// through (Dockerfile: COPY hack/gpg-wrapper.sh hack/git-verify-wrapper.sh).
	src := apiserver.ModuleDir(t, argoModule, a.l.pins["argocd"])
	for _, name := range []string{"gpg-wrapper.sh", "git-verify-wrapper.sh"} {
		data, err := os.ReadFile(filepath.Join(src, "hack", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startSidecar runs loki-cmp's sidecar as the pod does: Argo CD's
// cmp-server with plugin.yaml in its config directory and loki-cmp on
// PATH, the plugin environment added, its socket in the shared directory.
func (a *ArgoCD) startSidecar(bin, sock string, env []string) {
	t := a.l.t
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	config := a.mkdir("cmp-config")
	data, err := os.ReadFile(filepath.Join(root, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(config, "plugin.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	lokiCmp := filepath.Dir(LokiCmp(t))
	cmd := a.command(bin, "argocd-cmp-server", append([]string{"ARGOCD_PLUGINSOCKFILEPATH=" + sock}, env...),
		"--config-dir-path="+config)
	cmd.Env = append(cmd.Env, "PATH="+lokiCmp+string(os.PathListSeparator)+os.Getenv("PATH"))
	a.start("loki-cmp-sidecar", cmd)
	a.l.Eventually("the sidecar's plugin socket", time.Minute, func() string {
		if _, err := os.Stat(filepath.Join(sock, "loki-cmp-v1.sock")); err != nil {
			return err.Error() + a.exited("loki-cmp-sidecar")
		}
		return ""
	})
}

// command is one of Argo CD's programs with env added to the lab's own
// (its own HOME and TMPDIR, as a container has).
func (a *ArgoCD) command(bin, name string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	home := a.mkdir("home-" + name)
	cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+a.mkdir("tmp-"+name),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = home
	return cmd
}

func (a *ArgoCD) start(name string, cmd *exec.Cmd) {
	a.Procs[name] = proc.Start(a.l.t, a.dir, name, cmd)
}

// exited is "; <name> exited (<how>): <log tail>" once the program has
// exited, else "".
func (a *ArgoCD) exited(name string) string {
	if done, how := a.Procs[name].Exited(); done {
		return fmt.Sprintf("; %s exited (%s): %s", name, how, a.Procs[name].Tail(2000))
	}
	return ""
}

func (a *ArgoCD) mkdir(name string) string {
	dir := filepath.Join(a.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		a.l.t.Fatal(err)
	}
	return dir
}

// waitServer waits for argocd-server to answer and to have made the
// default AppProject, which it creates at start, as in a real install.
func (a *ArgoCD) waitServer() {
	l := a.l
	l.Eventually("argocd-server answers /healthz and made AppProject default", 2*time.Minute, func() string {
		resp, err := http.Get(a.Server + "/healthz")
		if err != nil {
			return err.Error() + a.exited("argocd-server")
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "healthz " + resp.Status
		}
		if _, err := l.API.Dynamic.Resource(AppProjectGVR).Namespace(argoNamespace).Get(l.Ctx(), "default", metav1.GetOptions{}); err != nil {
			return err.Error()
		}
		return ""
	})
	for _, name := range []string{"argocd-application-controller", "argocd-repo-server", "loki-cmp-sidecar", "redis"} {
		if s := a.exited(name); s != "" {
			l.t.Fatal(strings.TrimPrefix(s, "; "))
		}
	}
}

// Application reads an Application.
func (a *ArgoCD) Application(name string) (*unstructured.Unstructured, error) {
	return a.l.API.Dynamic.Resource(ApplicationGVR).Namespace(argoNamespace).Get(a.l.Ctx(), name, metav1.GetOptions{})
}

// Refresh asks the controller to refresh an Application, as the UI's
// Refresh (normal) or Hard Refresh (hard: the manifests are generated
// again) does: the argocd.argoproj.io/refresh annotation.
func (a *ArgoCD) Refresh(name, kind string) {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":%q}}}`, kind)
	if _, err := a.l.API.Dynamic.Resource(ApplicationGVR).Namespace(argoNamespace).Patch(a.l.Ctx(), name,
		types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		a.l.t.Fatal(err)
	}
}

// LogSize is the size of a program's log so far, for LogSince.
func (a *ArgoCD) LogSize(name string) int64 {
	st, err := os.Stat(a.Procs[name].Log)
	if err != nil {
		a.l.t.Fatal(err)
	}
	return st.Size()
}

// LogSince is a program's log from offset on.
func (a *ArgoCD) LogSince(name string, offset int64) string {
	data, err := os.ReadFile(a.Procs[name].Log)
	if err != nil {
		a.l.t.Fatal(err)
	}
	if offset > int64(len(data)) {
		offset = 0
	}
	return string(data[offset:])
}

// grpcTimeMs is a gRPC call's duration in a log line of Argo CD's gRPC
// logging interceptor (JSON: "grpc.time_ms":"7.6"; text: grpc.time_ms=7.6).
var grpcTimeMs = regexp.MustCompile(`grpc\.time_ms"?[:=]"?([0-9.]+)`)

// GenerateTimes are the durations of the sidecar's GenerateManifest calls,
// in order, from the cmp-server's gRPC log: receiving the application's
// files from the repo-server, running loki-cmp generate, replying.
func (a *ArgoCD) GenerateTimes() []time.Duration {
	var out []time.Duration
	for _, line := range strings.Split(a.LogSince("loki-cmp-sidecar", 0), "\n") {
		if !strings.Contains(line, "GenerateManifest") {
			continue
		}
		if m := grpcTimeMs.FindStringSubmatch(line); m != nil {
			ms, err := strconv.ParseFloat(m[1], 64)
			if err == nil {
				out = append(out, time.Duration(ms*float64(time.Millisecond)))
			}
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// envLokiCmp holds the path of the loki-cmp Main built for the labs.
const envLokiCmp = "LOKI_CMP_LAB_LOKI_CMP"

// buildLokiCmp builds loki-cmp from this checkout as `make build` does
// (static, -trimpath) into a temp dir of its own, for Main.
func buildLokiCmp() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "loki-cmp-lab-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "loki-cmp")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/loki-cmp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("building loki-cmp: %v\n%s", err, b)
	}
	return out, nil
}

// LokiCmp is the loki-cmp built from this checkout for the labs.
func LokiCmp(t testing.TB) string {
	t.Helper()
	p := os.Getenv(envLokiCmp)
	if p == "" {
		t.Fatal("no loki-cmp built for the lab: " + envLokiCmp + " is unset (lab.Main builds it)")
	}
	return p
}
