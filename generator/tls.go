package generator

import (
	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/generator/crd"
)

// The certificate of the public host: every TLS mode's choices live here.

// tlsMode is one way of asking cert-manager for the certificate. Exactly
// one is in effect, so exactly one certificate request is emitted.
type tlsMode struct {
	// annotateIngress adds the mode's annotations to the Ingress.
	annotateIngress func(p *plan, annotations map[string]string)
	// objects are the mode's own objects.
	objects func(p *plan) []Object
}

// tlsModes has an entry for every mode in v1alpha1.TLSModes (a test
// checks).
var tlsModes = map[string]tlsMode{
	// A cert-manager Certificate.
	v1alpha1.TLSModeCertificate: {
		annotateIngress: func(*plan, map[string]string) {},
		objects:         func(p *plan) []Object { return []Object{p.certificate()} },
	},
	// cert-manager's ingress-shim creates the Certificate from the
	// Ingress annotation.
	v1alpha1.TLSModeAnnotation: {
		annotateIngress: func(p *plan, a map[string]string) {
			a["cert-manager.io/cluster-issuer"] = p.spec.TLS.ClusterIssuer
		},
		objects: func(*plan) []Object { return nil },
	},
}

// buildTLS returns the TLS mode's objects and, with acme set, the
// ClusterIssuer (whichever the mode).
func buildTLS(p *plan) []Object {
	objs := p.tls.objects(p)
	if p.spec.TLS.ACME != nil {
		objs = append(objs, p.clusterIssuer())
	}
	return objs
}

func (p *plan) certificate() Object {
	t := p.spec.TLS
	m := p.meta(p.n.certificate, p.ns, "loki", componentGateway, waveCertificate)
	m.Annotations[annotationSyncOptions] = skipDryRunOnMissing
	return &crd.Certificate{
		TypeMeta:   typeMeta(crd.CertManagerAPIVersion, "Certificate"),
		ObjectMeta: m,
		Spec: crd.CertificateSpec{
			SecretName: t.SecretName,
			DNSNames:   []string{p.spec.Host},
			IssuerRef:  crd.IssuerRef{Name: t.ClusterIssuer, Kind: "ClusterIssuer", Group: "cert-manager.io"},
		},
	}
}

func (p *plan) clusterIssuer() Object {
	t := p.spec.TLS
	m := p.meta(t.ClusterIssuer, "", "loki", componentGateway, waveMiddleware)
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
