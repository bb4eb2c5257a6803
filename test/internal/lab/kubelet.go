package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// The lab's kubelet, for the pods whose program a flow needs. kwok plays
// every other pod (an IP and Running/Ready from its stages, no process).
// For a pod whose first container runs one of these images, the lab runs
// the real program instead:
//   - in new network, mount and UTS namespaces (a veth on the lab bridge
//     carries the pod's IP, the hostname is the pod's name);
//   - inside a root directory built from the pod's volumes, mounted at the
//     container's mount paths (ConfigMaps and Secrets written out, emptyDir
//     and PersistentVolumes as directories, group-owned by fsGroup), the
//     pod's /etc/hosts (services.go) and the program at the image's
//     entrypoint path: the container's arguments and paths stay as rendered;
//   - as the container's user and groups, with its environment;
//   - Ready only when the container's own readiness probe passes against
//     the program, which is what the EndpointSlice controller reads.
//
// Init containers whose image is one of these run first, one after another,
// each to a zero exit, as the kubelet runs them before the pod's containers.
//
// The pod's other containers whose image is one of these (sidecars) run
// beside it in its network namespace; a container whose image is none of
// them is reported Waiting, and the pod is then never Ready.
//
// Limits (docs/lab.md): no image is pulled (the program is the lab's build
// of the image's version), init containers get a network namespace with
// loopback only, resource limits, seccomp and capabilities are not
// enforced, the root is not read-only.
type program struct {
	Image string // exact image reference as rendered
	Tool  string // hack/test-tools.sh name of the binary
	Path  string // the image's entrypoint
	User  int    // the image's USER (0: root, or not known)
}

var runPrograms = []program{
	{Image: v1alpha1.DefaultLokiImage, Tool: "loki", Path: "/usr/bin/loki"},
	{Image: v1alpha1.DefaultAlloyImage, Tool: "alloy", Path: "/bin/alloy"},
	// The lab's Promtail is v3.5.0 for this 3.6.11 image: the newest Loki
	// module (where Promtail lives) the proxy serves (hack/test-tools.sh).
	{Image: v1alpha1.DefaultPromtailImage, Tool: "promtail", Path: "/usr/bin/promtail"},
	{Image: MinIOImage, Tool: "minio", Path: "/usr/bin/minio"},
	// What prometheus-operator puts in the Prometheus pods it makes (the
	// scrape flow, prometheus.go).
	{Image: PrometheusImage, Tool: "prometheus", Path: "/bin/prometheus"},
	{Image: ConfigReloaderImage, Tool: "prometheus-config-reloader", Path: "/bin/prometheus-config-reloader"},
	// What cert-manager puts in its HTTP-01 solver pods (the TLS flow,
	// acme.go); the pods set runAsNonRoot and no user, so the image's
	// USER 1000 (its Containerfile) is the one they run as.
	{Image: ACMESolverImage, Tool: "cert-manager-acmesolver", Path: "/app/cmd/acmesolver/acmesolver", User: 1000},
}

// MinIOImage is the image of the MinIO a test deploys as the stack's
// object storage (not something loki-cmp renders): the lab runs its MinIO
// build for it. The tag names no release because the build is a pinned
// pseudo-version (hack/test-tools.sh).
const MinIOImage = "quay.io/minio/minio:lab"

// RunImages are the images whose pods the lab runs for real.
func RunImages() []string {
	var out []string
	for _, p := range runPrograms {
		out = append(out, p.Image)
	}
	return out
}

// programFor is the program of the pod's first container, if the lab runs it.
func programFor(pod *corev1.Pod) (program, bool) {
	if len(pod.Spec.Containers) == 0 {
		return program{}, false
	}
	return programOf(pod.Spec.Containers[0].Image)
}

func programOf(image string) (program, bool) {
	for _, p := range runPrograms {
		if image == p.Image {
			return p, true
		}
	}
	return program{}, false
}

type kubelet struct {
	l    *Lab
	t    testing.TB
	self string

	mu     sync.Mutex
	pods   map[types.UID]*runPod
	nextIP int
	stop   chan struct{}
	done   chan struct{}
	// ending is set before the pods' programs are stopped at the end of
	// the test, so that their exits are not taken for crashes.
	ending atomic.Bool
}

type runPod struct {
	key       string // namespace/name
	container string // the first container's name (the one run)
	uid       types.UID
	prog      program
	ip        string
	dir       string
	proc      *proc.Process
	started   time.Time
	restarts  int32
	ready     bool
	lastProb  time.Time
	hosts     string    // path of the pod's /etc/hosts
	exitSeen  time.Time // when the running program's exit was noticed
	sidecars  []*sidecar
	notRun    int // containers whose image the lab has no program for
}

