package validation

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/proc"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// lokiProc is one Loki process of the simple-scalable test: a pod of one
// target, with the ports it listens on.
type lokiProc struct {
	target                 string
	id                     string // instance ID in the rings (in a pod: its hostname)
	http, grpc, memberlist int
	workload               *unstructured.Unstructured
	proc                   *proc.Process
}

// TestSimpleScalableLive runs the s3-plaintext example (simple-scalable
// with the opt-in plaintext keys; the lab runs the referenced forms) for real on
// 127.0.0.1: MinIO as the object store, and every pod the example asks for
// (3 write, 2 read, 2 backend) as a Loki process started with its
// workload's own arguments and the rendered config, only paths and
// addresses rewritten (Kubernetes DNS names become 127.0.0.1 ports). The S3
// keys come from the rendered Secret, through the environment, as in the
// pods. A line pushed to a write pod is read back through a read pod.
func TestSimpleScalableLive(t *testing.T) {
	t.Parallel()
	lokiBin := testtools.Find(t, "loki")
	minioBin := testtools.Find(t, "minio")
	file := exampleFile(t, "s3-plaintext")
	objs := render.Objects(t, file)
	doc := render.Stack(t, file).Stack
	env := secretEnv(t, render.Find(t, objs, "Secret", doc.Metadata.Name+"-object-storage"))

	// MinIO, whose root credentials are the rendered keys.
	ports := proc.FreePorts(t, 2)
	minioCmd := exec.Command(minioBin, "server", "--address", proc.Addr(ports[0]), "--console-address", proc.Addr(ports[1]), t.TempDir())
	minioCmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+env["AWS_ACCESS_KEY_ID"],
		"MINIO_ROOT_PASSWORD="+env["AWS_SECRET_ACCESS_KEY"], "MINIO_BROWSER=off")
	minioProc := proc.Start(t, t.TempDir(), "minio", minioCmd)
	waitReady(t, minioProc, proc.URL(ports[0])+"/minio/health/live", time.Minute)
	createBuckets(t, proc.Addr(ports[0]), env, doc.Spec.ObjectStorage.ChunksBucket, doc.Spec.ObjectStorage.RulerBucket)

	// One process per pod, each with its own ports and data directory.
	var procs []*lokiProc
	for _, w := range lokiWorkloads(t, objs) {
		// Numbers decoded from YAML are float64.
		replicas, ok, _ := unstructured.NestedFieldNoCopy(w.Object, "spec", "replicas")
		n, isNum := replicas.(float64)
		if !ok || !isNum || n < 1 {
			t.Fatalf("%s %s: replicas %v", w.GetKind(), w.GetName(), replicas)
		}
		for i := 0; i < int(n); i++ {
			p := proc.FreePorts(t, 3)
			target := w.GetLabels()["app.kubernetes.io/component"]
			procs = append(procs, &lokiProc{target: target, id: fmt.Sprintf("%s-%d", w.GetName(), i), http: p[0], grpc: p[1], memberlist: p[2], workload: w})
		}
	}
	cfg := lokiConfig(t, file)
	for _, p := range procs {
		c := rewriteScalable(t, cfg, t.TempDir(), p, procs, proc.Addr(ports[0]))
		args := withConfigFile(containerArgs(t, p.workload, "loki"), writeLokiConfig(t, c))
		cmd := exec.Command(lokiBin, args...)
		cmd.Env = os.Environ()
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		p.proc = proc.Start(t, t.TempDir(), "loki-"+p.target, cmd)
	}
	for _, p := range procs {
		waitReady(t, p.proc, proc.URL(p.http)+"/ready", 3*time.Minute)
	}
	pushAndQuery(t, proc.URL(first(procs, "write").http), proc.URL(first(procs, "read").http), "simple-scalable", 2*time.Minute)
}

func first(procs []*lokiProc, target string) *lokiProc {
	for _, p := range procs {
		if p.target == target {
			return p
		}
	}
	panic("no " + target)
}

// secretEnv decodes the rendered Secret's data: the environment the pods get
// through envFrom.
func secretEnv(t *testing.T, s *unstructured.Unstructured) map[string]string {
	data, _, _ := unstructured.NestedStringMap(s.Object, "data")
	env := map[string]string{}
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatal(err)
		}
		env[k] = string(b)
	}
	if env["AWS_ACCESS_KEY_ID"] == "" || env["AWS_SECRET_ACCESS_KEY"] == "" {
		t.Fatalf("Secret %s lacks the S3 keys: %v", s.GetName(), envNames(env))
	}
	return env
}

func envNames(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func createBuckets(t *testing.T, endpoint string, env map[string]string, buckets ...string) {
	client, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, b := range buckets {
		if err := client.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
}

// rewriteScalable adapts the rendered config to processes on 127.0.0.1:
// paths under /var/loki move to dataDir; the listeners, the memberlist
// member list, the compactor and index-gateway addresses and the S3
// endpoint, which name Kubernetes Services, become 127.0.0.1 ports; and each
// process gets the ring instance ID its pod's hostname would give it.
func rewriteScalable(t *testing.T, cfg, dataDir string, self *lokiProc, all []*lokiProc, s3 string) string {
	t.Helper()
	c := rewriteForTest(t, cfg, dataDir, self.http, self.grpc)
	var m map[string]any
	if err := yaml.Unmarshal([]byte(c), &m); err != nil {
		t.Fatal(err)
	}
	section := func(name string) map[string]any {
		s, ok := m[name].(map[string]any)
		if !ok {
			t.Fatalf("the config has no %s section", name)
		}
		return s
	}
	var members []string
	for _, p := range all {
		members = append(members, proc.Addr(p.memberlist))
	}
	ml := section("memberlist")
	ml["join_members"] = members
	ml["bind_addr"] = []string{"127.0.0.1"}
	ml["bind_port"] = self.memberlist
	ml["advertise_addr"] = "127.0.0.1"
	ml["advertise_port"] = self.memberlist
	common := section("common")
	common["instance_addr"] = "127.0.0.1"
	// In a pod the hostname tells the ring members apart; here they share one.
	ring, _ := common["ring"].(map[string]any)
	if ring == nil {
		t.Fatal("the config has no common.ring")
	}
	ring["instance_id"] = self.id
	backend := first(all, "backend")
	common["compactor_grpc_address"] = proc.Addr(backend.grpc)
	common["storage"].(map[string]any)["s3"].(map[string]any)["endpoint"] = s3
	section("ruler")["storage"].(map[string]any)["s3"].(map[string]any)["endpoint"] = s3
	idx := section("storage_config")["tsdb_shipper"].(map[string]any)["index_gateway_client"].(map[string]any)
	if !strings.HasPrefix(fmt.Sprint(idx["server_address"]), "dns+") {
		t.Fatalf("index gateway address %v: want DNS discovery of the backend pods", idx["server_address"])
	}
	idx["server_address"] = proc.Addr(backend.grpc)
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
