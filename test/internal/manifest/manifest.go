// Package manifest decodes YAML streams of Kubernetes objects and names
// objects, for the apiserver harness and the tests alike.
package manifest

import (
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Decode decodes a "---"-separated YAML stream (or JSON documents) into
// objects, in order, skipping empty documents.
func Decode(r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(objs)+1, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// DecodeFile decodes the stream in file.
func DecodeFile(file string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}

// ID names an object as kubectl does: Kind.group namespace/name (the group
// is left out for the core group, the namespace for cluster-scoped objects).
func ID(o *unstructured.Unstructured) string {
	kind := o.GetKind()
	if g := o.GroupVersionKind().Group; g != "" {
		kind += "." + g
	}
	if ns := o.GetNamespace(); ns != "" {
		return kind + " " + ns + "/" + o.GetName()
	}
	return kind + " " + o.GetName()
}
