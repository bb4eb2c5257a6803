package config

import (
	"time"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
	"github.com/thedevops/loki-cmp/internal/htpasswd"
)

// Budget of the password hashing that generate does on every Argo CD
// refresh. Argo CD stops the plugin at 60 s (the repo-server's default
// timeout), and Vault may take up to its own deadline (15 s by default)
// before hashing starts. Estimated on htpasswd's reference CPU (one core):
// above HashWarnTime validate warns, above HashMaxTime it refuses.
const (
	HashWarnTime = 10 * time.Second
	HashMaxTime  = 40 * time.Second
)

// hashCost estimates the bcrypt time of the users whose password loki-cmp
// hashes (a ready htpasswd hash costs nothing) against the budget; path is
// spec.auth.
func (v *validator) hashCost(path field.Path, a *v1alpha1.Auth) {
	lines := 0
	for _, u := range a.Users {
		if !u.Htpasswd.IsSet() {
			lines++
		}
	}
	est := htpasswd.Estimate(lines, a.BcryptCost)
	const fix = "lower spec.auth.bcryptCost (each step halves it), keep ready hashes in Vault (htpasswd: {fromVault: ...}), or raise the sidecar's CPU limit and Argo CD's timeout (docs/argocd.md)"
	switch {
	case est > HashMaxTime:
		v.invalid(path.Child("bcryptCost"), "hashing %d passwords at cost %d takes about %s on one CPU core, beyond the %s loki-cmp allows inside Argo CD's 60 s plugin timeout; %s", lines, a.BcryptCost, est.Round(time.Second), HashMaxTime, fix)
	case est > HashWarnTime:
		v.warn(path.Child("bcryptCost"), field.Invalid, "hashing %d passwords at cost %d takes about %s on one CPU core, on every Argo CD refresh (the plugin timeout is 60 s); %s", lines, a.BcryptCost, est.Round(time.Second), fix)
	}
}
