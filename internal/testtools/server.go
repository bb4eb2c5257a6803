package testtools

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that is free now and that the
// kernel does not hand out by itself.
//
// A port the kernel picked (a ":0" listener) lies in the ephemeral range,
// where every outgoing connection of every process also takes its local
// port; between closing the probe and the server's bind, one of them can
// take it ("bind: address already in use"; seen with the Loki processes of
// the simple-scalable test). Ports below that range are only ever taken by
// an explicit bind, so FreePort walks them from a random start, one process
// apart from another, checks each with a bind and never returns a port
// twice in one process.
func FreePort(t testing.TB) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	if portNext == 0 {
		portLow, portHigh = explicitPortRange()
		portNext = portLow + rand.IntN(portHigh-portLow)
	}
	for range portHigh - portLow {
		p := portNext
		if portNext++; portNext >= portHigh {
			portNext = portLow
		}
		l, err := net.Listen("tcp", Addr(p))
		if err != nil {
			continue // taken by someone else: try the next one
		}
		l.Close()
		return p
	}
	t.Fatalf("no free TCP port on 127.0.0.1 in %d-%d", portLow, portHigh-1)
	return 0
}

var (
	portMu                      sync.Mutex
	portLow, portHigh, portNext int
)

// explicitPortRange is [10000, start of the ephemeral range), read from
// /proc/sys/net/ipv4/ip_local_port_range (Linux default 32768), or
// [10000, 32768) where that cannot be read.
func explicitPortRange() (low, high int) {
	low, high = 10000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return low, high
	}
	if f := strings.Fields(string(b)); len(f) == 2 {
		if n, err := strconv.Atoi(f[0]); err == nil && n > low+1000 {
			high = n
		}
	}
	return low, high
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
