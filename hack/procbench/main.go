// Command procbench times whole loki-cmp processes, as Argo CD's repo-server
// runs them: median and 90th percentile of the wall time, peak RSS, output
// size. `make bench` runs it after the Go benchmarks; docs/performance.md
// records its table.
//
//	go run ./hack/procbench [-runs 30] [-bin bin/loki-cmp]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

type scenario struct {
	name string
	args []string
	env  []string
	bin  string // another program than loki-cmp (the floors)
}

func main() {
	bin := flag.String("bin", "bin/loki-cmp", "loki-cmp binary to time")
	runs := flag.Int("runs", 30, "runs per scenario (the median of these is reported)")
	flag.Parse()
	if err := run(*bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "procbench:", err)
		os.Exit(1)
	}
}

func run(bin string, runs int) error {
	st, err := os.Stat(bin)
	if err != nil {
		return fmt.Errorf("%v (run make build first)", err)
	}
	dir, err := os.MkdirTemp("", "procbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	users100, err := manyUsers(dir, 100)
	if err != nil {
		return err
	}
	floors, err := buildFloors(dir)
	if err != nil {
		return err
	}
	seed := "testdata/examples/seed/loki.yaml"
	pw := "LOKI_ADMIN_PASSWORD=procbench-password"
	scenarios := append(floors, []scenario{
		{"version", []string{"version"}, nil, ""},
		{"validate seed", []string{"validate", "-f", seed}, nil, ""},
		{"generate --dry-run seed", []string{"generate", "--dry-run", "-f", seed}, nil, ""},
		{"generate seed (1 user, bcrypt cost 10)", []string{"generate", "-f", seed}, []string{pw}, ""},
		{"generate -o json seed (cost 10)", []string{"generate", "-o", "json", "-f", seed}, []string{pw}, ""},
		{"generate simple-scalable (cost 10)", []string{"generate", "-f", "testdata/examples/simple-scalable/loki.yaml"},
			[]string{pw, "LOKI_S3_ACCESS_KEY_ID=k", "LOKI_S3_SECRET_ACCESS_KEY=s"}, ""},
		{"generate --dry-run 100 users", []string{"generate", "--dry-run", "-f", users100}, nil, ""},
		{"generate 100 users (cost 4)", []string{"generate", "-f", users100}, []string{"PW=procbench-password"}, ""},
	}...)
	fmt.Printf("loki-cmp %s: %.1f MB, %d runs per row, %s\n\n", bin, float64(st.Size())/1e6, runs, time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| scenario | median | p90 | min | peak RSS | stdout |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, s := range scenarios {
		exe := bin
		if s.bin != "" {
			exe = s.bin
		}
		var times []time.Duration
		var rss int64
		var out int
		for i := 0; i < runs; i++ {
			d, r, n, err := once(exe, s)
			if err != nil {
				return fmt.Errorf("%s: %v", s.name, err)
			}
			times = append(times, d)
			rss = max(rss, r)
			out = n
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Printf("| %s | %s | %s | %s | %.1f MB | %d B |\n", s.name, ms(times[len(times)/2]),
			ms(times[len(times)*9/10]), ms(times[0]), float64(rss)/1024, out)
	}
	return nil
}

func once(bin string, s scenario) (time.Duration, int64, int, error) {
	var stdout strings.Builder
	cmd := exec.Command(bin, s.args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, s.env...)
	cmd.Stdout = &stdout
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, err
	}
	d := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, ru.Maxrss, stdout.Len(), nil // Maxrss is in KiB on Linux
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
		out = append(out, scenario{name: f.name, bin: exe})
	}
	return out, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

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
