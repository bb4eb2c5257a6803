package validation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/thedevops/loki-cmp/test/internal/apiserver"
	"github.com/thedevops/loki-cmp/test/internal/manifest"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// TestAPIServer starts one real kube-apiserver (starting one costs
// seconds) with the real CRDs of Traefik, cert-manager, prometheus-operator
// and Argo CD, and runs every check that needs it.
func TestAPIServer(t *testing.T) {
	t.Parallel() // beside Loki: the servers are independent
	srv := startAPIServer(t)
	t.Run("examples", func(t *testing.T) { acceptsEveryExample(t, srv) })
	t.Run("defects", func(t *testing.T) { catchesDefects(t, srv) })
	if w := apiserver.Unattributed(); len(w) > 0 {
		t.Errorf("warnings outside any check: %q", w)
	}
}

// acceptsEveryExample submits the whole output of every example:
// Namespaces are applied for real, everything else with server-side
// dry-run (create and server-side apply) under strict field validation.
// Any rejection, unknown field or warning — Pod Security included — fails
// the example. The examples run one after the other because several share
// a namespace whose Pod Security labels differ between them.
func acceptsEveryExample(t *testing.T, srv *apiserver.Server) {
	for _, ex := range render.Examples(t) {
		t.Run(ex.Name, func(t *testing.T) { checkAgainstAPIServer(t, srv, ex) })
	}
}

// catchesDefects proves the check above can fail: the same harness, given
// objects with a known defect planted in a copy of real output, reports it.
func catchesDefects(t *testing.T, srv *apiserver.Server) {
	objs := render.Objects(t, exampleFile(t, "features-off")) // Pod Security "restricted"
	applyNamespaces(t, srv, objs)

	t.Run("unknown field in a custom resource", func(t *testing.T) {
		mw := find(t, objs, "Middleware").DeepCopy()
		if err := unstructured.SetNestedField(mw.Object, "x", "spec", "basicAuth", "secretName"); err != nil {
			t.Fatal(err)
		}
		err, _ := submit(srv, mw)
		if err == nil || !strings.Contains(err.Error(), "secretName") {
			t.Errorf("Middleware with spec.basicAuth.secretName: error %v, want an unknown-field rejection", err)
		}
	})
	t.Run("unknown field in a core object", func(t *testing.T) {
		svc := find(t, objs, "Service").DeepCopy()
		if err := unstructured.SetNestedField(svc.Object, "None", "spec", "clusterIp"); err != nil {
			t.Fatal(err)
		}
		err, _ := submit(srv, svc)
		if err == nil || !strings.Contains(err.Error(), "clusterIp") {
			t.Errorf("Service with spec.clusterIp: error %v, want an unknown-field rejection", err)
		}
	})
	t.Run("value outside a CRD enum", func(t *testing.T) {
		cert := find(t, objs, "Certificate").DeepCopy()
		if err := unstructured.SetNestedField(cert.Object, "DSA", "spec", "privateKey", "algorithm"); err != nil {
			t.Fatal(err)
		}
		err, _ := submit(srv, cert)
		if err == nil || !strings.Contains(err.Error(), "algorithm") {
			t.Errorf("Certificate with spec.privateKey.algorithm DSA: error %v, want a rejection", err)
		}
	})
	// The operators' CRDs are loaded and strict: a field of an older API
	// version, or a value outside an enum, is refused.
	for _, c := range []struct {
		example, kind string
		value         any
		path          []string
	}{
		{"s3-external-secret", "ExternalSecret", "Keep", []string{"spec", "target", "deletionPolicy"}},
		{"s3-external-secret", "ExternalSecret", "x", []string{"spec", "data", "0", "remoteRef", "metadataPolicy"}},
		{"s3-vault-secrets-operator", "VaultStaticSecret", "kv-v3", []string{"spec", "type"}},
	} {
		t.Run(c.kind+" "+strings.Join(c.path, "."), func(t *testing.T) {
			objs := render.Objects(t, exampleFile(t, c.example))
			applyNamespaces(t, srv, objs)
			o := find(t, objs, c.kind).DeepCopy()
			if err := setPath(o.Object, c.value, c.path); err != nil {
				t.Fatal(err)
			}
			err, _ := submit(srv, o)
			if err == nil || !strings.Contains(err.Error(), c.path[len(c.path)-1]) {
				t.Errorf("%s with %s %v: error %v, want a rejection", c.kind, strings.Join(c.path, "."), c.value, err)
			}
		})
	}
	t.Run("Pod Security violation", func(t *testing.T) {
		sts := find(t, objs, "StatefulSet").DeepCopy()
		vols, _, _ := unstructured.NestedSlice(sts.Object, "spec", "template", "spec", "volumes")
		vols = append(vols, map[string]any{"name": "host", "hostPath": map[string]any{"path": "/var/log"}})
		if err := unstructured.SetNestedSlice(sts.Object, vols, "spec", "template", "spec", "volumes"); err != nil {
			t.Fatal(err)
		}
		err, warnings := submit(srv, sts)
		if err != nil {
			t.Fatalf("unexpected rejection: %v", err)
		}
		if !strings.Contains(strings.Join(warnings, "\n"), "restricted") {
			t.Errorf("StatefulSet with a hostPath volume in a restricted namespace: warnings %q, want a Pod Security warning", warnings)
		}
	})
}

