package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/generator"
	"github.com/thedevops/loki-cmp/plugin"
)

// inputError is a loki.yaml that cannot be read.
type inputError struct{ error }

type generateFlags struct {
	file   string
	output string
	dryRun bool
}

func newGenerate(s Streams, env plugin.LookupEnv) *cobra.Command {
	f := &generateFlags{}
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Print the manifests of the stack described by loki.yaml",
		Long: `Print the manifests of the stack described by loki.yaml on stdout, as a YAML
stream or a JSON List, in the order Argo CD applies them. Credentials are read
from where loki.yaml references them. On any error nothing is printed on
stdout.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGenerate(cmd.Context(), s, env, f) },
	}
	cmd.Flags().StringVarP(&f.file, "file", "f", "loki.yaml", `loki.yaml to read ("-" for stdin)`)
	cmd.Flags().StringVarP(&f.output, "output", "o", generator.FormatYAML, "output format: yaml or json")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "read no credential; write a marked placeholder instead of each password hash")
	return cmd
}

func runGenerate(ctx context.Context, s Streams, env plugin.LookupEnv, f *generateFlags) error {
	if f.output != generator.FormatYAML && f.output != generator.FormatJSON {
		return &usageError{fmt.Errorf("--output must be yaml or json, not %q", f.output)}
	}
	argo, doc, err := loadForArgoCD(s, env, f.file)
	if err != nil {
		return err
	}
	in := generator.Input{Stack: doc.Stack, DryRun: f.dryRun, PartOf: argo.AppName}
	if !f.dryRun {
		creds, err := plugin.ResolveCredentials(ctx, doc, plugin.Options{Env: env, Warn: s.Err})
		if err != nil {
			return err
		}
		in.Credentials, in.ObjectStorage, in.HashPepper = creds.Users, creds.ObjectStorage, creds.HashPepper
	}
	objs, err := generator.Generate(in)
	if err != nil {
		return err
	}
	out, err := generator.Encode(objs, f.output)
	if err != nil {
		return err
	}
	if f.dryRun {
		fmt.Fprintln(s.Err, "loki-cmp: note: dry run: the basic-auth Secret holds placeholders, not password hashes")
	}
	if len(out) == 0 {
		// Argo CD with prune deletes every object on an empty, successful
		// output: never let that happen.
		return fmt.Errorf("refusing to print an empty manifest set")
	}
	// One write: either the whole output or nothing.
	_, err = s.Out.Write(out)
	return err
}

// loadForArgoCD loads loki.yaml with what Argo CD passes: the destination
// namespace as default namespace, the Application's parameters as
// overrides, and the cluster's API versions to check against.
func loadForArgoCD(s Streams, env plugin.LookupEnv, file string) (plugin.ArgoCD, *config.Document, error) {
	argo, err := plugin.ArgoCDFromEnv(env)
	if err != nil {
		return argo, nil, &inputError{err}
	}
	overrides, err := argo.Overrides()
	if err != nil {
		return argo, nil, &inputError{err}
	}
	doc, err := load(s, file, argo.AppName != "", config.Options{DefaultNamespace: argo.AppNamespace, Overrides: overrides})
	if err != nil {
		return argo, nil, err
	}
	if err := argo.CheckKubeVersion(); err != nil {
		return argo, nil, &inputError{err}
	}
	if err := argo.CheckAPIs(doc); err != nil {
		return argo, nil, err
	}
	return argo, doc, nil
}

type validateFlags struct{ file string }

func newValidate(s Streams, env plugin.LookupEnv) *cobra.Command {
	f := &validateFlags{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check loki.yaml without reading any credential",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, doc, err := loadForArgoCD(s, env, f.file)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(s.Out, "%s: valid (LokiStack %q in namespace %q)\n", doc.File, doc.Stack.Metadata.Name, doc.Stack.Metadata.Namespace)
			return err
		},
	}
	cmd.Flags().StringVarP(&f.file, "file", "f", "loki.yaml", `loki.yaml to read ("-" for stdin)`)
	return cmd
}

// load reads and loads loki.yaml from a path or stdin.
func load(s Streams, path string, underArgoCD bool, opts config.Options) (*config.Document, error) {
	data, name, err := readInput(s, path, underArgoCD)
	if err != nil {
		return nil, err
	}
	opts.File = name
	doc, err := config.Load(data, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range doc.Warnings {
		fmt.Fprintf(s.Err, "loki-cmp: warning: %s\n", w)
	}
	return doc, nil
}

type parametersFlags struct{ file string }

// newParameters prints the parameter announcement for Argo CD's UI (the
// plugin's dynamic parameters command), with loki.yaml's current values.
func newParameters(s Streams, env plugin.LookupEnv) *cobra.Command {
	f := &parametersFlags{}
	cmd := &cobra.Command{
		Use:   "parameters",
		Short: "Print the Argo CD parameter announcement (JSON) with loki.yaml's values",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, underArgoCD := env("ARGOCD_APP_NAME")
			doc, err := load(s, f.file, underArgoCD, config.Options{})
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(plugin.Announce(doc), "", "  ")
			if err != nil {
				return err
			}
			_, err = s.Out.Write(append(out, '\n'))
			return err
		},
	}
	cmd.Flags().StringVarP(&f.file, "file", "f", "loki.yaml", `loki.yaml to read ("-" for stdin)`)
	return cmd
}
