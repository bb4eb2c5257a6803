// Command controller is the lab's cert-manager controller: upstream's
// controllers and ACME issuer (github.com/cert-manager/cert-manager/pkg/...),
// started the way cert-manager's own controller starts them, for what
// loki-cmp renders and nothing else: ClusterIssuers and Issuers, the
// Certificate life cycle, CertificateRequests (approval and ACME), ACME
// Orders and Challenges, and ingress-shim. Left out: the CA, self-signed,
// Vault and Venafi issuers, CertificateSigningRequests and the Gateway API
// shim (loki-cmp renders none of them), leader election and the metrics
// and health servers (one replica, nothing scrapes it).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/klog/v2"

	"github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	// Controllers register themselves with pkg/controller when imported.
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/acme"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	// The ACME issuer registers itself with pkg/issuer.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
)

// workers per controller, as cert-manager's default.
const workers = 5

func main() {
	var (
		kubeconfig  = flag.String("kubeconfig", "", "kubeconfig of the cluster")
		clusterNS   = flag.String("cluster-resource-namespace", "kube-system", "namespace of the Secrets ClusterIssuers use (ACME account keys)")
		solverImage = flag.String("acme-http01-solver-image", "quay.io/jetstack/cert-manager-acmesolver:"+util.AppVersion, "image of the HTTP-01 solver pods")
		nameservers = flag.String("acme-http01-solver-nameservers", "", "host:port of the DNS servers for the HTTP-01 self-check, comma-separated (empty: the system's)")
		version     = flag.Bool("version", false, "print the version and exit")
	)
	klog.InitFlags(flag.CommandLine)
	flag.Parse()
	if *version {
		fmt.Printf("cert-manager controller (loki-cmp lab build) %s\n", util.AppVersion)
		return
	}
	if err := run(*kubeconfig, *clusterNS, *solverImage, *nameservers); err != nil {
		fmt.Fprintf(os.Stderr, "cert-manager controller: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig, clusterNS, solverImage, nameservers string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logf.InitLogs()
	ctx = logf.NewContext(ctx, logf.Log, "controller")

	factory, err := controller.NewContextFactory(ctx, options(kubeconfig, clusterNS, solverImage, nameservers))
	if err != nil {
		return err
	}
	known := controller.Known()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range known {
			if !yield(n) {
				return
			}
		}
	})
	var ctrls []controller.Interface
	for _, name := range names {
		c, err := known[name](factory)
		if err != nil {
			return fmt.Errorf("controller %s: %w", name, err)
		}
		ctrls = append(ctrls, c)
	}
	// The controllers asked the shared informer factories for their
	// informers while they were built; start them now, once.
	shared, err := factory.Build()
	if err != nil {
		return err
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	if shared.GatewaySolverEnabled {
		shared.GWShared.Start(ctx.Done())
	}
	logf.Log.Info("starting controllers", "controllers", strings.Join(names, ","), "version", util.AppVersion)

	var wg sync.WaitGroup
	errs := make(chan error, len(ctrls))
	for i, c := range ctrls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(workers, ctx); err != nil {
				errs <- fmt.Errorf("controller %s: %w", names[i], err)
				stop()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when every controller ended with the context
}

// options are cert-manager's defaults for its controller, but for the
// flags above.
func options(kubeconfig, clusterNS, solverImage, nameservers string) controller.ContextOptions {
	var ns []string
	if nameservers != "" {
		ns = strings.Split(nameservers, ",")
	}
	return controller.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		IssuerOptions: controller.IssuerOptions{
			ClusterResourceNamespace:        clusterNS,
			ClusterIssuerAmbientCredentials: true,
		},
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverImage:                 solverImage,
			HTTP01SolverResourceRequestCPU:    resource.MustParse("10m"),
			HTTP01SolverResourceRequestMemory: resource.MustParse("64Mi"),
			HTTP01SolverResourceLimitsCPU:     resource.MustParse("100m"),
			HTTP01SolverResourceLimitsMemory:  resource.MustParse("64Mi"),
			ACMEHTTP01SolverRunAsNonRoot:      true,
			HTTP01SolverNameservers:           ns,
			DNS01CheckRetryPeriod:             10 * time.Second,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
		},
		CertificateOptions: controller.CertificateOptions{
			CopiedAnnotationPrefixes: []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: 60},
	}
}
