//lint:file-ignore SA5008 fuzzTricky has deliberately odd json tags: the walker must read them exactly as encoding/json does.

package generator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/config"
	"github.com/thedevops/loki-cmp/generator/crd"
	"github.com/thedevops/loki-cmp/internal/secret"
)

// viaJSON is the reference: encoding/json's Marshal, read back by its own
// Decoder with UseNumber.
func viaJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return x, nil
}

// sameBytes fails unless jsonTree and the reference give the same tree and
// therefore the same output bytes, YAML and JSON, which it also compares.
func sameBytes(t *testing.T, v any) {
	t.Helper()
	want, werr := viaJSON(v)
	got, gerr := jsonTree(v)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%T: encoding/json error %v, jsonTree error %v", v, werr, gerr)
	}
	if werr != nil {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%T: (-encoding/json +jsonTree):\n%s", v, diff)
	}
	wj, _ := json.MarshalIndent(want, "", "  ")
	gj, _ := json.MarshalIndent(got, "", "  ")
	if !bytes.Equal(wj, gj) {
		t.Fatalf("%T: JSON bytes differ", v)
	}
	if wm, ok := want.(map[string]any); ok {
		var wy, gy bytes.Buffer
		writeYAML(&wy, wm)
		writeYAML(&gy, got.(map[string]any))
		if !bytes.Equal(wy.Bytes(), gy.Bytes()) {
			t.Fatalf("%T: YAML bytes differ", v)
		}
	}
}

// Every object of every example, as Encode sees it.
func TestJSONTreeMatchesEncodingJSONOnExamples(t *testing.T) {
	files, err := filepath.Glob("../testdata/examples/*/loki.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := config.Load(data, config.Options{File: f})
		if err != nil {
			t.Fatal(err)
		}
		creds := map[string]Credential{}
		for _, u := range doc.Stack.Spec.Auth.Users {
			creds[u.Name] = Credential{Password: secret.New([]byte("pw"))}
		}
		for _, dry := range []bool{true, false} {
			if !dry {
				doc.Stack.Spec.Auth.BcryptCost = 4
			}
			objs, err := Generate(Input{Stack: doc.Stack, Credentials: creds, DryRun: dry,
				ObjectStorage: map[string]secret.Value{legacyPath + ".accessKeyID": secret.New([]byte("k")), legacyPath + ".secretAccessKey": secret.New([]byte("s")), plaintextPath + ".accessKeyID": secret.New([]byte("k")), plaintextPath + ".secretAccessKey": secret.New([]byte("s"))}})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				sameBytes(t, o)
			}
			for _, format := range []string{FormatYAML, FormatJSON} {
				got, err := Encode(objs, format)
				if err != nil {
					t.Fatal(err)
				}
				if want := referenceEncode(t, objs, format); !bytes.Equal(got, want) {
					t.Errorf("%s, dry run %v: Encode -o %s differs from the json.Marshal path", f, dry, format)
				}
			}
		}
	}
}

