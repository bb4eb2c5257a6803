// Package lab is a live Kubernetes lab on one machine, for tests that need
// the rendered stack running, not only admitted: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler (the real ones), kwok as the
// kubelet of one node, and for the pods whose programs a flow needs, the
// lab's own kubelet (kubelet.go), which runs the real program at the pod's
// IP with the pod's arguments, environment and volumes. Traefik runs as k3s
// ships it (traefik.go). Everything lives inside network, mount and UTS
// namespaces the test binary made for itself (netns.go, Main): no packet
// leaves them and every address used is one the lab put there.
//
// What the lab does not have, and what that means, is in docs/lab.md.
package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/apiserver"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// NodeName is the lab's one node, played by kwok (and, for the pods it
// runs, by the lab's kubelet).
const NodeName = "lab-node"

// FieldManager is the field manager the lab applies with: Argo CD's.
const FieldManager = "argocd-controller"

// Lab is a running lab cluster.
type Lab struct {
	API        *apiserver.Server
	Client     kubernetes.Interface
	Dir        string
	Kubeconfig string

	t        testing.TB
	programs map[string]string // tool -> path, for the lab's kubelet
	pins     map[string]string // hack/test-tools.sh --list, read once
	kubelet  *kubelet
	services *serviceProxy
	started  time.Time
}

// Start brings the lab up and tears it down when t ends. Without the lab's
// namespaces (see Main) it skips, or fails under LOKI_CMP_REQUIRE_TOOLS,
// with the exact error.
func Start(t testing.TB) *Lab {
	t.Helper()
	if why := unusable(); why != "" {
		if testtools.Required() {
			t.Fatalf("the lab cannot run here: %s", why)
		}
		t.Skipf("the lab cannot run here: %s", why)
	}
	l := &Lab{t: t, started: time.Now(), Dir: t.TempDir(), programs: map[string]string{}}
	// Every program the lab's kubelet may run is looked up here, on the
	// test's goroutine, where a missing one can skip or fail the test.
	for _, p := range runPrograms {
		l.programs[p.Tool] = testtools.Find(t, p.Tool)
	}
	l.API = apiserver.StartWith(t, apiserver.Options{Address: HostIP, Port: 6443, ServiceCIDR: serviceCIDR})
	client, err := kubernetes.NewForConfig(l.API.Config)
	if err != nil {
		t.Fatal(err)
	}
	l.Client = client
	l.Kubeconfig = l.writeKubeconfig()
	l.startControllers()
	if l.pins, err = Pins(); err != nil {
		t.Fatal(err)
	}
	if err := checkImagePins(l.pins); err != nil {
		t.Fatal(err)
	}
	l.API.InstallCRDs(t, labCRDSources(l.pins))
	l.createNode()
	l.createClusterObjects()
	l.startKwok()
	l.services = startServiceProxy(t, l.Client)
	l.kubelet = startKubelet(t, l)
	l.waitNodeReady(60 * time.Second)
	t.Logf("lab: cluster up in %s", time.Since(l.started).Round(time.Millisecond))
	return l
}

// T is the test the lab belongs to.
func (l *Lab) T() testing.TB { return l.t }

// Ctx is a context for one call to the lab's API server.
func (l *Lab) Ctx() context.Context { return context.Background() }

