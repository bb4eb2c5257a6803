package cli

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/config"
)

// starter is the commented loki.yaml that init writes. Its placeholders
// (__HOST__ and the like) are replaced by values that config has accepted,
// each written as one YAML scalar; nothing else in it varies.
//
//go:embed starter.yaml
var starter string

// DefaultPasswordEnv is the variable the starter's first user's password
// is read from.
const DefaultPasswordEnv = "LOKI_ADMIN_PASSWORD"

type initFlags struct {
	file        string
	force       bool
	host        string
	name        string
	namespace   string
	passwordEnv string
}

func newInit(s Streams) *cobra.Command {
	f := &initFlags{}
	cmd := &cobra.Command{
		Use:   "init --host NAME",
		Short: "Write a commented starter loki.yaml",
		Long: `Write a starter loki.yaml: the few fields you must choose, every other section
commented out with its default, and a first line that points editors at the
JSON Schema (write it with 'loki-cmp schema > loki.schema.json').

The values are checked as loki.yaml's are before anything is written. An
existing file is not overwritten without --force.`,
		Example: `  loki-cmp init --host loki.example.org
  loki-cmp init --host logs.example.net --namespace observability -f apps/loki/loki.yaml
  loki-cmp init --host loki.example.org -f -    # print it instead`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return runInit(s, f) },
	}
	cmd.Flags().StringVarP(&f.file, "file", "f", "loki.yaml", `file to write ("-" for stdout)`)
	cmd.Flags().BoolVar(&f.force, "force", false, "overwrite the file if it exists")
	cmd.Flags().StringVar(&f.host, "host", "", "public DNS name Loki is served on, e.g. loki.example.org (required)")
	cmd.Flags().StringVar(&f.name, "name", v1alpha1.DefaultName, "base name of every object")
	cmd.Flags().StringVar(&f.namespace, "namespace", v1alpha1.DefaultNamespace, "namespace of the stack")
	cmd.Flags().StringVar(&f.passwordEnv, "password-env", DefaultPasswordEnv, "environment variable that holds the admin user's password")
	return cmd
}

func runInit(s Streams, f *initFlags) error {
	if f.host == "" {
		return &usageError{errors.New("--host is required: the public DNS name Loki is served on, e.g. --host loki.example.org")}
	}
	out, err := renderStarter(f)
	if err != nil {
		return err
	}
	if f.file == "-" {
		_, err := s.Out.Write(out)
		return err
	}
	if err := writeNew(f.file, out, f.force); err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "%s: written (LokiStack %q in namespace %q, host %s)\nnext: set %s, preview with 'loki-cmp generate --dry-run -f %s', editor support with 'loki-cmp schema > %s'\n",
		f.file, f.name, f.namespace, f.host, f.passwordEnv, f.file, filepath.Join(filepath.Dir(f.file), "loki.schema.json"))
	return err
}

// starterValue is one value init puts into the starter: the flag that gave
// it, the placeholder it replaces, the field it sets, and how to read it
// back from the loaded stack.
type starterValue struct {
	flag, placeholder, path, value string
	loaded                         func(*v1alpha1.LokiStack) string
}

func (f *initFlags) values() []starterValue {
	return []starterValue{
		{"--name", "__NAME__", "metadata.name", f.name, func(s *v1alpha1.LokiStack) string { return s.Metadata.Name }},
		{"--namespace", "__NAMESPACE__", "metadata.namespace", f.namespace, func(s *v1alpha1.LokiStack) string { return s.Metadata.Namespace }},
		{"--host", "__HOST__", "spec.host", f.host, func(s *v1alpha1.LokiStack) string { return s.Spec.Host }},
		{"--password-env", "__PASSWORD_ENV__", "spec.auth.users[0].password", f.passwordEnv, func(s *v1alpha1.LokiStack) string {
			return s.Spec.Auth.Users[0].Password.FromEnv
		}},
	}
}

