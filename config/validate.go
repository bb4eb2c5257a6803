package config

import (
	"fmt"
	"maps"
	"math"
	"net"
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
	"github.com/thedevops/loki-cmp/internal/htpasswd"
)

// MaxNameLength bounds metadata.name so that every derived name
// (<name>-basic-auth, <namespace>-<name>-promtail, the pod <name>-0 and its
// controller-revision-hash label) stays within Kubernetes' limits.
const MaxNameLength = 40

// ManagedLabels and ManagedAnnotations are set by loki-cmp itself; users may
// not override them through commonLabels / commonAnnotations, since selectors
// and the Argo CD sync order depend on them.
var (
	ManagedLabels = []string{
		"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
		"app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
	}
	ManagedAnnotations = []string{
		"argocd.argoproj.io/sync-wave", "argocd.argoproj.io/sync-options", "checksum/config",
	}
)

type validator struct {
	doc      *Document
	problems []Problem
}

// add reports a problem of type typ with the field at path.
func (v *validator) add(path field.Path, typ field.ErrorType, format string, args ...any) {
	v.problems = append(v.problems, v.doc.Problem(path, typ, fmt.Sprintf(format, args...)))
}

func (v *validator) invalid(path field.Path, format string, args ...any) {
	v.add(path, field.Invalid, format, args...)
}

func (v *validator) require(path field.Path, format string, args ...any) {
	v.add(path, field.Required, format, args...)
}

func (v *validator) forbid(path field.Path, format string, args ...any) {
	v.add(path, field.Forbidden, format, args...)
}

func (v *validator) notSupported(path field.Path, format string, args ...any) {
	v.add(path, field.NotSupported, format, args...)
}

// warn records something that works but may well not be what the user
// wants; the file stays valid.
func (v *validator) warn(path field.Path, typ field.ErrorType, format string, args ...any) {
	v.doc.Warnings = append(v.doc.Warnings, v.doc.Problem(path, typ, fmt.Sprintf(format, args...)))
}

// addAll reports the messages of a k8s.io validation function, if any.
func (v *validator) addAll(path field.Path, value string, msgs []string) {
	if len(msgs) > 0 {
		v.invalid(path, "invalid value %q: %s", value, strings.Join(msgs, "; "))
	}
}

// The paths validation starts from.
var (
	metadataPath = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
)

func (d *Document) validate() error {
	v := &validator{doc: d}
	s := &d.Stack
	v.noControlChars(reflect.ValueOf(s).Elem(), field.Path{})
	v.name(metadataPath.Child("name"), s.Metadata.Name)
	v.required(metadataPath.Child("namespace"), s.Metadata.Namespace, validation.IsDNS1123Label)
	v.namespaces(s)
	v.host(specPath.Child("host"), s.Spec.Host)
	v.tls(specPath.Child("tls"), &s.Spec.TLS)
	v.auth(specPath.Child("auth"), &s.Spec.Auth)
	v.hashCost(specPath.Child("auth"), &s.Spec.Auth)
	loki := specPath.Child("loki")
	v.image(loki.Child("image"), s.Spec.Loki.Image)
	if validImageRef(s.Spec.Loki.Image) {
		v.lokiVersion(loki.Child("image"), s.Spec.Loki.Image)
	}
	v.retention(loki.Child("retention"), s.Spec.Loki.Retention)
	v.resources(loki.Child("resources"), s.Spec.Loki.Resources)
	storage := specPath.Child("storage")
	v.quantity(storage.Child("size"), s.Spec.Storage.Size, true)
	v.sizeWithUnit(storage.Child("size"), s.Spec.Storage.Size)
	if c := s.Spec.Storage.StorageClassName; c != "" {
		v.addAll(storage.Child("storageClassName"), c, validation.IsDNS1123Subdomain(c))
	}
	v.mode(&s.Spec)
	v.collector(specPath.Child("collector"), &s.Spec.Collector)
	if n := s.Spec.NetworkPolicy; n.Enabled {
		np := specPath.Child("networkPolicy")
		v.required(np.Child("traefikNamespace"), n.TraefikNamespace, validation.IsDNS1123Label)
		v.required(np.Child("prometheusNamespace"), n.PrometheusNamespace, validation.IsDNS1123Label)
	}
	v.monitoring(specPath.Child("monitoring"), &s.Spec.Monitoring)
	v.tenancy(&s.Spec)
	v.labels(specPath.Child("commonLabels"), s.Spec.CommonLabels, ManagedLabels)
	v.annotations(specPath.Child("commonAnnotations"), s.Spec.CommonAnnotations)
	v.certManagerInCommon(specPath.Child("commonAnnotations"), s.Spec.CommonAnnotations)
	return newError(v.problems)
}

