// Package plugin is loki-cmp's edge to the world it runs in: the process
// environment (plain variables, and under Argo CD the ARGOCD_* ones) and the
// credential sources. It turns references in loki.yaml into the resolved
// credentials that package generator hashes.
package plugin

import (
	"context"
	"fmt"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/generator"
	"github.com/thedevops/loki-cmp/internal/htpasswd"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// LookupEnv reads one environment variable, as os.LookupEnv does. It is
// passed in so that nothing here touches the real environment in tests.
type LookupEnv func(name string) (string, bool)

// CredentialError says that a referenced credential could not be obtained.
// Its problems name the reference's position in loki.yaml, never the value.
type CredentialError struct{ Err *config.Error }

func (e *CredentialError) Error() string { return e.Err.Error() }
func (e *CredentialError) Unwrap() error { return e.Err }

// ResolveCredentials reads every user's password from where loki.yaml says.
func ResolveCredentials(ctx context.Context, doc *config.Document, env LookupEnv) (map[string]generator.Credential, error) {
	creds := map[string]generator.Credential{}
	var problems []config.Problem
	for i, u := range doc.Stack.Spec.Auth.Users {
		path := fmt.Sprintf("spec.auth.users[%d].password.fromEnv", i)
		name := u.Password.FromEnv
		v, ok := env(name)
		switch {
		case !ok:
			problems = append(problems, doc.Problem(path, fmt.Sprintf("environment variable %s is not set (it holds the password of user %q)", name, u.Name)))
			continue
		case v == "":
			problems = append(problems, doc.Problem(path, fmt.Sprintf("environment variable %s is empty (it holds the password of user %q)", name, u.Name)))
			continue
		}
		if err := htpasswd.CheckPassword([]byte(v)); err != nil {
			problems = append(problems, doc.Problem(path, fmt.Sprintf("the password in %s cannot be used: %v", name, err)))
			continue
		}
		creds[u.Name] = generator.Credential{Password: secret.New([]byte(v))}
	}
	if len(problems) > 0 {
		return nil, &CredentialError{Err: config.NewError(problems)}
	}
	return creds, nil
}
