package htpasswd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var ctx = Context{Host: "loki.example.org", Namespace: "loki", Secret: "loki-basic-auth", User: "admin"}

func TestHashVerifiesWithGoBcrypt(t *testing.T) {
	for _, pw := range []string{"s3cret", "x", strings.Repeat("p", 72), "pässwörd ✓", "with space:colon"} {
		h, err := Hash([]byte(pw), 4, ctx)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !strings.HasPrefix(h, "$2y$04$") || len(h) != 60 {
			t.Fatalf("hash %q: want $2y$04$ prefix and 60 bytes", h)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(pw)); err != nil {
			t.Errorf("password of %d bytes: bcrypt.CompareHashAndPassword: %v", len(pw), err)
		}
		other := []byte(pw)
		other[len(other)-1] ^= 1
		if err := bcrypt.CompareHashAndPassword([]byte(h), other); err == nil {
			t.Errorf("a different password verified")
		}
	}
}

func TestHashIsDeterministicAndContextBound(t *testing.T) {
	a, _ := Hash([]byte("s3cret"), 4, ctx)
	b, _ := Hash([]byte("s3cret"), 4, ctx)
	if a != b {
		t.Fatalf("two runs differ: %s vs %s", a, b)
	}
	seen := map[string]string{a: "base"}
	variants := map[string]func() (string, error){
		"password":  func() (string, error) { return Hash([]byte("s3cret2"), 4, ctx) },
		"cost":      func() (string, error) { return Hash([]byte("s3cret"), 5, ctx) },
		"host":      func() (string, error) { c := ctx; c.Host = "other"; return Hash([]byte("s3cret"), 4, c) },
		"namespace": func() (string, error) { c := ctx; c.Namespace = "other"; return Hash([]byte("s3cret"), 4, c) },
		"secret":    func() (string, error) { c := ctx; c.Secret = "other"; return Hash([]byte("s3cret"), 4, c) },
		"user":      func() (string, error) { c := ctx; c.User = "other"; return Hash([]byte("s3cret"), 4, c) },
		// Length prefixes keep ("ab","c") and ("a","bc") apart.
		"shifted": func() (string, error) {
			c := ctx
			c.Namespace, c.Secret = ctx.Namespace+"l", strings.TrimPrefix(ctx.Secret, "l")
			return Hash([]byte("s3cret"), 4, c)
		},
	}
	for name, f := range variants {
		h, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[h]; dup {
			t.Errorf("changing %s gave the same hash as %s", name, prev)
		}
		seen[h] = name
		// The salt alone must change too (not only the final hash).
		if h[7:29] == a[7:29] && name != "cost" {
			t.Errorf("changing %s kept the salt", name)
		}
	}
}

// A known answer pins the construction: if it changes, every user's Secret
// changes at the next sync, which needs a documented migration.
func TestHashKnownAnswer(t *testing.T) {
	h, err := Hash([]byte("s3cret"), 4, ctx)
	if err != nil {
		t.Fatal(err)
	}
	const want = "$2y$04$S8rz2Z/6B1KAneNibJl/9OiMCWGtQvW2NVTe9Kpu4ywL8cTR6jLwa"
	if h != want {
		t.Errorf("Hash = %s, want %s", h, want)
	}
}

func TestHashRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		cost int
		want error
	}{
		{"", 10, ErrEmptyPassword},
		{strings.Repeat("p", 73), 10, ErrPasswordTooLong},
		{"a\x00b", 10, ErrPasswordNUL},
	} {
		_, err := Hash([]byte(tc.pw), tc.cost, ctx)
		if !errors.Is(err, tc.want) {
			t.Errorf("Hash(%d bytes) error = %v, want %v", len(tc.pw), err, tc.want)
		}
		if err != nil && tc.pw != "" && strings.Contains(err.Error(), tc.pw) {
			t.Errorf("error echoes the password")
		}
	}
	for _, cost := range []int{3, 15, 31} {
		if _, err := Hash([]byte("x"), cost, ctx); err == nil {
			t.Errorf("cost %d accepted", cost)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for _, cost := range []int{4, 10, 12} {
		b.Run(fmt.Sprintf("cost=%d", cost), func(b *testing.B) {
			for b.Loop() {
				if _, err := Hash([]byte("s3cret"), cost, ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
