package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// plan is the resolved stack: the validated LokiStack and every fact
// derived from it and from the credentials, computed once, in newPlan.
// Builders read it and never write it.
type plan struct {
	spec   v1alpha1.Spec
	name   string // metadata.name
	ns     string // the stack's namespace
	n      names
	partOf string
	dryRun bool

	// scalable: mode simple-scalable (three targets on object storage);
	// otherwise one single binary on a persistent volume.
	scalable bool
	targets  []target
	// store is the object store of mode simple-scalable; nil otherwise.
	store        objectStore
	storeSecrets map[string]secret.Value // its credentials by field path (Input.ObjectStorage)
	storeCreds   storeCredentials        // where the pods' keys come from
	pepper       secret.Value            // Input.HashPepper
	lokiConfig   string                  // the rendered Loki config, shared by its ConfigMap and the checksum
	lokiChecksum string
	writeService string // where the collector pushes
	readService  string // where Grafana queries
	pushURL      string
	queryURL     string
	tls          tlsMode
	collector    *collectorPlan // nil when the collector is off
	userLines    []string       // one htpasswd line per user, in loki.yaml's order
	tenancy      *tenancyPlan   // nil when tenancy is off
}

// collectorPlan is the chosen collector kind and its rendered config.
type collectorPlan struct {
	kind     collectorKind
	ns       string
	config   string
	checksum string
}

// newPlan resolves the input. It fails only on credentials that cannot be
// hashed.
func newPlan(in Input) (*plan, error) {
	s := &in.Stack
	p := &plan{
		spec:     s.Spec,
		name:     s.Metadata.Name,
		ns:       s.Metadata.Namespace,
		n:        namesFor(s),
		partOf:   labelValue(in.PartOf, "loki"),
		dryRun:   in.DryRun,
		scalable: s.Spec.Mode == v1alpha1.ModeSimpleScalable,
	}
	tls, ok := tlsModes[s.Spec.TLS.Mode]
	if !ok {
		return nil, fmt.Errorf("spec.tls.mode: no builder for %q", s.Spec.TLS.Mode)
	}
	p.tls = tls
	p.targets = p.lokiTargets()
	p.writeService, p.readService = p.n.loki, p.n.loki
	if p.scalable {
		p.store = newObjectStore(s.Spec.ObjectStorage)
		p.storeSecrets, p.pepper = in.ObjectStorage, in.HashPepper
		p.storeCreds = newStoreCredentials(p, s.Spec.ObjectStorage, p.store.envNames())
		p.writeService, p.readService = p.n.loki+"-write", p.n.loki+"-read"
	}
	p.pushURL = p.serviceURL(p.writeService) + "/loki/api/v1/push"
	p.queryURL = p.serviceURL(p.readService)
	p.tenancy = newTenancyPlan(p)
	p.lokiConfig = p.lokiConfigYAML()
	p.lokiChecksum = checksum(p.lokiConfig)
	if c := s.Spec.Collector; c.Enabled {
		kind, ok := collectorKinds[c.Type]
		if !ok {
			return nil, fmt.Errorf("spec.collector.type: no builder for %q", c.Type)
		}
		cfg := kind.config(p)
		p.collector = &collectorPlan{kind: kind, ns: c.Namespace, config: cfg, checksum: checksum(cfg)}
	}
	lines, err := p.htpasswdLines(in)
	if err != nil {
		return nil, err
	}
	p.userLines = lines
	return p, nil
}

func (p *plan) serviceURL(service string) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", service, p.ns, lokiHTTPPort)
}

// checksum is the pod annotation that rolls pods when their config changes.
func checksum(cfg string) string {
	sum := sha256.Sum256([]byte(cfg))
	return hex.EncodeToString(sum[:])
}

// labelValue makes v a valid label value: Argo CD allows Application names
// of up to 253 characters (and, for Applications in other namespaces, a
// "namespace/name" form), label values stop at 63 characters of
// [A-Za-z0-9_.-]. Other characters become "-"; a longer name keeps its
// start and gets a hash of the whole, so it stays unique and stable.
func labelValue(v, empty string) string {
	clean := strings.Trim(strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '_' || r == '.' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return r
		}
		return '-'
	}, v), "_.-")
	switch {
	case clean == "":
		return empty
	case len(clean) <= 63 && clean == v:
		return clean
	}
	sum := sha256.Sum256([]byte(v))
	return strings.Trim(clean[:min(len(clean), 52)], "_.-") + "-" + hex.EncodeToString(sum[:])[:10]
}

// names are the object names derived from metadata.name. Changing any of
// them renames a live object: see docs/upgrades.md.
type names struct {
	loki, config, serviceAccount          string
	basicAuth, ingress, certificate, data string
	memberlist, objectStorage, s3Keys     string
	collector, collectorCluster           string
	datasource, runtime                   string
}

func namesFor(s *v1alpha1.LokiStack) names {
	b, ns := s.Metadata.Name, s.Metadata.Namespace
	return names{
		loki:           b,
		config:         b + "-config",
		serviceAccount: b,
		basicAuth:      b + "-basic-auth",
		ingress:        b,
		certificate:    b + "-tls",
		data:           b + "-data",
		memberlist:     b + "-memberlist",
		objectStorage:  b + "-object-storage",
		s3Keys:         b + "-s3-keys",
		collector:      b + "-" + s.Spec.Collector.Type,
		// Cluster-scoped and foreign-namespace objects carry the namespace
		// too, so two stacks never fight over one name.
		collectorCluster: ns + "-" + b + "-" + s.Spec.Collector.Type,
		datasource:       ns + "-" + b + "-grafana-datasource",
		runtime:          b + "-runtime",
	}
}
