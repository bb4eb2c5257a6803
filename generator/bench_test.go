package generator

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// Benchmarks of each step of generate on the seed example, and of the
// pipeline without bcrypt, at 1 and 100 users (docs/performance.md).

// seedYAML is the seed example, with n generated users instead of admin
// when n > 1.
func seedYAML(b *testing.B, n int) []byte {
	b.Helper()
	raw, err := os.ReadFile("../testdata/examples/seed/loki.yaml")
	if err != nil {
		b.Fatal(err)
	}
	if n <= 1 {
		return raw
	}
	var list strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&list, "      - name: user%03d\n        password: {fromEnv: PW_%03d}\n", i, i)
	}
	return []byte(strings.Replace(string(raw), "      - name: admin\n        password: {fromEnv: LOKI_ADMIN_PASSWORD}\n", list.String(), 1))
}

func seedDoc(b *testing.B, users int) (*config.Document, map[string]Credential) {
	b.Helper()
	doc, err := config.Load(seedYAML(b, users), config.Options{})
	if err != nil {
		b.Fatal(err)
	}
	creds := map[string]Credential{}
	for _, u := range doc.Stack.Spec.Auth.Users {
		creds[u.Name] = Credential{Password: secret.New([]byte("pw-" + u.Name))}
	}
	return doc, creds
}

func BenchmarkParseSeed(b *testing.B) {
	raw := seedYAML(b, 1)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := config.Load(raw, config.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildDryRun(b *testing.B) {
	doc, _ := seedDoc(b, 1)
	for b.Loop() {
		if _, err := Generate(Input{Stack: doc.Stack, DryRun: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeYAML(b *testing.B) {
	doc, _ := seedDoc(b, 1)
	objs, err := Generate(Input{Stack: doc.Stack, DryRun: true})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Encode(objs, FormatYAML); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeJSON(b *testing.B) {
	doc, _ := seedDoc(b, 1)
	objs, err := Generate(Input{Stack: doc.Stack, DryRun: true})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Encode(objs, FormatJSON); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineNoBcrypt is parse + build + encode in dry-run mode: all
// of generate's work except hashing.
func BenchmarkPipelineNoBcrypt(b *testing.B) {
	for _, users := range []int{1, 100} {
		in := seedYAML(b, users)
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			for b.Loop() {
				d, err := config.Load(in, config.Options{})
				if err != nil {
					b.Fatal(err)
				}
				objs, err := Generate(Input{Stack: d.Stack, DryRun: true})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Encode(objs, FormatYAML); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipeline includes the deterministic bcrypt of every user at the
// seed's cost (10).
func BenchmarkPipeline(b *testing.B) {
	doc, creds := seedDoc(b, 1)
	for b.Loop() {
		objs, err := Generate(Input{Stack: doc.Stack, Credentials: creds})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Encode(objs, FormatYAML); err != nil {
			b.Fatal(err)
		}
	}
}
