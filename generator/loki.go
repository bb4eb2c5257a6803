package generator

import (
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

// lokiTargets are the Loki workloads of the stack's mode.
func (p *plan) lokiTargets() []target {
	s := p.spec
	if !p.scalable {
		return []target{{component: componentLoki, name: p.n.loki, replicas: 1, resources: s.Loki.Resources, stateful: true}}
	}
	ss := s.SimpleScalable
	return []target{
		{component: componentWrite, name: p.n.loki + "-write", replicas: ss.Write.Replicas, resources: ss.Write.Resources, stateful: true},
		{component: componentRead, name: p.n.loki + "-read", replicas: ss.Read.Replicas, resources: ss.Read.Resources},
		{component: componentBackend, name: p.n.loki + "-backend", replicas: ss.Backend.Replicas, resources: ss.Backend.Resources, stateful: true},
	}
}

// buildLoki returns the Loki server's objects: shared ones, then per
// target a workload, its Services and (simple-scalable) a
// PodDisruptionBudget.
func buildLoki(p *plan) []Object {
	objs := []Object{p.lokiServiceAccount(), p.lokiConfigMap()}
	if p.store != nil {
		objs = append(objs, p.storeCreds.objects(p)...)
	}
	if p.scalable {
		objs = append(objs, p.memberlistService())
	}
	for _, t := range p.targets {
		objs = append(objs, p.lokiService(t))
		if t.stateful {
			objs = append(objs, p.lokiHeadlessService(t), p.lokiStatefulSet(t))
		} else {
			objs = append(objs, p.lokiDeployment(t))
		}
		if p.scalable {
			objs = append(objs, p.podDisruptionBudget(t))
		}
	}
	return objs
}

func (p *plan) lokiServiceAccount() Object {
	no := false
	return &corev1.ServiceAccount{
		TypeMeta:   typeMeta("v1", "ServiceAccount"),
		ObjectMeta: p.lokiMeta(p.n.serviceAccount, ""),
		// Loki never calls the Kubernetes API.
		AutomountServiceAccountToken: &no,
	}
}

func (p *plan) lokiConfigMap() Object {
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: p.lokiMeta(p.n.config, ""),
		Data:       map[string]string{lokiConfigFile: p.lokiConfig},
	}
}

func (p *plan) lokiPorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: lokiHTTPPortName, Port: lokiHTTPPort, TargetPort: intstr.FromString(lokiHTTPPortName), Protocol: corev1.ProtocolTCP},
		{Name: lokiGRPCPortName, Port: lokiGRPCPort, TargetPort: intstr.FromString(lokiGRPCPortName), Protocol: corev1.ProtocolTCP},
	}
}

// lokiService is what Traefik, the collector, Grafana and Prometheus talk to.
func (p *plan) lokiService(t target) Object {
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: p.lokiMeta(t.name, t.component),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Ports:    p.lokiPorts(),
			Selector: p.selector("loki", t.component),
		},
	}
}

// serviceMonitorOptOut keeps headless Services out of the ServiceMonitor's
// selection; otherwise every target would be scraped twice.
const serviceMonitorOptOut = "prometheus.io/service-monitor"

// lokiHeadlessService gives a StatefulSet's pods their stable DNS names (and
// the backend's index gateways their DNS discovery).
func (p *plan) lokiHeadlessService(t target) Object {
	m := p.lokiMeta(t.headless(), t.component)
	m.Labels[serviceMonitorOptOut] = "false"
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: m,
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Ports:                    p.lokiPorts(),
			Selector:                 p.selector("loki", t.component),
			PublishNotReadyAddresses: true,
		},
	}
}

// memberlistService lets every Loki pod of the stack find the others for
// the hash rings (simple-scalable).
func (p *plan) memberlistService() Object {
	m := p.lokiMeta(p.n.memberlist, "")
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
			Selector:                 p.selector("loki", ""),
			PublishNotReadyAddresses: true,
		},
	}
}

