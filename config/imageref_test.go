package config

import (
	"regexp"
	"strings"
	"testing"
)

// imageRefPattern is the reference grammar of distribution/reference as a
// regular expression (what loki-cmp used before validImageRef), without the
// digest algorithms it does not accept anyway.
var imageRefPattern = regexp.MustCompile(`^` +
	`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?` +
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
	`(?::[\w][\w.-]{0,127})?` +
	`(?:@sha256:[0-9a-f]{64})?$`)

var imageRefCases = []string{
	"docker.io/grafana/loki:3.7.8", "grafana/loki", "loki", "localhost:5000/a/b:c", "Registry.Example-1.org/x",
	"host:5000", "host:", ":tag", "a//b", "a/", "/a", "A/b", "a/B", "a_b", "a__b", "a___b", "a.-b", "a--b", "a-",
	"-a", "a..b", "a._b", "x:" + strings.Repeat("t", 128), "x:" + strings.Repeat("t", 129), "x:_t", "x:.t", "x:t.-_",
	"a@sha256:" + strings.Repeat("0f", 32), "a:t@sha256:" + strings.Repeat("0f", 32), "a@sha256:" + strings.Repeat("0F", 32),
	"a@sha512:" + strings.Repeat("0f", 32), "a@sha256:" + strings.Repeat("0f", 31), "a@b@sha256:" + strings.Repeat("0f", 32),
	"-h.io/a", "h-.io/a", "h..io/a", "h.io:/a", "h.io:80a/a", "h.io:80/a:b:c", "h:1/a:b/c", "a:b/c", "ünï/a", "a\n",
	"", "a/b/c/d:e", "1.2.3.4:5/a", "h_o/a", "H/a", "h/a_",
}

func TestValidImageRefMatchesPattern(t *testing.T) {
	for _, c := range imageRefCases {
		if got, want := validImageRef(c), imageRefPattern.MatchString(c); got != want {
			t.Errorf("validImageRef(%q) = %v, the grammar says %v", c, got, want)
		}
	}
}

// FuzzImageRef: validImageRef agrees with the regular expression on any
// string.
func FuzzImageRef(f *testing.F) {
	for _, c := range imageRefCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validImageRef(s), imageRefPattern.MatchString(s); got != want {
			t.Fatalf("validImageRef(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}
