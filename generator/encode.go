package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Output formats.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// Encode serialises objects as a YAML stream ("---" between objects) or as
// one JSON List. Keys are sorted, so equal objects give equal bytes.
func Encode(objs []Object, format string) ([]byte, error) {
	maps := make([]map[string]any, len(objs))
	for i, o := range objs {
		m, err := toMap(o)
		if err != nil {
			return nil, err
		}
		maps[i] = m
	}
	switch format {
	case FormatYAML:
		var buf bytes.Buffer
		for i, m := range maps {
			if i > 0 {
				buf.WriteString("---\n")
			}
			writeYAML(&buf, m)
		}
		return buf.Bytes(), nil
	case FormatJSON:
		list := map[string]any{"apiVersion": "v1", "kind": "List", "items": maps}
		b, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	}
	return nil, fmt.Errorf("unknown output format %q (want %q or %q)", format, FormatYAML, FormatJSON)
}

// toMap converts a typed object to its JSON form, dropping the status that
// the typed Kubernetes structs always marshal (loki-cmp never sets one; Argo
// CD would compare it against the live status) and an empty spec.
func toMap(o Object) (map[string]any, error) {
	tree, err := objectTree(o, "status")
	if err != nil {
		return nil, err
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("generator: %T is not a JSON object", o)
	}
	delete(m, "status") // objectTree skips it; a type it hands to encoding/json does not
	if spec, ok := m["spec"].(map[string]any); ok {
		if len(spec) == 0 {
			delete(m, "spec")
		}
		if claims, ok := spec["volumeClaimTemplates"].([]any); ok {
			for _, c := range claims {
				if c, ok := c.(map[string]any); ok {
					delete(c, "status")
				}
			}
		}
	}
	return m, nil
}

// jsonMap is v's JSON form as a map, numbers kept as written.
func jsonMap(v any) (map[string]any, error) {
	tree, err := jsonTree(v)
	if err != nil {
		return nil, err
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("generator: %T is not a JSON object", v)
	}
	return m, nil
}
