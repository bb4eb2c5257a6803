package generator

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/generator/crd"
	"github.com/thedevops/loki-cmp/internal/htpasswd"
)

// The public path: Namespace, basic-auth Secret and Middleware, Ingress, and
// the certificate (Certificate or Ingress annotation, optional ClusterIssuer).

// namespaces returns the stack's Namespace and, when the collector runs in
// another one, the collector's. Each gets the strictest Pod Security
// Standards level its pods pass: Promtail reads the nodes' log files
// through hostPath volumes as root, which only "privileged" allows (even
// "baseline" forbids hostPath); everything else, Alloy included, passes
// "restricted". Giving the collector its own namespace keeps Promtail's
// exception away from Loki.
func (g *gen) namespaces() []Object {
	c := g.s.Spec.Collector
	collectorNS := c.Enabled && c.Namespace != g.ns
	collectorLevel := "restricted"
	if c.Enabled && c.Type == v1alpha1.CollectorPromtail {
		collectorLevel = "privileged"
	}
	level := "restricted"
	if c.Enabled && !collectorNS {
		level = collectorLevel
	}
	objs := []Object{g.namespaceObject(g.ns, "", level)}
	if collectorNS {
		objs = append(objs, g.namespaceObject(c.Namespace, c.Type, collectorLevel))
	}
	return objs
}

func (g *gen) namespaceObject(name, app, level string) Object {
	if app == "" {
		app = "loki"
	}
	m := g.meta(name, "", app, "", waveNamespace)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		m.Labels["pod-security.kubernetes.io/"+mode] = level
		m.Labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	return &corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: m}
}

// DryRunAnnotation marks objects whose content is a placeholder.
const DryRunAnnotation = "lokicmp.thedevops.dev/dry-run"

// basicAuthSecret holds one htpasswd line per user under the key "users",
// the format Traefik's basicAuth reads from an Opaque Secret.
func (g *gen) basicAuthSecret(in Input) (Object, error) {
	a := g.s.Spec.Auth
	hashes, errs := g.hashAll(in)
	var lines strings.Builder
	for i, u := range a.Users {
		if errs[i] != nil {
			return nil, fmt.Errorf("spec.auth.users[%d] (user %q): %w", i, u.Name, errs[i])
		}
		lines.WriteString(htpasswd.Line(u.Name, hashes[i]))
		lines.WriteByte('\n')
	}
	m := g.meta(g.n.basicAuth, g.ns, "loki", componentGateway, waveSecret)
	if in.DryRun {
		m.Annotations[DryRunAnnotation] = "true: the users key holds placeholders, not password hashes"
	}
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: m,
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"users": []byte(lines.String())},
	}, nil
}

// hashAll hashes every user's password, on all CPUs: bcrypt is nearly all
// of generate's cost, and the hashes do not depend on each other. Each
// result lands at its user's index, so the output does not depend on the
// order the hashes finish in.
func (g *gen) hashAll(in Input) ([]string, []error) {
	n := len(g.s.Spec.Auth.Users)
	hashes, errs := make([]string, n), make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				hashes[i], errs[i] = g.hashFor(in, i)
			}
		}()
	}
	wg.Wait()
	return hashes, errs
}

// hashFor returns the hash of user i: a placeholder in a dry run, the ready
// hash if one was given, else the deterministic bcrypt of the password.
func (g *gen) hashFor(in Input, i int) (string, error) {
	u := g.s.Spec.Auth.Users[i]
	if in.DryRun {
		return fmt.Sprintf("DRY-RUN-PLACEHOLDER(password from env %s, not read)", u.Password.FromEnv), nil
	}
	c, ok := in.Credentials[u.Name]
	switch {
	case !ok:
		return "", fmt.Errorf("no credential was resolved")
	case c.Hash.Len() > 0:
		return string(c.Hash.Bytes()), nil
	}
	return htpasswd.Hash(c.Password.Bytes(), g.s.Spec.Auth.BcryptCost, htpasswd.Context{
		Host: g.s.Spec.Host, Namespace: g.ns, Secret: g.n.basicAuth, User: u.Name,
	})
}

