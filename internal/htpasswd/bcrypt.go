// Package htpasswd builds the lines of an htpasswd file ("user:hash") with
// bcrypt hashes whose salt is derived instead of drawn at random.
//
// A random salt gives a new hash on every run, and Argo CD would show the
// basic-auth Secret as changed at every refresh. Here the salt is derived from
// the context the hash lives in (host, namespace, Secret name, user) and an
// optional secret pepper, so the same input always gives the same line
// (scheme v2):
//
//	ctx  = "loki-cmp/htpasswd/v2" || len-prefixed(host, namespace, secret, user)
//	salt = HMAC-SHA-256(key = pepper (may be empty), ctx)[:16]
//	hash = $2y$cost$ base64(salt) base64(bcrypt(password, cost, salt))
//
// One bcrypt per line. The salt depends on no secret but the pepper, so it
// reveals nothing about the password: testing a guess against the hash costs
// one full bcrypt, as with a random salt. What determinism gives up is that
// someone who knows the context in advance could precompute hashes of likely
// passwords for it; the pepper, which an attacker does not know, takes that
// away. (Scheme v1 derived the salt with a second bcrypt of the password:
// that made every line cost two bcrypts and bought nothing, since a guess
// cost one bcrypt in both schemes and precomputation against a known context
// was just as possible: compute the salt of each guess, then its hash.)
package htpasswd

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	//lint:ignore SA1019 bcrypt is built on Blowfish's expensive key schedule; the deprecation advises against Blowfish as a cipher, which is not how it is used here.
	"golang.org/x/crypto/blowfish"
)

// Bounds accepted for the bcrypt cost. Traefik checks the hash on every
// request, so costs above 14 would make every log query slow.
const (
	MinCost = 4
	MaxCost = 14
	// MaxPasswordBytes is bcrypt's limit; longer input would be silently
	// truncated by some implementations, so it is refused.
	MaxPasswordBytes = 72
)

// Context names where a hash will live. Every field takes part in the salt.
type Context struct {
	Host, Namespace, Secret, User string
}

// BcryptRunsPerLine is how many bcrypt computations of the full cost Hash
// makes for one htpasswd line: what a run's CPU time scales with (users ×
// 2^cost × this). Validation's time budget (Estimate) is built on it, so a
// change to Hash must change it too; TestRunsPerLine counts the runs.
const BcryptRunsPerLine = 1

func (c Context) bytes() []byte {
	b := []byte("loki-cmp/htpasswd/v2")
	for _, s := range []string{c.Host, c.Namespace, c.Secret, c.User} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// Errors returned by Hash. They never contain the password.
var (
	ErrEmptyPassword   = errors.New("password is empty")
	ErrPasswordTooLong = fmt.Errorf("password is longer than %d bytes (bcrypt's limit)", MaxPasswordBytes)
	ErrPasswordNUL     = errors.New("password contains a NUL byte, which bcrypt implementations truncate at")
)

// Hash returns the deterministic bcrypt hash ("$2y$...") of password in
// context ctx. pepper is the installation's secret (nil or empty for none);
// it only enters the salt derivation and is never part of the output.
func Hash(password []byte, cost int, ctx Context, pepper []byte) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	if cost < MinCost || cost > MaxCost {
		return "", fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, MinCost, MaxCost)
	}
	salt := deriveSalt(ctx, pepper)
	out := bcryptRaw(password, cost, salt)
	return fmt.Sprintf("$2y$%02d$%s%s", cost, encode(salt), encode(out)), nil
}

// deriveSalt is the 16-byte bcrypt salt of context ctx under pepper.
func deriveSalt(ctx Context, pepper []byte) []byte {
	mac := hmac.New(sha256.New, pepper)
	mac.Write(ctx.bytes())
	return mac.Sum(nil)[:16]
}

// CheckPassword reports whether bcrypt can hash password faithfully.
func CheckPassword(password []byte) error {
	switch {
	case len(password) == 0:
		return ErrEmptyPassword
	case len(password) > MaxPasswordBytes:
		return ErrPasswordTooLong
	case strings.IndexByte(string(password), 0) >= 0:
		return ErrPasswordNUL
	}
	return nil
}

// Line returns one htpasswd line.
func Line(user, hash string) string { return user + ":" + hash }

// bcrypt's own base64 alphabet, without padding.
var bcEncoding = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

func encode(b []byte) string { return bcEncoding.EncodeToString(b) }

// magic is "OrpheanBeholderScryDoubt", the text bcrypt encrypts.
var magic = []byte("OrpheanBeholderScryDoubt")

// bcryptRaw is the bcrypt core (EksBlowfishSetup, then 64 encryptions of the
// magic text), as in golang.org/x/crypto/bcrypt, which does not let callers
// choose the salt. It returns the 23 bytes that bcrypt encodes.
func bcryptRaw(password []byte, cost int, salt []byte) []byte {
	countRun()
	// C implementations hash the key including its trailing NUL.
	key := append(password[:len(password):len(password)], 0)
	c, err := blowfish.NewSaltedCipher(key, salt)
	if err != nil {
		// Only returned for an empty key; ours always ends in a NUL byte.
		panic("htpasswd: " + err.Error())
	}
	for i := uint64(0); i < 1<<uint(cost); i++ {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt, c)
	}
	data := make([]byte, len(magic))
	copy(data, magic)
	for i := 0; i < len(data); i += 8 {
		for j := 0; j < 64; j++ {
			c.Encrypt(data[i:i+8], data[i:i+8])
		}
	}
	return data[:23]
}
