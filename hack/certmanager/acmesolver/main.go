// Command acmesolver is cert-manager's HTTP-01 solver
// (github.com/cert-manager/cert-manager/pkg/issuer/acme/http/solver) with
// the flags cert-manager's controller gives the solver pods it creates; the
// lab's kubelet runs it for those pods.
package main

import (
	"flag"
	"fmt"
	"os"

	"k8s.io/klog/v2"

	"github.com/cert-manager/cert-manager/pkg/issuer/acme/http/solver"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
)

func main() {
	s := &solver.HTTP01Solver{}
	flag.IntVar(&s.ListenPort, "listen-port", 8089, "port to listen on")
	flag.StringVar(&s.Domain, "domain", "", "the domain name to answer for")
	flag.StringVar(&s.Token, "token", "", "the challenge token")
	flag.StringVar(&s.Key, "key", "", "the key authorization to answer with")
	version := flag.Bool("version", false, "print the version and exit")
	klog.InitFlags(flag.CommandLine)
	flag.Parse()
	if *version {
		fmt.Printf("cert-manager acmesolver (loki-cmp lab build) %s\n", util.AppVersion)
		return
	}
	logf.InitLogs()
	if err := s.Listen(logf.Log.WithName("acmesolver")); err != nil {
		fmt.Fprintf(os.Stderr, "acmesolver: %v\n", err)
		os.Exit(1)
	}
}
