package generator

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/generator/crd"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// stack loads a loki.yaml spec body (indented by two spaces) on top of a
// minimal valid file.
func stack(t testing.TB, extra string) Input {
	t.Helper()
	in := "apiVersion: lokicmp.thedevops.dev/v1alpha1\nkind: LokiStack\nspec:\n  host: loki.example.org\n" +
		"  auth: {bcryptCost: 4, users: [{name: admin, password: {fromEnv: PW}}]}\n" + extra
	doc, err := config.Load([]byte(in), config.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return Input{Stack: doc.Stack, Credentials: map[string]Credential{"admin": {Password: secret.New([]byte("pw"))}}}
}

func generate(t testing.TB, in Input) []Object {
	t.Helper()
	objs, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// find returns the objects of one kind.
func find[T Object](objs []Object) []T {
	var out []T
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func kinds(objs []Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName())
	}
	return out
}

func TestDefaultObjectsAndOrder(t *testing.T) {
	got := kinds(generate(t, stack(t, "")))
	want := []string{
		"Namespace/loki", "Namespace/loki-collector",
		"Secret/loki-basic-auth",
		"Middleware/loki-basic-auth",
		"NetworkPolicy/loki",
		"ServiceAccount/loki", "ServiceAccount/loki-alloy",
		"ConfigMap/loki-config", "ConfigMap/loki-alloy", "ConfigMap/loki-loki-grafana-datasource",
		"ClusterRole/loki-loki-alloy", "ClusterRoleBinding/loki-loki-alloy",
		"Service/loki", "Service/loki-headless",
		"DaemonSet/loki-alloy", "StatefulSet/loki",
		"ServiceMonitor/loki",
		"Ingress/loki",
		"Certificate/loki-tls",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

func TestEverythingOff(t *testing.T) {
	got := kinds(generate(t, stack(t, "  tls: {mode: annotation}\n  collector: {enabled: false}\n"+
		"  monitoring: {serviceMonitor: {enabled: false}, grafanaDatasource: {enabled: false}}\n  networkPolicy: {enabled: false}\n")))
	want := []string{
		"Namespace/loki", "Secret/loki-basic-auth", "Middleware/loki-basic-auth",
		"ServiceAccount/loki", "ConfigMap/loki-config", "Service/loki", "Service/loki-headless",
		"StatefulSet/loki", "Ingress/loki",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

// TestTLSExactlyOneWay: a Certificate and the cluster-issuer annotation
// fight over the same Secret, so exactly one is emitted.
func TestTLSExactlyOneWay(t *testing.T) {
	for _, mode := range []string{"certificate", "annotation"} {
		objs := generate(t, stack(t, "  tls: {mode: "+mode+", clusterIssuer: le}\n"))
		certs := find[*crd.Certificate](objs)
		ing := find[*networkingv1.Ingress](objs)[0]
		annotation, annotated := ing.Annotations["cert-manager.io/cluster-issuer"]
		switch mode {
		case "certificate":
			if len(certs) != 1 || annotated {
				t.Errorf("certificate mode: %d Certificates, annotation %v", len(certs), annotated)
			}
			c := certs[0]
			if c.Spec.SecretName != ing.Spec.TLS[0].SecretName || c.Spec.IssuerRef.Name != "le" || c.Spec.DNSNames[0] != "loki.example.org" {
				t.Errorf("certificate does not match the Ingress: %+v", c.Spec)
			}
		case "annotation":
			if len(certs) != 0 || annotation != "le" {
				t.Errorf("annotation mode: %d Certificates, annotation %q", len(certs), annotation)
			}
		}
	}
}

func TestClusterIssuerOnlyWithACME(t *testing.T) {
	if n := len(find[*crd.ClusterIssuer](generate(t, stack(t, "")))); n != 0 {
		t.Errorf("%d ClusterIssuers without acme", n)
	}
	objs := generate(t, stack(t, "  tls: {clusterIssuer: le, acme: {email: ops@example.org}}\n"))
	ci := find[*crd.ClusterIssuer](objs)
	if len(ci) != 1 {
		t.Fatalf("%d ClusterIssuers", len(ci))
	}
	a := ci[0].Spec.ACME
	if ci[0].Name != "le" || ci[0].Namespace != "" || a.Email != "ops@example.org" ||
		a.Server != "https://acme-v02.api.letsencrypt.org/directory" || a.Solvers[0].HTTP01.Ingress.IngressClassName != "traefik" {
		t.Errorf("ClusterIssuer: %+v", ci[0])
	}
}

func TestIngressUsesMiddlewareOverHTTPSOnly(t *testing.T) {
	objs := generate(t, stack(t, "metadata: {name: logs, namespace: obs}\n"))
	ing := find[*networkingv1.Ingress](objs)[0]
	want := map[string]string{
		"traefik.ingress.kubernetes.io/router.middlewares": "obs-logs-basic-auth@kubernetescrd",
		"traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
		"traefik.ingress.kubernetes.io/router.tls":         "true",
	}
	for k, v := range want {
		if ing.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, ing.Annotations[k], v)
		}
	}
	mw := find[*crd.Middleware](objs)[0]
	if mw.Name != "logs-basic-auth" || mw.Spec.BasicAuth.Secret != "logs-basic-auth" || !mw.Spec.BasicAuth.RemoveHeader {
		t.Errorf("middleware: %+v", mw)
	}
	if *ing.Spec.IngressClassName != "traefik" || ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != "logs" {
		t.Errorf("ingress spec: %+v", ing.Spec)
	}
}

// TestSelectorsIgnoreCommonLabels: selectors and claim templates are
// immutable, so commonLabels must reach pods but never them.
func TestSelectorsIgnoreCommonLabels(t *testing.T) {
	plain := generate(t, stack(t, ""))
	labelled := generate(t, stack(t, "  commonLabels: {team: platform}\n"))
	for i, o := range labelled {
		if o.GetLabels()["team"] != "platform" {
			t.Errorf("%s lacks the common label", o.GetName())
		}
		switch w := o.(type) {
		case *appsv1.StatefulSet:
			p := plain[i].(*appsv1.StatefulSet)
			if diff := cmp.Diff(p.Spec.Selector, w.Spec.Selector); diff != "" {
				t.Errorf("StatefulSet selector changed: %s", diff)
			}
			if diff := cmp.Diff(p.Spec.VolumeClaimTemplates, w.Spec.VolumeClaimTemplates); diff != "" {
				t.Errorf("volumeClaimTemplates changed: %s", diff)
			}
			if w.Spec.Template.Labels["team"] != "platform" {
				t.Errorf("pod template lacks the common label")
			}
		case *appsv1.DaemonSet:
			if diff := cmp.Diff(plain[i].(*appsv1.DaemonSet).Spec.Selector, w.Spec.Selector); diff != "" {
				t.Errorf("DaemonSet selector changed: %s", diff)
			}
		case *corev1.Service:
			if diff := cmp.Diff(plain[i].(*corev1.Service).Spec.Selector, w.Spec.Selector); diff != "" {
				t.Errorf("Service selector changed: %s", diff)
			}
		}
	}
}

func TestConfigChecksumFollowsConfig(t *testing.T) {
	sum := func(extra string) string {
		return find[*appsv1.StatefulSet](generate(t, stack(t, extra)))[0].Spec.Template.Annotations["checksum/config"]
	}
	a, b := sum(""), sum("  loki: {retention: 30d}\n")
	if a == "" || a == b {
		t.Errorf("checksum %q vs %q: want a change with the config", a, b)
	}
	if a != sum("  commonLabels: {x: y}\n") {
		t.Errorf("checksum changed without a config change")
	}
}

func TestRetentionOffDisablesCompactorRetention(t *testing.T) {
	cm := find[*corev1.ConfigMap](generate(t, stack(t, "  loki: {retention: 0s}\n")))[0]
	cfg := cm.Data["config.yaml"]
	if !strings.Contains(cfg, "retention_enabled: false") || strings.Contains(cfg, "delete_request_store") {
		t.Errorf("retention 0s config:\n%s", cfg)
	}
	cm = find[*corev1.ConfigMap](generate(t, stack(t, "")))[0]
	cfg = cm.Data["config.yaml"]
	// Loki refuses retention without a delete-request store.
	if !strings.Contains(cfg, "retention_enabled: true") || !strings.Contains(cfg, "delete_request_store: filesystem") ||
		!strings.Contains(cfg, "retention_period: 744h") {
		t.Errorf("default config:\n%s", cfg)
	}
}

// TestPodSecurityScopesTheCollector: Promtail's hostPath exception lives in
// its own namespace; the stack's namespace is restricted.
func TestPodSecurityScopesTheCollector(t *testing.T) {
	levels := func(extra string) map[string]string {
		out := map[string]string{}
		for _, ns := range find[*corev1.Namespace](generate(t, stack(t, extra))) {
			out[ns.Name] = ns.Labels["pod-security.kubernetes.io/enforce"]
			if ns.Labels["pod-security.kubernetes.io/warn"] != out[ns.Name] || ns.Labels["pod-security.kubernetes.io/audit"] != out[ns.Name] {
				t.Errorf("namespace %s: enforce, warn and audit differ", ns.Name)
			}
		}
		return out
	}
	for _, tc := range []struct {
		extra string
		want  map[string]string
	}{
		{"", map[string]string{"loki": "restricted", "loki-collector": "restricted"}},
		{"  collector: {type: promtail}\n", map[string]string{"loki": "restricted", "loki-collector": "privileged"}},
		{"  collector: {type: promtail, namespace: logging}\n", map[string]string{"loki": "restricted", "logging": "privileged"}},
		{"  collector: {enabled: false}\n", map[string]string{"loki": "restricted"}},
		{"  collector: {type: promtail, namespace: loki}\n", map[string]string{"loki": "privileged"}},
		{"  collector: {namespace: loki}\n", map[string]string{"loki": "restricted"}},
	} {
		if diff := cmp.Diff(tc.want, levels(tc.extra)); diff != "" {
			t.Errorf("%q: levels (-want +got):\n%s", tc.extra, diff)
		}
	}
	objs := generate(t, stack(t, "  collector: {type: promtail}\n"))
	if ds := find[*appsv1.DaemonSet](objs)[0]; ds.Namespace != "loki-collector" {
		t.Errorf("Promtail in %q", ds.Namespace)
	}
	if crb := find[*rbacv1.ClusterRoleBinding](objs)[0]; crb.Subjects[0].Namespace != "loki-collector" {
		t.Errorf("ClusterRoleBinding subject in %q", crb.Subjects[0].Namespace)
	}
}

// TestNetworkPolicy: only Traefik, the collector, Grafana and Prometheus
// reach Loki's HTTP port.
func TestNetworkPolicy(t *testing.T) {
	np := find[*networkingv1.NetworkPolicy](generate(t, stack(t, "  networkPolicy: {traefikNamespace: traefik, prometheusNamespace: prom}\n")))
	if len(np) != 1 {
		t.Fatalf("%d NetworkPolicies", len(np))
	}
	var from []string
	for _, p := range np[0].Spec.Ingress[0].From {
		from = append(from, p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
	}
	if diff := cmp.Diff([]string{"loki-collector", "monitoring", "prom", "traefik"}, from); diff != "" {
		t.Errorf("allowed namespaces (-want +got):\n%s", diff)
	}
	if p := np[0].Spec.Ingress[0].Ports; len(p) != 1 || p[0].Port.String() != "http-metrics" {
		t.Errorf("ports: %+v", p)
	}
	sts := find[*appsv1.StatefulSet](generate(t, stack(t, "")))[0]
	if diff := cmp.Diff(sts.Spec.Selector.MatchLabels, np[0].Spec.PodSelector.MatchLabels); diff != "" {
		t.Errorf("the policy does not select Loki's pods: %s", diff)
	}
	if n := len(find[*networkingv1.NetworkPolicy](generate(t, stack(t, "  networkPolicy: {enabled: false}\n")))); n != 0 {
		t.Errorf("%d NetworkPolicies when disabled", n)
	}
}

func TestSyncWaves(t *testing.T) {
	objs := generate(t, stack(t, "  tls: {acme: {email: a@example.org}}\n"))
	want := map[string]string{
		"Namespace": "-3", "Secret": "-2", "Middleware": "-1", "ClusterIssuer": "-1",
		"StatefulSet": "0", "Service": "0", "Ingress": "1", "Certificate": "2",
	}
	for _, o := range objs {
		k := o.GetObjectKind().GroupVersionKind().Kind
		if w, ok := want[k]; ok && o.GetAnnotations()[annotationSyncWave] != w {
			t.Errorf("%s %s: wave %q, want %q", k, o.GetName(), o.GetAnnotations()[annotationSyncWave], w)
		}
	}
}

// TestObjectsStayInTheNamespace: only documented exceptions leave it.
func TestObjectsStayInTheNamespace(t *testing.T) {
	for _, o := range generate(t, stack(t, "  tls: {acme: {email: a@example.org}}\nmetadata: {namespace: obs}\n")) {
		kind := o.GetObjectKind().GroupVersionKind().Kind
		switch {
		case kind == "Namespace" || kind == "ClusterRole" || kind == "ClusterRoleBinding" || kind == "ClusterIssuer":
			if o.GetNamespace() != "" {
				t.Errorf("cluster-scoped %s has namespace %q", kind, o.GetNamespace())
			}
		case kind == "ConfigMap" && o.GetLabels()["grafana_datasource"] == "1":
			if o.GetNamespace() != "monitoring" {
				t.Errorf("datasource in %q", o.GetNamespace())
			}
		case o.GetLabels()["app.kubernetes.io/component"] == "collector":
			if o.GetNamespace() != "obs-collector" {
				t.Errorf("collector %s %s in namespace %q", kind, o.GetName(), o.GetNamespace())
			}
		case o.GetNamespace() != "obs":
			t.Errorf("%s %s in namespace %q", kind, o.GetName(), o.GetNamespace())
		}
	}
}

func TestDryRunNeedsNoCredentials(t *testing.T) {
	in := stack(t, "")
	in.Credentials, in.DryRun = nil, true
	s := find[*corev1.Secret](generate(t, in))[0]
	if got := string(s.Data["users"]); got != "admin:DRY-RUN-PLACEHOLDER(password from env PW, not read)\n" {
		t.Errorf("users = %q", got)
	}
	if s.Annotations[DryRunAnnotation] == "" {
		t.Errorf("dry-run Secret is not marked")
	}
}

// TestDryRunPlaceholderNamesTheSource: each placeholder says where the
// value would come from, Vault and ready hashes included.
func TestDryRunPlaceholderNamesTheSource(t *testing.T) {
	in := stack(t, "")
	in.Stack.Spec.Auth.Users = []v1alpha1.User{
		{Name: "admin", Password: v1alpha1.SecretRef{FromVault: &v1alpha1.VaultRef{Path: "secret/loki/basic-auth", Key: "admin"}}},
		{Name: "grafana", Htpasswd: v1alpha1.SecretRef{FromEnv: "GRAFANA_HASH"}},
	}
	in.Credentials, in.DryRun = nil, true
	s := find[*corev1.Secret](generate(t, in))[0]
	want := "admin:DRY-RUN-PLACEHOLDER(password from Vault secret/loki/basic-auth key admin, not read)\n" +
		"grafana:DRY-RUN-PLACEHOLDER(hash from env GRAFANA_HASH, not read)\n"
	if got := string(s.Data["users"]); got != want {
		t.Errorf("users = %q, want %q", got, want)
	}
}

// TestNamespaceOwnership: the stack's Namespace (it holds the volume) is
// protected from Argo CD's prune and deletion; the collector's is not, so
// that switching the collector off prunes it like the rest of the
// collector; with createNamespace false none is rendered.
func TestNamespaceOwnership(t *testing.T) {
	in := stack(t, "")
	nss := find[*corev1.Namespace](generate(t, in))
	if len(nss) != 2 {
		t.Fatalf("%d Namespaces, want the stack's and the collector's", len(nss))
	}
	want := map[string]string{in.Stack.Metadata.Namespace: "Prune=false,Delete=false"}
	for _, ns := range nss {
		if got := ns.Annotations["argocd.argoproj.io/sync-options"]; got != want[ns.Name] {
			t.Errorf("Namespace %s: sync-options %q, want %q", ns.Name, got, want[ns.Name])
		}
	}
	in.Stack.Spec.CreateNamespace = false
	if nss := find[*corev1.Namespace](generate(t, in)); len(nss) != 0 {
		t.Errorf("createNamespace false: %d Namespaces rendered", len(nss))
	}
}

func TestMissingOrBadCredential(t *testing.T) {
	in := stack(t, "")
	in.Credentials = nil
	if _, err := Generate(in); err == nil || !strings.Contains(err.Error(), `spec.auth.users[0] (user "admin"): no credential was resolved`) {
		t.Errorf("error = %v", err)
	}
	in.Credentials = map[string]Credential{"admin": {Password: secret.New([]byte(strings.Repeat("p", 73)))}}
	if _, err := Generate(in); err == nil || strings.Contains(err.Error(), "ppp") {
		t.Errorf("error = %v", err)
	}
}

func TestReadyHashIsUsedAsIs(t *testing.T) {
	in := stack(t, "")
	in.Credentials = map[string]Credential{"admin": {Hash: secret.New([]byte("$2y$05$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01"))}}
	s := find[*corev1.Secret](generate(t, in))[0]
	if got := string(s.Data["users"]); got != "admin:$2y$05$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01\n" {
		t.Errorf("users = %q", got)
	}
}

// The pepper reaches the hash (its salt changes) and nothing else.
func TestHashPepperChangesOnlyTheHash(t *testing.T) {
	plain := stack(t, "")
	peppered := stack(t, "")
	peppered.HashPepper = secret.New([]byte("PLANTED-pepper-of-the-install"))
	a, err := Encode(generate(t, plain), FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(generate(t, peppered), FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	ha := string(find[*corev1.Secret](generate(t, plain))[0].Data["users"])
	hb := string(find[*corev1.Secret](generate(t, peppered))[0].Data["users"])
	if ha == hb || ha[:len("admin:$2y$04$")] != hb[:len("admin:$2y$04$")] {
		t.Errorf("lines %q and %q: want the same prefix and different salts", ha, hb)
	}
	if bytes.Contains(b, []byte("PLANTED")) {
		t.Errorf("the pepper is in the output")
	}
	if la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n")); len(la) != len(lb) {
		t.Errorf("%d lines vs %d", len(la), len(lb))
	} else {
		diff := 0
		for i := range la {
			if !bytes.Equal(la[i], lb[i]) {
				diff++
			}
		}
		if diff != 1 {
			t.Errorf("%d lines differ, want only the users line", diff)
		}
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	in := stack(t, "  commonLabels: {a: b, c: d, e: f}\n  commonAnnotations: {x: y, z: w}\n")
	first, err := Encode(generate(t, in), FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		again, _ := Encode(generate(t, in), FormatYAML)
		if !bytes.Equal(first, again) {
			t.Fatal("two runs gave different bytes")
		}
	}
	if bytes.Contains(first, []byte("status:")) || bytes.Contains(first, []byte("creationTimestamp")) {
		t.Errorf("output has status or creationTimestamp")
	}
}

// TestLongApplicationName: Argo CD's Application names may be longer than
// a label value may be; the part-of label is shortened, stably and uniquely.
func TestLongApplicationName(t *testing.T) {
	for _, name := range []string{strings.Repeat("a", 64), strings.Repeat("a", 51) + "-.-" + strings.Repeat("b", 100), strings.Repeat("c", 253), "team-ns/logging", "ünïcode", "-x-"} {
		in := stack(t, "")
		in.PartOf = name
		v := generate(t, in)[0].GetLabels()["app.kubernetes.io/part-of"]
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 || len(v) > 63 {
			t.Errorf("part-of %q for a %d-character name: %v", v, len(name), msgs)
		}
		again := generate(t, in)[0].GetLabels()["app.kubernetes.io/part-of"]
		if again != v {
			t.Errorf("not stable: %q vs %q", v, again)
		}
	}
	a, b := stack(t, ""), stack(t, "")
	a.PartOf, b.PartOf = strings.Repeat("x", 70)+"1", strings.Repeat("x", 70)+"2"
	if generate(t, a)[0].GetLabels()["app.kubernetes.io/part-of"] == generate(t, b)[0].GetLabels()["app.kubernetes.io/part-of"] {
		t.Errorf("two long names that differ at the end got one label")
	}
	in := stack(t, "")
	in.PartOf = "logging"
	if v := generate(t, in)[0].GetLabels()["app.kubernetes.io/part-of"]; v != "logging" {
		t.Errorf("short name changed: %q", v)
	}
}
