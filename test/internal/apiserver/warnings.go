package apiserver

import (
	"context"
	"sync"
)

// Warnings collects the Warning headers of the requests made with a context
// from WithWarnings. Warnings are how the apiserver reports what it accepts
// but dislikes: Pod Security violations in "warn" mode, deprecated APIs,
// and (without strict field validation) unknown or duplicate fields.
type Warnings struct {
	mu   sync.Mutex
	msgs []string
}

// List returns the warnings seen so far.
func (w *Warnings) List() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

type warningsKey struct{}

// WithWarnings returns a context whose requests record their warnings in w.
func WithWarnings(ctx context.Context, w *Warnings) context.Context {
	return context.WithValue(ctx, warningsKey{}, w)
}

// contextWarnings is the rest.Config warning handler: it hands each
// warning to the collector of the request's context. A request made
// without one must not lose its warnings silently, so they are kept in
// orphans and reported by the checks that look at them.
type contextWarnings struct{}

var orphans Warnings

func (contextWarnings) HandleWarningHeaderWithContext(ctx context.Context, _ int, _ string, text string) {
	w, ok := ctx.Value(warningsKey{}).(*Warnings)
	if !ok {
		w = &orphans
	}
	w.mu.Lock()
	w.msgs = append(w.msgs, text)
	w.mu.Unlock()
}

// Unattributed returns the warnings of requests made without a collector
// in their context; a check that forgot one would otherwise lose them.
func Unattributed() []string { return orphans.List() }
