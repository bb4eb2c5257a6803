// Package cli is loki-cmp's command line: cobra commands that read input,
// call config, plugin and generator, and write the result. Run is the whole
// program, minus os.Exit, so tests run the real CLI in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	ExitWrite            = 8 // init could not write its file
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
	if err := checkCommand(root, args); err != nil {
		return report(s, err)
	}
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	return report(s, err)
}

// report prints err, one line per problem, and returns its exit code.
func report(s Streams, err error) int {
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

// writeError is a file init could not write.
type writeError struct{ error }

// checkCommand names an unknown command as such before cobra parses the
// flags that follow it: "loki-cmp generat -f x" would otherwise report the
// flag -f as unknown, which sends the user to the wrong word.
func checkCommand(root *cobra.Command, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil
	}
	for _, c := range root.Commands() {
		if c.Name() == args[0] || c.HasAlias(args[0]) {
			return nil
		}
	}
	if args[0] == "help" || strings.HasPrefix(args[0], "__complete") {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := root.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	} else if looksLikeFile(args[0]) {
		msg += fmt.Sprintf("; to check a file, run: loki-cmp validate -f %s", args[0])
	}
	return &usageError{errors.New(msg)}
}

// looksLikeFile reports whether an argument is probably a file name.
func looksLikeFile(arg string) bool {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.ContainsRune(arg, '/') {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && st.Mode().IsRegular()
}
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
	case errors.As(err, new(*writeError)):
		return ExitWrite
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
(Traefik ingress with basic auth, cert-manager TLS, Loki, a log collector on
every node (Grafana Alloy by default, or Promtail), Prometheus and Grafana
integration). It runs as an Argo CD Config Management Plugin or
locally, printing exactly what Argo CD would apply.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newGenerate(s, env), newValidate(s, env), newParameters(s, env), newInit(s), newSchema(s), newVersion(s))
	strictCompletion(root)
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

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unexpected argument %q", args[0])
	if cmd.Flags().Lookup("file") != nil && looksLikeFile(args[0]) {
		msg += fmt.Sprintf("; files are given with -f: %s -f %s", cmd.CommandPath(), args[0])
	}
	return &usageError{errors.New(msg)}
}

// Shells cobra writes completion scripts for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// strictCompletion makes "completion" without a shell, or with one cobra
// does not know, a usage error: cobra's own command prints its help and
// exits 0, so a script's "loki-cmp completion tcsh > file" seems to work.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("completion needs a shell: %s", strings.Join(completionShells, ", "))}
			}
			return &usageError{fmt.Errorf("unsupported shell %q: completion knows %s", args[0], strings.Join(completionShells, ", "))}
		}
	}
}
