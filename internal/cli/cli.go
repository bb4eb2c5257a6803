// Package cli is loki-cmp's command line: cobra commands that read input,
// call config, plugin and generator, and write the result. Run is the whole
// program, minus os.Exit, so tests run the real CLI in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/plugin"
	"github.com/thedevops/loki-cmp/plugin/vault"
)

// Exit codes. Documented in README.md; scripts and Argo CD users rely on them.
const (
	ExitOK         = 0
	ExitInternal   = 1 // a bug: please report it
	ExitUsage      = 2 // unknown command or flag
	ExitInvalid    = 3 // loki.yaml unreadable or invalid
	ExitCredential = 4 // a referenced credential is unavailable or unusable
	// Vault failures, by kind (see plugin/vault.Kind).
	ExitVaultUnavailable = 5 // not configured, unreachable, TLS, sealed, deadline, 5xx/429
	ExitVaultDenied      = 6 // allow-list, login, missing auth settings, 403
	ExitVaultNotFound    = 7 // missing path/key/version, wrong KV version, malformed answer
)

// version is set at build time (-ldflags "-X .../internal/cli.version=v1.2.3").
var version = "dev"

// Streams are the standard streams of one run.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Run runs loki-cmp with args (without the program name) and returns the exit
// code. It writes to s.Out only on success, all at once.
func Run(ctx context.Context, s Streams, args []string, env plugin.LookupEnv) int {
	root := newRoot(s, env)
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(s.Err, "loki-cmp: error: %s\n", line)
	}
	if code == ExitUsage {
		fmt.Fprintln(s.Err, "loki-cmp: hint: run 'loki-cmp --help' for usage")
	}
	return code
}

// usageError marks command-line mistakes.
type usageError struct{ error }

func exitCode(err error) int {
	var (
		ue *usageError
		ce *plugin.CredentialError
		ve *config.Error
		ie *inputError
		pe *plugin.ParameterError
	)
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ce):
		switch ce.Vault {
		case vault.KindUnavailable:
			return ExitVaultUnavailable
		case vault.KindDenied:
			return ExitVaultDenied
		case vault.KindNotFound:
			return ExitVaultNotFound
		}
		return ExitCredential
	case errors.As(err, &ve), errors.As(err, &ie), errors.As(err, &pe):
		return ExitInvalid
	}
	return ExitInternal
}

func newRoot(s Streams, env plugin.LookupEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "loki-cmp",
		Short: "Render a complete Grafana Loki stack for Kubernetes from one short loki.yaml",
		Long: `loki-cmp turns a loki.yaml into the Kubernetes manifests of a Loki logging stack
(Traefik ingress with basic auth, cert-manager TLS, Loki, Promtail, Prometheus
and Grafana integration). It runs as an Argo CD Config Management Plugin or
locally, printing exactly what Argo CD would apply.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newGenerate(s, env), newValidate(s, env), newParameters(s, env), newInit(s), newSchema(s), newVersion(s))
	// Unknown subcommands are usage errors too.
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &usageError{fmt.Errorf("unknown command %q", args[0])}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return root
}

func newVersion(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(s.Out, "loki-cmp %s\n", version)
			return err
		},
	}
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("unexpected argument %q", args[0])}
	}
	return nil
}
