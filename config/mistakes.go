package config

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/field"
)

// Checks for values that Kubernetes' own syntax accepts but that fail at
// sync or never work: each is refused with the fix, at validate, rather
// than found in the cluster.

// hostIP refuses an IP address as host: an Ingress host must be a DNS name
// (the API server refuses the Ingress), and no ACME CA issues a certificate
// for it.
func (v *validator) hostIP(path field.Path, host string) bool {
	if net.ParseIP(strings.Trim(host, "[]")) == nil {
		return false
	}
	v.invalid(path, "invalid value %q: an IP address cannot be an Ingress host nor get a Let's Encrypt certificate; use a DNS name that resolves to it (on a LAN, e.g. a name in your local DNS or loki.%s.nip.io)", host, strings.Trim(host, "[]"))
	return true
}

// certManagerAnnotations are read by cert-manager's ingress-shim, which then
// creates a Certificate of its own for the Ingress's Secret.
var certManagerAnnotations = []string{"cert-manager.io/", "kubernetes.io/tls-acme"}

// certManagerInCommon refuses cert-manager's Ingress annotations among the
// common annotations: spec.tls.mode chooses the one way the certificate is
// asked for; a second one fights the first over the Secret.
func (v *validator) certManagerInCommon(path field.Path, m map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		for _, prefix := range certManagerAnnotations {
			if strings.HasPrefix(k, prefix) {
				v.forbid(path.Key(k), "cert-manager annotations are set by loki-cmp through spec.tls (mode: certificate emits a Certificate, mode: annotation annotates the Ingress); a second way makes two Certificates fight over one Secret: remove it and choose with spec.tls.mode")
			}
		}
	}
}

// vaultAPIPath refuses a KV v2 path written the HTTP API way (with data/ or
// metadata/ after the mount): loki-cmp, like vault kv get, adds it itself.
// path is the reference's path field.
func (v *validator) vaultAPIPath(path field.Path, r v1alpha1.VaultRef) {
	if r.KVVersion == 1 {
		return // a KV v1 secret may well live under data/
	}
	mount, rest := r.Mount, ""
	if mount == "" {
		mount, rest, _ = strings.Cut(r.Path, "/")
	} else {
		rest = strings.TrimPrefix(r.Path, mount+"/")
	}
	for _, api := range []string{"data", "metadata"} {
		if after, ok := strings.CutPrefix(rest, api+"/"); ok && after != "" {
			v.invalid(path, "invalid value %q: written the KV v2 API way; give the path as for vault kv get, without %s/: %s/%s (set kvVersion: 1 if this KV v1 secret really lives under %s/)", r.Path, api, mount, after, api)
			return
		}
	}
}

// unitless reports a quantity written without a unit: "10" is 10 bytes,
// a volume or memory limit no one means.
func unitless(q string) bool {
	_, err := strconv.ParseFloat(q, 64)
	return err == nil
}

// sizeWithUnit refuses a storage or memory size without a unit.
func (v *validator) sizeWithUnit(path field.Path, q string) {
	if q == "" || !unitless(q) {
		return
	}
	if _, err := resource.ParseQuantity(q); err != nil {
		return // reported as invalid by quantity
	}
	v.invalid(path, "invalid value %q: a size without a unit is bytes (%s bytes); write it with one, e.g. %sGi or %sMi", q, q, q, q)
}

// SupportedLokiMajor is the Loki major version whose configuration
// loki-cmp renders (schema v13 on TSDB, the 3.x configuration keys).
const SupportedLokiMajor = 3

// lokiVersion refuses a Loki image whose tag names another major version,
// and warns when the tag names none.
func (v *validator) lokiVersion(path field.Path, image string) {
	tag := imageTag(image)
	major, ok := tagMajor(tag)
	switch {
	case ok && major != SupportedLokiMajor:
		v.notSupported(path, "invalid value %q: loki-cmp renders the configuration of Loki %d.x, which Loki %d does not accept; use a %d.x image such as %s", image, SupportedLokiMajor, major, SupportedLokiMajor, v1alpha1.DefaultLokiImage)
	case !ok:
		what := fmt.Sprintf("tag %q", tag)
		if tag == "" {
			what = "no tag"
		}
		v.warn(path, field.Invalid, "the image has %s, which names no Loki version; loki-cmp renders the configuration of Loki %d.x: pin a %d.x tag such as %s", what, SupportedLokiMajor, SupportedLokiMajor, v1alpha1.DefaultLokiImage)
	}
}

// imageTag returns the tag of an image reference ("" without one).
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	last := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, _ := strings.Cut(last, ":")
	return tag
}

// tagMajor reads the major version of a tag such as 3.7.8, v3.7.8 or
// 3.7.8-amd64.
func tagMajor(tag string) (int, bool) {
	t := strings.TrimPrefix(tag, "v")
	end := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	if end == 0 || (end > 0 && t[end] != '.') {
		return 0, false
	}
	if end < 0 {
		end = len(t)
	}
	n, err := strconv.Atoi(t[:end])
	return n, err == nil
}
