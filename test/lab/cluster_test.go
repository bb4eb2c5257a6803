package lab_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/test/internal/lab"
)

// TestClusterMakesPodsAndEndpoints checks the lab itself: a Deployment gets
// a scheduled, Running and Ready pod with an IP of kwok's range from the
// real controllers, the real EndpointSlice controller puts that IP behind
// the Service whose selector matches, and a Service whose selector matches
// nothing gets no endpoint (what a dry-run cannot see).
func TestClusterMakesPodsAndEndpoints(t *testing.T) {
	l := lab.Start(t)
	ctx := l.Ctx()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "smoke"}}
	if _, err := l.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	dep := deployment("smoke", "web", labels, corev1.Container{
		Name: "web", Image: "registry.k8s.io/pause:3.10",
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
	})
	if _, err := l.Client.AppsV1().Deployments("smoke").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, sel := range map[string]map[string]string{"web": labels, "typo": {"app": "wbe"}} {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "smoke"},
			Spec:       corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intOrName("http")}}},
		}
		if _, err := l.Client.CoreV1().Services("smoke").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var podIP string
	l.Eventually("the Deployment's pod Running and Ready", 90*time.Second, func() string {
		pods, err := l.Client.CoreV1().Pods("smoke").List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) != 1 {
			return fmt.Sprintf("pods: %v %v", err, len(pods.Items))
		}
		p := pods.Items[0]
		if p.Spec.NodeName != lab.NodeName || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			return fmt.Sprintf("node %q phase %s ip %q conditions %+v", p.Spec.NodeName, p.Status.Phase, p.Status.PodIP, p.Status.Conditions)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				podIP = p.Status.PodIP
				return ""
			}
		}
		return "not Ready"
	})
	_, kwokNet, _ := net.ParseCIDR("198.18.1.0/24")
	if !kwokNet.Contains(net.ParseIP(podIP)) {
		t.Fatalf("pod IP %s is not in kwok's range %s", podIP, kwokNet)
	}
	endpoints := func(svc string) []string {
		slices, err := l.Client.DiscoveryV1().EndpointSlices("smoke").List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range slices.Items {
			for _, ep := range s.Endpoints {
				out = append(out, ep.Addresses...)
			}
		}
		return out
	}
	l.Eventually("EndpointSlice of Service web", 30*time.Second, func() string {
		if eps := endpoints("web"); len(eps) != 1 || eps[0] != podIP {
			return fmt.Sprintf("endpoints %v, want [%s]", eps, podIP)
		}
		return ""
	})
	if eps := endpoints("typo"); len(eps) != 0 {
		t.Fatalf("Service typo (selector app=wbe) has endpoints %v", eps)
	}
	t.Logf("pod %s Running/Ready on %s; Service web → [%s]; Service typo (selector matches nothing) → no endpoint", podIP, lab.NodeName, podIP)
}

func intOrName(name string) intstr.IntOrString { return intstr.FromString(name) }

// deployment is a Deployment of one pod with labels and container c.
func deployment(namespace, name string, labels map[string]string, c corev1.Container, volumes ...corev1.Volume) *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{c}, Volumes: volumes},
			},
		},
	}
}
