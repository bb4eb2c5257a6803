package generator

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// Pod and container pieces shared by the Loki targets and the collectors.

// podTemplateMeta is a pod template's metadata: its labels and the config
// checksum, so that a changed config rolls the pods (neither Loki nor the
// collectors reload it).
func (p *plan) podTemplateMeta(app, component, checksum string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Labels:      p.podLabels(app, component),
		Annotations: map[string]string{"checksum/config": checksum},
	}
}

// restrictedPodSecurity satisfies the "restricted" Pod Security Standard.
func restrictedPodSecurity(uid int64) *corev1.PodSecurityContext {
	yes := true
	return &corev1.PodSecurityContext{
		RunAsUser:      &uid,
		RunAsGroup:     &uid,
		FSGroup:        &uid,
		RunAsNonRoot:   &yes,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func restrictedContainerSecurity() *corev1.SecurityContext {
	yes, no := true, false
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		RunAsNonRoot:             &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// resources converts validated quantities; empty ones stay unset.
func resources(r v1alpha1.Resources) corev1.ResourceRequirements {
	list := func(l v1alpha1.ResourceList) corev1.ResourceList {
		out := corev1.ResourceList{}
		if l.CPU != "" {
			out[corev1.ResourceCPU] = resource.MustParse(l.CPU)
		}
		if l.Memory != "" {
			out[corev1.ResourceMemory] = resource.MustParse(l.Memory)
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return corev1.ResourceRequirements{Requests: list(r.Requests), Limits: list(r.Limits)}
}

// configMapVolume mounts the ConfigMap name as volume "config".
func configMapVolume(name string) corev1.Volume {
	return namedConfigMapVolume("config", name)
}

func namedConfigMapVolume(volume, name string) corev1.Volume {
	return corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name},
	}}}
}

func emptyDirVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

// nodeNameEnv passes the pod's node name in the variable name.
func nodeNameEnv(name string) []corev1.EnvVar {
	return []corev1.EnvVar{{
		Name:      name,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}},
	}}
}

// controlPlaneTolerations let the collector run on control-plane nodes too:
// their pods' logs matter as much as any other's.
func controlPlaneTolerations() []corev1.Toleration {
	return []corev1.Toleration{
		{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: "node-role.kubernetes.io/master", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	}
}

// readOnly grants get, list and watch on core resources.
func readOnly(resources ...string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: resources, Verbs: []string{"get", "list", "watch"}}}
}
