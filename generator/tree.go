package generator

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// jsonTree returns v's JSON form as a tree of map[string]any, []any, string,
// json.Number, bool and nil: exactly what decoding json.Marshal(v) with
// UseNumber gives, without the JSON text in between.
//
// Why not json.Marshal: encoding/json builds an encoder for every type
// reachable from the one it is given, on first use, in every process. For
// our objects that is ~195 types (every field of PodSpec, of every volume
// source, ...), of which ~75 ever hold a value: 10 M instructions, half of a
// whole dry run (docs/performance.md). This walks values instead, and looks
// at a struct type's fields only when a value of it is reached. It follows
// encoding/json's rules (field names and tags, omitempty, omitzero, embedded
// structs, Marshaler and TextMarshaler, []byte as base64, invalid UTF-8 as
// U+FFFD) and hands whatever it does not handle itself (colliding embedded
// field names, the ",string" option, non-string map keys, floats) to
// encoding/json.
// FuzzJSONTree checks it against encoding/json on random objects.
func jsonTree(v any) (any, error) {
	return treeOf(reflect.ValueOf(v))
}

// objectTree is jsonTree of a pointer to a struct without the top-level
// field skip, which is not even looked at (the status of an object: its
// types would cost their first use for nothing).
func objectTree(v any, skip string) (any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return treeOf(rv)
	}
	if info := infoOf(rv.Type()); info.marshaler || info.text {
		return treeOf(rv)
	}
	ev := rv.Elem()
	info := infoOf(ev.Type())
	if info.addrMarshaler || info.addrText || info.marshaler || info.text || info.fallback {
		return treeOf(rv)
	}
	return structTree(ev, info, skip)
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroerType      = reflect.TypeFor[interface{ IsZero() bool }]()
)

// treeOf converts one value, choosing as encoding/json's newTypeEncoder
// does: a MarshalJSON method (on the value, or on its address when it has
// one), then MarshalText, then the kind.
func treeOf(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	info := infoOf(v.Type())
	switch {
	case info.addrMarshaler && v.CanAddr():
		return marshaled(v.Addr())
	case info.marshaler:
		return marshaled(v)
	case info.addrText && v.CanAddr():
		return textMarshaled(v.Addr())
	case info.text:
		return textMarshaled(v)
	}
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return json.Number(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.String:
		return validUTF8(v.String()), nil
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		return treeOf(v.Elem())
	case reflect.Struct:
		return structTree(v, info, "")
	case reflect.Map:
		return mapTree(v)
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if info.byteSlice {
			return base64.StdEncoding.EncodeToString(v.Bytes()), nil
		}
		return listTree(v)
	case reflect.Array:
		return listTree(v)
	}
	// Floats (rare: formatting rules) and unsupported kinds (errors).
	return viaEncodingJSON(v)
}

func listTree(v reflect.Value) (any, error) {
	l := make([]any, v.Len())
	for i := range l {
		x, err := treeOf(v.Index(i))
		if err != nil {
			return nil, err
		}
		l[i] = x
	}
	return l, nil
}

func mapTree(v reflect.Value) (any, error) {
	if v.IsNil() {
		return nil, nil
	}
	if v.Type().Key().Kind() != reflect.String {
		return viaEncodingJSON(v)
	}
	keys := make([]string, 0, v.Len())
	vals := make(map[string]reflect.Value, v.Len())
	for it := v.MapRange(); it.Next(); {
		k := it.Key().String()
		keys = append(keys, k)
		vals[k] = it.Value()
	}
	// encoding/json writes keys sorted as they are, then makes them valid
	// UTF-8; of two keys that become equal the later one wins on decoding.
	slices.Sort(keys)
	m := make(map[string]any, len(keys))
	for _, k := range keys {
		x, err := treeOf(vals[k])
		if err != nil {
			return nil, err
		}
		m[validUTF8(k)] = x
	}
	return m, nil
}

