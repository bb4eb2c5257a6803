package lab

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// These run without the lab (no namespaces, no cluster): the parts of the
// lab's kubelet that decide, not the parts that run programs.

func TestPodReadyNeedsEveryContainer(t *testing.T) {
	dir := t.TempDir()
	running := proc.Start(t, dir, "sleep", exec.Command("sleep", "60"))
	ended := proc.Start(t, dir, "true", exec.Command("true"))
	<-ended.Done()
	for _, tc := range []struct {
		name string
		rp   runPod
		want bool
	}{
		{"first container ready, no other", runPod{ready: true}, true},
		{"first container not ready", runPod{ready: false}, false},
		{"a container the lab has no program for", runPod{ready: true, notRun: 1}, false},
		{"sidecar running", runPod{ready: true, sidecars: []*sidecar{{proc: running}}}, true},
		{"sidecar not started", runPod{ready: true, sidecars: []*sidecar{{}}}, false},
		{"sidecar exited", runPod{ready: true, sidecars: []*sidecar{{proc: running}, {proc: ended}}}, false},
	} {
		if got := tc.rp.podReady(); got != tc.want {
			t.Errorf("%s: podReady() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestProjectKeys(t *testing.T) {
	data := map[string][]byte{"a": []byte("1"), "b": []byte("2")}
	files := map[string][]byte{}
	projectKeys(files, data, nil)
	if !reflect.DeepEqual(files, data) {
		t.Errorf("no items: %v, want every key %v", files, data)
	}
	files = map[string][]byte{"token": []byte("t")}
	projectKeys(files, data, []corev1.KeyToPath{{Key: "b", Path: "dir/b.txt"}})
	want := map[string][]byte{"token": []byte("t"), "dir/b.txt": []byte("2")}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("items: %v, want %v", files, want)
	}
}

func TestImagePinsMustMatch(t *testing.T) {
	pins := map[string]string{"prometheus": "v3.5.0", "prometheus-operator": "v0.85.0", "cert-manager": "v1.19.5"}
	if err := checkImagePins(pins); err != nil {
		t.Fatalf("pins equal to the images' tags: %v", err)
	}
	pins["prometheus"] = "v3.6.0"
	err := checkImagePins(pins)
	if err == nil || !strings.Contains(err.Error(), PrometheusImage) || !strings.Contains(err.Error(), "v3.6.0") {
		t.Fatalf("Prometheus pinned at v3.6.0, image %s: err = %v, want one naming both", PrometheusImage, err)
	}
}

func TestProgramOf(t *testing.T) {
	if p, ok := programOf(ConfigReloaderImage); !ok || p.Tool != "prometheus-config-reloader" {
		t.Errorf("programOf(%s) = %v, %v", ConfigReloaderImage, p, ok)
	}
	if _, ok := programOf("quay.io/prometheus/prometheus:v2.42.0"); ok {
		t.Error("an image of another version maps to a program")
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Image: "busybox"}, {Image: PrometheusImage}}}}
	if _, ok := programFor(pod); ok {
		t.Error("programFor looks past the first container")
	}
}

func TestPodUser(t *testing.T) {
	yes, uid := true, int64(10001)
	solver := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes}}}
	c := corev1.Container{Name: "acmesolver"}
	if got, _, _, err := podUser(solver, c, 1000); err != nil || got != 1000 {
		t.Errorf("runAsNonRoot, no runAsUser, image USER 1000: uid %d, %v; want 1000", got, err)
	}
	if _, _, _, err := podUser(solver, c, 0); err == nil || !strings.Contains(err.Error(), "runAsNonRoot") {
		t.Errorf("runAsNonRoot with an image that runs as root: err = %v, want a refusal", err)
	}
	solver.Spec.SecurityContext.RunAsUser = &uid
	if got, _, _, err := podUser(solver, c, 1000); err != nil || got != 10001 {
		t.Errorf("runAsUser 10001 over image USER 1000: uid %d, %v", got, err)
	}
	if got, _, _, err := podUser(&corev1.Pod{}, c, 0); err != nil || got != 0 {
		t.Errorf("no security context: uid %d, %v; want 0", got, err)
	}
}
