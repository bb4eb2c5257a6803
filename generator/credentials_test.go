package generator

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/generator/crd"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// scalable is a simple-scalable stack with the given credentials (flow).
func scalable(t *testing.T, credentials string) Input {
	t.Helper()
	in := stack(t, "  mode: simple-scalable\n  simpleScalable: {confirm: new-install}\n  objectStorage:\n    credentials: "+credentials+"\n")
	in.ObjectStorage = map[string]secret.Value{
		plaintextPath + ".accessKeyID":     secret.New([]byte("AKIA-ID")),
		plaintextPath + ".secretAccessKey": secret.New([]byte("the-secret-key")),
	}
	return in
}

// lokiTemplates are the pod templates of the Loki workloads, by name.
func lokiTemplates(objs []Object) map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for _, s := range find[*appsv1.StatefulSet](objs) {
		out[s.Name] = s.Spec.Template
	}
	for _, d := range find[*appsv1.Deployment](objs) {
		out[d.Name] = d.Spec.Template
	}
	return out
}

// TestCredentialForms: each source renders its object (or none) and the
// pods read the two keys from the Secret it names.
func TestCredentialForms(t *testing.T) {
	for _, tc := range []struct {
		name, creds  string
		kinds        []string // what the source adds to the objects
		secret, keys string   // the Secret the pods read, "id,key"
	}{
		{"existing Secret", "{secret: {name: s3, accessKeyIDKey: id, secretAccessKeyKey: key}}", nil, "s3", "id,key"},
		{"ExternalSecret", `{externalSecret: {storeRef: {name: vault}, key: loki/s3, version: "3"}}`, []string{"ExternalSecret/loki-s3-keys"}, "loki-s3-keys", "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY"},
		{"VaultStaticSecret", "{vaultStaticSecret: {mount: secret, path: loki/s3}}", []string{"VaultStaticSecret/loki-s3-keys"}, "loki-s3-keys", "access-key-id,secret-access-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := generate(t, scalable(t, tc.creds))
			var got []string
			for _, k := range kinds(objs) {
				if strings.Contains(k, "Secret/") && !strings.HasPrefix(k, "Secret/loki-basic-auth") {
					got = append(got, k)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.kinds, " ") {
				t.Errorf("credential objects %v, want %v", got, tc.kinds)
			}
			for name, tmpl := range lokiTemplates(objs) {
				c := tmpl.Spec.Containers[0]
				var keys []string
				for _, e := range c.Env {
					if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != tc.secret {
						t.Fatalf("%s: env %s not from Secret %s", name, e.Name, tc.secret)
					}
					keys = append(keys, e.ValueFrom.SecretKeyRef.Key)
				}
				if strings.Join(keys, ",") != tc.keys || len(c.EnvFrom) != 0 {
					t.Errorf("%s: keys %v envFrom %v, want %s", name, keys, c.EnvFrom, tc.keys)
				}
			}
		})
	}
	es := find[*crd.ExternalSecret](generate(t, scalable(t, `{externalSecret: {storeRef: {name: vault}, key: loki/s3, version: "3"}}`)))[0]
	if d := es.Spec.Data; len(d) != 2 || d[0].RemoteRef != (crd.RemoteRef{Key: "loki/s3", Property: "access-key-id", Version: "3"}) || es.Spec.Target.CreationPolicy != "Owner" {
		t.Errorf("ExternalSecret spec %+v", es.Spec)
	}
	vs := find[*crd.VaultStaticSecret](generate(t, scalable(t, "{vaultStaticSecret: {mount: secret, path: loki/s3}}")))[0]
	want := []crd.RolloutRestartTarget{{Kind: "StatefulSet", Name: "loki-write"}, {Kind: "Deployment", Name: "loki-read"}, {Kind: "StatefulSet", Name: "loki-backend"}}
	if len(vs.Spec.RolloutRestartTargets) != 3 || vs.Spec.RolloutRestartTargets[1] != want[1] || vs.Spec.RolloutRestartTargets[2] != want[2] || vs.Spec.RolloutRestartTargets[0] != want[0] {
		t.Errorf("rollout targets %v, want %v", vs.Spec.RolloutRestartTargets, want)
	}
}

