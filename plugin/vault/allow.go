package vault

import (
	"path"
	"strings"
)

// AllowList is the set of Vault paths repositories may read, as globs over
// the path written in loki.yaml (mount and secret path, as for vault kv get).
// Within a segment, * ? and [...] match as in path.Match (never across a
// "/"); a whole segment ** matches any number of segments. An empty list
// allows nothing: an administrator who has not said which paths are fair
// game has not allowed any.
type AllowList []string

// ParseAllowList splits a comma-separated list, dropping empty entries.
func ParseAllowList(s string) AllowList {
	var out AllowList
	for _, p := range strings.Split(s, ",") {
		if p = strings.Trim(strings.TrimSpace(p), "/"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Allows reports whether p matches one of the globs. p must be a clean path
// (config.CheckVaultPath), so ".." cannot climb out of an allowed subtree.
func (a AllowList) Allows(p string) bool {
	for _, glob := range a {
		if matchSegments(strings.Split(glob, "/"), strings.Split(p, "/")) {
			return true
		}
	}
	return false
}

func matchSegments(glob, segs []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegments(glob[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(glob[0], segs[0]); err != nil || !ok {
			return false
		}
		glob, segs = glob[1:], segs[1:]
	}
	return len(segs) == 0
}
