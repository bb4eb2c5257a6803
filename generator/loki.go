package generator

import (
	"crypto/sha256"
	"encoding/hex"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// Loki's ports and their names (the ServiceMonitor and Ingress use names).
const (
	lokiHTTPPort           = 3100
	lokiGRPCPort           = 9095
	lokiMemberlistPort     = 7946
	lokiHTTPPortName       = "http-metrics"
	lokiGRPCPortName       = "grpc"
	lokiMemberlistPortName = "memberlist"
	lokiUID                = 10001
)

// target is one kind of Loki pod: the single binary, or one of the
// simple-scalable write, read and backend targets.
type target struct {
	component string // label value and -target flag (single-binary runs -target=all)
	name      string // workload and Service name
	replicas  int
	resources v1alpha1.Resources
	// stateful targets are StatefulSets with a volume per pod and a
	// headless Service; the others are Deployments with an emptyDir.
	stateful bool
}

func (t target) headless() string { return t.name + "-headless" }

// targets are the Loki workloads of the stack's mode.
func (g *gen) targets() []target {
	s := g.s.Spec
	if s.Mode != v1alpha1.ModeSimpleScalable {
		return []target{{component: componentLoki, name: g.n.loki, replicas: 1, resources: s.Loki.Resources, stateful: true}}
	}
	ss := s.SimpleScalable
	return []target{
		{component: componentWrite, name: g.n.loki + "-write", replicas: ss.Write.Replicas, resources: ss.Write.Resources, stateful: true},
		{component: componentRead, name: g.n.loki + "-read", replicas: ss.Read.Replicas, resources: ss.Read.Resources},
		{component: componentBackend, name: g.n.loki + "-backend", replicas: ss.Backend.Replicas, resources: ss.Backend.Resources, stateful: true},
	}
}

func (g *gen) scalable() bool { return g.s.Spec.Mode == v1alpha1.ModeSimpleScalable }

// loki returns the Loki server's objects: shared ones, then per target a
// workload, its Services and (simple-scalable) a PodDisruptionBudget.
func (g *gen) loki(in Input) []Object {
	g.cfg = g.lokiConfigYAML()
	objs := []Object{g.lokiServiceAccount(), g.lokiConfigMap()}
	if g.scalable() {
		objs = append(objs, g.objectStorageSecret(in), g.memberlistService())
	}
	for _, t := range g.targets() {
		objs = append(objs, g.lokiService(t))
		if t.stateful {
			objs = append(objs, g.lokiHeadlessService(t), g.lokiStatefulSet(t))
		} else {
			objs = append(objs, g.lokiDeployment(t))
		}
		if g.scalable() {
			objs = append(objs, g.podDisruptionBudget(t))
		}
	}
	return objs
}

func (g *gen) lokiMeta(name, component string) metav1.ObjectMeta {
	return g.meta(name, g.ns, "loki", component, waveWorkload)
}

func (g *gen) lokiServiceAccount() Object {
	no := false
	return &corev1.ServiceAccount{
		TypeMeta:   typeMeta("v1", "ServiceAccount"),
		ObjectMeta: g.lokiMeta(g.n.serviceAccount, ""),
		// Loki never calls the Kubernetes API.
		AutomountServiceAccountToken: &no,
	}
}

func (g *gen) lokiConfigMap() Object {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: g.lokiMeta(g.n.config, ""),
		Data:       map[string]string{lokiConfigFile: g.cfg},
	}
}

func (g *gen) lokiPorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: lokiHTTPPortName, Port: lokiHTTPPort, TargetPort: intstr.FromString(lokiHTTPPortName), Protocol: corev1.ProtocolTCP},
		{Name: lokiGRPCPortName, Port: lokiGRPCPort, TargetPort: intstr.FromString(lokiGRPCPortName), Protocol: corev1.ProtocolTCP},
	}
}

// lokiService is what Traefik, the collector, Grafana and Prometheus talk to.
func (g *gen) lokiService(t target) Object {
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: g.lokiMeta(t.name, t.component),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Ports:    g.lokiPorts(),
			Selector: g.selector("loki", t.component),
		},
	}
}

// serviceMonitorOptOut keeps headless Services out of the ServiceMonitor's
// selection; otherwise every target would be scraped twice.
const serviceMonitorOptOut = "prometheus.io/service-monitor"

// lokiHeadlessService gives a StatefulSet's pods their stable DNS names (and
// the backend's index gateways their DNS discovery).
func (g *gen) lokiHeadlessService(t target) Object {
	m := g.lokiMeta(t.headless(), t.component)
	m.Labels[serviceMonitorOptOut] = "false"
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: m,
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Ports:                    g.lokiPorts(),
			Selector:                 g.selector("loki", t.component),
			PublishNotReadyAddresses: true,
		},
	}
}

