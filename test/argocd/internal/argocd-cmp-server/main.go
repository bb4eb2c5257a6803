// Command argocd-cmp-server is Argo CD's config management plugin server,
// built from the Argo CD release this module pins: what the repo-server's
// copyutil init container copies into the sidecar as
// /var/run/argocd/argocd-cmp-server (the argocd binary started under that
// name). image_test.go runs it inside the loki-cmp image.
package main

import (
	"os"

	"github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
)

func main() {
	if err := commands.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
