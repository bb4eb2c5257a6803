// Package plugin is loki-cmp's edge to the world it runs in: the process
// environment (plain variables, and under Argo CD the ARGOCD_* ones) and the
// credential sources. It turns references in loki.yaml into the resolved
// credentials that package generator hashes.
package plugin

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/generator"
	"github.com/thedevops/loki-cmp/internal/field"
	"github.com/thedevops/loki-cmp/internal/htpasswd"
	"github.com/thedevops/loki-cmp/internal/secret"
	"github.com/thedevops/loki-cmp/plugin/vault"
)

// LookupEnv reads one environment variable, as os.LookupEnv does. It is
// passed in so that nothing here touches the real environment in tests.
type LookupEnv func(name string) (string, bool)

// Options are the edges credential resolution may touch.
type Options struct {
	Env LookupEnv
	// Warn receives warnings (an unverified TLS connection, a login token
	// that could not be revoked). Never a secret.
	Warn io.Writer
	// ReadFile reads token, JWT and secret-ID files; nil: os.ReadFile.
	ReadFile vault.ReadFile
}

// CredentialError says that a referenced credential could not be obtained.
// Its problems name the reference's position in loki.yaml (or Vault itself),
// never the value. Vault is the kind of Vault failure, 0 for other sources.
type CredentialError struct {
	Err   *config.Error
	Vault vault.Kind
}

func (e *CredentialError) Error() string { return e.Err.Error() }
func (e *CredentialError) Unwrap() error { return e.Err }

// ref is one credential reference in loki.yaml and what to do with its
// value.
type ref struct {
	path  field.Path // the reference's field
	value v1alpha1.SecretRef
	label string // what the value is, e.g. "password of user \"admin\""
	// use checks a resolved value and records it; its error never
	// contains the value.
	use func(v []byte) error
}

// Resolved are the credentials loki.yaml references.
type Resolved struct {
	Users map[string]generator.Credential
	// ObjectStorage holds the object store's credentials by the field path
	// of their reference (generator.Input.ObjectStorage).
	ObjectStorage map[string]secret.Value
	// HashPepper is the installation's pepper (empty: none), from
	// LOKI_CMP_HASH_PEPPER or LOKI_CMP_HASH_PEPPER_FILE.
	HashPepper secret.Value
}

// refs returns every credential reference of the (validated) stack: each
// SecretRef field that is set, found by its type, in declaration order.
// Validation has made sure that exactly the ones the stack uses are set.
func refs(doc *config.Document, out *Resolved) []ref {
	var rs []ref
	eachSecretRef(reflect.ValueOf(doc.Stack), field.Path{}, func(path field.Path, owner reflect.Value, f reflect.StructField, r v1alpha1.SecretRef) {
		rs = append(rs, refFor(path, owner, f, r, out))
	})
	return rs
}

var (
	secretRefType = reflect.TypeFor[v1alpha1.SecretRef]()
	userType      = reflect.TypeFor[v1alpha1.User]()
)

// eachSecretRef calls visit for every set SecretRef field below v, with
// the struct that holds it.
func eachSecretRef(v reflect.Value, path field.Path, visit func(field.Path, reflect.Value, reflect.StructField, v1alpha1.SecretRef)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			eachSecretRef(v.Elem(), path, visit)
		}
	case reflect.Slice:
		for i := range v.Len() {
			eachSecretRef(v.Index(i), path.Index(i), visit)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type == secretRefType {
				if r := v.Field(i).Interface().(v1alpha1.SecretRef); r.IsSet() {
					visit(path.Child(name), v, f, r)
				}
				continue
			}
			eachSecretRef(v.Field(i), path.Child(name), visit)
		}
	}
}