func (p *plan) lokiStatefulSet(t target) Object {
	replicas := int32(t.replicas)
	return &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: p.lokiMeta(t.name, t.component),
		Spec: appsv1.StatefulSetSpec{
			Replicas:             &replicas,
			Selector:             &metav1.LabelSelector{MatchLabels: p.selector("loki", t.component)},
			ServiceName:          t.headless(),
			PodManagementPolicy:  appsv1.ParallelPodManagement,
			UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template:             p.lokiPodTemplate(t),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{p.dataClaimTemplate(t)},
			// Deleting or scaling down the StatefulSet keeps the logs.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
		},
	}
}

// lokiDeployment runs a stateless target (read).
func (p *plan) lokiDeployment(t target) Object {
	replicas := int32(t.replicas)
	return &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: p.lokiMeta(t.name, t.component),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: p.selector("loki", t.component)},
			Template: p.lokiPodTemplate(t),
		},
	}
}

// podDisruptionBudget lets node drains take one pod of a target at a time.
func (p *plan) podDisruptionBudget(t target) Object {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   typeMeta("policy/v1", "PodDisruptionBudget"),
		ObjectMeta: p.lokiMeta(t.name, t.component),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: p.selector("loki", t.component)},
		},
	}
}

func (p *plan) lokiPodTemplate(t target) corev1.PodTemplateSpec {
	grace := int64(120)
	no := false
	args := []string{"-config.file=" + lokiConfigDir + "/" + lokiConfigFile, "-target=all"}
	if p.scalable {
		args[1] = "-target=" + t.component
	}
	c := corev1.Container{
		Name:  "loki",
		Image: p.spec.Loki.Image,
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
			{Name: p.n.data, MountPath: lokiDataDir},
			{Name: "tmp", MountPath: "/tmp"},
		},
	}
	volumes := []corev1.Volume{configMapVolume(p.n.config), emptyDirVolume("tmp")}
	if !t.stateful {
		volumes = append(volumes, emptyDirVolume(p.n.data))
	}
	if p.tenancy != nil {
		// A directory, not a subPath: the kubelet updates it in place when
		// the ConfigMap changes, and Loki reloads it.
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "runtime", MountPath: lokiRuntimeDir, ReadOnly: true})
		volumes = append(volumes, namedConfigMapVolume("runtime", p.n.runtime))
	}
	var affinity *corev1.Affinity
	if p.scalable {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: lokiMemberlistPortName, ContainerPort: lokiMemberlistPort, Protocol: corev1.ProtocolTCP})
		affinity = p.spreadAcrossNodes(t)
	}
	pod := corev1.PodSpec{
		ServiceAccountName:            p.n.serviceAccount,
		AutomountServiceAccountToken:  &no,
		EnableServiceLinks:            &no,
		TerminationGracePeriodSeconds: &grace,
		SecurityContext:               restrictedPodSecurity(lokiUID),
		Affinity:                      affinity,
		Volumes:                       volumes,
	}
	if p.store != nil {
		p.store.configurePod(p, &pod, &c)
	}
	pod.Containers = []corev1.Container{c}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: p.podTemplateMeta("loki", t.component, p.lokiChecksum), Spec: pod}
	if p.store != nil {
		tmpl.Annotations[revisionAnnotation] = p.storeCreds.revision(p)
	}
	return tmpl
}

// spreadAcrossNodes prefers (does not require: a one-node cluster must
// still run) putting a target's pods on different nodes.
func (p *plan) spreadAcrossNodes(t target) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				LabelSelector: &metav1.LabelSelector{MatchLabels: p.selector("loki", t.component)},
				TopologyKey:   "kubernetes.io/hostname",
			},
		}},
	}}
}

// dataClaimTemplate is immutable once the StatefulSet exists. apiVersion and
// kind are written out, as Kubernetes returns them; otherwise Argo CD shows a
// permanent diff. Its labels are the selector only, so that changing
// commonLabels never touches it.
func (p *plan) dataClaimTemplate(t target) corev1.PersistentVolumeClaim {
	st := p.spec.Storage
	pvc := corev1.PersistentVolumeClaim{
		TypeMeta: typeMeta("v1", "PersistentVolumeClaim"),
		ObjectMeta: metav1.ObjectMeta{
			Name:   p.n.data,
			Labels: p.selector("loki", t.component),
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
