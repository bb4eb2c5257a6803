// Package immutable extracts, from loki-cmp's output, what an upgrade of an
// existing install must not change: the fields Kubernetes refuses to update
// (a StatefulSet's selector, a Service's clusterIP, ...), the identity of
// every object (a rename is a delete and a create: Argo CD prunes the old
// object, a StatefulSet's pod and volume claim with it) and Loki's schema
// periods (old data is read with the period it was written under).
//
// A Snapshot of the last released output is kept in testdata/upgrade; the
// upgrade test compares the current output with it and requires every
// difference to be declared as a migration in docs/upgrades.md.
package immutable

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/thedevops/loki-cmp/test/internal/manifest"
)

// Snapshot maps each object's ID (manifest.ID: "Kind.group namespace/name")
// to its immutable fields, by path. Objects without such fields map to an
// empty set: their identity alone is recorded.
type Snapshot map[string]map[string]any

// ObjectField is the Field of a Change that removes a whole object.
const ObjectField = "(object)"

// A field Kubernetes (or Loki) will not let an existing install change.
type field struct {
	path string
	// get returns the value, or nil when the object does not set it (for a
	// Service's clusterIP that is meaningful: allocated, not headless).
	get func(o *unstructured.Unstructured) (any, error)
	// compatible reports whether a live object with old can take new.
	compatible func(old, new any) bool
}

// fields lists the immutable fields by kind (Kind.group, as in IDs).
// Sources: Kubernetes' update validation (apps/v1 StatefulSet allows
// changes only to replicas, ordinals, template, updateStrategy,
// revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and
// minReadySeconds; selectors of DaemonSets and Deployments; a Service's
// clusterIP; a Secret's type; a binding's roleRef) and Loki's schema_config.
var fields = map[string][]field{
	"StatefulSet.apps": {
		at("spec.selector"), at("spec.serviceName"), at("spec.volumeClaimTemplates"), at("spec.podManagementPolicy"),
	},
	"DaemonSet.apps":  {at("spec.selector")},
	"Deployment.apps": {at("spec.selector")},
	"Service":         {at("spec.clusterIP")},
	"Secret":          {at("type")},
	"ClusterRoleBinding.rbac.authorization.k8s.io": {at("roleRef")},
	"RoleBinding.rbac.authorization.k8s.io":        {at("roleRef")},
	"ConfigMap": {{
		path: lokiSchemaPath,
		get:  lokiSchema,
		// Loki's documented way to change the schema is to append a period
		// with a future start date: existing periods must stay as they are.
		compatible: isPrefix,
	}},
}

// at is a plain field at a dotted path, which must stay equal.
func at(path string) field {
	return field{
		path: path,
		get: func(o *unstructured.Unstructured) (any, error) {
			v, _, err := unstructured.NestedFieldNoCopy(o.Object, strings.Split(path, ".")...)
			return v, err
		},
		compatible: reflect.DeepEqual,
	}
}

const lokiSchemaPath = "data[config.yaml].schema_config.configs"

// lokiSchema returns the schema periods of a Loki config ConfigMap, or nil
// for any other ConfigMap.
func lokiSchema(o *unstructured.Unstructured) (any, error) {
	cfg, ok, _ := unstructured.NestedString(o.Object, "data", "config.yaml")
	if !ok {
		return nil, nil
	}
	var c struct {
		SchemaConfig *struct {
			Configs []any `json:"configs"`
		} `json:"schema_config"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &c); err != nil {
		return nil, fmt.Errorf("data[config.yaml]: %w", err)
	}
	if c.SchemaConfig == nil {
		return nil, nil
	}
	return c.SchemaConfig.Configs, nil
}

func isPrefix(old, new any) bool {
	o, ok1 := old.([]any)
	n, ok2 := new.([]any)
	if !ok1 || !ok2 {
		return reflect.DeepEqual(old, new)
	}
	return len(o) <= len(n) && reflect.DeepEqual(o, n[:len(o)])
}

// Take extracts the snapshot of an output.
func Take(objs []*unstructured.Unstructured) (Snapshot, error) {
	s := Snapshot{}
	for _, o := range objs {
		id := manifest.ID(o)
		if _, dup := s[id]; dup {
			return nil, fmt.Errorf("%s appears twice in the output", id)
		}
		got := map[string]any{}
		for _, f := range fields[kindOf(id)] {
			v, err := f.get(o)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", id, f.path, err)
			}
			if v != nil {
				got[f.path] = normalize(v)
			}
		}
		s[id] = got
	}
	return s, nil
}

// kindOf is the "Kind.group" part of an ID.
func kindOf(id string) string {
	kind, _, _ := strings.Cut(id, " ")
	return kind
}

// normalize gives a value the form it has after a YAML round trip
// (numbers as float64), so a snapshot read from disk compares equal.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // values come from decoded YAML: always marshalable
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// Change is one difference that an existing install cannot take in place.
type Change struct {
	Object   string // ID of the object in the old output
	Field    string // a field path, or ObjectField when the object is gone
	Old, New any
}

func (c Change) String() string {
	if c.Field == ObjectField {
		return fmt.Sprintf("%s: no longer in the output (renamed, moved or dropped: Argo CD would delete it)", c.Object)
	}
	return fmt.Sprintf("%s: %s changes from %s to %s", c.Object, c.Field, brief(c.Old), brief(c.New))
}

func brief(v any) string {
	if v == nil {
		return "(unset)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Diff lists what the new output changes for an install of the old one,
// sorted. Objects only in the new output are not changes: creating them is
// always possible.
func Diff(old, new Snapshot) []Change {
	var out []Change
	for id, oldFields := range old {
		newFields, ok := new[id]
		if !ok {
			out = append(out, Change{Object: id, Field: ObjectField})
			continue
		}
		for _, f := range fields[kindOf(id)] {
			o, n := oldFields[f.path], newFields[f.path]
			if !f.compatible(o, n) {
				out = append(out, Change{Object: id, Field: f.path, Old: o, New: n})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Field < out[j].Field
	})
	return out
}

// file is the on-disk form of a snapshot.
type file struct {
	Objects Snapshot `json:"objects"`
}

// header explains a snapshot file to whoever opens it.
const header = `# Immutable fields of the objects loki-cmp %s renders from loki.yaml next to
# this file (see docs/upgrades.md). Written by the upgrade test with
# -snapshot=%s when that version was released; never edit it.
`

// Write stores s in name, marked as the output of version.
func Write(name, version string, s Snapshot) error {
	b, err := yaml.Marshal(file{Objects: s})
	if err != nil {
		return err
	}
	return os.WriteFile(name, append([]byte(fmt.Sprintf(header, version, version)), b...), 0o644)
}

// Read loads a snapshot written by Write.
func Read(name string) (Snapshot, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var f file
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(f.Objects) == 0 {
		return nil, fmt.Errorf("%s: no objects", name)
	}
	for id, fs := range f.Objects {
		if fs == nil {
			f.Objects[id] = map[string]any{}
		}
	}
	return f.Objects, nil
}
