package generator

import (
	"sort"
	"strconv"
)

// kindOrder is the order in which Argo CD (like kubectl and Helm) applies
// kinds within one sync wave. Kinds not listed — custom resources — come
// last, by kind name.
var kindOrder = map[string]int{}

func init() {
	for i, k := range []string{
		"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
		"ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume",
		"PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
		"Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicaSet", "Deployment",
		"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "Ingress", "APIService",
	} {
		kindOrder[k] = i
	}
}

// Sort puts objects in the documented output order: by Argo CD sync wave,
// then by kind in Argo CD's apply order, then by namespace and name. The
// output therefore reads in the order the objects are applied.
func Sort(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool { return less(objs[i], objs[j]) })
}

func less(a, b Object) bool {
	if wa, wb := wave(a), wave(b); wa != wb {
		return wa < wb
	}
	ka, kb := a.GetObjectKind().GroupVersionKind().Kind, b.GetObjectKind().GroupVersionKind().Kind
	if ra, rb := kindRank(ka), kindRank(kb); ra != rb {
		return ra < rb
	}
	if ka != kb {
		return ka < kb
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	return a.GetName() < b.GetName()
}

func wave(o Object) int {
	w, err := strconv.Atoi(o.GetAnnotations()[annotationSyncWave])
	if err != nil {
		return 0
	}
	return w
}

func kindRank(kind string) int {
	if r, ok := kindOrder[kind]; ok {
		return r
	}
	return len(kindOrder)
}
