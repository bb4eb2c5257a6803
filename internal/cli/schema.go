package cli

import (
	"github.com/spf13/cobra"

	"github.com/thedevops/loki-cmp/internal/reference"
)

func newSchema(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of loki.yaml, for editors",
		Long: `Print the JSON Schema (draft 2020-12) of loki.yaml on stdout. It is generated
from the same Go types loki-cmp reads loki.yaml into, so it matches this
version of loki-cmp. Editors that run yaml-language-server (VS Code with Red
Hat's YAML extension; Neovim, Helix and others with yamlls) pick it up from a
first line in loki.yaml:

  # yaml-language-server: $schema=loki.schema.json

The schema catches unknown fields, wrong types, literal passwords and values
outside a fixed set while you type; 'loki-cmp validate' checks the rest.`,
		Example: `  loki-cmp schema > loki.schema.json`,
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := s.Out.Write(reference.Schema())
			return err
		},
	}
}