// sidecar is one of the pod's other containers the lab runs, in the first
// container's network namespace.
type sidecar struct {
	c        corev1.Container
	prog     program
	proc     *proc.Process
	restarts int32
	exitSeen time.Time
}

// podReady is the pod's readiness: the first container's, and every other
// container running (none has a readiness probe the lab would need to run).
func (rp *runPod) podReady() bool {
	if !rp.ready || rp.notRun > 0 {
		return false
	}
	for _, sc := range rp.sidecars {
		if !sc.running() {
			return false
		}
	}
	return true
}

// running: started and not exited.
func (sc *sidecar) running() bool {
	if sc.proc == nil {
		return false
	}
	exited, _ := sc.proc.Exited()
	return !exited
}

// procName names one of the pod's processes (its log file): the pod's
// namespace_name, then suffix.
func (rp *runPod) procName(suffix string) string {
	return strings.ReplaceAll(rp.key, "/", "_") + "_" + suffix
}

func (rp *runPod) sidecar(name string) *sidecar {
	for _, sc := range rp.sidecars {
		if sc.c.Name == name {
			return sc
		}
	}
	return nil
}

// procs are the pod's running programs, sidecars first.
func (rp *runPod) procs() []*proc.Process {
	var out []*proc.Process
	for _, sc := range rp.sidecars {
		if sc.proc != nil {
			out = append(out, sc.proc)
		}
	}
	return append(out, rp.proc)
}

func startKubelet(t testing.TB, l *Lab) *kubelet {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	k := &kubelet{l: l, t: t, self: self, pods: map[types.UID]*runPod{}, nextIP: 2,
		stop: make(chan struct{}), done: make(chan struct{})}
	go k.loop()
	t.Cleanup(func() {
		close(k.stop)
		<-k.done
		k.end() // a no-op when a pod's cleanup has run it already
	})
	return k
}

func (k *kubelet) loop() {
	pollLoop(300*time.Millisecond, k.stop, k.done, func() {
		if err := k.sync(); err != nil {
			k.l.Logf("kubelet: %v", err)
		}
	})
}

func (k *kubelet) sync() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := k.l.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + NodeName})
	if err != nil {
		return err
	}
	seen := map[types.UID]bool{}
	for i := range list.Items {
		pod := &list.Items[i]
		prog, ok := programFor(pod)
		if !ok {
			continue
		}
		seen[pod.UID] = true
		k.mu.Lock()
		rp := k.pods[pod.UID]
		k.mu.Unlock()
		switch {
		case pod.DeletionTimestamp != nil:
			if rp != nil {
				k.kill(rp)
				k.finishDelete(ctx, pod)
			}
		case rp == nil:
			if err := k.start(ctx, pod, prog); err != nil {
				k.l.Logf("kubelet: start %s/%s: %v", pod.Namespace, pod.Name, err)
			}
		default:
			k.tend(ctx, pod, rp)
		}
	}
	k.mu.Lock()
	var gone []*runPod
	for uid, rp := range k.pods {
		if !seen[uid] {
			gone = append(gone, rp)
		}
	}
	k.mu.Unlock()
	for _, rp := range gone {
		k.kill(rp)
	}
	return nil
}

func (k *kubelet) kill(rp *runPod) {
	for _, p := range rp.procs() {
		p.Stop()
	}
	k.mu.Lock()
	delete(k.pods, rp.uid)
	k.mu.Unlock()
	k.l.Logf("kubelet: %s stopped (pod deleted)", rp.key)
}

// end stops every program at once when the test ends (one by one, the
// ingesters' flushes add up to tens of seconds); it runs once.
func (k *kubelet) end() {
	if k.ending.Swap(true) {
		return
	}
	k.mu.Lock()
	var wg sync.WaitGroup
	for _, rp := range k.pods {
		for _, p := range rp.procs() {
			wg.Add(1)
			go func(p *proc.Process) { defer wg.Done(); p.Stop() }(p)
		}
	}
	k.mu.Unlock()
	wg.Wait()
}

// finishDelete removes the pod object once its program has stopped, as the
// kubelet does (grace period 0, this pod's UID only).
func (k *kubelet) finishDelete(ctx context.Context, pod *corev1.Pod) {
	zero := int64(0)
	err := k.l.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		k.l.Logf("kubelet: delete %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

// start prepares the pod's root, runs its init containers and then its
// program; the status says Running, not Ready, until the readiness probe
// passes.
func (k *kubelet) start(ctx context.Context, pod *corev1.Pod, prog program) error {
	rp := &runPod{key: pod.Namespace + "/" + pod.Name, container: pod.Spec.Containers[0].Name, uid: pod.UID, prog: prog,
		dir: filepath.Join(k.l.Dir, "pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID))}
	if err := k.runInits(ctx, pod, rp); err != nil {
		return err
	}
	k.mu.Lock()
	if k.nextIP > 254 {
		k.mu.Unlock()
		return fmt.Errorf("no pod address left in %s0/24", runPodNet)
	}
	rp.ip = runPodNet + strconv.Itoa(k.nextIP)
	k.nextIP++
	k.mu.Unlock()
	for _, c := range pod.Spec.Containers[1:] {
		if p, ok := programOf(c.Image); ok {
			rp.sidecars = append(rp.sidecars, &sidecar{c: c, prog: p})
		} else {
			rp.notRun++
		}
	}
	spec, err := k.podSpec(ctx, pod, rp, pod.Spec.Containers[0], prog)
	if err != nil {
		return err
	}
	if err := k.run(rp, spec); err != nil {
		return err
	}
	k.runSidecars(ctx, pod, rp)
	k.mu.Lock()
	k.pods[pod.UID] = rp
	k.mu.Unlock()
	k.l.Logf("kubelet: %s runs %s at %s (pid %d)", rp.key, prog.Tool, rp.ip, rp.proc.Pid())
	return k.setStatus(ctx, pod, rp)
}

// run starts the pod's program: its init in new namespaces, a veth on the
// bridge, then its spec.
func (k *kubelet) run(rp *runPod, spec *podSpec) error {
	name := rp.procName(strconv.Itoa(int(rp.restarts)))
	p, err := k.spawn(rp, rp.container, int(rp.restarts), name, spec, 0, func(p *proc.Process) error {
		host := fmt.Sprintf("veth%d", hostIndex(rp.ip))
		_ = ipCmd("link", "del", host) // left from this pod's previous run, if any
		if err := ipCmd("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", strconv.Itoa(p.Pid())); err != nil {
			return err
		}
		return ipCmd("link", "set", host, "master", bridgeName, "up")
	})
	if err != nil {
		return err
	}
	rp.proc, rp.started, rp.ready, rp.lastProb = p, time.Now(), false, time.Time{}
	return nil
}

// runSidecars starts the sidecars that are not running, in the first
// container's network namespace (a failure is logged; tend retries).
func (k *kubelet) runSidecars(ctx context.Context, pod *corev1.Pod, rp *runPod) {
	for _, sc := range rp.sidecars {
		if sc.running() {
			continue
		}
		spec, err := k.podSpec(ctx, pod, rp, sc.c, sc.prog)
		if err != nil {
			k.l.Logf("kubelet: %s container %s: %v", rp.key, sc.c.Name, err)
			continue
		}
		spec.LoopbackOnly = true // the network is the first container's
		name := rp.procName(sc.c.Name + "_" + strconv.Itoa(int(sc.restarts)))
		p, err := k.spawn(rp, sc.c.Name, int(sc.restarts), name, spec, rp.proc.Pid(), nil)
		if err != nil {
			k.l.Logf("kubelet: %s container %s: %v", rp.key, sc.c.Name, err)
			continue
		}
		sc.proc, sc.exitSeen = p, time.Time{}
		k.l.Logf("kubelet: %s container %s runs %s beside %s (pid %d)", rp.key, sc.c.Name, sc.prog.Tool, rp.container, p.Pid())
	}
}

// spawn starts a container's init process in new mount and UTS namespaces
// and a new network namespace, or the one of process netOf when it is not
// 0 (a sidecar: entered with nsenter), with its output in the container's
// log; it runs prepare (the network) and hands over the spec.
func (k *kubelet) spawn(rp *runPod, container string, n int, name string, spec *podSpec, netOf int, prepare func(*proc.Process) error) (*proc.Process, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	cmd := exec.Command(k.self)
	flags := uintptr(syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS)
	if netOf != 0 {
		cmd = exec.Command("nsenter", "--net=/proc/"+strconv.Itoa(netOf)+"/ns/net", "--", k.self)
		flags = syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS
	}
	cmd.Env = []string{envRole + "=" + rolePod, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	clog, err := k.containerLog(rp, container, n)
	if err != nil {
		r.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = &criWriter{f: clog, stream: "stdout"}, &criWriter{f: clog, stream: "stderr"}
	// Launch, not Start: this runs on the kubelet's goroutine, where a
	// t.Fatal would end the loop silently; the error goes to the caller's log.
	p, err := proc.Launch(k.t, k.l.Dir, name, cmd)
	if err != nil {
		clog.Close()
		r.Close()
		return nil, err
	}
	go func() { <-p.Done(); clog.Close() }() // written by the output copiers until then
	k.t.Cleanup(k.end)                       // runs before p's own cleanup
	r.Close()
	if prepare != nil {
		if err := prepare(p); err != nil {
			p.Stop()
			return nil, err
		}
	}
	if err := json.NewEncoder(w).Encode(spec); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// initTimeout bounds one init container's run.
const initTimeout = 2 * time.Minute

// runInits runs the pod's init containers one after another, each to a
// zero exit, before any of its containers starts (a failure is retried on
// the next sync, as the kubelet retries the pod). Each gets a network
// namespace with loopback only (limit: a pod's init containers share its
// network in Kubernetes).
func (k *kubelet) runInits(ctx context.Context, pod *corev1.Pod, rp *runPod) error {
	for _, c := range pod.Spec.InitContainers {
		prog, ok := programOf(c.Image)
		if !ok {
			return fmt.Errorf("init container %s: image %s is not one the lab runs", c.Name, c.Image)
		}
		spec, err := k.podSpec(ctx, pod, rp, c, prog)
		if err != nil {
			return fmt.Errorf("init container %s: %w", c.Name, err)
		}
		spec.LoopbackOnly = true
		name := rp.procName("init_" + c.Name)
		p, err := k.spawn(rp, c.Name, 0, name, spec, 0, nil)
		if err != nil {
			return fmt.Errorf("init container %s: %w", c.Name, err)
		}
		select {
		case <-p.Done():
		case <-time.After(initTimeout):
			p.Stop()
			return fmt.Errorf("init container %s did not end within %s", c.Name, initTimeout)
		}
		if code := p.ExitCode(); code != 0 {
			return fmt.Errorf("init container %s (%s) exited with %d:\n%s", c.Name, prog.Tool, code, p.Tail(2000))
		}
		k.l.Logf("kubelet: %s init container %s (%s) completed", rp.key, c.Name, prog.Tool)
	}
	return nil
}

// containerLog opens the container's log where the runtime writes it on
// the node, /var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log, n its
// restarts (what Promtail tails).
func (k *kubelet) containerLog(rp *runPod, container string, n int) (*os.File, error) {
	ns, name, _ := strings.Cut(rp.key, "/")
	dir := filepath.Join(k.l.Dir, "node", "var", "log", "pods", ns+"_"+name+"_"+string(rp.uid), container)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, strconv.Itoa(n)+".log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
}

// criWriter writes a stream's lines in the CRI log format the kubelet
// serves and collectors parse: "<RFC 3339 time> <stream> F <line>".
type criWriter struct {
	f      *os.File
	stream string
	buf    []byte
}

func (w *criWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := fmt.Sprintf("%s %s F %s\n", time.Now().UTC().Format(time.RFC3339Nano), w.stream, w.buf[:i])
		w.buf = w.buf[i+1:]
		if _, err := w.f.WriteString(line); err != nil {
			return len(b), err
		}
	}
}

func hostIndex(ip string) int {
	n, _ := strconv.Atoi(ip[strings.LastIndex(ip, ".")+1:])
	return n
}

// tend restarts an exited program (restartPolicy Always, as the pods of
// StatefulSets, Deployments and DaemonSets have), runs the readiness probe
// and keeps the status and the pod's /etc/hosts current.
func (k *kubelet) tend(ctx context.Context, pod *corev1.Pod, rp *runPod) {
	if k.ending.Load() {
		return
	}
	if exited, how := rp.proc.Exited(); exited {
		backoff := backoff(rp.restarts)
		if rp.exitSeen.IsZero() {
			rp.exitSeen = time.Now()
			k.l.Logf("kubelet: %s: %s exited (%s); restarting in %s:\n%s", rp.key, rp.prog.Tool, how, backoff, rp.proc.Tail(2000))
			_ = k.setStatus(ctx, pod, rp)
		}
		if time.Since(rp.exitSeen) < backoff {
			return
		}
		rp.exitSeen = time.Time{}
		rp.restarts++
		// The sidecars live in the old program's network namespace: they
		// follow it (the lab's simplification of a pod sandbox).
		for _, sc := range rp.sidecars {
			if sc.proc != nil {
				sc.proc.Stop()
			}
		}
		spec, err := k.podSpec(ctx, pod, rp, pod.Spec.Containers[0], rp.prog)
		if err == nil {
			err = k.run(rp, spec)
		}
		if err != nil {
			k.l.Logf("kubelet: restart %s: %v", rp.key, err)
		} else {
			k.runSidecars(ctx, pod, rp)
		}
		_ = k.setStatus(ctx, pod, rp)
		return
	}
	k.tendSidecars(ctx, pod, rp)
	_ = writeIfChanged(rp.hosts, k.l.services.hostsFor(pod, rp.ip))
	c := pod.Spec.Containers[0]
	ready := true
	if pr := c.ReadinessProbe; pr != nil {
		ready = rp.ready
		period := time.Duration(max(pr.PeriodSeconds, 1)) * time.Second
		if pr.PeriodSeconds == 0 {
			period = 10 * time.Second
		}
		if time.Since(rp.started) >= time.Duration(pr.InitialDelaySeconds)*time.Second && time.Since(rp.lastProb) >= period {
			rp.lastProb = time.Now()
			ready = probe(c, pr, rp.ip) == nil
		}
	}
	if ready != rp.ready || !statusCurrent(pod, rp) {
		rp.ready = ready
		if err := k.setStatus(ctx, pod, rp); err != nil {
			k.l.Logf("kubelet: status of %s: %v", rp.key, err)
		} else if rp.podReady() && !podReady(pod) {
			k.l.Logf("kubelet: %s Ready (readiness probe passed)", rp.key)
		}
	}
}

// backoff is the wait before a restart, as the kubelet's CrashLoopBackOff
// (10 s doubling to 5 min; the lab starts at 1 s and stops at 30 s).
func backoff(restarts int32) time.Duration {
	return min(time.Second<<min(restarts, 5), 30*time.Second)
}

// tendSidecars restarts exited sidecars after their back-off.
func (k *kubelet) tendSidecars(ctx context.Context, pod *corev1.Pod, rp *runPod) {
	restart := false
	for _, sc := range rp.sidecars {
		if sc.proc == nil {
			restart = true
			continue
		}
		exited, how := sc.proc.Exited()
		if !exited {
			continue
		}
		if sc.exitSeen.IsZero() {
			sc.exitSeen = time.Now()
			k.l.Logf("kubelet: %s container %s exited (%s):\n%s", rp.key, sc.c.Name, how, sc.proc.Tail(2000))
			_ = k.setStatus(ctx, pod, rp)
		}
		if time.Since(sc.exitSeen) >= backoff(sc.restarts) {
			sc.restarts++
			restart = true
		}
	}
	if restart {
		k.runSidecars(ctx, pod, rp)
		_ = k.setStatus(ctx, pod, rp)
	}
}

func statusCurrent(pod *corev1.Pod, rp *runPod) bool {
	return pod.Status.PodIP == rp.ip && podReady(pod) == rp.podReady() &&
		len(pod.Status.ContainerStatuses) > 0 && pod.Status.ContainerStatuses[0].RestartCount == rp.restarts
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// probe runs an httpGet or tcpSocket readiness probe against the pod's IP.
func probe(c corev1.Container, pr *corev1.Probe, ip string) error {
	timeout := time.Duration(max(pr.TimeoutSeconds, 1)) * time.Second
	switch {
	case pr.HTTPGet != nil:
		port, err := containerPort(c, pr.HTTPGet.Port)
		if err != nil {
			return err
		}
		client := &http.Client{Timeout: timeout}
		resp, err := client.Get(fmt.Sprintf("http://%s%s", net.JoinHostPort(ip, strconv.Itoa(port)), pr.HTTPGet.Path))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("%s", resp.Status)
		}
		return nil
	case pr.TCPSocket != nil:
		port, err := containerPort(c, pr.TCPSocket.Port)
		if err != nil {
			return err
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), timeout)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return fmt.Errorf("probe kind not supported by the lab's kubelet")
}

func containerPort(c corev1.Container, p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.Name, p.StrVal)
}

// setStatus writes the pod's status as a kubelet would: Running at its IP,
// the container running (with its restarts), Ready as probed.
func (k *kubelet) setStatus(ctx context.Context, pod *corev1.Pod, rp *runPod) error {
	for attempt := 0; ; attempt++ {
		cur, err := k.l.Client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != rp.uid {
			return nil
		}
		now := metav1.Now()
		cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
			s := corev1.ConditionFalse
			if ok {
				s = corev1.ConditionTrue
			}
			for _, c := range cur.Status.Conditions {
				if c.Type == t && c.Status == s {
					return c
				}
			}
			return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now}
		}
		st := &cur.Status
		st.Phase = corev1.PodRunning
		st.HostIP, st.HostIPs = HostIP, []corev1.HostIP{{IP: HostIP}}
		st.PodIP, st.PodIPs = rp.ip, []corev1.PodIP{{IP: rp.ip}}
		if st.StartTime == nil {
			st.StartTime = &now
		}
		ready := rp.podReady()
		st.Conditions = []corev1.PodCondition{
			cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true),
			cond(corev1.ContainersReady, ready), cond(corev1.PodReady, ready),
		}
		var cs []corev1.ContainerStatus
		for i, c := range cur.Spec.Containers {
			s := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image}
			if i == 0 {
				started := metav1.NewTime(rp.started)
				s.Ready, s.RestartCount = rp.ready, rp.restarts
				s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
				s.Started = &[]bool{true}[0]
			} else if sc := rp.sidecar(c.Name); sc != nil && sc.proc != nil {
				s.RestartCount = sc.restarts
				if exited, how := sc.proc.Exited(); exited {
					s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: how}}
				} else {
					s.Ready, s.Started = true, &[]bool{true}[0]
					s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
				}
			} else {
				// Not run by the lab: waiting, so the pod is not Ready by
				// accident of a sidecar nobody runs.
				s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "NotRunByLab"}}
			}
			cs = append(cs, s)
		}
		st.ContainerStatuses = cs
		// The init containers ran to a zero exit before the program (runInits).
		var ics []corev1.ContainerStatus
		for _, c := range cur.Spec.InitContainers {
			ics = append(ics, corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}})
		}
		st.InitContainerStatuses = ics
		_, err = k.l.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) || attempt > 5 {
			return err
		}
	}
}

