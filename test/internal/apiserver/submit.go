package apiserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// fieldManager owns what the tests apply for real (namespaces).
const fieldManager = "loki-cmp-test"

// Strict field validation turns unknown and duplicate fields into errors
// instead of warnings (or, for custom resources, silent pruning).
const strict = metav1.FieldValidationStrict

// DryRun submits obj twice with server-side dry-run, each request going
// through defaulting, admission and validation but storing nothing:
//   - create, as kubectl create and Argo CD's client-side apply of a new
//     object do;
//   - server-side apply (force, own field manager), as Argo CD does with
//     ServerSideApply=true; it also catches duplicate list-map keys.
//
// The first rejection is returned; warnings are recorded by the context
// (see WithWarnings).
func (s *Server) DryRun(ctx context.Context, obj *unstructured.Unstructured) error {
	res, err := s.resource(obj)
	if err != nil {
		return err
	}
	if _, err := res.Create(ctx, obj, metav1.CreateOptions{
		DryRun: []string{metav1.DryRunAll}, FieldValidation: strict,
	}); err != nil {
		return fmt.Errorf("dry-run create: %w", err)
	}
	if err := apply(ctx, res, obj, fieldManager, []string{metav1.DryRunAll}); err != nil {
		return fmt.Errorf("dry-run server-side apply: %w", err)
	}
	return nil
}

// Apply applies obj for real (server-side apply with strict validation):
// used for Namespaces, which a dry-run cannot leave behind for the objects
// inside them. Applying again with other labels replaces the labels this
// field manager set before, as it would on a cluster.
func (s *Server) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	res, err := s.resource(obj)
	if err != nil {
		return err
	}
	return apply(ctx, res, obj, fieldManager, nil)
}

// ApplyAs applies obj for real under the field manager of a controller
// (the lab applies as Argo CD's, "argocd-controller").
func (s *Server) ApplyAs(ctx context.Context, obj *unstructured.Unstructured, manager string) error {
	res, err := s.resource(obj)
	if err != nil {
		return err
	}
	return apply(ctx, res, obj, manager, nil)
}

// Resource is the REST resource of obj's kind and namespace.
func (s *Server) Resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	return s.resource(obj)
}

// apply is a forced server-side apply with strict field validation
// (ApplyOptions has no FieldValidation, hence a Patch).
func apply(ctx context.Context, res dynamic.ResourceInterface, obj *unstructured.Unstructured, manager string, dryRun []string) error {
	body, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = res.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
		DryRun: dryRun, FieldManager: manager, Force: &force, FieldValidation: strict,
	})
	return err
}

// EnsureNamespace creates a plain Namespace unless it exists: one the
// output expects to find (e.g. Grafana's) rather than creates.
func (s *Server) EnsureNamespace(ctx context.Context, name string) error {
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	_, err := s.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).
		Create(ctx, ns, metav1.CreateOptions{FieldValidation: strict})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// resource finds the REST resource of obj's kind. Discovery is cached;
// after CRDs are installed the cache may lag, so a missing kind is
// retried with a fresh cache for a few seconds.
func (s *Server) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	var m *meta.RESTMapping
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		m, err = s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err == nil || !meta.IsNoMatchError(err) || time.Now().After(deadline) {
			break
		}
		s.mapper.Reset()
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not served by the apiserver: %w", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			return nil, errors.New("namespaced object without metadata.namespace")
		}
		return s.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	if obj.GetNamespace() != "" {
		return nil, fmt.Errorf("cluster-scoped %s has metadata.namespace %q", gvk.Kind, obj.GetNamespace())
	}
	return s.Dynamic.Resource(m.Resource), nil
}
