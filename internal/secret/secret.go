// Package secret holds a credential value that cannot be printed by
// accident: fmt, encoding/json, encoding/text and %#v all see "[redacted]".
// Only Bytes gives the value, so every use of it is visible in the code.
package secret

import "fmt"

const redacted = "[redacted]"

// Value is a secret byte string.
type Value struct{ b []byte }

// New wraps b; the caller must not modify b afterwards.
func New(b []byte) Value { return Value{b: b} }

// Bytes returns the value. Never log or print it.
func (v Value) Bytes() []byte { return v.b }

// Len is the value's length, which is safe to report.
func (v Value) Len() int { return len(v.b) }

func (Value) String() string               { return redacted }
func (Value) GoString() string             { return redacted }
func (Value) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (Value) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Value) MarshalText() ([]byte, error) { return []byte(redacted), nil }
