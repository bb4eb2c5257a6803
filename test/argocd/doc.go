// Package argocd holds the tests that run loki-cmp the way Argo CD does: under
// Argo CD's own cmp-server (v3.6, a dependency of this module only, so the
// main module's go.mod stays small), inside the sidecar image built with
// buildah, and the deploy/ kustomizations rendered with kustomize's library.
//
// Run: cd test/argocd && go test ./...   (make test-argocd; make test runs it too)
package argocd
