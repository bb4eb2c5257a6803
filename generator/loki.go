package generator

import (
	"crypto/sha256"
	"encoding/hex"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// Loki's ports and their names (the ServiceMonitor and Ingress use names).
const (
	lokiHTTPPort     = 3100
	lokiGRPCPort     = 9095
	lokiHTTPPortName = "http-metrics"
	lokiGRPCPortName = "grpc"
	lokiUID          = 10001
)

// loki returns the Loki server's objects.
func (g *gen) loki() []Object {
	g.cfg = g.lokiConfigYAML()
	return []Object{g.lokiServiceAccount(), g.lokiConfigMap(), g.lokiService(), g.lokiHeadlessService(), g.lokiStatefulSet()}
}

func (g *gen) lokiMeta(name string) metav1.ObjectMeta {
	return g.meta(name, g.ns, "loki", componentLoki, waveWorkload)
}

func (g *gen) lokiServiceAccount() Object {
	no := false
	return &corev1.ServiceAccount{
		TypeMeta:   typeMeta("v1", "ServiceAccount"),
		ObjectMeta: g.lokiMeta(g.n.serviceAccount),
		// Loki never calls the Kubernetes API.
		AutomountServiceAccountToken: &no,
	}
}

func (g *gen) lokiConfigMap() Object {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: g.lokiMeta(g.n.config),
		Data:       map[string]string{lokiConfigFile: g.cfg},
	}
}

func (g *gen) lokiPorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: lokiHTTPPortName, Port: lokiHTTPPort, TargetPort: intstr.FromString(lokiHTTPPortName), Protocol: corev1.ProtocolTCP},
		{Name: lokiGRPCPortName, Port: lokiGRPCPort, TargetPort: intstr.FromString(lokiGRPCPortName), Protocol: corev1.ProtocolTCP},
	}
}

// lokiService is what Traefik, Promtail, Grafana and Prometheus talk to.
func (g *gen) lokiService() Object {
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: g.lokiMeta(g.n.loki),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Ports:    g.lokiPorts(),
			Selector: g.selector("loki", componentLoki),
		},
	}
}

// serviceMonitorOptOut keeps the headless Service out of the ServiceMonitor's
// selection; otherwise every target would be scraped twice.
const serviceMonitorOptOut = "prometheus.io/service-monitor"

// lokiHeadlessService gives the StatefulSet's pod its stable DNS name.
func (g *gen) lokiHeadlessService() Object {
	m := g.lokiMeta(g.n.headless)
	m.Labels[serviceMonitorOptOut] = "false"
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: m,
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Ports:                    g.lokiPorts(),
			Selector:                 g.selector("loki", componentLoki),
			PublishNotReadyAddresses: true,
		},
	}
}

func (g *gen) lokiStatefulSet() Object {
	l := g.s.Spec.Loki
	one := int32(1)
	grace := int64(120)
	no := false
	sum := sha256.Sum256([]byte(g.cfg))
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: g.podLabels("loki", componentLoki),
			// A changed config rolls the pod: Loki does not reload it.
			Annotations: map[string]string{"checksum/config": hex.EncodeToString(sum[:])},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName:            g.n.serviceAccount,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			TerminationGracePeriodSeconds: &grace,
			SecurityContext:               restrictedPodSecurity(lokiUID),
			Containers: []corev1.Container{{
				Name:  "loki",
				Image: l.Image,
				Args:  []string{"-config.file=" + lokiConfigDir + "/" + lokiConfigFile, "-target=all"},
				Ports: []corev1.ContainerPort{
					{Name: lokiHTTPPortName, ContainerPort: lokiHTTPPort, Protocol: corev1.ProtocolTCP},
					{Name: lokiGRPCPortName, ContainerPort: lokiGRPCPort, Protocol: corev1.ProtocolTCP},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
						Path: "/ready", Port: intstr.FromString(lokiHTTPPortName),
					}},
					InitialDelaySeconds: 15,
					TimeoutSeconds:      1,
				},
				Resources:       resources(l.Resources),
				SecurityContext: restrictedContainerSecurity(),
				VolumeMounts: []corev1.VolumeMount{
					{Name: "config", MountPath: lokiConfigDir, ReadOnly: true},
					{Name: g.n.data, MountPath: lokiDataDir},
					{Name: "tmp", MountPath: "/tmp"},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: g.n.config},
				}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
		},
	}
	return &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: g.lokiMeta(g.n.loki),
		Spec: appsv1.StatefulSetSpec{
			Replicas:             &one,
			Selector:             &metav1.LabelSelector{MatchLabels: g.selector("loki", componentLoki)},
			ServiceName:          g.n.headless,
			PodManagementPolicy:  appsv1.ParallelPodManagement,
			UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template:             tmpl,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{g.dataClaimTemplate()},
			// Deleting or scaling down the StatefulSet keeps the logs.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
		},
	}
}

// dataClaimTemplate is immutable once the StatefulSet exists. apiVersion and
// kind are written out, as Kubernetes returns them; otherwise Argo CD shows a
// permanent diff. Its labels are the selector only, so that changing
// commonLabels never touches it.
func (g *gen) dataClaimTemplate() corev1.PersistentVolumeClaim {
	st := g.s.Spec.Storage
	pvc := corev1.PersistentVolumeClaim{
		TypeMeta: typeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: metav1.ObjectMeta{
			Name:   g.n.data,
			Labels: g.selector("loki", componentLoki),
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse(st.Size),
			}},
		},
	}
	if st.StorageClassName != "" {
		class := st.StorageClassName
		pvc.Spec.StorageClassName = &class
	}
	fs := corev1.PersistentVolumeFilesystem
	pvc.Spec.VolumeMode = &fs
	return pvc
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
