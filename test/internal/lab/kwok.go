package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/apiserver"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// Pins returns the versions hack/test-tools.sh builds (`--list`): the lab
// reads files of the same module versions (Traefik's CRDs, kwok's stages),
// so there is one pin for each.
func Pins() (map[string]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command("bash", filepath.Join(root, "hack", "test-tools.sh"), "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("hack/test-tools.sh --list: %w", err)
	}
	pins := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			pins[f[0]] = f[1]
		}
	}
	for _, want := range []string{"traefik", "kwok"} {
		if pins[want] == "" {
			return nil, fmt.Errorf("hack/test-tools.sh --list names no %s version: %s", want, out)
		}
	}
	return pins, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.HasPrefix(string(b), "module github.com/thedevops/loki-cmp\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("main module not found above the working directory")
		}
		dir = parent
	}
}

// labCRDSources are the lab's CRDs: Traefik's of the version the lab runs,
// cert-manager's as the API-server checks pin it, and every CRD of the
// prometheus-operator and the Vault Secrets Operator the lab runs (each
// waits for all of its own).
func labCRDSources(pins map[string]string) []apiserver.CRDSource {
	var out []apiserver.CRDSource
	for _, src := range apiserver.CRDSources {
		switch {
		case src.Module == "github.com/traefik/traefik/v3":
			src.Version = pins["traefik"]
		case src.Module == "github.com/prometheus-operator/prometheus-operator":
			src.Version, src.Files = pins["prometheus-operator"], nil
			for _, kind := range prometheusOperatorCRDs {
				src.Files = append(src.Files, "example/prometheus-operator-crd/monitoring.coreos.com_"+kind+".yaml")
			}
		case src.Module == "github.com/cert-manager/cert-manager":
			// The lab runs cert-manager: all of its CRDs, of its version.
			src.Version, src.Files = pins["cert-manager"], nil
			for _, f := range certManagerCRDs {
				src.Files = append(src.Files, "deploy/crds/"+f+".yaml")
			}
		case src.Module == "github.com/hashicorp/vault-secrets-operator":
			// The rotation test runs the operator, which watches all of them.
			src.Version, src.Files = pins["vault-secrets-operator"], nil
			for _, kind := range vsoCRDs {
				src.Files = append(src.Files, "config/crd/bases/secrets.hashicorp.com_"+kind+".yaml")
			}
		case strings.HasPrefix(src.Module, "github.com/argoproj/"):
			continue // the lab has no Argo CD (yet)
		}
		out = append(out, src)
	}
	return out
}

var prometheusOperatorCRDs = []string{"alertmanagerconfigs", "alertmanagers", "podmonitors", "probes",
	"prometheusagents", "prometheuses", "prometheusrules", "scrapeconfigs", "servicemonitors", "thanosrulers"}

var vsoCRDs = []string{"hcpauths", "hcpvaultsecretsapps", "secrettransformations", "vaultauthglobals",
	"vaultauths", "vaultconnections", "vaultdynamicsecrets", "vaultpkisecrets", "vaultstaticsecrets"}

var certManagerCRDs = []string{"acme.cert-manager.io_challenges", "acme.cert-manager.io_orders",
	"cert-manager.io_certificaterequests", "cert-manager.io_certificates", "cert-manager.io_clusterissuers",
	"cert-manager.io_issuers"}

const kwokModule = "sigs.k8s.io/kwok"

func prefetchModules() []string {
	pins, err := Pins()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return nil
	}
	// Argo CD's CRDs are installed by StartArgoCD alone (not in every lab).
	mods := []string{kwokModule + "@" + pins["kwok"], argoModule + "@" + pins["argocd"]}
	for _, src := range labCRDSources(pins) {
		mods = append(mods, src.Module+"@"+src.Version)
	}
	return mods
}

// kwok's stages, from its module (the binary embeds none). pod-ready is
// narrowed to the pods the lab does not run itself: for those, the lab's
// kubelet reports the status (IP, Running, Ready from the pod's own
// readiness probe against the real program).
var kwokStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// podReadySelector is the line of pod-ready.yaml after which the lab adds
// its expression (the stage's selector must still start so: checked).
const podReadySelector = "  selector:\n    matchExpressions:\n"

