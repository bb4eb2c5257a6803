// Command procbench times whole loki-cmp processes, as Argo CD's repo-server
// runs them: median and 90th percentile of the wall time, peak RSS, page
// faults, output size; the instructions each executes (callgrind, the
// figure machine load does not move); and a side-by-side run against
// `helm template` of the Loki Helm chart. `make bench` runs it after the Go
// benchmarks; docs/performance.md records its tables.
//
//	go run ./hack/procbench [-runs 30] [-bin bin/loki-cmp] [-helm=false] [-helm-only] [-callgrind=false]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type scenario struct {
	name string
	args []string
	env  []string
	bin  string // another program than loki-cmp (the floors, helm)
	// callgrind: also count this scenario's instructions.
	callgrind bool
}

// sample is one run of a scenario.
type sample struct {
	wall           time.Duration
	cpu            time.Duration // user + system
	rss            int64         // KiB
	minflt, majflt int64
	out            int
}

func main() {
	bin := flag.String("bin", "bin/loki-cmp", "loki-cmp binary to time")
	runs := flag.Int("runs", 30, "runs per scenario (the median of these is reported)")
	withHelm := flag.Bool("helm", true, "also run the side-by-side comparison with helm template (installs helm into the cache on first use)")
	withCallgrind := flag.Bool("callgrind", true, "also count instructions with valgrind's callgrind (skipped when valgrind is missing)")
	helmOnly := flag.Bool("helm-only", false, "run only the side-by-side comparison with helm (e.g. again when the machine is idle)")
	flag.Parse()
	if err := run(*bin, *runs, *withHelm || *helmOnly, *helmOnly, *withCallgrind); err != nil {
		fmt.Fprintln(os.Stderr, "procbench:", err)
		os.Exit(1)
	}
}

func run(bin string, runs int, withHelm, helmOnly, withCallgrind bool) error {
	st, err := os.Stat(bin)
	if err != nil {
		return fmt.Errorf("%v (run make build first)", err)
	}
	dir, err := os.MkdirTemp("", "procbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	grind := withCallgrind
	if _, err := exec.LookPath("valgrind"); grind && err != nil {
		fmt.Println("callgrind: skipped, valgrind is not installed (apt-get install valgrind)")
		grind = false
	}
	if helmOnly {
		return compareHelm(bin, dir, runs, grind)
	}
	users100, err := manyUsers(dir, 100)
	if err != nil {
		return err
	}
	floors, err := buildFloors(dir)
	if err != nil {
		return err
	}
	scenarios := append(floors, []scenario{
		{name: "version", args: []string{"version"}, callgrind: true},
		{name: "validate seed", args: []string{"validate", "-f", seedFile}},
		dryRun,
		generate,
		{name: "generate -o json seed (cost 10)", args: []string{"generate", "-o", "json", "-f", seedFile}, env: []string{seedPassword}},
		{name: "generate simple-scalable (cost 10)", args: []string{"generate", "-f", "testdata/examples/simple-scalable/loki.yaml"},
			env: []string{seedPassword, "LOKI_S3_ACCESS_KEY_ID=k", "LOKI_S3_SECRET_ACCESS_KEY=s"}},
		{name: "generate --dry-run 100 users", args: []string{"generate", "--dry-run", "-f", users100}},
		{name: "generate 100 users (cost 4)", args: []string{"generate", "-f", users100}, env: []string{"PW=procbench-password"}},
	}...)
	fmt.Printf("loki-cmp %s: %.1f MB, %d runs per row, %s, load average %s\n\n", bin, float64(st.Size())/1e6, runs,
		time.Now().UTC().Format("2006-01-02 15:04"), loadAverage())
	fmt.Println(tableHead)
	for _, s := range scenarios {
		var samples []sample
		for i := 0; i < runs; i++ {
			r, err := once(bin, s)
			if err != nil {
				return fmt.Errorf("%s: %v", s.name, err)
			}
			samples = append(samples, r)
		}
		printRow(s.name, samples)
	}
	if grind {
		fmt.Println("\n| scenario (callgrind, GODEBUG=asyncpreemptoff=1) | instructions |")
		fmt.Println("|---|---|")
		for _, s := range scenarios {
			if !s.callgrind {
				continue
			}
			n, err := instructions(bin, s)
			if err != nil {
				return fmt.Errorf("callgrind %s: %v", s.name, err)
			}
			fmt.Printf("| %s | %s |\n", s.name, mega(n))
		}
	}
	if withHelm {
		return compareHelm(bin, dir, runs, grind)
	}
	return nil
}

// tableHead heads the tables of printRow.
const tableHead = "| scenario | median | p90 | min | CPU (user+sys, median) | peak RSS | page faults (minor/major) | stdout |\n|---|---|---|---|---|---|---|---|"

const (
	seedFile     = "testdata/examples/seed/loki.yaml"
	seedPassword = "LOKI_ADMIN_PASSWORD=procbench-password"
)

var (
	dryRun   = scenario{name: "generate --dry-run seed", args: []string{"generate", "--dry-run", "-f", seedFile}, callgrind: true}
	generate = scenario{name: "generate seed (1 user, bcrypt cost 10)", args: []string{"generate", "-f", seedFile},
		env: []string{seedPassword}, callgrind: true}
)

func printRow(name string, samples []sample) {
	sort.Slice(samples, func(i, j int) bool { return samples[i].wall < samples[j].wall })
	med := samples[len(samples)/2]
	var rss int64
	var minflt, majflt, cpu []int64
	for _, s := range samples {
		rss = max(rss, s.rss)
		cpu = append(cpu, int64(s.cpu))
		minflt = append(minflt, s.minflt)
		majflt = append(majflt, s.majflt)
	}
	fmt.Printf("| %s | %s | %s | %s | %s | %.1f MB | %d / %d | %d B |\n", name, ms(med.wall),
		ms(samples[len(samples)*9/10].wall), ms(samples[0].wall), ms(time.Duration(median(cpu))), float64(rss)/1024, median(minflt), median(majflt), med.out)
}

func once(bin string, s scenario) (sample, error) {
	exe := bin
	if s.bin != "" {
		exe = s.bin
	}
	var stdout strings.Builder
	cmd := exec.Command(exe, s.args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, s.env...)
	cmd.Stdout = &stdout
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, err
	}
	d := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	// Maxrss is in KiB on Linux.
	cpu := time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	return sample{wall: d, cpu: cpu, rss: ru.Maxrss, minflt: ru.Minflt, majflt: ru.Majflt, out: stdout.Len()}, nil
}

