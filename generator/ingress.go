package generator

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
)

// buildIngress returns Traefik's Ingress: HTTPS only, behind the basic-auth
// Middleware, with the certificate the TLS mode provides.
func buildIngress(p *plan) []Object {
	if p.tenancy != nil {
		return nil // the tenants' IngressRoute (tenancy.go) takes its place
	}
	m := p.meta(p.n.ingress, p.ns, "loki", componentGateway, waveIngress)
	// HTTPS only: basic-auth credentials must never cross plain HTTP.
	m.Annotations["traefik.ingress.kubernetes.io/router.entrypoints"] = "websecure"
	m.Annotations["traefik.ingress.kubernetes.io/router.tls"] = "true"
	m.Annotations["traefik.ingress.kubernetes.io/router.middlewares"] = fmt.Sprintf("%s-%s@kubernetescrd", p.ns, p.n.basicAuth)
	p.tls.annotateIngress(p, m.Annotations)
	class := "traefik"
	return []Object{&networkingv1.Ingress{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: m,
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{p.spec.Host}, SecretName: p.spec.TLS.SecretName}},
			Rules: []networkingv1.IngressRule{{
				Host: p.spec.Host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: p.ingressPaths(),
				}},
			}},
		},
	}}
}

// ingressPaths sends everything to the single binary; in simple-scalable
// mode Traefik is the gateway: pushes (Loki's and OTLP's) go to the write
// target, everything else (queries, tail, rules) to the read target.
func (p *plan) ingressPaths() []networkingv1.HTTPIngressPath {
	prefix := networkingv1.PathTypePrefix
	path := func(path, service string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{
			Path:     path,
			PathType: &prefix,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: service,
				Port: networkingv1.ServiceBackendPort{Name: lokiHTTPPortName},
			}},
		}
	}
	if !p.scalable {
		return []networkingv1.HTTPIngressPath{path("/", p.n.loki)}
	}
	return []networkingv1.HTTPIngressPath{
		path("/loki/api/v1/push", p.writeService),
		path("/otlp", p.writeService),
		path("/", p.readService),
	}
}
