package vault

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// login obtains the client's token by the configured method. A token from
// VAULT_TOKEN or a token file is used as is; kubernetes and approle logins
// create a token that Close revokes.
func (c *Client) login(ctx context.Context, readFile ReadFile) error {
	subject := vaultSubject(c.s)
	switch c.s.Auth {
	case AuthToken:
		token := c.s.token
		if token == "" {
			t, err := readSecretFile(readFile, c.s.TokenFile, EnvTokenFile)
			if err != nil {
				return err
			}
			token = t
		}
		c.addRedact(token)
		c.api.SetToken(token)
		return nil
	case AuthKubernetes:
		jwt, err := readSecretFile(readFile, c.s.K8sTokenFile, EnvK8sTokenFile)
		if err != nil {
			return err
		}
		c.addRedact(jwt)
		return c.loginWith(ctx, subject+": kubernetes login (role "+c.s.K8sRole+", mount "+c.s.K8sMount+")",
			"auth/"+c.s.K8sMount+"/login", map[string]any{"role": c.s.K8sRole, "jwt": jwt})
	case AuthAppRole:
		roleID, err := valueOrFile(readFile, c.s.roleID, c.s.RoleIDFile, EnvRoleIDFile)
		if err != nil {
			return err
		}
		secretID, err := valueOrFile(readFile, c.s.secretID, c.s.SecretIDFile, EnvSecretIDFile)
		if err != nil {
			return err
		}
		c.addRedact(roleID)
		c.addRedact(secretID)
		return c.loginWith(ctx, subject+": approle login (mount "+c.s.AppRoleMount+")",
			"auth/"+c.s.AppRoleMount+"/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	}
	return authConfigError("unknown auth method " + c.s.Auth)
}

func (c *Client) loginWith(ctx context.Context, subject, path string, body map[string]any) error {
	data, err := c.do(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		kind, cause := describe(err, c.s.Timeout.String())
		if kind != KindUnavailable {
			// 400 "invalid role or secret ID", 403, 404 (no such mount):
			// all mean this sidecar may not log in this way.
			kind = KindDenied
			cause = "login refused: " + strings.TrimPrefix(cause, "Vault refused the request ")
		}
		return c.fail(kind, subject, cause)
	}
	auth, _ := data["auth"].(map[string]any)
	token, _ := auth["client_token"].(string)
	if token == "" {
		return c.fail(KindNotFound, subject, "malformed response: no client_token in the login answer")
	}
	c.addRedact(token)
	c.api.SetToken(token)
	c.ownToken = true
	return nil
}

func readSecretFile(readFile ReadFile, name, envName string) (string, error) {
	b, err := readFile(name)
	if err != nil {
		return "", authConfigError(fmt.Sprintf("cannot read %s (%s): %s", name, envName, fileCause(err)))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", authConfigError(fmt.Sprintf("%s (%s) is empty", name, envName))
	}
	return v, nil
}

func valueOrFile(readFile ReadFile, value, file, envName string) (string, error) {
	if value != "" {
		return value, nil
	}
	return readSecretFile(readFile, file, envName)
}

func fileCause(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "no such file"):
		return "no such file"
	case strings.Contains(msg, "permission denied"):
		return "permission denied"
	}
	return "unreadable"
}