// renderStarter checks the values, then fills them into the starter and
// checks the result. Three gates keep a value from changing the file's
// structure: control characters are refused outright; the values must pass
// config's validation in a document built as a YAML tree (not as text);
// and each is substituted as one YAML scalar, quoted where YAML would read
// it as something else (null, 123), after which the file is loaded again
// and must hold exactly those values.
func renderStarter(f *initFlags) ([]byte, error) {
	vals := f.values()
	for _, v := range vals {
		if v.value == "" {
			return nil, &usageError{fmt.Errorf("%s must not be empty", v.flag)}
		}
		if strings.IndexFunc(v.value, unicode.IsControl) >= 0 {
			return nil, &usageError{fmt.Errorf("%s: must not contain control characters (newlines, tabs, NUL)", v.flag)}
		}
	}

	// Gate 1: config's own validation, on a tree built from the values.
	tree := map[string]any{
		"apiVersion": v1alpha1.APIVersion,
		"kind":       v1alpha1.Kind,
		"metadata":   map[string]any{"name": f.name, "namespace": f.namespace},
		"spec": map[string]any{
			"host": f.host,
			"auth": map[string]any{"users": []any{
				map[string]any{"name": "admin", "password": map[string]any{"fromEnv": f.passwordEnv}},
			}},
		},
	}
	probe, err := yaml.Marshal(tree)
	if err != nil {
		return nil, err
	}
	if _, err := config.Load(probe, config.Options{}); err != nil {
		return nil, flagProblems(err, vals)
	}

	// Gate 2: one scalar per value, then load the file and compare.
	var pairs []string
	for _, v := range vals {
		sc, err := yamlScalar(v.value)
		if err != nil {
			return nil, &usageError{fmt.Errorf("%s: %w", v.flag, err)}
		}
		pairs = append(pairs, v.placeholder, sc)
	}
	out := []byte(strings.NewReplacer(pairs...).Replace(starter))
	doc, err := config.Load(out, config.Options{})
	if err != nil {
		return nil, fmt.Errorf("the starter file does not load (a bug in loki-cmp): %w", err)
	}
	for _, v := range vals {
		if got := v.loaded(&doc.Stack); got != v.value {
			return nil, fmt.Errorf("the starter file holds %s %q instead of %q (a bug in loki-cmp)", v.path, got, v.value)
		}
	}
	return out, nil
}

// flagProblems turns config's problems with the probe document into
// problems with the flags that gave the values.
func flagProblems(err error, vals []starterValue) error {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return err
	}
	nsWrong := false
	for _, p := range ce.Problems {
		nsWrong = nsWrong || p.Path.String() == "metadata.namespace"
	}
	var lines []string
	for _, p := range ce.Problems {
		flag := ""
		for _, v := range vals {
			if path := p.Path.String(); path == v.path || strings.HasPrefix(path, v.path+".") {
				flag = v.flag
			}
		}
		if p.Path.String() == "spec.collector.namespace" { // derived: <namespace>-collector
			if nsWrong {
				continue // the namespace itself is wrong: say that once
			}
			flag = "--namespace"
		}
		if flag == "" {
			return fmt.Errorf("checking the starter's values (a bug in loki-cmp): %w", err)
		}
		lines = append(lines, flag+": "+p.Msg)
	}
	return &usageError{errors.New(strings.Join(lines, "\n"))}
}

// yamlScalar writes s as one plain or quoted YAML string scalar on one line.
func yamlScalar(s string) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(b.String(), "\n")
	if out == "" || strings.ContainsAny(out, "\n\r") {
		return "", fmt.Errorf("cannot be written on one line")
	}
	return out, nil
}

// writeNew writes data to path: a new file, or with force a replacement,
// put in place whole by a rename so that no half-written file remains.
func writeNew(path string, data []byte, force bool) error {
	fail := func(err error) error { return &writeError{fmt.Errorf("cannot write %s: %w", path, err)} }
	st, err := os.Lstat(path)
	switch {
	case err == nil && !force:
		return &usageError{fmt.Errorf("%s already exists; pass --force to overwrite it, or -f to write another file", path)}
	case err == nil && st.Mode()&fs.ModeSymlink != 0:
		return fail(errors.New("it is a symbolic link; name the file it points to"))
	case err == nil && !st.Mode().IsRegular():
		return fail(fmt.Errorf("it is %s, not a regular file", fileKind(st.Mode())))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fail(unwrapPathError(err))
	}
	// init -f apps/loki/loki.yaml in a new repository: make the directory,
	// as git and editors do, rather than fail.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fail(unwrapPathError(err))
	}
	if !force {
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return &usageError{fmt.Errorf("%s already exists; pass --force to overwrite it, or -f to write another file", path)}
			}
			return fail(unwrapPathError(err))
		}
		_, err = file.Write(data)
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fail(unwrapPathError(err))
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fail(unwrapPathError(err))
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fail(unwrapPathError(err))
	}
	return nil
}
