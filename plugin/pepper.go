package plugin

import (
	"fmt"
	"os"
	"strings"

	"github.com/thedevops/loki-cmp/internal/secret"
)

// The hash pepper: a secret of the installation that the sidecar's
// administrator sets, mixed into the salt of every password hash so that
// nobody without it can precompute hashes for a known host and user (see
// "Password hashes are deterministic" in docs/loki-yaml.md). At most one of
// the two may be set; neither means no pepper.
const (
	EnvHashPepper     = "LOKI_CMP_HASH_PEPPER"
	EnvHashPepperFile = "LOKI_CMP_HASH_PEPPER_FILE" // e.g. a mounted Kubernetes Secret or a Vault Agent sink
	// MinPepperBytes keeps the pepper out of reach of guessing: a short
	// one could be found by trying, and then it protects nothing.
	MinPepperBytes = 16
)

// hashPepper reads the pepper from the environment or the file it names.
// Errors name the variable or the file, never the value.
func hashPepper(env LookupEnv, readFile func(string) ([]byte, error)) (secret.Value, error) {
	value, hasValue := env(EnvHashPepper)
	file, hasFile := env(EnvHashPepperFile)
	switch {
	case hasValue && hasFile:
		return secret.Value{}, fmt.Errorf("both %s and %s are set; set one", EnvHashPepper, EnvHashPepperFile)
	case hasFile:
		if readFile == nil {
			readFile = os.ReadFile
		}
		b, err := readFile(file)
		if err != nil {
			return secret.Value{}, fmt.Errorf("cannot read the hash pepper file %s (%s): %s", file, EnvHashPepperFile, fileProblem(err))
		}
		// Files written by editors and echo end in a newline.
		return checkPepper(strings.TrimSpace(string(b)), "the file "+file+" ("+EnvHashPepperFile+")")
	case hasValue:
		return checkPepper(value, EnvHashPepper)
	}
	return secret.Value{}, nil
}

func checkPepper(v, source string) (secret.Value, error) {
	if len(v) < MinPepperBytes {
		return secret.Value{}, fmt.Errorf("the hash pepper in %s is %d bytes long; it must be at least %d (or unset, for no pepper)", source, len(v), MinPepperBytes)
	}
	return secret.New([]byte(v)), nil
}

// fileProblem is the cause of a failed read without the path or any content.
func fileProblem(err error) string {
	switch {
	case os.IsNotExist(err):
		return "no such file"
	case os.IsPermission(err):
		return "permission denied"
	}
	return "read error"
}
