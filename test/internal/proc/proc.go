// Package proc starts the real servers the tests run against (etcd,
// kube-apiserver, Loki) and makes sure they stop: each runs in its own
// process group, which is killed when the test ends, and receives SIGKILL
// from the kernel if the test binary itself dies first (Pdeathsig), so a
// crashed or timed-out test leaves no server behind.
package proc

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/thedevops/loki-cmp/internal/testtools"
)

// Process is a started server.
type Process struct {
	Name string
	Log  string // file holding its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs cmd in its own process group with its output in a log file
// under dir, and stops it when t ends: SIGTERM to the group, SIGKILL after
// 10 s. If t failed, the end of the log is printed. A program that cannot
// start fails t.
func Start(t testing.TB, dir, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	p, err := Launch(t, dir, name, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Launch is Start returning the error instead of failing t: for callers on
// goroutines other than the test's own (the lab's kubelet), where t.Fatal
// must not be called.
func Launch(t testing.TB, dir, name string, cmd *exec.Cmd) (*Process, error) {
	logName := filepath.Join(dir, name+".log")
	log, err := os.Create(logName)
	if err != nil {
		return nil, err
	}
	// Where the caller set writers of its own (the lab's container log),
	// the output goes there too.
	cmd.Stdout, cmd.Stderr = tee(log, cmd.Stdout), tee(log, cmd.Stderr)
	// A caller's attributes (e.g. the lab's namespaces) are kept.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pdeathsig = true, syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %v", name, err)
	}
	p := &Process{Name: name, Log: logName, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); log.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s log (end):\n%s", name, p.Tail(4000))
		}
	})
	return p, nil
}

func tee(log *os.File, w io.Writer) io.Writer {
	if w == nil {
		return log
	}
	return io.MultiWriter(log, w)
}

// Stop ends the process group: SIGTERM, then SIGKILL after 10 s. It is
// safe to call more than once.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Pid is the process id (of the group leader).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, string) {
	select {
	case <-p.done:
		return true, p.cmd.ProcessState.String()
	default:
		return false, ""
	}
}

// ExitCode is the exit code of an ended process (-1 while it runs or
// when a signal ended it).
func (p *Process) ExitCode() int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// Tail returns the last n bytes of the log.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1, outside the
// kernel's ephemeral range (see testtools.FreePort).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = testtools.FreePort(t)
	}
	return ports
}

// Addr is 127.0.0.1:port.
func Addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// URL is http://127.0.0.1:port.
func URL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }
