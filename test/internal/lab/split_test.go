package lab

import (
	"os"
	"slices"
	"testing"
)

func TestSplitTests(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envJobs, "")
	tests, jobs, err := splitTests(self, []string{"-test.v=true", "-test.timeout=10m0s"})
	if err != nil {
		t.Fatal(err)
	}
	// This binary's own tests, listed by running it with -test.list.
	if jobs != defaultJobs || !slices.Contains(tests, "TestSplitTests") || !slices.Contains(tests, "TestPodUser") {
		t.Fatalf("split of this package: %v, %d jobs; want its tests, %d jobs", tests, jobs, defaultJobs)
	}
	for _, chosen := range [][]string{{"-test.run=TestX"}, {"-test.skip", "TestX"}, {"-test.list=."}, {"-test.bench=."}} {
		if tests, _, err := splitTests(self, chosen); err != nil || tests != nil {
			t.Errorf("args %v: split %v, %v; want no split (the caller chose the tests)", chosen, tests, err)
		}
	}
	t.Setenv(envJobs, "1")
	if tests, _, err := splitTests(self, nil); err != nil || tests != nil {
		t.Errorf("%s=1: split %v, %v; want none", envJobs, tests, err)
	}
	t.Setenv(envJobs, "zero")
	if _, _, err := splitTests(self, nil); err == nil {
		t.Errorf("%s=zero: no error", envJobs)
	}
}

func TestOrderTests(t *testing.T) {
	got := orderTests([]string{"TestA", "TestB", "TestC", "TestD"}, []string{"TestC", "TestGone", "TestA"})
	if want := []string{"TestC", "TestA", "TestB", "TestD"}; !slices.Equal(got, want) {
		t.Errorf("orderTests: %v, want %v", got, want)
	}
}
