package generator

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/api/v1alpha1"
)

// Grafana Alloy, Promtail's successor, as the log collector. It reads the
// logs of the pods on its node through the Kubernetes API
// (loki.source.kubernetes), so it needs no hostPath and runs under the
// "restricted" Pod Security Standard, as a non-root user. Its RBAC allows
// discovering pods and reading their logs; nothing else.
var alloyKind = collectorKind{
	app:         v1alpha1.CollectorAlloy,
	configFile:  alloyConfigFile,
	podSecurity: levelRestricted,
	rules:       readOnly("pods", "pods/log"),
	config:      alloyConfig,
	pod:         alloyPod,
}

const (
	alloyPort       = 12345
	alloyUID        = 473 // the "alloy" user of the grafana/alloy image
	alloyConfigDir  = "/etc/alloy"
	alloyConfigFile = "config.alloy"
	alloyDataDir    = "/var/lib/alloy/data"
)

// alloyBlock is one block of Alloy's configuration syntax:
//
//	name "label" {
//	  attribute = value
//	  nested { ... }
//	}
//
// Values are alloyValues, so every string is quoted by one function.
type alloyBlock struct {
	name, label string
	attrs       []alloyAttr
	blocks      []alloyBlock
}

type alloyAttr struct {
	name  string
	value alloyValue
}

// alloyValue is an expression: a quoted string, a reference or a list.
type alloyValue interface{ alloy() string }

type alloyString string
type alloyRef string // a component export, function call or operator expression
type alloyList []alloyValue

// Alloy's string literals use Go's escapes.
func (s alloyString) alloy() string { return strconv.Quote(string(s)) }
func (r alloyRef) alloy() string    { return string(r) }
func (l alloyList) alloy() string {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = v.alloy()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (b alloyBlock) write(sb *strings.Builder, indent string) {
	sb.WriteString(indent + b.name)
	if b.label != "" {
		sb.WriteString(" " + strconv.Quote(b.label))
	}
	sb.WriteString(" {\n")
	for _, a := range b.attrs {
		sb.WriteString(indent + "  " + a.name + " = " + a.value.alloy() + "\n")
	}
	for _, nested := range b.blocks {
		nested.write(sb, indent+"  ")
	}
	sb.WriteString(indent + "}\n")
}

func attr(name string, v alloyValue) alloyAttr { return alloyAttr{name, v} }

// relabelRule copies a discovered meta label to a log label.
func relabelRule(source, target string) alloyBlock {
	return alloyBlock{name: "rule", attrs: []alloyAttr{
		attr("source_labels", alloyList{alloyString(source)}),
		attr("target_label", alloyString(target)),
	}}
}

// alloyConfig discovers the pods of this node, labels their logs like
// Promtail does (namespace, pod, container, node_name, app) and pushes
// them to Loki.
func alloyConfig(p *plan) string {
	c := p.spec.Collector
	perNamespace := p.tenancy != nil && c.TenantFromNamespace
	source := "loki.write.default.receiver"
	if perNamespace {
		source = "loki.relabel.tenant.receiver"
	}
	blocks := []alloyBlock{
		{name: "discovery.kubernetes", label: "pods", attrs: []alloyAttr{attr("role", alloyString("pod"))},
			blocks: []alloyBlock{{name: "selectors", attrs: []alloyAttr{
				attr("role", alloyString("pod")),
				// Only this node's pods: each DaemonSet pod reads its own node's logs.
				attr("field", alloyRef(`"spec.nodeName=" + sys.env("NODE_NAME")`)),
			}}}},
		{name: "discovery.relabel", label: "pods",
			attrs: []alloyAttr{attr("targets", alloyRef("discovery.kubernetes.pods.targets"))},
			blocks: []alloyBlock{
				relabelRule("__meta_kubernetes_namespace", "namespace"),
				relabelRule("__meta_kubernetes_pod_name", "pod"),
				relabelRule("__meta_kubernetes_pod_container_name", "container"),
				relabelRule("__meta_kubernetes_pod_node_name", "node_name"),
				relabelRule("__meta_kubernetes_pod_label_app_kubernetes_io_name", "app"),
			}},
		{name: "loki.source.kubernetes", label: "pods", attrs: []alloyAttr{
			attr("targets", alloyRef("discovery.relabel.pods.output")),
			attr("forward_to", alloyList{alloyRef(source)}),
		}},
	}
	endpoint := alloyBlock{name: "endpoint", attrs: []alloyAttr{attr("url", alloyString(p.pushURL))}}
	switch {
	case perNamespace:
		// loki.write sends each entry to the tenant in its __tenant_id__
		// label, and drops the label. loki.source.kubernetes drops every
		// __ label of its targets, so it is set on the entries.
		blocks = append(blocks, alloyBlock{name: "loki.relabel", label: "tenant",
			attrs:  []alloyAttr{attr("forward_to", alloyList{alloyRef("loki.write.default.receiver")})},
			blocks: []alloyBlock{relabelRule("namespace", "__tenant_id__")},
		})
	case p.tenancy != nil:
		endpoint.attrs = append(endpoint.attrs, attr("tenant_id", alloyString(c.Tenant)))
	}
	blocks = append(blocks, alloyBlock{name: "loki.write", label: "default", blocks: []alloyBlock{endpoint}})
	var sb strings.Builder
	sb.WriteString("// Rendered by loki-cmp: tail the logs of this node's pods through the\n// Kubernetes API and push them to Loki.\n")
	for _, b := range blocks {
		sb.WriteByte('\n')
		b.write(&sb, "")
	}
	return sb.String()
}

func alloyPod(p *plan) corev1.PodSpec {
	no := false
	return corev1.PodSpec{
		ServiceAccountName: p.n.collector,
		EnableServiceLinks: &no,
		SecurityContext:    restrictedPodSecurity(alloyUID),
		Tolerations:        controlPlaneTolerations(),
		Containers: []corev1.Container{{
			Name:  "alloy",
			Image: p.spec.Collector.Image,
			Args: []string{
				"run", alloyConfigDir + "/" + alloyConfigFile,
				"--storage.path=" + alloyDataDir,
				"--server.http.listen-addr=0.0.0.0:" + strconv.Itoa(alloyPort),
				"--disable-reporting",
			},
			Env:   nodeNameEnv("NODE_NAME"),
			Ports: []corev1.ContainerPort{{Name: "http-metrics", ContainerPort: alloyPort, Protocol: corev1.ProtocolTCP}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Path: "/-/ready", Port: intstr.FromString("http-metrics"),
				}},
				InitialDelaySeconds: 10,
			},
			Resources:       resources(p.spec.Collector.Resources),
			SecurityContext: restrictedContainerSecurity(),
			VolumeMounts: []corev1.VolumeMount{
				{Name: "config", MountPath: alloyConfigDir, ReadOnly: true},
				{Name: "data", MountPath: alloyDataDir},
				{Name: "tmp", MountPath: "/tmp"},
			},
		}},
		Volumes: []corev1.Volume{configMapVolume(p.n.collector), emptyDirVolume("data"), emptyDirVolume("tmp")},
	}
}
