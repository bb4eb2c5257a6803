// Command alloycomponents prints, one a line and sorted, the Alloy
// components that loki-cmp renders for the examples under
// testdata/examples: hack/test-tools.sh builds Alloy with exactly these.
// Run it from the repository root: go run ./hack/alloycomponents
package main

import (
	"fmt"
	"os"

	"github.com/thedevops/loki-cmp/internal/alloyconfig"
)

func main() {
	names, err := alloyconfig.ExampleComponents(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "alloycomponents:", err)
		os.Exit(1)
	}
	for _, n := range names {
		fmt.Println(n)
	}
}
