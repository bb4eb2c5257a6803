package proc

import (
	"os/exec"
	"strings"
	"testing"
)

// A program that cannot start is an error from Launch (Start fails the
// test with it): the lab's kubelet calls Launch on its own goroutine.
func TestLaunchReturnsStartError(t *testing.T) {
	p, err := Launch(t, t.TempDir(), "missing", exec.Command("/nonexistent/program"))
	if err == nil || p != nil || !strings.Contains(err.Error(), "start missing") {
		t.Fatalf("Launch of a missing program: %v, %v; want an error naming it", p, err)
	}
	p, err = Launch(t, t.TempDir(), "true", exec.Command("true"))
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if p.ExitCode() != 0 {
		t.Fatalf("true exited %d", p.ExitCode())
	}
}