// referenceEncode is Encode as it was before jsonTree: json.Marshal, read
// back by encoding/json, status and empty spec dropped, same writers.
func referenceEncode(t *testing.T, objs []Object, format string) []byte {
	t.Helper()
	var maps []any
	var buf bytes.Buffer
	for i, o := range objs {
		x, err := viaJSON(o)
		if err != nil {
			t.Fatal(err)
		}
		m := x.(map[string]any)
		delete(m, "status")
		if spec, ok := m["spec"].(map[string]any); ok {
			if len(spec) == 0 {
				delete(m, "spec")
			}
			if claims, ok := spec["volumeClaimTemplates"].([]any); ok {
				for _, c := range claims {
					delete(c.(map[string]any), "status")
				}
			}
		}
		maps = append(maps, m)
		if i > 0 {
			buf.WriteString("---\n")
		}
		writeYAML(&buf, m)
	}
	if format == FormatYAML {
		return buf.Bytes()
	}
	b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": maps}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// Types that take the paths a Kubernetes object does not: every rule of
// encoding/json that jsonTree follows or hands back to encoding/json.
type (
	fuzzInner struct {
		A string `json:"a,omitempty"`
		B int    `json:",omitempty"`
		C *string
	}
	fuzzCollide struct {
		A string `json:"a"`
		D string
	}
	fuzzCollides struct { // "a" twice at one depth: encoding/json drops both
		fuzzInner
		*fuzzCollide
		E string
	}
	fuzzShadow struct { // "a" at two depths: the shallower wins
		fuzzInner
		A int `json:"a"`
	}
	fuzzQuoted struct {
		N int     `json:"n,string"`
		S string  `json:"s,string,omitempty"`
		F float64 `json:",string"`
	}
	zeroer       struct{ V int }
	ptrZeroer    struct{ V int }
	textish      string
	ptrText      struct{ V string }
	ptrMarshaler struct{ V int }
	failing      struct{ Fail bool }
	unexported   struct{ X string }
	fuzzTricky   struct {
		fuzzInner
		*unexported
		Collides *fuzzCollides              `json:"collides,omitempty"`
		Shadow   fuzzShadow                 `json:"shadow"`
		Quoted   *fuzzQuoted                `json:"quoted,omitempty"`
		F        float64                    `json:"f,omitempty"`
		F32      float32                    `json:"f32"`
		Z        zeroer                     `json:"z,omitzero"`
		PZ       *zeroer                    `json:"pz,omitzero"`
		AZ       ptrZeroer                  `json:"az,omitzero"`
		IZ       interface{ IsZero() bool } `json:"iz,omitzero"`
		T        time.Time                  `json:"t,omitzero"`
		MT       metav1.Time                `json:"mt,omitempty"`
		I        any                        `json:"i"`
		K        map[int]string             `json:"k,omitempty"`
		TK       map[textish]int            `json:"tk,omitempty"`
		Bs       []byte                     `json:"bs"`
		Arr      [2]uint8                   `json:"arr"`
		Txt      textish                    `json:"txt"`
		PTxt     ptrText                    `json:"ptxt"`
		PM       ptrMarshaler               `json:"pm"`
		PMs      map[string]ptrMarshaler    `json:"pms"`
		Fail     *failing                   `json:"fail,omitempty"`
		Dash     string                     `json:"-,"`
		Skip     string                     `json:"-"`
		Odd      string                     `json:"odd name!"`
		Bad      string                     `json:"bad\"quote"`
		Uni      string                     `json:"ünï"`
		hidden   string
		M        map[string]any
		L        []any
		Q        resource.Quantity   `json:"q"`
		IOS      *intstr.IntOrString `json:"ios,omitempty"`
		Deep     *fuzzTricky         `json:"deep,omitempty"`
	}
)

func (z zeroer) IsZero() bool     { return z.V%2 == 0 }
func (z *ptrZeroer) IsZero() bool { return z.V%3 == 0 }
func (t textish) MarshalText() ([]byte, error) {
	return []byte("text:" + string(t)), nil
}
func (t *ptrText) MarshalText() ([]byte, error) { return []byte(t.V + "\xff"), nil }
func (m *ptrMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(` {"v" : %d, "s":"a\u00e9\n"} `, m.V)), nil
}
func (f failing) MarshalJSON() ([]byte, error) {
	if f.Fail {
		return nil, errors.New("failing")
	}
	return []byte(`"ok"`), nil
}

var _ = fuzzTricky{}.hidden // only its presence matters

// fuzzRoots are the types the fuzz target fills: the objects loki-cmp
// builds, and fuzzTricky.
var fuzzRoots = []func() any{
	func() any { return &appsv1.StatefulSet{} },
	func() any { return &appsv1.DaemonSet{} },
	func() any { return &corev1.Pod{} },
	func() any { return &corev1.Secret{} },
	func() any { return &corev1.ConfigMap{} },
	func() any { return &corev1.Service{} },
	func() any { return &corev1.PersistentVolumeClaim{} },
	func() any { return &networkingv1.Ingress{} },
	func() any { return &networkingv1.NetworkPolicy{} },
	func() any { return &rbacv1.ClusterRoleBinding{} },
	func() any { return &crd.Middleware{} },
	func() any { return &crd.Certificate{} },
	func() any { return &crd.ClusterIssuer{} },
	func() any { return &fuzzTricky{} },
	func() any { return fuzzTricky{} }, // not addressable: methods on the pointer do not apply
}

// filler sets a value's fields from fuzz bytes.
type filler struct {
	b []byte
}

func (f *filler) next() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

var fuzzStrings = []string{"", "a", "yes", "0", "10Gi", "with\nnewline\n", "\xff\xfeinvalid", "<&>", "é\u2028", "\"quoted\"", "a: b", "\ufffd", "x\x00y", "-1.5e3"}

var (
	quantityType = reflect.TypeFor[resource.Quantity]()
	timeType     = reflect.TypeFor[time.Time]()
	intstrType   = reflect.TypeFor[intstr.IntOrString]()
)

func (f *filler) str() string {
	c := f.next()
	if c < 200 {
		return fuzzStrings[int(c)%len(fuzzStrings)]
	}
	n := int(c-200) % 12
	if n > len(f.b) {
		n = len(f.b)
	}
	s := string(f.b[:n])
	f.b = f.b[n:]
	return s
}