// refFor says what one reference holds: a user's password or ready hash,
// or (any other SecretRef) a credential of the object store, named by its
// field's credential tag.
func refFor(path field.Path, owner reflect.Value, f reflect.StructField, r v1alpha1.SecretRef, out *Resolved) ref {
	x := ref{path: path, value: r}
	if owner.Type() != userType {
		x.label = f.Tag.Get("credential")
		x.use = func(v []byte) error {
			out.ObjectStorage[path.String()] = secret.New(v)
			return checkKey(v)
		}
		return x
	}
	user := owner.Interface().(v1alpha1.User).Name
	if f.Name == "Htpasswd" {
		x.label = fmt.Sprintf("htpasswd hash of user %q", user)
		x.use = func(v []byte) error {
			hash, err := checkHash(string(v), user)
			out.Users[user] = generator.Credential{Hash: secret.New([]byte(hash))}
			return err
		}
		return x
	}
	x.label = fmt.Sprintf("password of user %q", user)
	x.use = func(v []byte) error {
		out.Users[user] = generator.Credential{Password: secret.New(v)}
		if err := checkLineEnd(v, "no one can type it at a login prompt"); err != nil {
			return err
		}
		return htpasswd.CheckPassword(v)
	}
	return x
}

// checkKey refuses S3 keys that could not be passed through an environment
// variable intact.
func checkKey(v []byte) error {
	if err := checkLineEnd(v, "S3 would refuse it"); err != nil {
		return err
	}
	if strings.ContainsAny(string(v), "\x00\r\n") {
		return fmt.Errorf("it contains a NUL or line break")
	}
	return nil
}

// checkLineEnd refuses a value that ends with a line break, as a file read
// with a trailing newline gives (kubectl create secret --from-file, echo
// into vault kv put ...=-). Hashed as it is, the password would be one no
// one can type at a login prompt; an S3 key would be refused by S3.
func checkLineEnd(v []byte, why string) error {
	if n := len(v); n > 0 && (v[n-1] == '\n' || v[n-1] == '\r') {
		return fmt.Errorf("it ends with a line break (as a file with a trailing newline gives, e.g. kubectl create secret --from-file or echo): %s; store it without one (printf '%%s' ..., kubectl create secret --from-literal)", why)
	}
	return nil
}

// ResolveCredentials reads every credential loki.yaml references (users'
// passwords or ready hashes, object storage keys) from the environment or
// Vault, and the hash pepper the sidecar's administrator may have set.
func ResolveCredentials(ctx context.Context, doc *config.Document, opts Options) (*Resolved, error) {
	out := &Resolved{Users: map[string]generator.Credential{}, ObjectStorage: map[string]secret.Value{}}
	r := &resolver{doc: doc, opts: opts}
	pepper, err := hashPepper(opts.Env, opts.ReadFile)
	if err != nil {
		r.problems = append(r.problems, config.Problem{File: doc.File, Msg: err.Error()})
	}
	out.HashPepper = pepper
	var fromVault []ref
	for _, x := range refs(doc, out) {
		if x.value.FromVault != nil {
			fromVault = append(fromVault, x)
			continue
		}
		r.fromEnv(x)
	}
	if len(fromVault) > 0 && len(r.problems) == 0 {
		r.fromVault(ctx, fromVault)
	}
	if len(r.problems) > 0 {
		return nil, &CredentialError{Err: config.NewError(r.problems), Vault: r.vaultKind}
	}
	return out, nil
}

type resolver struct {
	doc       *config.Document
	opts      Options
	problems  []config.Problem
	vaultKind vault.Kind
}

func (r *resolver) problem(path field.Path, format string, args ...any) {
	r.problems = append(r.problems, r.doc.Problem(path, field.NotFound, fmt.Sprintf(format, args...)))
}

func (r *resolver) fromEnv(x ref) {
	path, name := x.path.Child("fromEnv"), x.value.FromEnv
	v, ok := r.opts.Env(name)
	switch {
	case !ok:
		r.problem(path, "environment variable %s is not set (it holds the %s)", name, x.label)
	case v == "":
		r.problem(path, "environment variable %s is empty (it holds the %s)", name, x.label)
	default:
		r.accept(x, path, "from "+name, []byte(v))
	}
}