// TestPlaintextOptIn renders the resolved keys into the Secret the pods
// take whole, read from the current field paths.
func TestPlaintextOptIn(t *testing.T) {
	objs := generate(t, scalable(t, "{plaintext: {accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}}"))
	var s *corev1.Secret
	for _, x := range find[*corev1.Secret](objs) {
		if x.Name == "loki-object-storage" {
			s = x
		}
	}
	if s == nil || string(s.Data["AWS_ACCESS_KEY_ID"]) != "AKIA-ID" || string(s.Data["AWS_SECRET_ACCESS_KEY"]) != "the-secret-key" {
		t.Fatalf("plaintext Secret %v", s)
	}
	for name, tmpl := range lokiTemplates(objs) {
		if ef := tmpl.Spec.Containers[0].EnvFrom; len(ef) != 1 || ef[0].SecretRef.Name != "loki-object-storage" {
			t.Errorf("%s: envFrom %v", name, ef)
		}
	}
}

// TestCredentialRevision: the annotation rolls exactly the Loki pods, when
// and only when the source says the keys the pods read changed, and never
// holds a key.
func TestCredentialRevision(t *testing.T) {
	revision := func(in Input) string {
		t.Helper()
		objs := generate(t, in)
		tmpls := lokiTemplates(objs)
		if len(tmpls) != 3 {
			t.Fatalf("Loki workloads %d, want 3", len(tmpls))
		}
		var r string
		for name, tmpl := range tmpls {
			v := tmpl.Annotations[revisionAnnotation]
			if v == "" || (r != "" && v != r) {
				t.Fatalf("%s: %s %q (others %q)", name, revisionAnnotation, v, r)
			}
			r = v
		}
		for _, ds := range find[*appsv1.DaemonSet](objs) {
			if _, ok := ds.Spec.Template.Annotations[revisionAnnotation]; ok {
				t.Errorf("collector %s carries %s", ds.Name, revisionAnnotation)
			}
		}
		return r
	}
	const plain = "{plaintext: {accessKeyID: {fromEnv: K}, secretAccessKey: {fromEnv: S}}}"
	base := map[string]string{
		"secret":    "{secret: {name: s3, rotation: \"1\"}}",
		"eso":       `{externalSecret: {storeRef: {name: vault}, key: loki/s3, version: "3"}}`,
		"vso":       "{vaultStaticSecret: {mount: secret, path: loki/s3}}",
		"plaintext": plain,
	}
	seen := map[string]string{}
	for name, creds := range base {
		r := revision(scalable(t, creds))
		if r != revision(scalable(t, creds)) {
			t.Errorf("%s: revision differs between two runs", name)
		}
		if other, dup := seen[r]; dup {
			t.Errorf("%s and %s have the same revision", name, other)
		}
		seen[r] = name
	}
	for _, tc := range []struct{ name, from, to string }{
		{"rotation label", base["secret"], "{secret: {name: s3, rotation: \"2\"}}"},
		{"Secret name", base["secret"], "{secret: {name: s3b, rotation: \"1\"}}"},
		{"ESO version", base["eso"], strings.Replace(base["eso"], `"3"`, `"4"`, 1)},
		{"VSO path", base["vso"], strings.Replace(base["vso"], "loki/s3", "loki/s3b", 1)},
	} {
		if revision(scalable(t, tc.from)) == revision(scalable(t, tc.to)) {
			t.Errorf("%s changed, the revision did not", tc.name)
		}
	}
	in := scalable(t, plain)
	before := revision(in)
	in.ObjectStorage[plaintextPath+".secretAccessKey"] = secret.New([]byte("the-next-key"))
	rotated := revision(in)
	if rotated == before {
		t.Error("plaintext: a new key did not change the revision")
	}
	in.HashPepper = secret.New([]byte("pepper"))
	if revision(in) == rotated {
		t.Error("plaintext: the revision is not keyed with the pepper")
	}
	for _, r := range seen {
		if strings.Contains(r, "AKIA") || strings.Contains(r, "secret-key") {
			t.Errorf("revision %q holds a key", r)
		}
	}
}