var collected = regexp.MustCompile(`Collected : ([0-9]+)`)

// instructions runs s once under callgrind and returns the instructions
// the whole process executed. Go's asynchronous preemption signals would
// make valgrind's counts vary; GODEBUG=asyncpreemptoff=1 turns them off.
func instructions(bin string, s scenario) (int64, error) {
	exe := bin
	if s.bin != "" {
		exe = s.bin
	}
	args := append([]string{"--tool=callgrind", "--callgrind-out-file=/dev/null", exe}, s.args...)
	cmd := exec.Command("valgrind", args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "GODEBUG=asyncpreemptoff=1"}, s.env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, stderr.String())
	}
	m := collected.FindStringSubmatch(stderr.String())
	if m == nil {
		return 0, fmt.Errorf("no instruction count in valgrind's output:\n%s", stderr.String())
	}
	return strconv.ParseInt(m[1], 10, 64)
}

// buildFloors builds the two floor programs the same way as loki-cmp
// (static, -trimpath, stripped): an empty Go main, and one that only links
// k8s.io/api/core/v1. Their times are what no change to loki-cmp can beat.
func buildFloors(dir string) ([]scenario, error) {
	var out []scenario
	for _, f := range []struct{ name, pkg string }{
		{"floor: empty Go program", "./hack/procbench/floor/empty"},
		{"floor: Go program linking k8s.io/api/core/v1", "./hack/procbench/floor/corev1"},
	} {
		exe := filepath.Join(dir, filepath.Base(f.pkg))
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", exe, f.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", f.pkg, err, b)
		}
		out = append(out, scenario{name: f.name, bin: exe, callgrind: true})
	}
	return out, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mega(n int64) string { return fmt.Sprintf("%.2f M", float64(n)/1e6) }

func median(xs []int64) int64 {
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// manyUsers writes the seed example with n users sharing one password
// variable, every feature on, at bcrypt cost 4 (the scale of the output, not
// of bcrypt, is measured here).
func manyUsers(dir string, n int) (string, error) {
	var b strings.Builder
	b.WriteString(`apiVersion: lokicmp.thedevops.dev/v1alpha1
kind: LokiStack
spec:
  host: loki.example.org
  tls: {acme: {email: ops@example.org}}
  auth:
    bcryptCost: 4
    users:
`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - {name: user%03d, password: {fromEnv: PW}}\n", i)
	}
	b.WriteString("  monitoring: {serviceMonitor: {labels: {release: kube-prometheus-stack}, interval: 30s}}\n  commonLabels: {team: platform}\n")
	file := filepath.Join(dir, "loki.yaml")
	return file, os.WriteFile(file, []byte(b.String()), 0o600)
}
