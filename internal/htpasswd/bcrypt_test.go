package htpasswd

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var ctx = Context{Host: "loki.example.org", Namespace: "loki", Secret: "loki-basic-auth", User: "admin"}

func TestHashVerifiesWithGoBcrypt(t *testing.T) {
	for _, pw := range []string{"s3cret", "x", strings.Repeat("p", 72), "pässwörd ✓", "with space:colon"} {
		h, err := Hash([]byte(pw), 4, ctx, nil)
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
	a, _ := Hash([]byte("s3cret"), 4, ctx, nil)
	b, _ := Hash([]byte("s3cret"), 4, ctx, nil)
	if a != b {
		t.Fatalf("two runs differ: %s vs %s", a, b)
	}
	seen := map[string]string{a: "base"}
	variants := map[string]func() (string, error){
		"password":  func() (string, error) { return Hash([]byte("s3cret2"), 4, ctx, nil) },
		"cost":      func() (string, error) { return Hash([]byte("s3cret"), 5, ctx, nil) },
		"host":      func() (string, error) { c := ctx; c.Host = "other"; return Hash([]byte("s3cret"), 4, c, nil) },
		"namespace": func() (string, error) { c := ctx; c.Namespace = "other"; return Hash([]byte("s3cret"), 4, c, nil) },
		"secret":    func() (string, error) { c := ctx; c.Secret = "other"; return Hash([]byte("s3cret"), 4, c, nil) },
		"user":      func() (string, error) { c := ctx; c.User = "other"; return Hash([]byte("s3cret"), 4, c, nil) },
		"pepper":    func() (string, error) { return Hash([]byte("s3cret"), 4, ctx, []byte("a pepper of 16 b")) },
		// Length prefixes keep ("ab","c") and ("a","bc") apart.
		"shifted": func() (string, error) {
			c := ctx
			c.Namespace, c.Secret = ctx.Namespace+"l", strings.TrimPrefix(ctx.Secret, "l")
			return Hash([]byte("s3cret"), 4, c, nil)
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
		// The salt alone must change too (not only the final hash), except
		// with the password or the cost: it is a function of the context
		// and the pepper only.
		keeps := name == "cost" || name == "password"
		if (h[7:29] == a[7:29]) != keeps {
			t.Errorf("changing %s: salt kept = %v, want %v", name, h[7:29] == a[7:29], keeps)
		}
	}
}

// Known answers pin the construction (scheme v2): if they change, every
// user's Secret changes at the next sync, which needs a declared one-time
// change in docs/upgrades.md.
func TestHashKnownAnswer(t *testing.T) {
	for _, tc := range []struct {
		pepper, want string
	}{
		{"", "$2y$04$Jd0NF9Kwd8hYStfnXqC59ujhcqokfR3AZPHE3Vv90lSwbFhdzG8se"},
		{"a pepper of 16 b", "$2y$04$TC8McHlVkEa31766e3cWkOciZ00wKmGEc7bYl3AtTGdypOu71DbRa"},
	} {
		h, err := Hash([]byte("s3cret"), 4, ctx, []byte(tc.pepper))
		if err != nil {
			t.Fatal(err)
		}
		if h != tc.want {
			t.Errorf("pepper %q: Hash = %s, want %s", tc.pepper, h, tc.want)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret")); err != nil {
			t.Errorf("pepper %q: %v", tc.pepper, err)
		}
	}
}

// The salt is HMAC-SHA-256(pepper, ctx), written out by hand here so the
// test does not only repeat Salt.
func TestSaltIsHMACOfContext(t *testing.T) {
	msg := []byte("loki-cmp/htpasswd/v2")
	for _, s := range []string{ctx.Host, ctx.Namespace, ctx.Secret, ctx.User} {
		msg = append(msg, 0, 0, 0, byte(len(s)))
		msg = append(msg, s...)
	}
	for _, pepper := range []string{"", "a pepper of 16 b"} {
		mac := hmac.New(sha256.New, []byte(pepper))
		mac.Write(msg)
		want := bcEncoding.EncodeToString(mac.Sum(nil)[:16])
		h, err := Hash([]byte("s3cret"), 4, ctx, []byte(pepper))
		if err != nil {
			t.Fatal(err)
		}
		if got := h[7:29]; got != want {
			t.Errorf("pepper %q: salt %s, want %s", pepper, got, want)
		}
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
		_, err := Hash([]byte(tc.pw), tc.cost, ctx, nil)
		if !errors.Is(err, tc.want) {
			t.Errorf("Hash(%d bytes) error = %v, want %v", len(tc.pw), err, tc.want)
		}
		if err != nil && tc.pw != "" && strings.Contains(err.Error(), tc.pw) {
			t.Errorf("error echoes the password")
		}
	}
	for _, cost := range []int{3, 15, 31} {
		if _, err := Hash([]byte("x"), cost, ctx, nil); err == nil {
			t.Errorf("cost %d accepted", cost)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for _, cost := range []int{4, 10, 12} {
		b.Run(fmt.Sprintf("cost=%d", cost), func(b *testing.B) {
			for b.Loop() {
				if _, err := Hash([]byte("s3cret"), cost, ctx, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
