package testtools

import (
	"net"
	"testing"
)

// TestFreePortOutsideEphemeralRange: the ports handed to servers are never
// ones the kernel could give an outgoing connection in the meantime, differ
// from each other, and can be bound.
func TestFreePortOutsideEphemeralRange(t *testing.T) {
	low, high := explicitPortRange()
	seen := map[int]bool{}
	for range 200 {
		p := FreePort(t)
		if p < low || p >= high {
			t.Fatalf("port %d outside [%d, %d): the kernel may hand it out by itself", p, low, high)
		}
		if seen[p] {
			t.Fatalf("port %d returned twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", Addr(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
}

// TestFreePortSkipsTakenPorts: a port someone holds is passed over.
func TestFreePortSkipsTakenPorts(t *testing.T) {
	FreePort(t) // initialise the walk
	portMu.Lock()
	next := portNext
	portMu.Unlock()
	// Hold the port FreePort would try next (if another process holds it
	// already, FreePort must pass over it just the same).
	if l, err := net.Listen("tcp", Addr(next)); err == nil {
		defer l.Close()
	}
	if p := FreePort(t); p == next {
		t.Fatalf("FreePort returned %d, which is held", p)
	}
}