// accept checks a resolved value and records it.
func (r *resolver) accept(x ref, path field.Path, source string, v []byte) {
	if err := x.use(v); err != nil {
		r.problems = append(r.problems, r.doc.Problem(path, field.Invalid, fmt.Sprintf("the %s (%s) cannot be used: %v", x.label, source, err)))
	}
}

// Hash formats Traefik's basicAuth accepts.
var hashFormat = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}|\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}|\{SHA\}[A-Za-z0-9+/]{27}=)$`)
})

// checkHash accepts a hash, or an htpasswd line for this user, and returns
// the hash. Errors never contain the value.
func checkHash(v, user string) (string, error) {
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("it holds more than one line; give one hash or one <user>:<hash> line")
	}
	if name, hash, ok := strings.Cut(v, ":"); ok {
		if name != user {
			// The part before the colon is not echoed: if this is not an
			// htpasswd line at all, it may be a password.
			return "", fmt.Errorf("it is not an htpasswd line for user %q", user)
		}
		v = hash
	}
	if !hashFormat().MatchString(v) {
		return "", fmt.Errorf("it is not a bcrypt ($2y$, $2b$, $2a$), $apr1$ or {SHA} hash, nor a <user>:<hash> line")
	}
	return v, nil
}

// fromVault resolves Vault references: settings from the sidecar's
// environment, the allow-list checked for every path before any request,
// one login, each secret read once, the login token revoked at the end.
func (r *resolver) fromVault(ctx context.Context, xs []ref) {
	s, err := vault.SettingsFromEnv(r.opts.Env)
	if err != nil {
		r.vaultFailure(err)
		return
	}
	if s.SkipVerify {
		r.warn("VAULT_SKIP_VERIFY is set: the Vault server's certificate is NOT verified, so anyone on the network path can impersonate Vault and steal the login token; set VAULT_CACERT instead")
	}
	for _, x := range xs {
		if err := vault.CheckAllowed(s, []vault.Ref{vaultRef(x)}); err != nil {
			r.vaultProblem(x.path.Child("fromVault"), err)
		}
	}
	if len(r.problems) > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	client, err := vault.Dial(ctx, s, r.opts.ReadFile)
	if err != nil {
		r.vaultFailure(err)
		return
	}
	defer func() {
		if err := client.Close(); err != nil {
			r.warn(err.Error())
		}
	}()
	for _, x := range xs {
		v, err := client.Read(ctx, vaultRef(x))
		if err != nil {
			r.vaultProblem(x.path.Child("fromVault"), err)
			if ctx.Err() != nil {
				return // out of time: the other reads would only fail the same way
			}
			continue
		}
		r.accept(x, x.path.Child("fromVault"), fmt.Sprintf("from Vault %s, key %q", x.value.FromVault.Path, x.value.FromVault.Key), v)
	}
}

func vaultRef(x ref) vault.Ref {
	v := x.value.FromVault
	return vault.Ref{Path: v.Path, Key: v.Key, Version: v.Version, KVVersion: v.KVVersion, Mount: v.Mount}
}

// vaultFailure records a failure of Vault as a whole (no position).
func (r *resolver) vaultFailure(err error) {
	r.noteKind(err)
	r.problems = append(r.problems, config.Problem{File: r.doc.File, Msg: err.Error()})
}

// vaultProblem records a failure of one reference, at its position.
func (r *resolver) vaultProblem(path field.Path, err error) {
	r.noteKind(err)
	r.problems = append(r.problems, r.doc.Problem(path, field.NotFound, err.Error()))
}

// noteKind keeps the kind of the first Vault failure, for the exit code.
func (r *resolver) noteKind(err error) {
	if ve, ok := err.(*vault.Error); ok && r.vaultKind == 0 {
		r.vaultKind = ve.Kind
	}
}

func (r *resolver) warn(msg string) {
	if r.opts.Warn != nil {
		fmt.Fprintf(r.opts.Warn, "loki-cmp: warning: %s\n", msg)
	}
}
