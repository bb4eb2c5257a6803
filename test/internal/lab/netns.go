package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/thedevops/loki-cmp/test/internal/apiserver"
)

// The lab's network, all of it inside the network namespace the test binary
// re-executes itself in (Main), so that no packet can leave: the namespace
// has loopback and a bridge with no uplink, and no route but its own.
//
//	198.18.0.1/16  bridge lab0: kube-apiserver, Traefik, the test's client
//	198.18.1.0/24  pods kwok plays (IPs from kwok's --cidr)
//	198.18.2.0/24  pods the lab runs for real, each in a network namespace
//	               of its own with a veth on lab0 (see kubelet.go)
//	198.19.0.0/24  Service ClusterIPs, local to the lab namespace: the
//	               lab's service proxy listens on them (see services.go)
//
// 198.18.0.0/15 is the benchmarking range (RFC 2544): never routed on the
// Internet, so an address here can only be one the lab put here.
const (
	HostIP      = "198.18.0.1"
	bridgeCIDR  = "198.18.0.1/16"
	bridgeName  = "lab0"
	kwokPodCIDR = "198.18.1.0/24"
	runPodNet   = "198.18.2." // + 2..254
	serviceCIDR = "198.19.0.0/24"
	prefixLen   = "16"
)

// Roles of the test binary, in envRole.
const (
	envRole     = "LOKI_CMP_LAB_ROLE"
	envUnusable = "LOKI_CMP_LAB_UNUSABLE" // why the namespaces could not be made
	roleLab     = "lab"                   // inside the lab's namespaces: run the tests
	rolePod     = "pod"                   // a pod's init: set up, then exec the program
)

// Main is the TestMain of a package that uses the lab. The first run
// fetches what the lab reads from the module cache (the network is gone
// afterwards), then re-executes the test binary in new network and mount
// namespaces (unshare(1), as root) and exits with its status: once per
// top-level test, several at once (split.go), unless the caller chose the
// tests. Inside, it builds the lab's network and runs the tests. The
// namespaces end with the process: nothing is left on the machine.
//
// longestFirst names the top-level tests that take longest, longest first:
// they take the first slots, the others follow in source order (a long lab
// started last would end the run alone).
func Main(m *testing.M, longestFirst ...string) {
	switch os.Getenv(envRole) {
	case rolePod:
		podInit() // does not return
	case roleLab:
		if err := setupNetwork(); err != nil {
			fmt.Fprintf(os.Stderr, "lab: network setup: %v\n", err)
			os.Exit(1)
		}
		os.Exit(m.Run())
	case roleList:
		os.Exit(m.Run()) // -test.list: names only, nothing runs
	}
	if err := prefetch(); err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		os.Exit(1)
	}
	// loki-cmp for the lab's Argo CD sidecar, built here, where the build
	// may still reach the module proxy; the labs inherit its path.
	bin, err := buildLokiCmp()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		os.Exit(1)
	}
	os.Setenv(envLokiCmp, bin)
	code := runLabs(m, longestFirst)
	os.RemoveAll(filepath.Dir(bin))
	os.Exit(code)
}

