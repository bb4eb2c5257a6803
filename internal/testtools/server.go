package testtools

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr joins 127.0.0.1 and a port.
func Addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// StartProcess starts a server in its own process group, writing its output
// to a log file in a temp dir, and stops it (group included) when the test
// ends: SIGTERM, then SIGKILL after 5 s. The log is printed if the test failed.
func StartProcess(t testing.TB, name string, cmd *exec.Cmd) {
	t.Helper()
	log, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			if b, err := os.ReadFile(log.Name()); err == nil {
				t.Logf("%s log (last 3000 bytes):\n%s", name, tail(b, 3000))
			}
		}
		log.Close()
	})
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// WaitHTTP polls url until it answers with one of the wanted status codes.
func WaitHTTP(t testing.TB, client *http.Client, url string, timeout time.Duration, want ...int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			for _, w := range want {
				if resp.StatusCode == w {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not ready after %s (last error: %v)", url, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
