package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
)

// Kind classifies failures; the CLI gives each its own exit code.
type Kind int

const (
	// KindUnavailable: Vault cannot be used at all: not configured (no
	// address), unreachable, TLS failure, sealed, too slow, 5xx or 429.
	KindUnavailable Kind = iota + 1
	// KindDenied: Vault answered no: a path outside the allow-list, a
	// failed login, missing authentication settings, 403, a bad token.
	KindDenied
	// KindNotFound: the secret is not there or not usable: missing path,
	// key or version, deleted version, wrong KV version, malformed answer.
	KindNotFound
)

// Error is one Vault failure. Its message names the path (or the Vault
// address) and the cause, never a secret value or token.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func configError(msg string) error { return &Error{Kind: KindUnavailable, Msg: msg} }

func authConfigError(msg string) error { return &Error{Kind: KindDenied, Msg: msg} }

// describe turns an error from the Vault client into a Kind and a short,
// safe cause. Vault's own error strings are kept (they say what is wrong,
// e.g. "permission denied"), the request URL and raw bodies are not.
func describe(err error, timeout string) (Kind, string) {
	var re *vaultapi.ResponseError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return KindUnavailable, "no answer within " + timeout + " (" + EnvTimeout + ")"
	case errors.Is(err, context.Canceled):
		return KindUnavailable, "interrupted"
	case errors.As(err, &re):
		return describeResponse(re)
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		dns       *net.DNSError
		op        *net.OpError
	)
	switch {
	case errors.As(err, &unknownCA):
		return KindUnavailable, "TLS: the server's certificate is signed by an unknown authority (set " + EnvCACert + " or " + EnvCAPath + ")"
	case errors.As(err, &hostname):
		return KindUnavailable, "TLS: the server's certificate is not valid for this host name (check " + EnvAddr + ")"
	case errors.As(err, &invalid), errors.As(err, &verify):
		return KindUnavailable, "TLS: the server's certificate is not valid (expired or not yet valid?)"
	case errors.As(err, &header), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return KindUnavailable, "TLS: the server does not speak TLS (use http:// in " + EnvAddr + "?)"
	case errors.As(err, &dns):
		return KindUnavailable, "unreachable: the host name does not resolve"
	case errors.As(err, &op):
		return KindUnavailable, "unreachable: " + opCause(op)
	case strings.Contains(err.Error(), "EOF"):
		return KindUnavailable, "the connection closed before an answer"
	}
	return KindUnavailable, "request failed"
}

func opCause(op *net.OpError) string {
	msg := op.Err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "connection reset"):
		return "connection reset"
	case strings.Contains(msg, "timeout"):
		return "network timeout"
	}
	return op.Op + " failed"
}

func describeResponse(re *vaultapi.ResponseError) (Kind, string) {
	cause := vaultMessage(re)
	switch code := re.StatusCode; {
	case code == 503 && strings.Contains(cause, "sealed"):
		return KindUnavailable, "Vault is sealed"
	case code == 403:
		return KindDenied, fmt.Sprintf("permission denied (HTTP 403%s): the token's policies do not allow this", withCause(cause, "permission denied"))
	case code == 429:
		return KindUnavailable, "rate limited (HTTP 429)" + withCause(cause, "")
	case code >= 500:
		return KindUnavailable, fmt.Sprintf("Vault error (HTTP %d%s)", code, withCause(cause, ""))
	case code == 404:
		return KindNotFound, "not found (HTTP 404)"
	}
	return KindNotFound, fmt.Sprintf("Vault refused the request (HTTP %d%s)", re.StatusCode, withCause(cause, ""))
}

// vaultMessage returns Vault's error strings on one line, or "" when the
// body was not Vault's JSON (a proxy's page, say), which is never echoed.
func vaultMessage(re *vaultapi.ResponseError) string {
	if re.RawError {
		return ""
	}
	var parts []string
	for _, e := range re.Errors {
		parts = append(parts, flattenMultiError(e)...)
	}
	return strings.Join(parts, "; ")
}

// flattenMultiError turns Vault's "1 error occurred:\n\t* permission
// denied\n\n" into its items.
func flattenMultiError(e string) []string {
	var out []string
	for _, line := range strings.Split(e, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "* "))
		if line == "" || strings.HasSuffix(line, "error occurred:") || strings.HasSuffix(line, "errors occurred:") {
			continue
		}
		out = append(out, line)
	}
	return out
}

func withCause(cause, obvious string) string {
	if cause == "" || cause == obvious {
		return ""
	}
	return ": " + cause
}