// runLabs runs the tests in the lab's namespaces and returns the exit
// status: in a lab per top-level test (split.go) or in one.
func runLabs(m *testing.M, longestFirst []string) int {
	if os.Geteuid() != 0 {
		// An unprivileged user namespace maps only the caller's own uid, and
		// the pods run as their own users (Loki: runAsUser 10001, fsGroup).
		os.Setenv(envUnusable, "the lab needs root (to run each pod as its own uid and gid in namespaces of its own); uid is "+strconv.Itoa(os.Geteuid()))
		return m.Run()
	}
	args := []string{"--net", "--mount", "--uts", "--propagation", "private", "--fork", "--kill-child"}
	probe := exec.Command("unshare", append(args, "true")...)
	if out, err := probe.CombinedOutput(); err != nil {
		// Tests that need the lab skip (or fail under LOKI_CMP_REQUIRE_TOOLS)
		// with this exact error.
		os.Setenv(envUnusable, fmt.Sprintf("unshare %s true: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out)))
		return m.Run()
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	tests, jobs, err := splitTests(self, os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	if tests != nil {
		return runSplit(self, args, os.Args[1:], orderTests(tests, longestFirst), jobs)
	}
	cmd := exec.Command("unshare", append(append(args, "--", self), os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = labEnv()
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		return 1
	}
	return 0
}

// setupNetwork runs inside the new namespaces: loopback, the bridge, the
// local service range, and the lab's own /etc/hosts and /etc/resolv.conf
// (bind mounts in this mount namespace only).
func setupNetwork() error {
	steps := [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", bridgeName, "type", "bridge"},
		{"addr", "add", bridgeCIDR, "dev", bridgeName},
		{"link", "set", bridgeName, "up"},
		{"route", "add", "local", serviceCIDR, "dev", "lo"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "loki-cmp-lab-etc-")
	if err != nil {
		return err
	}
	hostsFile = filepath.Join(dir, "hosts")
	for name, content := range map[string]string{
		"hosts": hostsHeader,
		// No name server in the lab: a name that is not in the hosts file
		// fails at once (nothing listens on 127.0.0.1:53).
		"resolv.conf": "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
		if err := syscall.Mount(filepath.Join(dir, name), "/etc/"+name, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount the lab's /etc/%s: %w", name, err)
		}
	}
	return nil
}

const hostsHeader = "127.0.0.1 localhost\n"

// hostsFile is the lab's /etc/hosts (bind-mounted on /etc/hosts here).
var hostsFile string

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// unusable says why the lab cannot run here ("" when it can).
func unusable() string {
	if os.Getenv(envRole) == roleLab {
		return ""
	}
	if why := os.Getenv(envUnusable); why != "" {
		return why
	}
	return "the test binary did not go through lab.Main (TestMain)"
}

// prefetch downloads, before the network goes, every module the lab reads
// files from (CRDs, kwok's stages): inside, GOPROXY=off serves them from the
// module cache.
func prefetch() error {
	for _, m := range prefetchModules() {
		cmd := exec.Command("go", "mod", "download", "-json", m)
		cmd.Dir = os.TempDir()
		cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on", "GOFLAGS=")
		if tc := apiserver.ModuleToolchain(strings.SplitN(m, "@", 2)[0]); tc != "" {
			cmd.Env = append(cmd.Env, "GOTOOLCHAIN="+tc)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go mod download %s: %v: %s", m, err, bytes.TrimSpace(out))
		}
	}
	return nil
}

// podSpec is what the parent hands a pod's init over its pipe once the
// pod's network interface is in place.
type podSpec struct {
	IP, Gateway string
	Hostname    string
	Root        string     // the pod's root directory
	Mounts      []podMount // bind mounts into Root, in order
	Exec        string     // path inside Root
	Args, Env   []string
	UID, GID    int
	Groups      []int
	WorkDir     string
	// LoopbackOnly: no eth0 (an init container, see runInits).
	LoopbackOnly bool
}

type podMount struct {
	Src, Dst string // Dst inside Root
	File     bool   // a single file, not a directory
	ReadOnly bool
}

// podInit is a pod's first process, started by the lab's kubelet in new
// network, mount and UTS namespaces: it waits for its spec (after the
// parent has moved a veth into its namespace), configures the interface,
// builds the pod's root from bind mounts, changes root and user and
// executes the container's program in place.
func podInit() {
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "lab pod init: "+format+"\n", a...)
		os.Exit(127)
	}
	var spec podSpec
	if err := json.NewDecoder(os.NewFile(3, "spec")).Decode(&spec); err != nil {
		fail("read spec: %v", err)
	}
	steps := [][]string{{"link", "set", "lo", "up"}}
	if !spec.LoopbackOnly {
		steps = append(steps,
			[]string{"addr", "add", spec.IP + "/" + prefixLen, "dev", "eth0"},
			[]string{"link", "set", "eth0", "up"},
			[]string{"route", "add", "default", "via", spec.Gateway})
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			fail("%v", err)
		}
	}
	if err := syscall.Sethostname([]byte(spec.Hostname)); err != nil {
		fail("sethostname: %v", err)
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		fail("make / private: %v", err)
	}
	for _, m := range spec.Mounts {
		dst := filepath.Join(spec.Root, m.Dst)
		var err error
		if m.File {
			err = os.MkdirAll(filepath.Dir(dst), 0o755)
			if err == nil {
				var f *os.File
				if f, err = os.OpenFile(dst, os.O_CREATE, 0o644); err == nil {
					f.Close()
				}
			}
		} else {
			err = os.MkdirAll(dst, 0o755)
		}
		if err != nil {
			fail("mount point %s: %v", dst, err)
		}
		if err := syscall.Mount(m.Src, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			fail("bind %s on %s: %v", m.Src, dst, err)
		}
		if m.ReadOnly {
			if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				fail("read-only %s: %v", dst, err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(spec.Root, "proc"), 0o555); err != nil {
		fail("%v", err)
	}
	if err := syscall.Mount("proc", filepath.Join(spec.Root, "proc"), "proc", 0, ""); err != nil {
		fail("mount /proc: %v", err)
	}
	if err := syscall.Chroot(spec.Root); err != nil {
		fail("chroot %s: %v", spec.Root, err)
	}
	wd := spec.WorkDir
	if wd == "" {
		wd = "/"
	}
	if err := os.Chdir(wd); err != nil {
		fail("chdir %s: %v", wd, err)
	}
	if err := syscall.Setgroups(spec.Groups); err != nil {
		fail("setgroups: %v", err)
	}
	if err := syscall.Setgid(spec.GID); err != nil {
		fail("setgid: %v", err)
	}
	if err := syscall.Setuid(spec.UID); err != nil {
		fail("setuid: %v", err)
	}
	err := syscall.Exec(spec.Exec, append([]string{spec.Exec}, spec.Args...), spec.Env)
	fail("exec %s: %v", spec.Exec, err)
}