// structTree converts a struct's fields, leaving out the one named skip.
func structTree(v reflect.Value, info *typeInfo, skip string) (any, error) {
	if info.fallback {
		return viaEncodingJSON(v)
	}
	m := make(map[string]any, len(info.fields))
fields:
	for i := range info.fields {
		f := &info.fields[i]
		if f.name == skip {
			continue
		}
		fv := v
		for _, j := range f.index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields // a field of a nil embedded struct
				}
				fv = fv.Elem()
			}
			fv = fv.Field(j)
		}
		if f.omitEmpty && isEmptyValue(fv) || f.omitZero && isZero(fv) {
			continue
		}
		x, err := treeOf(fv)
		if err != nil {
			return nil, err
		}
		m[f.name] = x
	}
	return m, nil
}

// marshaled is the tree of a MarshalJSON result.
func marshaled(v reflect.Value) (any, error) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, nil
	}
	m, ok := reflect.TypeAssert[json.Marshaler](v)
	if !ok {
		return nil, nil // a nil interface
	}
	b, err := m.MarshalJSON()
	if err != nil {
		return nil, &json.MarshalerError{Type: v.Type(), Err: err}
	}
	return decodeJSON(b)
}

func textMarshaled(v reflect.Value) (any, error) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, nil
	}
	m, ok := reflect.TypeAssert[encoding.TextMarshaler](v)
	if !ok {
		return nil, nil
	}
	b, err := m.MarshalText()
	if err != nil {
		return nil, &json.MarshalerError{Type: v.Type(), Err: err}
	}
	return validUTF8(string(b)), nil
}

