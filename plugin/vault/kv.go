package vault

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// mountInfo is what sys/internal/ui/mounts says about a path's mount.
type mountInfo struct {
	path      string // e.g. "secret/", with the trailing slash Vault gives
	kvVersion int
}

// Read returns the value of ref's key, checking the allow-list first.
func (c *Client) Read(ctx context.Context, ref Ref) ([]byte, error) {
	subject := pathSubject(ref)
	if !c.s.Allowed.Allows(ref.Path) {
		return nil, c.fail(KindDenied, subject, notAllowed(c.s.Allowed))
	}
	m, err := c.mount(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref.Version > 0 && m.kvVersion == 1 {
		return nil, c.fail(KindNotFound, subject, "version is set, but "+m.path+" is a KV v1 mount, which keeps no versions")
	}
	data, err := c.secret(ctx, ref, m)
	if err != nil {
		return nil, err
	}
	raw, ok := data[ref.Key]
	if !ok {
		return nil, c.fail(KindNotFound, subject, "no such key in the secret (keys present: "+keyList(data)+")")
	}
	value, ok := raw.(string)
	if !ok {
		return nil, c.fail(KindNotFound, subject, "the value is not a string")
	}
	c.addRedact(value)
	return []byte(value), nil
}

// notAllowed explains an allow-list refusal.
func notAllowed(a AllowList) string {
	if len(a) == 0 {
		return "not allowed: " + EnvAllowedPaths + " is not set on the plugin sidecar, so no Vault path may be read"
	}
	return "not allowed by " + EnvAllowedPaths + " (" + strings.Join(a, ",") + ")"
}

// CheckAllowed reports the first ref outside the allow-list, before anything
// is sent to Vault.
func CheckAllowed(s Settings, refs []Ref) error {
	for _, r := range refs {
		if !s.Allowed.Allows(r.Path) {
			return &Error{Kind: KindDenied, Msg: pathSubject(r) + ": " + notAllowed(s.Allowed)}
		}
	}
	return nil
}

// mount finds the KV version and mount of ref: given, or detected with one
// sys/internal/ui/mounts request per path, as the vault CLI does.
func (c *Client) mount(ctx context.Context, ref Ref) (mountInfo, error) {
	if ref.KVVersion != 0 {
		mount := ref.Mount
		if mount == "" {
			mount, _, _ = strings.Cut(ref.Path, "/")
		}
		return mountInfo{path: mount + "/", kvVersion: ref.KVVersion}, nil
	}
	if m, ok := c.mounts[ref.Path]; ok {
		return m, nil
	}
	subject := pathSubject(ref)
	data, err := c.do(ctx, http.MethodGet, "sys/internal/ui/mounts/"+ref.Path, nil, nil)
	if err != nil {
		if isStatus(err, 404) || isStatus(err, 400) {
			return mountInfo{}, c.fail(KindNotFound, subject, "no secrets engine is mounted at this path")
		}
		return mountInfo{}, c.failErr(subject, err)
	}
	d, _ := data["data"].(map[string]any)
	path, _ := d["path"].(string)
	typ, _ := d["type"].(string)
	if path == "" {
		return mountInfo{}, c.fail(KindNotFound, subject, "malformed response: the mount lookup named no mount")
	}
	if typ != "kv" && typ != "generic" {
		return mountInfo{}, c.fail(KindNotFound, subject, fmt.Sprintf("the mount %s is a %q secrets engine, not KV", path, typ))
	}
	m := mountInfo{path: path, kvVersion: 1}
	if opts, _ := d["options"].(map[string]any); opts != nil && fmt.Sprint(opts["version"]) == "2" {
		m.kvVersion = 2
	}
	c.mounts[ref.Path] = m
	return m, nil
}

// secret fetches the key/value map of ref's secret, once per run.
func (c *Client) secret(ctx context.Context, ref Ref, m mountInfo) (map[string]any, error) {
	subject := pathSubject(ref)
	rest := strings.TrimPrefix(ref.Path, m.path)
	apiPath, query := ref.Path, url.Values(nil)
	if m.kvVersion == 2 {
		apiPath = m.path + "data/" + rest
		if ref.Version > 0 {
			query = url.Values{"version": {itoa(ref.Version)}}
		}
	}
	cacheKey := apiPath + "?" + query.Encode()
	if s, ok := c.secrets[cacheKey]; ok {
		return s, nil
	}
	body, err := c.do(ctx, http.MethodGet, apiPath, query, nil)
	if err != nil && !isStatus(err, 404) {
		if isStatus(err, 403) && ref.KVVersion != 0 {
			// A wrong explicit kvVersion reads a path the policy does not
			// cover: say so, since the 403 alone would mislead.
			kind, cause := describe(err, c.s.Timeout.String())
			return nil, c.fail(kind, subject, fmt.Sprintf("%s (kvVersion: %d reads %s; if that is not how %s is mounted, fix kvVersion or leave it out)", cause, ref.KVVersion, apiPath, m.path))
		}
		return nil, c.failErr(subject, err)
	}
	data, _ := body["data"].(map[string]any)
	if m.kvVersion == 1 {
		if err != nil || data == nil {
			if looksVersioned(body) {
				return nil, c.fail(KindNotFound, subject, "wrong KV version: "+m.path+" is a KV v2 mount (set kvVersion: 2, or leave kvVersion out)")
			}
			return nil, c.fail(KindNotFound, subject, "no secret at this path")
		}
		c.secrets[cacheKey] = data
		return data, nil
	}
	return c.v2Data(ref, m, data, err, cacheKey)
}

// v2Data unwraps a KV v2 answer: {data: {data: {...}, metadata: {...}}}.
func (c *Client) v2Data(ref Ref, m mountInfo, data map[string]any, readErr error, cacheKey string) (map[string]any, error) {
	subject := pathSubject(ref)
	meta, _ := data["metadata"].(map[string]any)
	inner, hasInner := data["data"].(map[string]any)
	version := "the latest version"
	if ref.Version > 0 {
		version = "version " + itoa(ref.Version)
	}
	switch {
	case meta != nil && fmt.Sprint(meta["destroyed"]) == "true":
		return nil, c.fail(KindNotFound, subject, version+" was destroyed")
	case meta != nil && fmt.Sprint(meta["deletion_time"]) != "":
		return nil, c.fail(KindNotFound, subject, version+" was deleted (vault kv undelete restores it)")
	case readErr != nil && ref.KVVersion == 2:
		return nil, c.fail(KindNotFound, subject, "no secret at this path in KV v2 mount "+m.path+" (if the mount is KV v1, set kvVersion: 1 or leave kvVersion out)")
	case readErr != nil && ref.Version > 0:
		return nil, c.fail(KindNotFound, subject, version+" does not exist")
	case readErr != nil:
		return nil, c.fail(KindNotFound, subject, "no secret at this path")
	case !hasInner:
		return nil, c.fail(KindNotFound, subject, "malformed response: a KV v2 answer without data.data (is "+m.path+" really KV v2?)")
	}
	c.secrets[cacheKey] = inner
	return inner, nil
}

// looksVersioned recognises Vault's answer to a KV v1 style read on a KV v2
// mount: no data, and a warning about the versioned engine.
func looksVersioned(body map[string]any) bool {
	warnings, _ := body["warnings"].([]any)
	for _, w := range warnings {
		if s, _ := w.(string); strings.Contains(s, "versioned K/V") {
			return true
		}
	}
	return false
}

func keyList(data map[string]any) string {
	if len(data) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, fmt.Sprintf("%q", k))
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
