package generator

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// Promtail (end of life since March 2026) as the log collector. It reads
// the nodes' log files through hostPath volumes, as root, which only the
// "privileged" Pod Security Standard allows. Its RBAC allows read-only
// discovery of pods and their nodes.
var promtailKind = collectorKind{
	app:         v1alpha1.CollectorPromtail,
	configFile:  promtailConfigFile,
	podSecurity: levelPrivileged,
	rules:       readOnly("nodes", "nodes/proxy", "services", "endpoints", "pods"),
	config:      promtailConfigYAML,
	pod:         promtailPod,
}

const (
	promtailPort       = 3101
	promtailConfigDir  = "/etc/promtail"
	promtailConfigFile = "promtail.yaml"
	// positionsDir is a hostPath, so a restarted Promtail resumes where it
	// stopped instead of re-sending every log file.
	positionsDir = "/run/promtail"
	podLogsDir   = "/var/log/pods"
)

// promtailConfig is the subset of Promtail's configuration loki-cmp writes.
type promtailConfig struct {
	Server        promtailServer         `json:"server"`
	Positions     promtailPositions      `json:"positions"`
	Clients       []promtailClient       `json:"clients"`
	ScrapeConfigs []promtailScrapeConfig `json:"scrape_configs"`
}

type promtailServer struct {
	HTTPListenPort int    `json:"http_listen_port"`
	GRPCListenPort int    `json:"grpc_listen_port"`
	LogLevel       string `json:"log_level"`
}

type promtailPositions struct {
	Filename string `json:"filename"`
}

type promtailClient struct {
	URL      string `json:"url"`
	TenantID string `json:"tenant_id,omitempty"`
}

type promtailScrapeConfig struct {
	JobName             string              `json:"job_name"`
	PipelineStages      []map[string]any    `json:"pipeline_stages"`
	KubernetesSDConfigs []map[string]string `json:"kubernetes_sd_configs"`
	RelabelConfigs      []relabelConfig     `json:"relabel_configs"`
}

type relabelConfig struct {
	SourceLabels []string `json:"source_labels,omitempty"`
	Separator    string   `json:"separator,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	TargetLabel  string   `json:"target_label,omitempty"`
	Replacement  string   `json:"replacement,omitempty"`
	Action       string   `json:"action,omitempty"`
}

func promtailConfigYAML(p *plan) string {
	relabel := func(source, target string) relabelConfig {
		return relabelConfig{SourceLabels: []string{source}, TargetLabel: target, Action: "replace"}
	}
	c := promtailConfig{
		// grpc_listen_port 0 picks a free port: Promtail serves nothing on gRPC.
		Server:    promtailServer{HTTPListenPort: promtailPort, GRPCListenPort: 0, LogLevel: "info"},
		Positions: promtailPositions{Filename: positionsDir + "/positions.yaml"},
		Clients:   []promtailClient{{URL: p.pushURL}},
		ScrapeConfigs: []promtailScrapeConfig{{
			JobName:             "kubernetes-pods",
			PipelineStages:      []map[string]any{{"cri": map[string]any{}}},
			KubernetesSDConfigs: []map[string]string{{"role": "pod"}},
			RelabelConfigs: []relabelConfig{
				// Only pods of this node: Promtail compares __host__ with $HOSTNAME.
				relabel("__meta_kubernetes_pod_node_name", "__host__"),
				relabel("__meta_kubernetes_namespace", "namespace"),
				relabel("__meta_kubernetes_pod_name", "pod"),
				relabel("__meta_kubernetes_pod_container_name", "container"),
				relabel("__meta_kubernetes_pod_node_name", "node_name"),
				relabel("__meta_kubernetes_pod_label_app_kubernetes_io_name", "app"),
				{
					SourceLabels: []string{"__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"},
					Separator:    "/",
					TargetLabel:  "__path__",
					Replacement:  podLogsDir + "/*$1/*.log",
					Action:       "replace",
				},
			},
		}},
	}
	switch col := p.spec.Collector; {
	case p.tenancy != nil && col.TenantFromNamespace:
		// The tenant of each line is its namespace label, set above.
		sc := &c.ScrapeConfigs[0]
		sc.PipelineStages = append(sc.PipelineStages, map[string]any{"tenant": map[string]any{"label": "namespace"}})
	case p.tenancy != nil:
		c.Clients[0].TenantID = col.Tenant
	}
	return mustYAML(c)
}

func promtailPod(p *plan) corev1.PodSpec {
	root := int64(0)
	yes, no := true, false
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	dir := corev1.HostPathDirectory
	return corev1.PodSpec{
		ServiceAccountName: p.n.collector,
		EnableServiceLinks: &no,
		// Root only to read the node's root-owned log files; no
		// capabilities, no privilege escalation, read-only root fs.
		SecurityContext: &corev1.PodSecurityContext{
			RunAsUser:      &root,
			RunAsGroup:     &root,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Tolerations: controlPlaneTolerations(),
		Containers: []corev1.Container{{
			Name:  "promtail",
			Image: p.spec.Collector.Image,
			Args:  []string{"-config.file=" + promtailConfigDir + "/" + promtailConfigFile},
			Env:   nodeNameEnv("HOSTNAME"),
			Ports: []corev1.ContainerPort{{Name: "http-metrics", ContainerPort: promtailPort, Protocol: corev1.ProtocolTCP}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Path: "/ready", Port: intstr.FromString("http-metrics"),
				}},
				InitialDelaySeconds: 10,
			},
			Resources: resources(p.spec.Collector.Resources),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: &no,
				ReadOnlyRootFilesystem:   &yes,
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "config", MountPath: promtailConfigDir, ReadOnly: true},
				{Name: "positions", MountPath: positionsDir},
				{Name: "pods", MountPath: podLogsDir, ReadOnly: true},
			},
		}},
		Volumes: []corev1.Volume{
			configMapVolume(p.n.collector),
			{Name: "positions", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: positionsDir + "/" + p.ns + "-" + p.name, Type: &dirOrCreate,
			}}},
			{Name: "pods", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: podLogsDir, Type: &dir,
			}}},
		},
	}
}