func (l *Lab) writeKubeconfig() string {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: lab
  context: {cluster: lab, user: admin}
current-context: lab
`, l.API.Config.Host, l.API.CAFile, l.API.Token)
	p := filepath.Join(l.Dir, "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		l.t.Fatal(err)
	}
	return p
}

// startControllers runs the real controller manager (every controller but
// node lifecycle, which would taint kwok's node when a heartbeat is late
// on a loaded machine) and the scheduler (kwok plays only pods bound to
// its node).
func (l *Lab) startControllers() {
	t := l.t
	proc.Start(t, l.Dir, "kube-controller-manager", exec.Command(testtools.Find(t, "kube-controller-manager"),
		"--kubeconfig="+l.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+l.API.SAKeyFile,
		"--root-ca-file="+l.API.CAFile,
		"--controllers=*,-node-lifecycle-controller",
		"--concurrent-statefulset-syncs=2",
	))
	proc.Start(t, l.Dir, "kube-scheduler", exec.Command(testtools.Find(t, "kube-scheduler"),
		"--kubeconfig="+l.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	))
}

// createNode registers the node kwok manages (by its annotation), with the
// pod range kwok assigns IPs from.
func (l *Lab) createNode() {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"type": "kwok",
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: kwokPodCIDR, PodCIDRs: []string{kwokPodCIDR}},
	}
	if _, err := l.Client.CoreV1().Nodes().Create(l.Ctx(), node, metav1.CreateOptions{}); err != nil {
		l.t.Fatalf("create node: %v", err)
	}
}

// createClusterObjects are what a k3s cluster with Longhorn and Traefik
// has before any stack: the StorageClass `longhorn` (its provisioner does
// not run here: volumes are the lab's, see ProvideVolume), and the
// IngressClass `traefik`.
func (l *Lab) createClusterObjects() {
	ctx := l.Ctx()
	immediate := storagev1.VolumeBindingImmediate
	sc := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: "longhorn"},
		Provisioner:       "driver.longhorn.io",
		VolumeBindingMode: &immediate,
	}
	if _, err := l.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		l.t.Fatalf("create StorageClass longhorn: %v", err)
	}
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "traefik"},
		Spec:       networkingv1.IngressClassSpec{Controller: "traefik.io/ingress-controller"},
	}
	if _, err := l.Client.NetworkingV1().IngressClasses().Create(ctx, ic, metav1.CreateOptions{}); err != nil {
		l.t.Fatalf("create IngressClass traefik: %v", err)
	}
}

// ProvideVolume creates the PersistentVolume a claim will bind to (the
// stand-in for Longhorn's provisioner): a hostPath directory of the lab,
// pre-bound to namespace/claim, so the controller manager's binder binds
// it. The directory outlives the pods that use it, as a volume does.
func (l *Lab) ProvideVolume(namespace, claim, size string) string {
	l.t.Helper()
	dir := filepath.Join(l.Dir, "volumes", namespace, claim)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Fatal(err)
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-" + namespace + "-" + claim},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:              "longhorn",
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Namespace: namespace, Name: claim},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir},
			},
		},
	}
	if _, err := l.Client.CoreV1().PersistentVolumes().Create(l.Ctx(), pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		l.t.Fatalf("create PersistentVolume for %s/%s: %v", namespace, claim, err)
	}
	return dir
}

func (l *Lab) waitNodeReady(timeout time.Duration) {
	l.t.Helper()
	var last string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		n, err := l.Client.CoreV1().Nodes().Get(l.Ctx(), NodeName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				last = string(c.Status) + " " + c.Reason
				if c.Status == corev1.ConditionTrue {
					l.untaint(n)
					return
				}
			}
		}
	}
	l.t.Fatalf("node %s not Ready after %s (last: %s)", NodeName, timeout, last)
}

// untaint removes the not-ready taint that admission (TaintNodesByCondition)
// puts on every new node: the node lifecycle controller's job once the node
// is Ready, and that controller does not run in the lab (see
// startControllers).
func (l *Lab) untaint(n *corev1.Node) {
	var keep []corev1.Taint
	for _, taint := range n.Spec.Taints {
		if taint.Key != corev1.TaintNodeNotReady {
			keep = append(keep, taint)
		}
	}
	n.Spec.Taints = keep
	if _, err := l.Client.CoreV1().Nodes().Update(l.Ctx(), n, metav1.UpdateOptions{}); err != nil {
		l.t.Fatalf("remove the not-ready taint of %s: %v", n.Name, err)
	}
}

// Eventually polls cond every 200 ms until it returns "" (done) or the
// timeout passes, then fails the lab's test with its last answer.
func (l *Lab) Eventually(what string, timeout time.Duration, cond func() string) {
	l.t.Helper()
	Eventually(l.t, what, timeout, cond)
}

// Eventually is Lab.Eventually failing t: for subtests, which must not
// fail the lab's (parent) test.
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(timeout); ; time.Sleep(200 * time.Millisecond) {
		if last = cond(); last == "" {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("%s: not after %s: %s", what, timeout, last)
}

// Logf logs with the time since the lab started.
func (l *Lab) Logf(format string, a ...any) {
	l.t.Helper()
	l.t.Logf("lab +%s: %s", time.Since(l.started).Round(100*time.Millisecond), fmt.Sprintf(format, a...))
}

// pollLoop calls fn every period until stop is closed, then closes done:
// the lab's kubelet and service proxy re-read the cluster this way.
func pollLoop(period time.Duration, stop <-chan struct{}, done chan<- struct{}, fn func()) {
	defer close(done)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		fn()
	}
}
