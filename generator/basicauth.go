package generator

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/generator/crd"
	"github.com/thedevops/loki-cmp/internal/htpasswd"
)

// Basic authentication in front of Loki: the users' htpasswd Secret and the
// Traefik Middleware that reads it.

// buildBasicAuth returns the Secret, which holds one htpasswd line per user
// under the key "users" (the format Traefik's basicAuth reads from an
// Opaque Secret), and the Middleware.
func buildBasicAuth(p *plan) []Object {
	return []Object{p.basicAuthSecret(p.n.basicAuth, p.userLines), p.basicAuthMiddleware(p.n.basicAuth)}
}

// basicAuthSecret is a Secret of htpasswd lines under the key "users".
func (p *plan) basicAuthSecret(name string, lines []string) Object {
	m := p.meta(name, p.ns, "loki", componentGateway, waveSecret)
	if p.dryRun {
		m.Annotations[DryRunAnnotation] = "true: the users key holds placeholders, not password hashes"
	}
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: m,
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"users": []byte(strings.Join(lines, ""))},
	}
}

// basicAuthMiddleware checks credentials against the Secret of the same
// name and keeps the Authorization header from Loki.
func (p *plan) basicAuthMiddleware(name string) Object {
	return p.middleware(name, crd.MiddlewareSpec{BasicAuth: &crd.BasicAuth{
		Secret:       name,
		Realm:        p.spec.Auth.Realm,
		RemoveHeader: true,
	}})
}

// htpasswdLines hashes every user's password (see hashAll) and returns one
// "name:hash\n" line per user.
func (p *plan) htpasswdLines(in Input) ([]string, error) {
	hashes, errs := p.hashAll(in)
	lines := make([]string, len(hashes))
	for i, u := range p.spec.Auth.Users {
		if errs[i] != nil {
			return nil, fmt.Errorf("spec.auth.users[%d] (user %q): %w", i, u.Name, errs[i])
		}
		lines[i] = htpasswd.Line(u.Name, hashes[i]) + "\n"
	}
	return lines, nil
}

// hashAll hashes every user's password, on all CPUs: bcrypt is nearly all
// of generate's cost, and the hashes do not depend on each other. Each
// result lands at its user's index, so the output does not depend on the
// order the hashes finish in.
func (p *plan) hashAll(in Input) ([]string, []error) {
	n := len(p.spec.Auth.Users)
	hashes, errs := make([]string, n), make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				hashes[i], errs[i] = p.hashFor(in, i)
			}
		}()
	}
	wg.Wait()
	return hashes, errs
}

// hashFor returns the hash of user i: a placeholder in a dry run, the ready
// hash if one was given, else the deterministic bcrypt of the password.
func (p *plan) hashFor(in Input, i int) (string, error) {
	u := p.spec.Auth.Users[i]
	if in.DryRun {
		return userPlaceholder(u), nil
	}
	c, ok := in.Credentials[u.Name]
	switch {
	case !ok:
		return "", fmt.Errorf("no credential was resolved")
	case c.Hash.Len() > 0:
		return string(c.Hash.Bytes()), nil
	}
	return htpasswd.Hash(c.Password.Bytes(), p.spec.Auth.BcryptCost, htpasswd.Context{
		Host: p.spec.Host, Namespace: p.ns, Secret: p.n.basicAuth, User: u.Name,
	}, in.HashPepper.Bytes())
}

// userPlaceholder stands for a user's hash in a dry run, naming where the
// value would have come from (never the value).
func userPlaceholder(u v1alpha1.User) string {
	what, ref := "password", u.Password
	if u.Htpasswd.IsSet() {
		what, ref = "hash", u.Htpasswd
	}
	from := "env " + ref.FromEnv
	if v := ref.FromVault; v != nil {
		from = fmt.Sprintf("Vault %s key %s", v.Path, v.Key)
	}
	return fmt.Sprintf("DRY-RUN-PLACEHOLDER(%s from %s, not read)", what, from)
}