func (v *validator) required(path field.Path, value string, check func(string) []string) {
	if value == "" {
		v.require(path, "required")
		return
	}
	v.addAll(path, value, check(value))
}

func (v *validator) name(path field.Path, name string) {
	v.required(path, name, validation.IsDNS1035Label)
	if len(name) > MaxNameLength {
		v.invalid(path, "must be at most %d characters (derived names such as %s-basic-auth must fit Kubernetes' limits)", MaxNameLength, name)
	}
}

func (v *validator) host(path field.Path, host string) {
	if host == "" {
		v.require(path, "required: the public DNS name of Loki, e.g. loki.example.org")
		return
	}
	if v.hostIP(path, host) {
		return
	}
	if strings.HasPrefix(host, "*.") {
		v.notSupported(path, "invalid value %q: a wildcard cannot get a Let's Encrypt HTTP-01 certificate; use a single host", host)
		return
	}
	msgs := validation.IsDNS1123Subdomain(host)
	if len(msgs) == 0 && !strings.Contains(host, ".") {
		msgs = append(msgs, "must be a fully qualified name such as loki.example.org")
	}
	for _, label := range strings.Split(host, ".") {
		if len(label) > 63 {
			msgs = append(msgs, "each dot-separated label must be at most 63 characters")
			break
		}
	}
	if len(msgs) > 0 && hasNonASCII(host) {
		msgs = append(msgs, "write international names in punycode (xn--...)")
	}
	v.addAll(path, host, msgs)
}

func (v *validator) tls(path field.Path, t *v1alpha1.TLS) {
	if !contains(v1alpha1.TLSModes, t.Mode) {
		v.notSupported(path.Child("mode"), "must be %s", oneOf(v1alpha1.TLSModes))
	}
	v.required(path.Child("clusterIssuer"), t.ClusterIssuer, validation.IsDNS1123Subdomain)
	v.required(path.Child("secretName"), t.SecretName, validation.IsDNS1123Subdomain)
	if a := t.ACME; a != nil {
		acme := path.Child("acme")
		if a.Email == "" {
			v.require(acme.Child("email"), "required when acme is set: Let's Encrypt sends expiry notices there")
		} else if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email {
			v.invalid(acme.Child("email"), "invalid value %q: must be a plain e-mail address", a.Email)
		}
		if u, err := url.Parse(a.Server); err != nil || u.Scheme != "https" || u.Host == "" {
			v.invalid(acme.Child("server"), "invalid value %q: must be an https:// URL of an ACME directory", a.Server)
		}
	}
}

