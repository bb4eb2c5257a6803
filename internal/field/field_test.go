package field

import "testing"

func TestPathString(t *testing.T) {
	spec := NewPath("spec")
	for _, c := range []struct {
		p    Path
		want string
	}{
		{Path{}, ""},
		{spec.Child("host"), "spec.host"},
		{spec.Child("auth").Child("users").Index(2).Child("password"), "spec.auth.users[2].password"},
		{spec.Child("commonLabels").Key("app.kubernetes.io/name"), "spec.commonLabels[app.kubernetes.io/name]"},
		{NewPath("spec", "storage", "size").Parent(), "spec.storage"},
		{Path{}.Parent(), ""},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
	a := spec.Child("a")
	b, c := a.Child("b"), a.Child("c")
	if b.String() != "spec.a.b" || c.String() != "spec.a.c" {
		t.Errorf("paths share storage: %s %s", b, c)
	}
	if names, ok := NewPath("spec", "loki", "image").Names(); !ok || len(names) != 3 || names[2] != "image" {
		t.Errorf("Names = %v, %v", names, ok)
	}
	if _, ok := spec.Child("users").Index(0).Names(); ok {
		t.Error("Names accepted an index")
	}
}
