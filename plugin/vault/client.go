package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// Ref is one key of one KV secret, as written in loki.yaml.
type Ref struct {
	Path      string // mount + secret path, as for vault kv get
	Key       string
	Version   int // KV v2 version; 0 = latest
	KVVersion int // 1 or 2; 0 = detect from the mount
	Mount     string
}

// Client reads KV secrets. Each secret is fetched at most once per Client,
// however many keys are taken from it; each mount is looked up once.
type Client struct {
	api      *vaultapi.Client
	s        Settings
	ownToken bool // obtained by logging in here: revoked by Close
	secrets  map[string]map[string]any
	mounts   map[string]mountInfo
	// secrets seen in this run (token, login material, values): scrubbed
	// from every message as a last line of defence.
	redact []string
}

// ReadFile reads credential files (tokens, JWTs, secret IDs); tests pass
// their own.
type ReadFile func(name string) ([]byte, error)

const (
	maxAttempts  = 4
	firstBackoff = 250 * time.Millisecond
)

// Dial builds a client from the settings and logs in. ctx carries the run's
// deadline.
func Dial(ctx context.Context, s Settings, readFile ReadFile) (*Client, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	api, err := newAPIClient(s)
	if err != nil {
		return nil, err
	}
	c := &Client{api: api, s: s, secrets: map[string]map[string]any{}, mounts: map[string]mountInfo{}}
	if err := c.login(ctx, readFile); err != nil {
		return nil, err
	}
	return c, nil
}

func newAPIClient(s Settings) (*vaultapi.Client, error) {
	u, err := url.Parse(s.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, configError(fmt.Sprintf("%s must be a URL such as https://vault.example.org:8200, not %q", EnvAddr, s.Address))
	}
	if u.Scheme == "https" {
		setFallbackRoots()
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	cfg := &vaultapi.Config{
		Address:    s.Address,
		HttpClient: &http.Client{Transport: transport, CheckRedirect: noRedirects},
		// Retries are ours (retry below): only on connection errors, 5xx
		// and 429, and within the run's one deadline.
		MaxRetries: 0,
		// No client timeout: every request runs under a context with a
		// deadline (the run's, or Close's own), and the client's would
		// cancel a write's context before its answer is read.
		Timeout: 0,
	}
	for _, f := range []struct{ env, path string }{{EnvCACert, s.CACert}, {EnvCAPath, s.CAPath}} {
		if _, err := os.Stat(f.path); f.path != "" && err != nil {
			return nil, configError(fmt.Sprintf("%s %s: %s", f.env, f.path, fileCause(err)))
		}
	}
	if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{CACert: s.CACert, CAPath: s.CAPath, Insecure: s.SkipVerify}); err != nil {
		return nil, configError(fmt.Sprintf("cannot load the CA certificates of %s/%s: not a PEM certificate bundle", EnvCACert, EnvCAPath))
	}
	api, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, configError("cannot configure the Vault client: " + err.Error())
	}
	// NewClient also reads VAULT_TOKEN and VAULT_NAMESPACE from the process
	// environment; settle both from our settings instead.
	api.ClearToken()
	api.ClearNamespace()
	if s.Namespace != "" {
		api.SetNamespace(s.Namespace)
	}
	return api, nil
}

// setFallbackRoots gives Go the CA roots of golang.org/x/crypto/x509roots
// for the case where the system has none: the sidecar image is FROM
// scratch. System roots win where they exist. Parsing the bundle costs a
// few milliseconds, so it happens only when Vault is reached over TLS, not
// in every run (a blank import of x509roots/fallback would do it at start).
var setFallbackRoots = sync.OnceFunc(func() {
	pool := x509.NewCertPool()
	for c := range bundle.Roots() {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			continue // a bundle entry Go cannot parse is one root less
		}
		if c.Constraint == nil {
			pool.AddCert(cert)
		} else {
			pool.AddCertWithConstraint(cert, c.Constraint)
		}
	}
	x509.SetFallbackRoots(pool)
})

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Close revokes a token obtained by logging in, so it does not outlive the
// run. A token given by the administrator (VAULT_TOKEN) is left alone. It
// returns an error only for the caller to report as a warning.
func (c *Client) Close() error {
	if !c.ownToken {
		return nil
	}
	// The run's deadline may be spent: revoking gets its own short one.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := c.api.Logical().WriteRawWithContext(ctx, "auth/token/revoke-self", nil)
	if resp != nil {
		resp.Body.Close()
	}
	c.api.ClearToken()
	if err != nil {
		_, cause := describe(err, "3s")
		return errors.New("could not revoke the login token (it expires at the end of its TTL): " + c.scrub(cause))
	}
	return nil
}

// do sends one request with bounded retries and returns its parsed JSON
// body. A 404 is returned as (body, err) so that callers can read KV v2's
// "deleted version" answer.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any) (map[string]any, error) {
	var lastErr error
	backoff := firstBackoff
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		resp, err := c.send(ctx, method, path, query, body)
		if err == nil || isStatus(err, 404) {
			data, perr := parseBody(resp)
			if perr != nil {
				return nil, perr
			}
			return data, err
		}
		if resp != nil {
			resp.Body.Close()
		}
		lastErr = err
		if attempt == maxAttempts || !retryable(err) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	return nil, lastErr
}

// send sends one request through the Vault client's logical API (which
// adds the token and namespace): GET as a read, POST as a write (Vault
// treats PUT and POST alike).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*vaultapi.Response, error) {
	if method == http.MethodGet {
		return c.api.Logical().ReadRawWithDataWithContext(ctx, path, query)
	}
	var data []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		data = b
	}
	return c.api.Logical().WriteRawWithContext(ctx, path, data)
}

// errMalformed marks an answer that is not Vault's JSON.
var errMalformed = errors.New("malformed response: not Vault's JSON")

func parseBody(resp *vaultapi.Response) (map[string]any, error) {
	if resp == nil {
		return nil, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		if errors.Is(err, io.EOF) { // no body, e.g. 204
			return nil, nil
		}
		return nil, errMalformed
	}
	return out, nil
}

func isStatus(err error, code int) bool {
	var re *vaultapi.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

// retryable: connection errors, 5xx except a sealed Vault or 501, and 429.
func retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode == 503 && strings.Contains(vaultMessage(re), "sealed") {
			return false
		}
		return re.StatusCode == 429 || (re.StatusCode >= 500 && re.StatusCode != 501)
	}
	kind, cause := describe(err, "")
	return kind == KindUnavailable && !strings.HasPrefix(cause, "TLS")
}

// fail builds an *Error about a ref's path, or about Vault itself.
func (c *Client) fail(kind Kind, subject, msg string) error {
	return &Error{Kind: kind, Msg: c.scrub(subject + ": " + msg)}
}

func (c *Client) failErr(subject string, err error) error {
	if errors.Is(err, errMalformed) {
		return c.fail(KindNotFound, subject, err.Error())
	}
	kind, cause := describe(err, c.s.Timeout.String())
	return c.fail(kind, subject, cause)
}

func (c *Client) scrub(msg string) string {
	for _, s := range c.redact {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

func (c *Client) addRedact(s string) {
	if s != "" {
		c.redact = append(c.redact, s)
	}
}

func vaultSubject(s Settings) string { return "vault " + s.Address }

func pathSubject(r Ref) string {
	return fmt.Sprintf("vault secret %s (key %q)", r.Path, r.Key)
}

func itoa(i int) string { return strconv.Itoa(i) }