// podSpec builds container c's root: the pod's volumes at the container's
// mount paths, the program, /etc/hosts and /etc/resolv.conf, /dev.
func (k *kubelet) podSpec(ctx context.Context, pod *corev1.Pod, rp *runPod, c corev1.Container, prog program) (*podSpec, error) {
	root := filepath.Join(rp.dir, "root-"+c.Name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	uid, gid, groups, err := podUser(pod, c, prog.User)
	if err != nil {
		return nil, err
	}
	spec := &podSpec{
		IP: rp.ip, Gateway: HostIP, Hostname: pod.Name, Root: root,
		Exec: prog.Path, Args: append(append([]string{}, c.Command...), c.Args...),
		UID: uid, GID: gid, Groups: groups, WorkDir: c.WorkingDir,
	}
	if len(c.Command) > 0 {
		// A command replaces the entrypoint: its first word must be the program.
		if c.Command[0] != prog.Path {
			return nil, fmt.Errorf("container command %q is not the program the lab runs (%s)", c.Command[0], prog.Path)
		}
		spec.Args = append(append([]string{}, c.Command[1:]...), c.Args...)
	}
	bin := k.l.programs[prog.Tool]
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		bin = real
	}
	rp.hosts = filepath.Join(rp.dir, "hosts")
	if err := os.WriteFile(rp.hosts, []byte(k.l.services.hostsFor(pod, rp.ip)), 0o644); err != nil {
		return nil, err
	}
	spec.Mounts = []podMount{
		{Src: "/dev", Dst: "/dev"},
		{Src: bin, Dst: prog.Path, File: true, ReadOnly: true},
		{Src: rp.hosts, Dst: "/etc/hosts", File: true, ReadOnly: true},
		{Src: "/etc/resolv.conf", Dst: "/etc/resolv.conf", File: true, ReadOnly: true},
		{Src: "/etc/ssl/certs", Dst: "/etc/ssl/certs", ReadOnly: true},
	}
	vols, err := k.volumes(ctx, pod, rp)
	if err != nil {
		return nil, err
	}
	for _, m := range c.VolumeMounts {
		src, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volume %q of mount %s is not in the pod", m.Name, m.MountPath)
		}
		if m.SubPath != "" {
			src = filepath.Join(src, m.SubPath)
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("mount %s: %v", m.MountPath, err)
		}
		spec.Mounts = append(spec.Mounts, podMount{Src: src, Dst: m.MountPath, File: !st.IsDir(), ReadOnly: m.ReadOnly})
	}
	env, err := k.env(ctx, pod, c, rp)
	if err != nil {
		return nil, err
	}
	spec.Env = env
	return spec, nil
}

