package config

import "strings"

// validImageRef reports whether ref is an image reference in the grammar of
// distribution/reference, without the digest algorithms it does not accept
// anyway: [host[:port]/]path[:tag][@sha256:<64 hex>]. It is written out by
// hand because compiling the equivalent regular expression cost 1.1 M
// instructions in every run that validates loki.yaml (docs/performance.md);
// FuzzImageRef checks it against that expression (imageRefPattern in the
// tests).
func validImageRef(ref string) bool {
	name, digest, hasDigest := strings.Cut(ref, "@")
	if hasDigest && !validDigest(digest) {
		return false
	}
	// A tag follows the last ':' after the last '/'; a ':' before it
	// belongs to the host's port.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		if !validTag(name[i+1:]) {
			return false
		}
		name = name[:i]
	}
	parts := strings.Split(name, "/")
	start := 0
	if len(parts) > 1 && !allPathComponents(parts[:1]) {
		// Not a path component: then it must be the registry host.
		if !validHost(parts[0]) {
			return false
		}
		start = 1
	}
	return allPathComponents(parts[start:])
}

func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validTag: [\w][\w.-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > 128 || !wordChar(t[0]) {
		return false
	}
	for i := 1; i < len(t); i++ {
		if c := t[i]; !wordChar(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validHost: dot-separated labels of letters, digits and inner hyphens,
// optionally ":port".
func validHost(h string) bool {
	if name, port, ok := strings.Cut(h, ":"); ok {
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return false
		}
		h = name
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !alnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func allPathComponents(parts []string) bool {
	for _, p := range parts {
		if !validPathComponent(p) {
			return false
		}
	}
	return true
}

// validPathComponent: [a-z0-9]+ runs joined by one '.', one '_', two '_'
// or any number of '-'.
func validPathComponent(p string) bool {
	if p == "" || !lowerAlnum(p[0]) || !lowerAlnum(p[len(p)-1]) {
		return false
	}
	for i := 0; i < len(p); {
		if lowerAlnum(p[i]) {
			i++
			continue
		}
		j := i
		for j < len(p) && !lowerAlnum(p[j]) {
			j++
		}
		switch sep := p[i:j]; {
		case sep == "." || sep == "_" || sep == "__":
		case strings.Trim(sep, "-") == "":
		default:
			return false
		}
		i = j
	}
	return true
}

func lowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
func alnum(c byte) bool      { return lowerAlnum(c) || 'A' <= c && c <= 'Z' }
func wordChar(c byte) bool   { return alnum(c) || c == '_' }
