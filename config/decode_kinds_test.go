package config

import (
	"reflect"
	"testing"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// TestDecoderHandlesEveryFieldKind walks every field type of the API: a
// kind the decoder does not handle (a float, a uint, a map keyed by
// integers) fails here, not in front of a user.
func TestDecoderHandlesEveryFieldKind(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		if !decodedKinds[typ.Kind()] {
			t.Errorf("%s: the decoder cannot read a %s (kind %s); add it to decode and decodedKinds", path, typ, typ.Kind())
			return
		}
		if seen[typ] {
			return
		}
		seen[typ] = true
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				if !f.IsExported() {
					continue
				}
				walk(f.Type, path+"."+f.Tag.Get("json"))
			}
		case reflect.Map:
			if typ.Key().Kind() != reflect.String {
				t.Errorf("%s: map keys must be strings, not %s", path, typ.Key())
			}
			walk(typ.Elem(), path+"[key]")
		case reflect.Slice:
			walk(typ.Elem(), path+"[]")
		case reflect.Pointer:
			walk(typ.Elem(), path)
		}
	}
	walk(reflect.TypeFor[v1alpha1.LokiStack](), "")
	if len(seen) < 10 {
		t.Fatalf("walked only %d types", len(seen))
	}
	// The walk can fail: a float field is refused.
	if decodedKinds[reflect.TypeFor[struct{ F float64 }]().Field(0).Type.Kind()] {
		t.Error("decodedKinds accepts float64, which decode does not handle")
	}
}