func (v *validator) auth(path field.Path, a *v1alpha1.Auth) {
	if a.Realm == "" {
		v.require(path.Child("realm"), "required")
	} else if strings.ContainsAny(a.Realm, `"\`) {
		v.invalid(path.Child("realm"), "must not contain quotes or backslashes (it is sent in the WWW-Authenticate header)")
	}
	if a.BcryptCost < htpasswd.MinCost || a.BcryptCost > htpasswd.MaxCost {
		v.invalid(path.Child("bcryptCost"), "must be between %d and %d", htpasswd.MinCost, htpasswd.MaxCost)
	}
	users := path.Child("users")
	if len(a.Users) == 0 {
		v.require(users, "required: at least one user, e.g. [{name: admin, password: {fromEnv: LOKI_ADMIN_PASSWORD}}]")
	}
	seen := map[string]int{}
	for i, u := range a.Users {
		p := users.Index(i)
		switch {
		case u.Name == "":
			v.require(p.Child("name"), "required")
		case strings.ContainsAny(u.Name, ": \t") || hasNonPrint(u.Name):
			v.invalid(p.Child("name"), "invalid value %q: must not contain colons, spaces or control characters", u.Name)
		case len(u.Name) > 255:
			v.invalid(p.Child("name"), "must be at most 255 characters")
		}
		if j, dup := seen[u.Name]; dup && u.Name != "" {
			v.add(p.Child("name"), field.Duplicate, "duplicate user %q (also users[%d])", u.Name, j)
		}
		seen[u.Name] = i
		switch {
		case u.Password.IsSet() && u.Htpasswd.IsSet():
			v.forbid(p.Child("htpasswd"), "set either password or htpasswd, not both")
		case u.Htpasswd.IsSet():
			v.secretRef(p.Child("htpasswd"), u.Htpasswd)
		default:
			v.secretRef(p.Child("password"), u.Password)
		}
	}
}

var envName = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ReservedEnvPrefixes name the variables that configure loki-cmp and its
// Vault client on the sidecar. loki.yaml comes from a repository and must
// not be able to turn them (a Vault token, an AppRole secret) into a
// password whose hash it then publishes.
var ReservedEnvPrefixes = []string{"LOKI_CMP_", "VAULT_"}

// secretRef checks that exactly one source is set. The referenced value is
// read later, by package plugin.
func (v *validator) secretRef(path field.Path, r v1alpha1.SecretRef) {
	v.secretRefOf(path, "password", r, "{fromEnv: LOKI_ADMIN_PASSWORD} or {fromVault: {path: secret/loki/basic-auth, key: admin}}")
}

func (v *validator) secretRefOf(path field.Path, what string, r v1alpha1.SecretRef, example string) {
	switch {
	case r.FromEnv != "" && r.FromVault != nil:
		v.forbid(path, "set either fromEnv or fromVault, not both")
	case r.FromVault != nil:
		v.vaultRef(path.Child("fromVault"), *r.FromVault)
	case r.FromEnv == "":
		v.require(path, "required: say where the %s comes from: %s", what, example)
	case !envName().MatchString(r.FromEnv):
		v.invalid(path.Child("fromEnv"), "invalid value %q: must be an environment variable name (letters, digits, _)", r.FromEnv)
	default:
		for _, prefix := range ReservedEnvPrefixes {
			if strings.HasPrefix(strings.ToUpper(r.FromEnv), prefix) {
				v.forbid(path.Child("fromEnv"), "invalid value %q: variables starting with %s configure loki-cmp itself and cannot be referenced", r.FromEnv, prefix)
			}
		}
	}
}

// vaultRef checks a Vault reference's shape; whether it may be read is the
// sidecar's allow-list's decision, at run time.
func (v *validator) vaultRef(path field.Path, r v1alpha1.VaultRef) {
	if msg := CheckVaultPath(r.Path); msg != "" {
		if r.Path == "" {
			v.require(path.Child("path"), "invalid value %q: %s", r.Path, msg)
		} else {
			v.invalid(path.Child("path"), "invalid value %q: %s", r.Path, msg)
		}
	} else {
		v.vaultAPIPath(path.Child("path"), r)
	}
	if r.Key == "" {
		v.require(path.Child("key"), "required: the key inside the secret, e.g. admin")
	}
	switch {
	case r.KVVersion != 0 && r.KVVersion != 1 && r.KVVersion != 2:
		v.notSupported(path.Child("kvVersion"), "must be 1 or 2 (or left out to detect it)")
	case r.Version < 0:
		v.invalid(path.Child("version"), "must not be negative")
	case r.Version > 0 && r.KVVersion == 1:
		v.forbid(path.Child("version"), "KV v1 secrets have no versions")
	}
	if r.Mount != "" {
		switch {
		case r.KVVersion == 0:
			v.forbid(path.Child("mount"), "only with kvVersion: without it the mount is detected")
		case CheckVaultPath(r.Mount) != "" || !strings.HasPrefix(r.Path, r.Mount+"/"):
			v.invalid(path.Child("mount"), "invalid value %q: must be a leading part of path, ending at a /", r.Mount)
		}
	}
}

// CheckVaultPath returns why p is not a clean Vault secret path, or "".
// Clean means: mount and secret path, no empty, "." or ".." segment, no
// leading or trailing slash, so that an allow-list glob sees the same path
// Vault reads.
func CheckVaultPath(p string) string {
	if p == "" {
		return "required: mount and secret path, e.g. secret/loki/basic-auth"
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return `must be a clean path: no leading, trailing or double "/", no "." or ".." segments`
		}
		if strings.ContainsAny(s, "*?[]\\") {
			return "must not contain glob characters or backslashes"
		}
	}
	if len(segs) < 2 {
		return "must name a mount and a secret, e.g. secret/loki/basic-auth"
	}
	return ""
}

func (v *validator) collector(path field.Path, c *v1alpha1.Collector) {
	if types := v1alpha1.CollectorTypes(); !contains(types, c.Type) {
		v.notSupported(path.Child("type"), "must be %s", oneOf(types))
	}
	v.image(path.Child("image"), c.Image)
	if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
		v.invalid(path.Child("namespace"), "invalid value %q: %s (set spec.collector.namespace when <namespace>-collector is too long)", c.Namespace, strings.Join(msgs, "; "))
	}
	v.resources(path.Child("resources"), c.Resources)
}

// mode checks the deployment mode and, for simple-scalable, its targets and
// object storage.
func (v *validator) mode(s *v1alpha1.Spec) {
	ss := s.SimpleScalable
	ssPath, osPath := specPath.Child("simpleScalable"), specPath.Child("objectStorage")
	switch s.Mode {
	case v1alpha1.ModeSingleBinary:
		if ss.Confirm != "" {
			v.forbid(ssPath.Child("confirm"), "is set, but mode is single-binary: switching a simple-scalable stack back is a migration (docs/upgrades.md); remove confirm once it is done")
		}
		v.credentialsOff(osPath, s.ObjectStorage)
		return
	case v1alpha1.ModeSimpleScalable:
	default:
		v.notSupported(specPath.Child("mode"), "must be %q or %q", v1alpha1.ModeSingleBinary, v1alpha1.ModeSimpleScalable)
		return
	}
	v.confirm(ssPath.Child("confirm"), ss.Confirm, v1alpha1.ConfirmMigratedFrom1,
		"required with mode simple-scalable: %s for a stack without data, or %s once the steps in docs/upgrades.md are done (the single-binary volume is replaced, its logs are not moved)")
	for _, t := range []struct {
		name string
		t    v1alpha1.Target
	}{{"write", ss.Write}, {"read", ss.Read}, {"backend", ss.Backend}} {
		p := ssPath.Child(t.name)
		if t.t.Replicas < 1 || t.t.Replicas > 100 {
			v.invalid(p.Child("replicas"), "must be between 1 and 100")
		}
		v.resources(p.Child("resources"), t.t.Resources)
	}
	v.objectStorage(osPath, &s.ObjectStorage)
}

// confirm checks the answer to a switch that changes where existing data
// is read from: new-install or migrated, the one migration it names.
// required is the message when it is missing, with the two answers as %s.
func (v *validator) confirm(path field.Path, answer, migrated, required string) {
	switch answer {
	case v1alpha1.ConfirmNewInstall, migrated:
	case "":
		v.require(path, required, v1alpha1.ConfirmNewInstall, migrated)
	default:
		v.notSupported(path, "must be %q or %q", v1alpha1.ConfirmNewInstall, migrated)
	}
}

// objectStorage checks the S3 object store of mode simple-scalable: the
// validation of the generator's S3 backend (generator/s3.go).
func (v *validator) objectStorage(osPath field.Path, o *v1alpha1.ObjectStorage) {
	if o.Endpoint != "" {
		host, port := o.Endpoint, ""
		if h, p, err := net.SplitHostPort(o.Endpoint); err == nil {
			host, port = h, p
		}
		switch {
		case strings.ContainsAny(o.Endpoint, "/?#@ ") || (len(validation.IsDNS1123Subdomain(host)) > 0 && net.ParseIP(host) == nil):
			v.invalid(osPath.Child("endpoint"), "invalid value %q: must be host[:port], without scheme or path (use insecure for plain HTTP)", o.Endpoint)
		case port != "" && len(validation.IsValidPortNum(atoi(port))) > 0:
			v.invalid(osPath.Child("endpoint"), "invalid value %q: the port must be 1-65535", o.Endpoint)
		}
	}
	if o.Region == "" {
		v.require(osPath.Child("region"), "required")
	} else if !regionName().MatchString(o.Region) {
		v.invalid(osPath.Child("region"), "invalid value %q: must be a region name such as us-east-1", o.Region)
	}
	v.bucket(osPath.Child("chunksBucket"), o.ChunksBucket)
	v.bucket(osPath.Child("rulerBucket"), o.RulerBucket)
	if o.ChunksBucket == o.RulerBucket && o.ChunksBucket != "" {
		v.add(osPath.Child("rulerBucket"), field.Duplicate, "must differ from chunksBucket")
	}
	v.credentials(osPath, o)
}

var (
	regionName = lazyRegexp(`^[a-z0-9][a-z0-9-]{0,62}$`)
	// S3 bucket naming rules (a DNS label-like name, 3-63 characters).
	bucketName = lazyRegexp(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

func (v *validator) bucket(path field.Path, name string) {
	switch {
	case name == "":
		v.require(path, "required")
	case !bucketName().MatchString(name) || strings.Contains(name, ".."):
		v.invalid(path, "invalid value %q: must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)", name)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func (v *validator) monitoring(path field.Path, m *v1alpha1.Monitoring) {
	sm := path.Child("serviceMonitor")
	v.labels(sm.Child("labels"), m.ServiceMonitor.Labels, ManagedLabels)
	if i := m.ServiceMonitor.Interval; i != "" && !promDuration().MatchString(i) {
		v.invalid(sm.Child("interval"), "invalid value %q: must be a Prometheus duration such as 30s or 1m", i)
	}
	g := m.GrafanaDatasource
	gd := path.Child("grafanaDatasource")
	v.required(gd.Child("namespace"), g.Namespace, validation.IsDNS1123Label)
	if g.Name == "" {
		v.require(gd.Child("name"), "required")
	}
}

// promDuration is the duration grammar of Prometheus and Loki
// (github.com/prometheus/common/model.ParseDuration): units from years down
// to milliseconds, each at most once, largest first.
var promDuration = lazyRegexp(`^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$`)

const hour = time.Hour

var durationUnits = []time.Duration{365 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second, time.Millisecond}

// parseLokiDuration parses a Prometheus/Loki duration ("0" is allowed).
func parseLokiDuration(s string) (time.Duration, bool) {
	if s == "0" {
		return 0, true
	}
	m := promDuration().FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, false
	}
	var total time.Duration
	for i, unit := range durationUnits {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, false
		}
		total += time.Duration(n) * unit
	}
	return total, true
}

// retention accepts a Loki duration: 0s (keep forever) or at least 24h, which
// Loki's compactor requires.
func (v *validator) retention(path field.Path, d string) {
	dur, ok := parseLokiDuration(d)
	switch {
	case !ok:
		v.invalid(path, "invalid value %q: must be a duration such as 744h, 31d or 4w", d)
	case dur != 0 && dur < 24*hour:
		v.invalid(path, "invalid value %q: must be 0s (keep forever) or at least 24h", d)
	}
}

func (v *validator) resources(path field.Path, r v1alpha1.Resources) {
	pairs := []struct {
		name     string
		req, lim string
	}{{"cpu", r.Requests.CPU, r.Limits.CPU}, {"memory", r.Requests.Memory, r.Limits.Memory}}
	for _, p := range pairs {
		req := v.quantity(path.Child("requests").Child(p.name), p.req, false)
		lim := v.quantity(path.Child("limits").Child(p.name), p.lim, false)
		if p.name == "memory" {
			v.sizeWithUnit(path.Child("requests").Child("memory"), p.req)
			v.sizeWithUnit(path.Child("limits").Child("memory"), p.lim)
		}
		if req != nil && lim != nil && req.Cmp(*lim) > 0 {
			v.invalid(path.Child("requests").Child(p.name), "request %s is above the limit %s", p.req, p.lim)
		}
	}
}

// quantity parses a Kubernetes quantity; it returns nil when empty or invalid.
func (v *validator) quantity(path field.Path, q string, required bool) *resource.Quantity {
	if q == "" {
		if required {
			v.require(path, "required")
		}
		return nil
	}
	parsed, err := resource.ParseQuantity(q)
	if err != nil || parsed.Sign() <= 0 {
		v.invalid(path, "invalid value %q: must be a positive quantity such as 10Gi, 512Mi or 100m", q)
		return nil
	}
	return &parsed
}

func (v *validator) image(path field.Path, ref string) {
	switch {
	case ref == "":
		v.require(path, "required")
	case len(ref) > 255 || !validImageRef(ref):
		v.invalid(path, "invalid value %q: must be an image reference such as docker.io/grafana/loki:3.7.8", ref)
	}
}

func (v *validator) labels(path field.Path, m map[string]string, reserved []string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if hasNonPrint(k) {
			continue // reported by noControlChars
		}
		p := path.Key(k)
		v.addAll(p, k, validation.IsQualifiedName(k))
		v.addAll(p, m[k], validation.IsValidLabelValue(m[k]))
		if contains(reserved, k) {
			v.forbid(p, "is set by loki-cmp itself and cannot be overridden")
		}
	}
}

func (v *validator) annotations(path field.Path, m map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if hasNonPrint(k) {
			continue // reported by noControlChars
		}
		p := path.Key(k)
		v.addAll(p, k, validation.IsQualifiedName(strings.ToLower(k)))
		if contains(ManagedAnnotations, k) {
			v.forbid(p, "is set by loki-cmp itself and cannot be overridden")
		}
	}
}

// noControlChars refuses control characters (newlines, NUL, escapes) in every
// string of the stack, map keys included: none of them belongs in a manifest,
// and a newline could smuggle a second htpasswd line or YAML key.
func (v *validator) noControlChars(val reflect.Value, path field.Path) {
	switch val.Kind() {
	case reflect.String:
		if hasNonPrint(val.String()) {
			v.invalid(path, "must not contain control characters (newlines, tabs, NUL)")
		}
	case reflect.Pointer:
		if !val.IsNil() {
			v.noControlChars(val.Elem(), path)
		}
	case reflect.Struct:
		for i := 0; i < val.NumField(); i++ {
			name, _, _ := strings.Cut(val.Type().Field(i).Tag.Get("json"), ",")
			v.noControlChars(val.Field(i), path.Child(name))
		}
	case reflect.Slice:
		for i := 0; i < val.Len(); i++ {
			v.noControlChars(val.Index(i), path.Index(i))
		}
	case reflect.Map:
		iter := val.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			if hasNonPrint(k) {
				v.invalid(path, "keys must not contain control characters (newlines, tabs, NUL)")
				continue
			}
			v.noControlChars(iter.Value(), path.Key(k))
		}
	}
}

func hasNonPrint(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0
}

func hasNonASCII(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r > unicode.MaxASCII }) >= 0
}

// oneOf quotes the values for a message: "a" or "b"; "a", "b" or "c".
func oneOf(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lazyRegexp compiles a pattern on first use rather than at program start:
// every command pays for package initialisation, and most runs need only
// some of these patterns.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
