package lab_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/thedevops/loki-cmp/test/internal/lab"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// TestSimpleScalableFlows applies the simple-scalable example on a MinIO
// the test deploys where the example expects it (minio.minio.svc:9000,
// its keys in the Secret loki-s3 that the example references, made before
// the stack as its owner would): three write, two read and two backend pods of real
// Loki, joined by memberlist through the rendered Service, behind real
// Traefik; a pushed line is found by a LogQL query, and Alloy (the
// example's collector) ships a pod's log line.
func TestSimpleScalableFlows(t *testing.T) {
	start := time.Now()
	s := deployWith(t, "simple-scalable", func(l *lab.Lab) {
		createS3Secret(l, "loki", "loki-s3", startMinIO(l).root)
	},
		"loki-data-loki-write-0", "loki-data-loki-write-1", "loki-data-loki-write-2",
		"loki-data-loki-backend-0", "loki-data-loki-backend-1")
	if code, _, body := s.c.must("GET", "/loki/api/v1/labels", "", "", nil); code != 401 {
		t.Fatalf("no credentials: %d %s, want 401", code, body)
	}
	line := fmt.Sprintf("lab simple-scalable line %d", time.Now().UnixNano())
	pushed := s.c.push(s.user, s.password, line)
	found := s.c.find(s.user, s.password, line, pushed)
	t.Logf("simple-scalable: no credentials → 401; push → 204 (write path); query_range found %q after %s (read path)", line, found)
	t.Run("Alloy ships a pod's log", func(t *testing.T) { checkCollectorShips(t, s, "Alloy") })
	t.Run("Traefik's view", func(t *testing.T) { checkTraefik(t, s.tr, s.ns) })
	t.Run("NetworkPolicy selects Loki", func(t *testing.T) { checkNetworkPolicy(t, s.l, s.ns, "loki") })
	t.Run("Prometheus scrapes Loki", func(t *testing.T) { checkScrape(t, s) })
	s.l.Logf("simple-scalable lab run: %s in all", time.Since(start).Round(100*time.Millisecond))
}

// s3Key is an S3 access key.
type s3Key struct{ id, secret string }

// createS3Secret is the Secret the example's credentials.secret names, as
// its owner would create it before the stack.
func createS3Secret(l *lab.Lab, ns, name string, k s3Key) {
	t := l.T()
	if err := l.API.EnsureNamespace(l.Ctx(), ns); err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       map[string][]byte{"AWS_ACCESS_KEY_ID": []byte(k.id), "AWS_SECRET_ACCESS_KEY": []byte(k.secret)},
	}
	if _, err := l.Client.CoreV1().Secrets(ns).Create(l.Ctx(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// startMinIO deploys MinIO (one pod, the lab's MinIO build, on a lab
// volume) in namespace minio and creates the example's buckets. It returns
// its root key and address.
func startMinIO(l *lab.Lab) minioServer {
	t := l.T()
	ctx := l.Ctx()
	user, secret := render.Password("LOKI_S3_ACCESS_KEY_ID"), render.Password("LOKI_S3_SECRET_ACCESS_KEY")
	if err := l.API.EnsureNamespace(ctx, "minio"); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "minio"}
	l.ProvideVolume("minio", "minio-data", "10Gi")
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "minio-data", Namespace: "minio"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &[]string{"longhorn"}[0],
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity("10Gi")}},
		},
	}
	if _, err := l.Client.CoreV1().PersistentVolumeClaims("minio").Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dep := deployment("minio", "minio", labels, corev1.Container{
		Name: "minio", Image: lab.MinIOImage,
		Command: []string{"/usr/bin/minio", "server", "/data", "--address", ":9000", "--console-address", ":9001"},
		Env: []corev1.EnvVar{
			{Name: "MINIO_ROOT_USER", Value: user}, {Name: "MINIO_ROOT_PASSWORD", Value: secret},
		},
		Ports:          []corev1.ContainerPort{{Name: "s3", ContainerPort: 9000}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/minio/health/ready", Port: intstr.FromString("s3")}}, PeriodSeconds: 1},
		VolumeMounts:   []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
	}, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "minio-data"}}})
	if _, err := l.Client.AppsV1().Deployments("minio").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "minio", Namespace: "minio"},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "s3", Port: 9000, TargetPort: intstr.FromString("s3")}}},
	}
	if _, err := l.Client.CoreV1().Services("minio").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var ip string
	l.Eventually("MinIO Ready", 2*time.Minute, func() string {
		d, err := l.Client.AppsV1().Deployments("minio").Get(ctx, "minio", metav1.GetOptions{})
		if err != nil || d.Status.AvailableReplicas < 1 {
			return fmt.Sprintf("%v available %d", err, d.Status.AvailableReplicas)
		}
		pods, err := l.Client.CoreV1().Pods("minio").List(ctx, metav1.ListOptions{LabelSelector: "app=minio"})
		if err != nil || len(pods.Items) == 0 {
			return fmt.Sprintf("%v", err)
		}
		ip = pods.Items[0].Status.PodIP
		return ""
	})
	client, err := minio.New(net.JoinHostPort(ip, "9000"), &minio.Options{Creds: credentials.NewStaticV4(user, secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, b := range []string{"loki-chunks", "loki-ruler"} {
		if err := client.MakeBucket(cctx, b, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
			t.Fatalf("make bucket %s: %v", b, err)
		}
	}
	l.Logf("minio: Ready at %s, buckets loki-chunks and loki-ruler", ip)
	return minioServer{root: s3Key{user, secret}, addr: net.JoinHostPort(ip, "9000")}
}

// minioServer is the lab's MinIO: its root key and its pod's S3 address.
type minioServer struct {
	root s3Key
	addr string
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