// viaEncodingJSON is the fallback: encoding/json itself, on the value's
// address when it has one (so that methods on the pointer still apply).
func viaEncodingJSON(v reflect.Value) (any, error) {
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	b, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

// decodeJSON reads one JSON value with numbers kept as written. The values
// it sees are small (a quantity, an int-or-string) or rare.
func decodeJSON(b []byte) (any, error) {
	// Strings without escapes and integers, by far the most common
	// results of MarshalJSON, without a decoder.
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b[1:n-1], '"') < 0 && bytes.IndexByte(b, '\\') < 0 {
		if s := string(b[1 : n-1]); utf8.ValidString(s) && !hasControl(s) {
			return s, nil
		}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("generator: trailing data after a JSON value")
	}
	return x, nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

// validUTF8 replaces each byte that is not part of valid UTF-8 with U+FFFD,
// as encoding/json does (strings.ToValidUTF8 would replace runs).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// zeroTest is how omitzero decides for a type, chosen once per type as
// encoding/json does: by its IsZero method if it has one (guarded against
// nil), else by the zero value.
type zeroTest uint8

const (
	zeroValue     zeroTest = iota // reflect's IsZero
	zeroInterface                 // an interface type with IsZero
	zeroPointer                   // a pointer type with IsZero
	zeroMethod                    // IsZero on the type itself
	zeroAddr                      // IsZero on the pointer only
)

// zeroTests caches zeroTestOf for the types of omitzero fields.
var zeroTests sync.Map // reflect.Type → zeroTest

func zeroTestOf(t reflect.Type) zeroTest {
	if z, ok := zeroTests.Load(t); ok {
		return z.(zeroTest)
	}
	z := newZeroTest(t)
	zeroTests.Store(t, z)
	return z
}

func newZeroTest(t reflect.Type) zeroTest {
	onT, onlyOnPtr := implements(t, isZeroerType, isZeroer)
	switch {
	case onT && t.Kind() == reflect.Interface:
		return zeroInterface
	case onT && t.Kind() == reflect.Pointer:
		return zeroPointer
	case onT:
		return zeroMethod
	case onlyOnPtr:
		return zeroAddr
	}
	return zeroValue
}

func isZero(v reflect.Value) bool {
	switch zeroTestOf(v.Type()) {
	case zeroInterface:
		return v.IsNil() || (v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil()) ||
			v.Interface().(interface{ IsZero() bool }).IsZero()
	case zeroPointer:
		return v.IsNil() || v.Interface().(interface{ IsZero() bool }).IsZero()
	case zeroMethod:
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case zeroAddr:
		if !v.CanAddr() {
			v2 := reflect.New(v.Type()).Elem()
			v2.Set(v)
			v = v2
		}
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

// typeInfo is what treeOf needs to know about a type, computed once per
// type and only for types of values actually converted.
type typeInfo struct {
	marshaler, addrMarshaler bool // MarshalJSON on T, or only on *T
	text, addrText           bool // MarshalText likewise
	byteSlice                bool // a []byte written as base64
	fields                   []treeField
	fallback                 bool // a struct this walker leaves to encoding/json
}

type treeField struct {
	name                string
	index               []int
	omitEmpty, omitZero bool
}

var typeInfos sync.Map // reflect.Type → *typeInfo

func infoOf(t reflect.Type) *typeInfo {
	if i, ok := typeInfos.Load(t); ok {
		return i.(*typeInfo)
	}
	info := &typeInfo{}
	info.marshaler, info.addrMarshaler = implements(t, marshalerType, isMarshaler)
	info.text, info.addrText = implements(t, textMarshalerType, isTextMarshaler)
	switch t.Kind() {
	case reflect.Slice:
		if e := reflect.PointerTo(t.Elem()); t.Elem().Kind() == reflect.Uint8 && !e.Implements(marshalerType) && !e.Implements(textMarshalerType) {
			info.byteSlice = true
		}
	case reflect.Struct:
		info.fields, info.fallback = structFields(t)
	}
	i, _ := typeInfos.LoadOrStore(t, info)
	return i.(*typeInfo)
}

// implements reports whether t implements iface (is asserts it of a value),
// and whether only *t does (for a t that is not a pointer or an interface).
// It asks with type assertions on a zero value: the runtime answers those
// from its itab table, comparing method types before names, where
// reflect's Implements decodes every method's name (Kubernetes types have
// dozens; metav1.Time has all of time.Time's). It avoids reflect's
// Method and MethodByName, whose mere use keeps every exported method of
// every type in the binary (6 MB here).
func implements(t, iface reflect.Type, is func(any) bool) (onT, onlyOnPtr bool) {
	switch t.Kind() {
	case reflect.Interface:
		return t.Implements(iface), false
	case reflect.Pointer:
		return is(reflect.Zero(t).Interface()), false
	}
	p := reflect.New(t)
	if !is(p.Interface()) {
		return false, false
	}
	onT = is(p.Elem().Interface())
	return onT, !onT
}

func isMarshaler(x any) bool     { _, ok := x.(json.Marshaler); return ok }
func isTextMarshaler(x any) bool { _, ok := x.(encoding.TextMarshaler); return ok }
func isZeroer(x any) bool        { _, ok := x.(interface{ IsZero() bool }); return ok }

// structFields lists the JSON fields of struct type t, embedded structs
// flattened. fallback is true where encoding/json's rules for hidden
// fields would have to decide (two fields of one name), or a field uses the
// ",string" option.
func structFields(t reflect.Type) (fields []treeField, fallback bool) {
	seen := map[string]bool{}
	var walk func(t reflect.Type, index []int, depth int) bool
	walk = func(t reflect.Type, index []int, depth int) bool {
		if depth > 8 {
			return false
		}
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			ft := sf.Type
			if ft.Name() == "" && ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if sf.Anonymous {
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if !validTagName(name) {
				name = ""
			}
			idx := append(index[:len(index):len(index)], i)
			if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
				if !walk(ft, idx, depth+1) {
					return false
				}
				continue
			}
			if hasOption(opts, "string") {
				return false
			}
			if name == "" {
				name = sf.Name
			}
			if seen[name] {
				return false
			}
			seen[name] = true
			fields = append(fields, treeField{name: name, index: idx,
				omitEmpty: hasOption(opts, "omitempty"), omitZero: hasOption(opts, "omitzero")})
		}
		return true
	}
	if !walk(t, nil, 0) {
		return nil, true
	}
	return fields, false
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// validTagName is encoding/json's isValidTag.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
			// Backslash and quote chars are reserved, but
			// otherwise any punctuation chars are allowed
			// in a tag name.
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