func (f *filler) fill(v reflect.Value, depth int) {
	if depth > 7 || len(f.b) == 0 {
		return
	}
	switch v.Type() {
	case quantityType:
		q, err := resource.ParseQuantity([]string{"0", "10Gi", "500m", "1.5", "1e3", "-2Ki"}[f.next()%6])
		if err == nil {
			v.Set(reflect.ValueOf(q))
		}
		return
	case timeType:
		if c := f.next(); c%2 == 1 {
			v.Set(reflect.ValueOf(time.Unix(int64(c)*86400*97, 0).UTC()))
		}
		return
	case intstrType:
		if c := f.next(); c%2 == 0 {
			v.Set(reflect.ValueOf(intstr.FromInt32(int32(c))))
		} else {
			v.Set(reflect.ValueOf(intstr.FromString(f.str())))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if f.next()%3 != 0 {
			v.Set(reflect.New(v.Type().Elem()))
			f.fill(v.Elem(), depth+1)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() && f.next()%4 != 0 {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		if c := f.next(); c%5 != 0 {
			n := int(c % 4)
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := 0; i < n; i++ {
				f.fill(v.Index(i), depth+1)
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			f.fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		if c := f.next(); c%5 != 0 {
			v.Set(reflect.MakeMap(v.Type()))
			for i := 0; i < int(c%4); i++ {
				k := reflect.New(v.Type().Key()).Elem()
				e := reflect.New(v.Type().Elem()).Elem()
				f.fill(k, depth+1)
				f.fill(e, depth+1)
				v.SetMapIndex(k, e)
			}
		}
	case reflect.Interface:
		var x any
		switch c := f.next(); c % 6 {
		case 1:
			x = f.str()
		case 2:
			x = int(c)
		case 3:
			x = map[string]any{f.str(): []any{f.str(), true, nil}}
		case 4:
			x = zeroer{V: int(c)}
		case 5:
			x = &ptrZeroer{V: int(c)}
		}
		if x != nil && reflect.TypeOf(x).Implements(v.Type()) {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.next()%2 == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(int8(f.next())) * int64(f.next()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(f.next()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{0, 1.5, -2e-7, 1e21, 123456789, 0.1}[f.next()%6])
	}
}

// FuzzJSONTree: for random objects of the types loki-cmp encodes (and of
// fuzzTricky), jsonTree gives what encoding/json gives, so Encode writes
// the same bytes as through json.Marshal.
func FuzzJSONTree(f *testing.F) {
	for i := range fuzzRoots {
		f.Add(byte(i), []byte(strings.Repeat("\x01\x02\x03\x05\xc9abc", 40)))
		f.Add(byte(i), []byte(strings.Repeat("\xff\x07\x0b\x0d", 60)))
	}
	f.Fuzz(func(t *testing.T, root byte, b []byte) {
		v := fuzzRoots[int(root)%len(fuzzRoots)]()
		rv := reflect.ValueOf(v)
		fl := &filler{b: b}
		if rv.Kind() == reflect.Pointer {
			fl.fill(rv.Elem(), 0)
		} else {
			p := reflect.New(rv.Type())
			fl.fill(p.Elem(), 0)
			v = p.Elem().Interface()
		}
		sameBytes(t, v)
		// objectTree: the same without the top-level status.
		want, werr := viaJSON(v)
		got, gerr := objectTree(v, "status")
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("objectTree error %v, encoding/json %v", gerr, werr)
		}
		if m, ok := want.(map[string]any); ok && werr == nil {
			delete(m, "status")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("objectTree (-encoding/json +objectTree):\n%s", diff)
			}
		}
	})
}

func TestJSONTreeTrickyTypes(t *testing.T) {
	s := "s"
	v := &fuzzTricky{
		fuzzInner:  fuzzInner{A: "a", B: 1, C: &s},
		unexported: &unexported{X: "x"},
		Collides:   &fuzzCollides{fuzzInner: fuzzInner{A: "1"}, fuzzCollide: &fuzzCollide{A: "2", D: "d"}, E: "e"},
		Shadow:     fuzzShadow{fuzzInner: fuzzInner{A: "inner"}, A: 7},
		Quoted:     &fuzzQuoted{N: 3, S: "q", F: 1.5},
		F:          1e21, F32: 0.1,
		Z: zeroer{V: 1}, PZ: &zeroer{V: 2}, AZ: ptrZeroer{V: 4}, IZ: &ptrZeroer{},
		I: map[string]any{"n": 1}, K: map[int]string{2: "b", 1: "a"}, TK: map[textish]int{"k": 1},
		Bs: []byte("bytes"), Txt: "t", PTxt: ptrText{V: "p"}, PM: ptrMarshaler{V: 5},
		PMs: map[string]ptrMarshaler{"x": {V: 1}}, Odd: "o", Bad: "b", Uni: "u",
		M: map[string]any{"\xffk": 1, "\xfek": 2}, L: []any{1.5, "x"},
		Q: resource.MustParse("10Gi"), Deep: &fuzzTricky{T: time.Unix(0, 0).UTC()},
	}
	sameBytes(t, v)
	sameBytes(t, *v)
	v.Fail = &failing{Fail: true}
	if _, err := jsonTree(v); err == nil {
		t.Errorf("a failing MarshalJSON gave no error")
	}
	sameBytes(t, v)
	v.Fail, v.F = nil, func() float64 { var z float64; return 1 / z }()
	sameBytes(t, v) // +Inf: both refuse
}