// podUser is the container's user, group and groups (fsGroup and the
// supplemental groups), as the runtime would set them: the image's user
// where the pod sets none. Like the kubelet, it refuses to run a container
// as root when runAsNonRoot is set.
func podUser(pod *corev1.Pod, c corev1.Container, imageUser int) (uid, gid int, groups []int, err error) {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	u, g, nonRoot := psc.RunAsUser, psc.RunAsGroup, psc.RunAsNonRoot
	if csc := c.SecurityContext; csc != nil {
		if csc.RunAsUser != nil {
			u = csc.RunAsUser
		}
		if csc.RunAsGroup != nil {
			g = csc.RunAsGroup
		}
		if csc.RunAsNonRoot != nil {
			nonRoot = csc.RunAsNonRoot
		}
	}
	uid = imageUser
	if u != nil {
		uid = int(*u)
	}
	if g != nil {
		gid = int(*g)
	}
	if nonRoot != nil && *nonRoot && uid == 0 {
		return 0, 0, nil, fmt.Errorf("container %s has runAsNonRoot and would run as root (no runAsUser, and the lab knows no non-root USER of its image)", c.Name)
	}
	if psc.FSGroup != nil {
		groups = append(groups, int(*psc.FSGroup))
	}
	for _, s := range psc.SupplementalGroups {
		groups = append(groups, int(s))
	}
	return uid, gid, groups, nil
}

