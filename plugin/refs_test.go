package plugin

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
	"github.com/thedevops/loki-cmp/config"
)

// TestEveryCredentialFieldIsNamed: every SecretRef field of the API is a
// user's (password, htpasswd) or carries the credential tag that names it
// in messages; refs finds them by type, so nothing else lists them.
func TestEveryCredentialFieldIsNamed(t *testing.T) {
	found := 0
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Type != secretRefType {
				walk(f.Type)
				continue
			}
			found++
			if typ != userType && f.Tag.Get("credential") == "" {
				t.Errorf("%s.%s is a SecretRef without a credential tag naming it", typ.Name(), f.Name)
			}
		}
	}
	walk(reflect.TypeFor[v1alpha1.LokiStack]())
	if found < 4 {
		t.Errorf("found %d SecretRef fields, want at least 4", found)
	}
}

// TestRefsFindEveryReference: the references of a simple-scalable stack,
// with their paths and labels, in file order.
func TestRefsFindEveryReference(t *testing.T) {
	in := `apiVersion: lokicmp.thedevops.dev/v1alpha1
kind: LokiStack
spec:
  host: loki.example.org
  mode: simple-scalable
  simpleScalable: {confirm: new-install}
  auth:
    users:
    - {name: admin, password: {fromEnv: ADMIN_PW}}
    - {name: hashed, htpasswd: {fromVault: {path: secret/loki, key: h}}}
  objectStorage:
    accessKeyID: {fromEnv: KEY_ID}
    secretAccessKey: {fromEnv: KEY}
`
	doc, err := config.Load([]byte(in), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs(doc, &Resolved{}) {
		got = append(got, r.path.String()+": "+r.label)
	}
	want := []string{
		`spec.auth.users[0].password: password of user "admin"`,
		`spec.auth.users[1].htpasswd: htpasswd hash of user "hashed"`,
		"spec.objectStorage.accessKeyID: S3 access key ID",
		"spec.objectStorage.secretAccessKey: S3 secret access key",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
	doc.Stack.Spec.Auth.Users = doc.Stack.Spec.Auth.Users[:1]
	creds, err := ResolveCredentials(context.Background(), doc, Options{Env: envOf(map[string]string{"ADMIN_PW": "a", "KEY_ID": "id", "KEY": "k"})})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(creds.ObjectStorage["spec.objectStorage.accessKeyID"].Bytes()); got != "id" {
		t.Errorf("access key ID by path: %q", got)
	}
	if got := string(creds.ObjectStorage["spec.objectStorage.secretAccessKey"].Bytes()); got != "k" {
		t.Errorf("secret access key by path: %q", got)
	}
}
