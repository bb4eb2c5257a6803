package htpasswd

import "time"

// ReferenceRun is the time of one bcrypt run at cost 10 on the CPU the
// estimate assumes: one core of a current x86-64 server, the sidecar's CPU
// limit in deploy/ ("1"), where Go runs the hashes on one thread. Measured
// with BenchmarkHash (docs/performance.md); rounded up, as a busy node is
// slower than an idle one.
const ReferenceRun = 100 * time.Millisecond

// Estimate is how long hashing lines htpasswd lines at cost takes on the
// reference CPU: lines × BcryptRunsPerLine runs, each doubling with every
// step of the cost.
func Estimate(lines, cost int) time.Duration {
	if lines <= 0 || cost < MinCost || cost > MaxCost {
		return 0
	}
	per := ReferenceRun
	if cost >= 10 {
		per <<= cost - 10
	} else {
		per >>= 10 - cost
	}
	return time.Duration(lines*BcryptRunsPerLine) * per
}

// countRun is called by every bcrypt run; tests replace it to count runs.
var countRun = func() {}