func startAPIServer(t *testing.T) *apiserver.Server {
	t.Helper()
	srv := apiserver.Start(t)
	crds := srv.InstallCRDs(t, apiserver.CRDSources)
	t.Logf("%s with %d CRDs: %s", srv, len(crds), strings.Join(crds, ", "))
	return srv
}

func checkAgainstAPIServer(t *testing.T, srv *apiserver.Server, ex render.Example) {
	objs := render.Objects(t, ex.File)
	applyNamespaces(t, srv, objs)
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			continue
		}
		err, warnings := submit(srv, o)
		if err != nil {
			t.Errorf("%s rejected: %v", manifest.ID(o), err)
		}
		for _, w := range warnings {
			t.Errorf("%s: warning: %s", manifest.ID(o), w)
		}
	}
	t.Logf("%d objects submitted", len(objs))
}

// applyNamespaces applies the Namespaces of the output for real (a dry
// run would leave nothing for the objects inside them), checks that their
// Pod Security labels took effect, and creates the namespaces the output
// only refers to (Grafana's), as they exist on a real cluster.
func applyNamespaces(t *testing.T, srv *apiserver.Server, objs []*unstructured.Unstructured) {
	t.Helper()
	emitted := map[string]bool{}
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			continue
		}
		emitted[o.GetName()] = true
		var w apiserver.Warnings
		ctx := apiserver.WithWarnings(context.Background(), &w)
		if err := srv.Apply(ctx, o); err != nil {
			t.Fatalf("%s rejected: %v", manifest.ID(o), err)
		}
		for _, msg := range w.List() {
			t.Errorf("%s: warning: %s", manifest.ID(o), msg)
		}
		checkPodSecurityLabels(t, srv, o, objs)
	}
	var w apiserver.Warnings
	ctx := apiserver.WithWarnings(context.Background(), &w)
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && !emitted[ns] {
			if err := srv.EnsureNamespace(ctx, ns); err != nil {
				t.Fatalf("namespace %s: %v", ns, err)
			}
		}
	}
	if len(w.List()) > 0 {
		t.Fatalf("creating plain namespaces: warnings %q", w.List())
	}
}

// checkPodSecurityLabels makes sure the "zero warnings" result means
// something: the live namespace warns at the level loki-cmp emitted, and
// that level is restricted unless Promtail (hostPath, root) runs there;
// Alloy runs restricted.
func checkPodSecurityLabels(t *testing.T, srv *apiserver.Server, ns *unstructured.Unstructured, objs []*unstructured.Unstructured) {
	t.Helper()
	live, err := srv.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).
		Get(context.Background(), ns.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "restricted"
	for _, o := range objs {
		if o.GetKind() == "DaemonSet" && o.GetNamespace() == ns.GetName() && o.GetLabels()["app.kubernetes.io/name"] == "promtail" {
			want = "privileged"
		}
	}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		key := "pod-security.kubernetes.io/" + mode
		if got := live.GetLabels()[key]; got != want || ns.GetLabels()[key] != want {
			t.Errorf("namespace %s: label %s is %q (emitted %q), want %q", ns.GetName(), key, got, ns.GetLabels()[key], want)
		}
	}
}

// submit dry-runs obj and returns the rejection and the warnings.
func submit(srv *apiserver.Server, obj *unstructured.Unstructured) (error, []string) {
	var w apiserver.Warnings
	err := srv.DryRun(apiserver.WithWarnings(context.Background(), &w), obj)
	return err, w.List()
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	t.Fatalf("no %s in the output", kind)
	return nil
}

// setPath sets a field under maps and list indexes (unstructured's
// helpers stop at lists).
func setPath(obj map[string]any, value any, path []string) error {
	var cur any = obj
	for i, k := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[k] = value
				return nil
			}
			cur = c[k]
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n >= len(c) {
				return fmt.Errorf("%s: no index %s", strings.Join(path[:i], "."), k)
			}
			if last {
				c[n] = value
				return nil
			}
			cur = c[n]
		default:
			return fmt.Errorf("%s: not a map or list", strings.Join(path[:i], "."))
		}
	}
	return nil
}
