// Package vault reads basic-auth credentials from HashiCorp Vault (or
// OpenBao) KV v1 and v2 secrets, for package plugin.
//
// Everything it needs comes from the sidecar's environment, set by the
// cluster administrator: the standard VAULT_* variables, as the vault CLI
// reads them, and LOKI_CMP_VAULT_* for the authentication method, the paths
// repositories may read and the deadline. Nothing comes from loki.yaml but
// the references themselves.
package vault

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by Settings. VAULT_* mean what they mean to the
// vault CLI.
const (
	EnvAddr       = "VAULT_ADDR"
	EnvCACert     = "VAULT_CACERT"
	EnvCAPath     = "VAULT_CAPATH"
	EnvNamespace  = "VAULT_NAMESPACE"
	EnvSkipVerify = "VAULT_SKIP_VERIFY"
	EnvToken      = "VAULT_TOKEN"

	EnvAuth           = "LOKI_CMP_VAULT_AUTH"       // token (default), kubernetes or approle
	EnvTokenFile      = "LOKI_CMP_VAULT_TOKEN_FILE" // token auth: read the token from this file (e.g. a Vault Agent sink)
	EnvK8sRole        = "LOKI_CMP_VAULT_K8S_ROLE"
	EnvK8sMount       = "LOKI_CMP_VAULT_K8S_MOUNT"      // default kubernetes
	EnvK8sTokenFile   = "LOKI_CMP_VAULT_K8S_TOKEN_FILE" // default: the pod's service account token
	EnvAppRoleMount   = "LOKI_CMP_VAULT_APPROLE_MOUNT"  // default approle
	EnvRoleID         = "LOKI_CMP_VAULT_ROLE_ID"
	EnvRoleIDFile     = "LOKI_CMP_VAULT_ROLE_ID_FILE"
	EnvSecretID       = "LOKI_CMP_VAULT_SECRET_ID"
	EnvSecretIDFile   = "LOKI_CMP_VAULT_SECRET_ID_FILE"
	EnvAllowedPaths   = "LOKI_CMP_VAULT_ALLOWED_PATHS" // comma-separated globs; unset: nothing may be read
	EnvTimeout        = "LOKI_CMP_VAULT_TIMEOUT"       // Go duration, default 15s
	DefaultK8sMount   = "kubernetes"
	DefaultAppRoleMnt = "approle"
	DefaultK8sJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	DefaultTimeout    = 15 * time.Second
	maxTimeout        = 55 * time.Second // Argo CD kills generate at 60 s
	AuthToken         = "token"
	AuthKubernetes    = "kubernetes"
	AuthAppRole       = "approle"
)

// Settings configure the client. They hold file names, not file contents:
// secrets are read only when logging in.
type Settings struct {
	Address    string
	CACert     string
	CAPath     string
	Namespace  string
	SkipVerify bool
	Timeout    time.Duration
	Allowed    AllowList

	Auth      string
	token     string // VAULT_TOKEN; never printed
	TokenFile string

	K8sRole, K8sMount, K8sTokenFile string

	AppRoleMount             string
	roleID, secretID         string // from env; never printed
	RoleIDFile, SecretIDFile string
}

// SettingsFromEnv reads the settings. Its errors are configuration errors of
// the sidecar and name the variable to fix.
func SettingsFromEnv(env func(string) (string, bool)) (Settings, error) {
	get := func(k string) string { v, _ := env(k); return strings.TrimSpace(v) }
	s := Settings{
		Address:      get(EnvAddr),
		CACert:       get(EnvCACert),
		CAPath:       get(EnvCAPath),
		Namespace:    get(EnvNamespace),
		Timeout:      DefaultTimeout,
		Allowed:      ParseAllowList(get(EnvAllowedPaths)),
		Auth:         get(EnvAuth),
		token:        get(EnvToken),
		TokenFile:    get(EnvTokenFile),
		K8sRole:      get(EnvK8sRole),
		K8sMount:     orDefault(get(EnvK8sMount), DefaultK8sMount),
		K8sTokenFile: orDefault(get(EnvK8sTokenFile), DefaultK8sJWTFile),
		AppRoleMount: orDefault(get(EnvAppRoleMount), DefaultAppRoleMnt),
		roleID:       get(EnvRoleID),
		secretID:     get(EnvSecretID),
		RoleIDFile:   get(EnvRoleIDFile),
		SecretIDFile: get(EnvSecretIDFile),
	}
	if s.Address == "" {
		return s, configError(EnvAddr + " is not set on loki-cmp (the plugin sidecar): the administrator sets the Vault address there")
	}
	if v := get(EnvSkipVerify); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, configError(EnvSkipVerify + " must be true or false")
		}
		s.SkipVerify = b
	}
	if v := get(EnvTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxTimeout {
			return s, configError(fmt.Sprintf("%s must be a duration between 1s and %s (Argo CD stops generate at 60s), not %q", EnvTimeout, maxTimeout, v))
		}
		s.Timeout = d
	}
	switch s.Auth {
	case "":
		s.Auth = AuthToken
	case AuthToken, AuthKubernetes, AuthAppRole:
	default:
		return s, configError(fmt.Sprintf("%s must be token, kubernetes or approle, not %q", EnvAuth, s.Auth))
	}
	return s, s.checkAuth()
}

func (s Settings) checkAuth() error {
	switch s.Auth {
	case AuthToken:
		if s.token == "" && s.TokenFile == "" {
			return authConfigError("token auth needs " + EnvToken + " or " + EnvTokenFile + " on the plugin sidecar (or set " + EnvAuth + " to kubernetes or approle)")
		}
	case AuthKubernetes:
		if s.K8sRole == "" {
			return authConfigError("kubernetes auth needs " + EnvK8sRole + ": the Vault role bound to the repo-server's service account")
		}
	case AuthAppRole:
		if s.roleID == "" && s.RoleIDFile == "" {
			return authConfigError("approle auth needs " + EnvRoleID + " or " + EnvRoleIDFile)
		}
		if s.secretID == "" && s.SecretIDFile == "" {
			return authConfigError("approle auth needs " + EnvSecretID + " or " + EnvSecretIDFile)
		}
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