// volumes materializes the pod's volumes and returns their directories.
func (k *kubelet) volumes(ctx context.Context, pod *corev1.Pod, rp *runPod) (map[string]string, error) {
	fsGroup := -1
	if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
		fsGroup = int(*sc.FSGroup)
	}
	core := k.l.Client.CoreV1()
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(rp.dir, "volumes", v.Name)
		switch {
		case v.ConfigMap != nil:
			cm, err := core.ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			files := map[string][]byte{}
			for key, val := range cm.Data {
				files[key] = []byte(val)
			}
			if err := writeKeys(dir, files, v.ConfigMap.Items); err != nil {
				return nil, err
			}
		case v.Secret != nil:
			s, err := core.Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			if err := writeKeys(dir, s.Data, v.Secret.Items); err != nil {
				return nil, err
			}
		case v.EmptyDir != nil:
			if err := ownedDir(dir, fsGroup); err != nil {
				return nil, err
			}
		case v.PersistentVolumeClaim != nil:
			pvDir, err := k.claimDir(ctx, pod.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			if err := ownedDir(pvDir, fsGroup); err != nil {
				return nil, err
			}
			dir = pvDir
		case v.HostPath != nil:
			// The node's filesystem is the lab's stand-in under Dir/node.
			dir = filepath.Join(k.l.Dir, "node", v.HostPath.Path)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		case v.Projected != nil:
			if err := k.projected(ctx, pod, v.Projected, dir); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		default:
			return nil, fmt.Errorf("volume %s: kind not supported by the lab's kubelet", v.Name)
		}
		out[v.Name] = dir
	}
	return out, nil
}

