package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A lab is bound to its namespaces (one HostIP, one API server port), so
// the tests of one binary share one set of them and run one after another.
// The lab's tests mostly wait (for programs to start, probes, controllers),
// so Main gives each top-level test namespaces of its own instead: one
// process per test, up to envJobs at once, each an independent lab.

const (
	envJobs  = "LOKI_CMP_LAB_JOBS" // labs at once (default defaultJobs); 1: one namespace set, tests in turn
	roleList = "list"              // list the tests, outside any namespace

	// Four: with eight labs on 2 cores, the package took 429 s at four and
	// 495 s at three (2026-12-03); the longest lab (TestGitOps) then ends
	// the run instead of a queue of shorter ones behind it.
	defaultJobs = 4
)

// splitTests is the top-level tests to run in labs of their own, or nil
// when the run stays in one: one job, or the caller chose what to run
// (-test.run, -test.skip, -test.list, benchmarks, fuzzing), which a split
// would have to rewrite.
func splitTests(self string, args []string) ([]string, int, error) {
	jobs := defaultJobs
	if v := os.Getenv(envJobs); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, 0, fmt.Errorf("%s=%q: want a positive number", envJobs, v)
		}
		jobs = n
	}
	if jobs == 1 {
		return nil, 1, nil
	}
	for _, a := range args {
		for _, f := range []string{"run", "skip", "list", "bench", "fuzz"} {
			if strings.HasPrefix(a, "-test."+f+"=") || a == "-test."+f {
				return nil, 1, nil
			}
		}
	}
	cmd := exec.Command(self, "-test.list=^Test")
	cmd.Env = append(os.Environ(), envRole+"="+roleList)
	out, err := cmd.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("list the tests: %v", err)
	}
	var tests []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if name := strings.TrimSpace(sc.Text()); strings.HasPrefix(name, "Test") {
			tests = append(tests, name)
		}
	}
	if len(tests) < 2 {
		return nil, 1, nil
	}
	return tests, jobs, nil
}

// orderTests puts the tests of first that exist ahead, in first's order,
// and the rest after them in their own order.
func orderTests(tests, first []string) []string {
	var out []string
	for _, name := range first {
		if slices.Contains(tests, name) {
			out = append(out, name)
		}
	}
	for _, name := range tests {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// runSplit runs each test in its own namespaces (unshare with unshareArgs),
// jobs at once, and prints each one's whole output when it ends, so that
// no two tests' lines mix. It returns the exit status: 0 only if every run
// passed.
func runSplit(self string, unshareArgs, args, tests []string, jobs int) int {
	var (
		mu     sync.Mutex
		status int
		wg     sync.WaitGroup
		slots  = make(chan struct{}, jobs)
	)
	var pass []string
	for _, a := range args {
		// go test reads one test log per binary run; several runs would
		// write it at once (a run whose log is missing is just not cached).
		if !strings.HasPrefix(a, "-test.testlogfile=") {
			pass = append(pass, a)
		}
	}
	// Slots are taken in the list's order (Main's longestFirst, then
	// source order: the long labs start in the first round, not last
	// behind the short ones).
	for _, name := range tests {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			began := time.Now()
			argv := slices.Concat(unshareArgs, []string{"--", self}, pass, []string{"-test.run=^" + name + "$"})
			cmd := exec.Command("unshare", argv...)
			cmd.Env = labEnv()
			out, err := cmd.CombinedOutput()
			rc := 0
			if err != nil {
				rc = 1
				if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 0 {
					rc = ee.ExitCode()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			os.Stdout.Write(out)
			fmt.Fprintf(os.Stdout, "lab: %s ran in namespaces of its own: exit %d in %s\n", name, rc, time.Since(began).Round(100*time.Millisecond))
			if rc != 0 {
				status = rc
			}
		}()
	}
	wg.Wait()
	return status
}

// labEnv is the environment of a test run inside the lab's namespaces:
// modules come from the cache only (there is no network).
func labEnv() []string {
	return append(os.Environ(), envRole+"="+roleLab, "GOPROXY=off", "GOFLAGS=-mod=mod")
}
