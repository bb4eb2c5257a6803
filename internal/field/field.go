// Package field names fields of loki.yaml as values, as cert-manager and
// Kubernetes do with field.NewPath("spec").Child("host"): one Path type
// serves validation problems and their positions, overrides, Argo CD
// parameters and their announcements, and credential references.
package field

import (
	"strconv"
	"strings"
)

// Path is the path of one field, e.g. spec.auth.users[0].password or
// spec.commonLabels[team]. The zero Path is the document itself. A Path
// is immutable: Child, Index and Key return new ones, which share their
// parent (one allocation each, however deep).
type Path struct{ last *elem }

type elem struct {
	parent *elem
	name   string // a field name, or a map key when key is set
	index  int    // a list index when isIdx is set
	key    bool
	isIdx  bool
}

// NewPath returns the path of the field names, from the document's root.
func NewPath(names ...string) Path {
	var p Path
	for _, n := range names {
		p = p.Child(n)
	}
	return p
}

// Child is the field name of the struct at p.
func (p Path) Child(name string) Path { return Path{&elem{parent: p.last, name: name}} }

// Index is element i of the list at p.
func (p Path) Index(i int) Path { return Path{&elem{parent: p.last, index: i, isIdx: true}} }

// Key is the value of key k of the map at p.
func (p Path) Key(k string) Path { return Path{&elem{parent: p.last, name: k, key: true}} }

// Root reports whether p is the document itself.
func (p Path) Root() bool { return p.last == nil }

// Parent is p without its last element; the root's parent is the root.
func (p Path) Parent() Path {
	if p.Root() {
		return p
	}
	return Path{p.last.parent}
}

// elems returns the elements from the root.
func (p Path) elems() []*elem {
	n := 0
	for e := p.last; e != nil; e = e.parent {
		n++
	}
	out := make([]*elem, n)
	for e := p.last; e != nil; e = e.parent {
		n--
		out[n] = e
	}
	return out
}

// Names returns the field names of a path of fields only (no index or
// key), and whether it is one: the form overrides and parameters take.
func (p Path) Names() ([]string, bool) {
	elems := p.elems()
	out := make([]string, len(elems))
	for i, e := range elems {
		if e.key || e.isIdx {
			return nil, false
		}
		out[i] = e.name
	}
	return out, true
}

// String renders p as messages and docs show it: a.b[0].c[key].
func (p Path) String() string {
	if p.Root() {
		return ""
	}
	var b strings.Builder
	p.last.write(&b)
	return b.String()
}

// write renders the path up to e, root first.
func (e *elem) write(b *strings.Builder) {
	if e.parent != nil {
		e.parent.write(b)
	}
	switch {
	case e.isIdx:
		b.WriteString("[" + strconv.Itoa(e.index) + "]")
	case e.key:
		b.WriteString("[" + e.name + "]")
	default:
		if e.parent != nil {
			b.WriteByte('.')
		}
		b.WriteString(e.name)
	}
}

// ErrorType says what kind of problem a field has, as data beside its
// message (the types of k8s.io/apimachinery's field.ErrorType).
type ErrorType string

// The types of problems.
const (
	// Required: the field must be set.
	Required ErrorType = "required"
	// Invalid: the value is malformed or out of range.
	Invalid ErrorType = "invalid"
	// NotSupported: the value or key is not one loki-cmp knows.
	NotSupported ErrorType = "not supported"
	// Forbidden: the field may not be set here, or not with another one.
	Forbidden ErrorType = "forbidden"
	// Duplicate: the key or name is already used.
	Duplicate ErrorType = "duplicate"
	// TypeInvalid: the value is of the wrong YAML type.
	TypeInvalid ErrorType = "type invalid"
	// NotFound: what the field refers to (a variable, a Vault secret)
	// does not exist or cannot be read.
	NotFound ErrorType = "not found"
)