// claimDir is the directory of the PersistentVolume bound to the claim.
func (k *kubelet) claimDir(ctx context.Context, ns, claim string) (string, error) {
	pvc, err := k.l.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("claim %s/%s is %s, not Bound", ns, claim, pvc.Status.Phase)
	}
	pv, err := k.l.Client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if pv.Spec.HostPath == nil {
		return "", fmt.Errorf("volume %s is not one of the lab's (no hostPath)", pv.Name)
	}
	return pv.Spec.HostPath.Path, nil
}

// projected writes a service-account token (TokenRequest, as the kubelet
// asks for it), the cluster CA and the downward API's namespace.
func (k *kubelet) projected(ctx context.Context, pod *corev1.Pod, p *corev1.ProjectedVolumeSource, dir string) error {
	files := map[string][]byte{}
	for _, src := range p.Sources {
		switch {
		case src.ServiceAccountToken != nil:
			exp := int64(3600)
			if src.ServiceAccountToken.ExpirationSeconds != nil {
				exp = *src.ServiceAccountToken.ExpirationSeconds
			}
			tr, err := k.l.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, pod.Spec.ServiceAccountName,
				tokenRequest(pod, exp), metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("token for %s/%s: %w", pod.Namespace, pod.Spec.ServiceAccountName, err)
			}
			files[src.ServiceAccountToken.Path] = []byte(tr.Status.Token)
		case src.ConfigMap != nil:
			cm, err := k.l.Client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			data := map[string][]byte{}
			for key, val := range cm.Data {
				data[key] = []byte(val)
			}
			projectKeys(files, data, src.ConfigMap.Items)
		case src.Secret != nil:
			s, err := k.l.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, src.Secret.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) && src.Secret.Optional != nil && *src.Secret.Optional {
				continue
			}
			if err != nil {
				return err
			}
			projectKeys(files, s.Data, src.Secret.Items)
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil || it.FieldRef.FieldPath != "metadata.namespace" {
					return fmt.Errorf("downward API item %s not supported by the lab's kubelet", it.Path)
				}
				files[it.Path] = []byte(pod.Namespace)
			}
		default:
			return fmt.Errorf("projected source not supported by the lab's kubelet")
		}
	}
	return writeKeys(dir, files, nil)
}

