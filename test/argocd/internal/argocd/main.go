// Command argocd is the lab's Argo CD (test/lab, docs/lab.md): one binary
// that, like upstream's cmd/main.go, is each of Argo CD's server programs
// under the name it is started as (a symlink or ARGOCD_BINARY_NAME):
//
//	argocd-application-controller, argocd-repo-server, argocd-server,
//	argocd-cmp-server (the plugin sidecar's), argocd-git-ask-pass
//
// Every command is upstream's, from the release this module pins; left out
// are the CLI, Dex, the ApplicationSet, notification and commit servers and
// the k8s-auth helper, which loki-cmp's flows do not use. Under any other
// name, `argocd version` prints the version (hack/test-tools.sh checks it).
// hack/test-tools.sh builds it (tool argocd) with the version stamped.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	cmpserver "github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	apiserver "github.com/argoproj/argo-cd/v3/cmd/argocd-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/grpc"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func init() {
	// As upstream: klog follows Argo CD's log level and format.
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	grpc.DisableSRVLookups() // upstream's workaround for gRPC's SRV lookups
	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	var cmd *cobra.Command
	switch name {
	case common.CommandApplicationController:
		cmd = appcontroller.NewCommand()
	case common.CommandRepoServer:
		cmd = reposerver.NewCommand()
	case common.CommandServer:
		cmd = apiserver.NewCommand()
	case common.CommandCMPServer:
		cmd = cmpserver.NewCommand()
	case common.CommandGitAskPass:
		cmd = gitaskpass.NewCommand()
	default:
		if len(os.Args) == 2 && os.Args[1] == "version" {
			fmt.Println("argocd", common.GetVersion().Version)
			return
		}
		fmt.Fprintf(os.Stderr, "argocd: started as %q: run it as one of %s, %s, %s, %s, %s (or `argocd version`)\n", name,
			common.CommandApplicationController, common.CommandRepoServer, common.CommandServer,
			common.CommandCMPServer, common.CommandGitAskPass)
		os.Exit(2)
	}
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