func (l *Lab) startKwok() {
	t := l.t
	dir := apiserver.ModuleDir(t, kwokModule, l.pins["kwok"])
	args := []string{
		"--kubeconfig=" + l.Kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=" + HostIP,
		"--cidr=" + kwokPodCIDR,
		// Without a lease duration kwok makes no Lease, and the node's
		// heartbeat is what the controller manager reads.
		"--node-lease-duration-seconds=40",
		// The node's kubelet API (pod logs for the collector): the API
		// server proxies GET pods/log to the node's InternalIP on this port.
		"--node-port=10250",
	}
	cert, key := l.selfSignedFiles("kwok-serving", HostIP)
	args = append(args, "--tls-cert-file="+cert, "--tls-private-key-file="+key, "--config="+l.writeClusterLogs())
	for _, f := range kwokStages {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("kwok stage: %v", err)
		}
		if filepath.Base(f) == "pod-ready.yaml" {
			b = narrowPodReady(t, b)
		}
		p := filepath.Join(l.Dir, "kwok-"+filepath.Base(f))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config="+p)
	}
	proc.Start(t, l.Dir, "kwok", exec.Command(testtools.Find(t, "kwok"), args...))
}

// AppNamespace is where tests put the pods whose logs the collector ships:
// kwok serves their containers' logs from AppLogFile, in the CRI format the
// kubelet serves them from (WriteAppLog).
const AppNamespace = "lab-apps"

func (l *Lab) appLogFile() string { return filepath.Join(l.Dir, "node", "lab-apps.log") }

func (l *Lab) writeClusterLogs() string {
	if err := os.MkdirAll(filepath.Dir(l.appLogFile()), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(l.appLogFile(), nil, 0o644); err != nil {
		l.t.Fatal(err)
	}
	doc := fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: lab-apps
spec:
  selector:
    matchNamespaces: [%s]
  logs:
  - containers: []
    logsFile: %s
    follow: true
`, AppNamespace, l.appLogFile())
	p := filepath.Join(l.Dir, "kwok-clusterlogs.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return p
}

// WriteAppLog appends lines to the log of every container in AppNamespace,
// as the container runtime writes it (CRI: time, stream, tag P/F), where
// each collector reads it: the file kwok serves pods/log from (Alloy reads
// through the API server), and the node's /var/log/pods/<ns>_<pod>_<uid>/
// <container>/0.log of every running pod (Promtail tails those; the node's
// root is Dir/node, which hostPath volumes map to).
func (l *Lab) WriteAppLog(lines ...string) {
	l.t.Helper()
	var b strings.Builder
	for _, line := range lines {
		fmt.Fprintf(&b, "%s stdout F %s\n", time.Now().UTC().Format(time.RFC3339Nano), line)
	}
	files := []string{l.appLogFile()}
	pods, err := l.Client.CoreV1().Pods(AppNamespace).List(l.Ctx(), metav1.ListOptions{})
	if err != nil {
		l.t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, c := range p.Spec.Containers {
			files = append(files, filepath.Join(l.Dir, "node", "var", "log", "pods",
				p.Namespace+"_"+p.Name+"_"+string(p.UID), c.Name, "0.log"))
		}
	}
	for _, name := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			l.t.Fatal(err)
		}
		f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			l.t.Fatal(err)
		}
		_, err = f.WriteString(b.String())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			l.t.Fatal(err)
		}
	}
}

func narrowPodReady(t interface{ Fatalf(string, ...any) }, b []byte) []byte {
	s := string(b)
	if strings.Count(s, podReadySelector) != 1 {
		t.Fatalf("kwok's pod-ready.yaml changed: no single %q", podReadySelector)
	}
	var expr strings.Builder
	expr.WriteString("    - key: '.spec.containers.[0].image'\n      operator: 'NotIn'\n      values:\n")
	for _, img := range RunImages() {
		fmt.Fprintf(&expr, "      - '%s'\n", img)
	}
	return []byte(strings.Replace(s, podReadySelector, podReadySelector+expr.String(), 1))
}
