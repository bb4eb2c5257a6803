package htpasswd

import (
	"testing"
	"time"
)

// TestRunsPerLine keeps the estimate honest: Hash makes exactly
// BcryptRunsPerLine bcrypt runs per line, which scheme v2 makes one.
func TestRunsPerLine(t *testing.T) {
	runs := 0
	countRun = func() { runs++ }
	defer func() { countRun = func() {} }()
	if _, err := Hash([]byte("s3cret"), MinCost, ctx, []byte("pepper")); err != nil {
		t.Fatal(err)
	}
	if runs != BcryptRunsPerLine {
		t.Errorf("Hash made %d bcrypt runs for one line, BcryptRunsPerLine is %d", runs, BcryptRunsPerLine)
	}
	if BcryptRunsPerLine != 1 {
		t.Errorf("BcryptRunsPerLine is %d; scheme v2 makes one bcrypt run per line", BcryptRunsPerLine)
	}
}

func TestEstimate(t *testing.T) {
	for _, tc := range []struct {
		lines, cost int
		want        time.Duration
	}{
		{1, 10, BcryptRunsPerLine * ReferenceRun},
		{1, 11, 2 * BcryptRunsPerLine * ReferenceRun},
		{3, 12, 12 * BcryptRunsPerLine * ReferenceRun},
		{1, 9, BcryptRunsPerLine * ReferenceRun / 2},
		{0, 10, 0},
		{5, 3, 0},
	} {
		if got := Estimate(tc.lines, tc.cost); got != tc.want {
			t.Errorf("Estimate(%d, %d) = %v, want %v", tc.lines, tc.cost, got, tc.want)
		}
	}
}