// projectKeys adds a projected source's keys to files: every key, or the
// items' keys at their paths.
func projectKeys(files, data map[string][]byte, items []corev1.KeyToPath) {
	if len(items) == 0 {
		for key, val := range data {
			files[key] = val
		}
	}
	for _, it := range items {
		files[it.Path] = data[it.Key]
	}
}

// writeKeys writes one file per key (or per item, where items map keys to
// paths), world-readable as the kubelet's default mode 0644 makes them.
func writeKeys(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	paths := map[string]string{}
	if len(items) == 0 {
		for key := range data {
			paths[key] = key
		}
	}
	for _, it := range items {
		paths[it.Key] = it.Path
	}
	keys := make([]string, 0, len(paths))
	for key := range paths {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		p := filepath.Join(dir, paths[key])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data[key], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ownedDir makes dir group-owned by fsGroup and group-writable (setgid),
// as the kubelet prepares a volume for a pod with an fsGroup.
func ownedDir(dir string, fsGroup int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if fsGroup < 0 {
		return os.Chmod(dir, 0o777)
	}
	if err := os.Chown(dir, 0, fsGroup); err != nil {
		return err
	}
	return os.Chmod(dir, 0o775|os.ModeSetgid)
}

func writeIfChanged(path, content string) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		return nil
	}
	// In place (truncate): the bind mount in the pod follows the inode.
	return os.WriteFile(path, []byte(content), 0o644)
}

func tokenRequest(pod *corev1.Pod, exp int64) *authenticationv1.TokenRequest {
	return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
}

// env is the container's environment as the kubelet makes it: PATH and
// HOSTNAME, the kubernetes Service's address (always injected), envFrom,
// then env (values, field, Secret and ConfigMap references).
func (k *kubelet) env(ctx context.Context, pod *corev1.Pod, c corev1.Container, rp *runPod) ([]string, error) {
	vars := map[string]string{
		"PATH":     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOSTNAME": pod.Name,
		// The runtime's HOME when the image's /etc/passwd has no entry for
		// the user (containerd, CRI-O): the lab's roots have no passwd.
		"HOME": "/",
	}
	order := []string{"PATH", "HOSTNAME", "HOME"}
	set := func(name, val string) {
		if _, ok := vars[name]; !ok {
			order = append(order, name)
		}
		vars[name] = val
	}
	if ip := k.l.services.clusterIP("default", "kubernetes"); ip != "" {
		set("KUBERNETES_SERVICE_HOST", ip)
		set("KUBERNETES_SERVICE_PORT", "443")
	}
	core := k.l.Client.CoreV1()
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := core.ConfigMaps(pod.Namespace).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			for key, val := range cm.Data {
				set(ef.Prefix+key, val)
			}
		case ef.SecretRef != nil:
			s, err := core.Secrets(pod.Namespace).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			for key, val := range s.Data {
				set(ef.Prefix+key, string(val))
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, e.Value)
			continue
		}
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			v, err := fieldValue(pod, rp, vf.FieldRef.FieldPath)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			set(e.Name, v)
		case vf.SecretKeyRef != nil:
			s, err := core.Secrets(pod.Namespace).Get(ctx, vf.SecretKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			v, ok := s.Data[vf.SecretKeyRef.Key]
			if !ok {
				return nil, fmt.Errorf("env %s: Secret %s has no key %s", e.Name, s.Name, vf.SecretKeyRef.Key)
			}
			set(e.Name, string(v))
		case vf.ConfigMapKeyRef != nil:
			cm, err := core.ConfigMaps(pod.Namespace).Get(ctx, vf.ConfigMapKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			v, ok := cm.Data[vf.ConfigMapKeyRef.Key]
			if !ok {
				return nil, fmt.Errorf("env %s: ConfigMap %s has no key %s", e.Name, cm.Name, vf.ConfigMapKeyRef.Key)
			}
			set(e.Name, v)
		default:
			return nil, fmt.Errorf("env %s: valueFrom kind not supported by the lab's kubelet", e.Name)
		}
	}
	out := make([]string, 0, len(order))
	for _, name := range order {
		out = append(out, name+"="+vars[name])
	}
	return out, nil
}

func fieldValue(pod *corev1.Pod, rp *runPod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return rp.ip, nil
	case "status.hostIP":
		return HostIP, nil
	}
	return "", fmt.Errorf("fieldRef %s not supported by the lab's kubelet", path)
}