func (g *gen) middleware() Object {
	m := g.meta(g.n.basicAuth, g.ns, "loki", componentGateway, waveMiddleware)
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	return &crd.Middleware{
		TypeMeta:   typeMeta(crd.TraefikAPIVersion, "Middleware"),
		ObjectMeta: m,
		Spec: crd.MiddlewareSpec{BasicAuth: &crd.BasicAuth{
			Secret:       g.n.basicAuth,
			Realm:        g.s.Spec.Auth.Realm,
			RemoveHeader: true,
		}},
	}
}

func (g *gen) ingress() Object {
	t := g.s.Spec.TLS
	m := g.meta(g.n.ingress, g.ns, "loki", componentGateway, waveIngress)
	// HTTPS only: basic-auth credentials must never cross plain HTTP.
	m.Annotations["traefik.ingress.kubernetes.io/router.entrypoints"] = "websecure"
	m.Annotations["traefik.ingress.kubernetes.io/router.tls"] = "true"
	m.Annotations["traefik.ingress.kubernetes.io/router.middlewares"] = fmt.Sprintf("%s-%s@kubernetescrd", g.ns, g.n.basicAuth)
	if t.Mode == v1alpha1.TLSModeAnnotation {
		m.Annotations["cert-manager.io/cluster-issuer"] = t.ClusterIssuer
	}
	class := "traefik"
	return &networkingv1.Ingress{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: m,
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{g.s.Spec.Host}, SecretName: t.SecretName}},
			Rules: []networkingv1.IngressRule{{
				Host: g.s.Spec.Host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: g.ingressPaths(),
				}},
			}},
		},
	}
}

// ingressPaths sends everything to the single binary; in simple-scalable
// mode Traefik is the gateway: pushes (Loki's and OTLP's) go to the write
// target, everything else (queries, tail, rules) to the read target.
func (g *gen) ingressPaths() []networkingv1.HTTPIngressPath {
	prefix := networkingv1.PathTypePrefix
	path := func(p, service string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{
			Path:     p,
			PathType: &prefix,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: service,
				Port: networkingv1.ServiceBackendPort{Name: lokiHTTPPortName},
			}},
		}
	}
	if !g.scalable() {
		return []networkingv1.HTTPIngressPath{path("/", g.n.loki)}
	}
	write, read := g.n.loki+"-write", g.n.loki+"-read"
	return []networkingv1.HTTPIngressPath{
		path("/loki/api/v1/push", write),
		path("/otlp", write),
		path("/", read),
	}
}

func (g *gen) certificate() Object {
	t := g.s.Spec.TLS
	m := g.meta(g.n.certificate, g.ns, "loki", componentGateway, waveCertificate)
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	return &crd.Certificate{
		TypeMeta:   typeMeta(crd.CertManagerAPIVersion, "Certificate"),
		ObjectMeta: m,
		Spec: crd.CertificateSpec{
			SecretName: t.SecretName,
			DNSNames:   []string{g.s.Spec.Host},
			IssuerRef:  crd.IssuerRef{Name: t.ClusterIssuer, Kind: "ClusterIssuer", Group: "cert-manager.io"},
		},
	}
}

func (g *gen) clusterIssuer() Object {
	t := g.s.Spec.TLS
	m := g.meta(t.ClusterIssuer, "", "loki", componentGateway, waveMiddleware)
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	return &crd.ClusterIssuer{
		TypeMeta:   typeMeta(crd.CertManagerAPIVersion, "ClusterIssuer"),
		ObjectMeta: m,
		Spec: crd.IssuerSpec{ACME: crd.ACMEIssuer{
			Server:              t.ACME.Server,
			Email:               t.ACME.Email,
			PrivateKeySecretRef: crd.SecretKeyRef{Name: t.ClusterIssuer + "-account-key"},
			Solvers: []crd.ACMEChallenge{{HTTP01: &crd.HTTP01{
				Ingress: crd.HTTP01Ingress{IngressClassName: "traefik"},
			}}},
		}},
	}
}