// memberlistService lets every Loki pod of the stack find the others for
// the hash rings (simple-scalable).
func (g *gen) memberlistService() Object {
	m := g.lokiMeta(g.n.memberlist, "")
	m.Labels[serviceMonitorOptOut] = "false"
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: m,
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Ports: []corev1.ServicePort{{
				Name: lokiMemberlistPortName, Port: lokiMemberlistPort,
				TargetPort: intstr.FromString(lokiMemberlistPortName), Protocol: corev1.ProtocolTCP,
			}},
			Selector:                 g.selector("loki", ""),
			PublishNotReadyAddresses: true,
		},
	}
}

func (g *gen) lokiStatefulSet(t target) Object {
	replicas := int32(t.replicas)
	return &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: g.lokiMeta(t.name, t.component),
		Spec: appsv1.StatefulSetSpec{
			Replicas:             &replicas,
			Selector:             &metav1.LabelSelector{MatchLabels: g.selector("loki", t.component)},
			ServiceName:          t.headless(),
			PodManagementPolicy:  appsv1.ParallelPodManagement,
			UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template:             g.lokiPodTemplate(t),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{g.dataClaimTemplate(t)},
			// Deleting or scaling down the StatefulSet keeps the logs.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
		},
	}
}

// lokiDeployment runs a stateless target (read).
func (g *gen) lokiDeployment(t target) Object {
	replicas := int32(t.replicas)
	return &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: g.lokiMeta(t.name, t.component),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: g.selector("loki", t.component)},
			Template: g.lokiPodTemplate(t),
		},
	}
}

// podDisruptionBudget lets node drains take one pod of a target at a time.
func (g *gen) podDisruptionBudget(t target) Object {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   typeMeta("policy/v1", "PodDisruptionBudget"),
		ObjectMeta: g.lokiMeta(t.name, t.component),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: g.selector("loki", t.component)},
		},
	}
}

func (g *gen) lokiPodTemplate(t target) corev1.PodTemplateSpec {
	grace := int64(120)
	no := false
	sum := sha256.Sum256([]byte(g.cfg))
	args := []string{"-config.file=" + lokiConfigDir + "/" + lokiConfigFile}
	if g.scalable() {
		// The object storage keys reach Loki as environment variables,
		// which the config references as ${AWS_...}.
		args = append(args, "-target="+t.component, "-config.expand-env=true")
	} else {
		args = append(args, "-target=all")
	}
	c := corev1.Container{
		Name:  "loki",
		Image: g.s.Spec.Loki.Image,
		Args:  args,
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
		Resources:       resources(t.resources),
		SecurityContext: restrictedContainerSecurity(),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "config", MountPath: lokiConfigDir, ReadOnly: true},
			{Name: g.n.data, MountPath: lokiDataDir},
			{Name: "tmp", MountPath: "/tmp"},
		},
	}
	volumes := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: g.n.config},
		}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if !t.stateful {
		volumes = append(volumes, corev1.Volume{Name: g.n.data, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	var affinity *corev1.Affinity
	if g.scalable() {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: lokiMemberlistPortName, ContainerPort: lokiMemberlistPort, Protocol: corev1.ProtocolTCP})
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: g.n.objectStorage},
		}}}
		affinity = g.spreadAcrossNodes(t)
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: g.podLabels("loki", t.component),
			// A changed config rolls the pods: Loki does not reload it.
			Annotations: map[string]string{"checksum/config": hex.EncodeToString(sum[:])},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName:            g.n.serviceAccount,
			AutomountServiceAccountToken:  &no,
			EnableServiceLinks:            &no,
			TerminationGracePeriodSeconds: &grace,
			SecurityContext:               restrictedPodSecurity(lokiUID),
			Affinity:                      affinity,
			Containers:                    []corev1.Container{c},
			Volumes:                       volumes,
		},
	}
}

// spreadAcrossNodes prefers (does not require: a one-node cluster must
// still run) putting a target's pods on different nodes.
func (g *gen) spreadAcrossNodes(t target) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: g.selector("loki", t.component)},
				TopologyKey:   "kubernetes.io/hostname",
			},
		}},
	}}
}

// dataClaimTemplate is immutable once the StatefulSet exists. apiVersion and
// kind are written out, as Kubernetes returns them; otherwise Argo CD shows a
// permanent diff. Its labels are the selector only, so that changing
// commonLabels never touches it.
func (g *gen) dataClaimTemplate(t target) corev1.PersistentVolumeClaim {
	st := g.s.Spec.Storage
	pvc := corev1.PersistentVolumeClaim{
		TypeMeta: typeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: metav1.ObjectMeta{
			Name:   g.n.data,
			Labels: g.selector("loki", t.component),
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
