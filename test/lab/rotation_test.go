package lab_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/lab"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// vsoRestartedAt is the pod-template annotation Vault Secrets Operator sets
// on each of a VaultStaticSecret's rolloutRestartTargets.
const vsoRestartedAt = "vso.secrets.hashicorp.com/restartedAt"

// rotation is the S3 key rotation's lab: MinIO with a user for Loki, Vault
// holding that user's key, the Vault Secrets Operator copying it into the
// Secret the Loki pods read.
type rotation struct {
	t     *testing.T
	s     *stack
	minio minioServer
	admin *madmin.AdminClient
	vault *testtools.Vault
	key1  s3Key // the key the stack starts with
}

// TestS3KeyRotation deploys the s3-vault-secrets-operator example (S3 keys
// by reference: a VaultStaticSecret, which real Vault Secrets Operator
// turns into the Secret loki-s3-keys) on MinIO, and rotates the key as
// docs/argocd.md's runbook says: a new key at MinIO, the new key in Vault,
// the operator updates the Secret and restarts exactly the write, read and
// backend pods, the old key is revoked; push, query and chunk flushes to
// MinIO go on working with the new key alone.
func TestS3KeyRotation(t *testing.T) {
	start := time.Now()
	r := &rotation{t: t}
	r.s = deployWith(t, "s3-vault-secrets-operator", r.before,
		"loki-data-loki-write-0", "loki-data-loki-write-1", "loki-data-loki-write-2",
		"loki-data-loki-backend-0", "loki-data-loki-backend-1")
	s := r.s
	first := fmt.Sprintf("lab rotation line %d (first key)", time.Now().UnixNano())
	s.c.find(s.user, s.password, first, s.c.push(s.user, s.password, first))

	before := r.podUIDs()
	collector := r.collectorUIDs()
	key2 := newS3Key("loki-2")
	r.addUser(key2)
	rotated := time.Now()
	r.vault.CLI(t, "kv", "put", "-mount=secret", "loki/s3", "access-key-id="+key2.id, "secret-access-key="+key2.secret)
	var secretAt time.Duration
	s.l.Eventually("the operator writes the new key into loki-s3-keys", 2*time.Minute, func() string {
		sec, err := s.l.Client.CoreV1().Secrets(s.ns).Get(s.l.Ctx(), "loki-s3-keys", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if got := string(sec.Data["access-key-id"]); got != key2.id {
			return "access-key-id " + got
		}
		secretAt = time.Since(rotated)
		return ""
	})
	rolled := r.waitRolled(before)
	if after := r.collectorUIDs(); !slices.Equal(after, collector) {
		t.Errorf("the collector's pods changed (%v → %v): only the pods that read the keys may roll", collector, after)
	}

	// Revoke the old key: nothing may still use it.
	if err := r.admin.RemoveUser(s.l.Ctx(), r.key1.id); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	if _, err := r.client(r.key1).ListBuckets(s.l.Ctx()); err == nil {
		t.Fatal("MinIO still accepts the revoked key")
	}
	second := fmt.Sprintf("lab rotation line %d (second key)", time.Now().UnixNano())
	s.c.find(s.user, s.password, second, s.c.push(s.user, s.password, second))
	s.c.find(s.user, s.password, first, start)
	flushed := r.flushWrites(revoked)
	t.Logf("rotation: new key in Vault → Secret updated after %s, the %d Loki pods rolled after %s (collector untouched), old key revoked; push + query of a new line OK, the line pushed before found, %d chunk object(s) written to MinIO after the revocation",
		secretAt.Round(100*time.Millisecond), len(before), rolled.Round(100*time.Millisecond), flushed)
	s.l.Logf("S3 key rotation lab run: %s in all", time.Since(start).Round(100*time.Millisecond))
}

// before readies what the example expects before the stack: MinIO with
// Loki's user, Vault with its key, and the operator with its connection
// and AppRole login in namespace loki.
func (r *rotation) before(l *lab.Lab) {
	t := r.t
	r.minio = startMinIO(l)
	admin, err := madmin.New(r.minio.addr, r.minio.root.id, r.minio.root.secret, false)
	if err != nil {
		t.Fatal(err)
	}
	r.admin = admin
	key1 := newS3Key("loki-1")
	r.key1 = key1
	r.addUser(key1)

	r.vault = testtools.StartVault(t, false)
	v := r.vault
	v.CLI(t, "kv", "put", "-mount=secret", "loki/s3", "access-key-id="+key1.id, "secret-access-key="+key1.secret)
	v.CLI(t, "auth", "enable", "approle")
	policy := `path "secret/data/loki/s3" { capabilities = ["read"] }` + "\n" + `path "secret/metadata/loki/s3" { capabilities = ["read"] }`
	r.vaultWithStdin(policy, "policy", "write", "vso-loki", "-")
	v.CLI(t, "write", "auth/approle/role/loki", "token_policies=vso-loki", "token_ttl=10m")
	roleID := strings.TrimSpace(v.CLI(t, "read", "-field=role_id", "auth/approle/role/loki/role-id"))
	secretID := strings.TrimSpace(v.CLI(t, "write", "-f", "-field=secret_id", "auth/approle/role/loki/secret-id"))

	ctx := l.Ctx()
	if err := l.API.EnsureNamespace(ctx, "loki"); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vso-approle", Namespace: "loki"}, Data: map[string][]byte{"id": []byte(secretID)}}
	if _, err := l.Client.CoreV1().Secrets("loki").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []map[string]any{
		{"kind": "VaultConnection", "metadata": map[string]any{"name": "default", "namespace": "loki"},
			"spec": map[string]any{"address": v.Addr, "skipTLSVerify": false}},
		{"kind": "VaultAuth", "metadata": map[string]any{"name": "loki", "namespace": "loki"},
			"spec": map[string]any{"vaultConnectionRef": "default", "method": "appRole", "mount": "approle",
				"appRole": map[string]any{"roleId": roleID, "secretRef": "vso-approle"}}},
	} {
		o["apiVersion"] = "secrets.hashicorp.com/v1beta1"
		if err := l.API.ApplyAs(ctx, &unstructured.Unstructured{Object: o}, "platform"); err != nil {
			t.Fatal(err)
		}
	}
	r.startOperator(l)
}

// startOperator runs Vault Secrets Operator as the process its chart runs
// in the pod, against the lab's API server: no leader election (one
// replica), no client cache persistence (nothing to encrypt it with).
func (r *rotation) startOperator(l *lab.Lab) {
	ports := proc.FreePorts(r.t, 2)
	cmd := exec.Command(testtools.Find(r.t, "vault-secrets-operator"),
		"--leader-elect=false",
		"--metrics-bind-address="+proc.Addr(ports[0]),
		"--health-probe-bind-address="+proc.Addr(ports[1]),
		"--client-cache-persistence-model=none",
		// The chart's default is 5 s; a failed sync (the VaultAuth not yet
		// there) is retried sooner here.
		"--backoff-initial-interval=1s",
	)
	cmd.Env = append(cmd.Environ(), "KUBECONFIG="+l.Kubeconfig, "OPERATOR_NAMESPACE=loki")
	proc.Start(r.t, l.Dir, "vault-secrets-operator", cmd)
}

func (r *rotation) vaultWithStdin(stdin string, args ...string) {
	r.t.Helper()
	cmd := exec.Command(testtools.Find(r.t, "vault"), args...)
	cmd.Env = append(cmd.Environ(), "VAULT_ADDR="+r.vault.Addr, "VAULT_TOKEN="+r.vault.RootToken)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("vault %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newS3Key is a fresh key for MinIO user id.
func newS3Key(id string) s3Key {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return s3Key{id: id, secret: hex.EncodeToString(b)}
}

// addUser creates a MinIO user with readwrite on every bucket, as a
// platform team makes one per application.
func (r *rotation) addUser(k s3Key) {
	ctx := context.Background()
	if err := r.admin.AddUser(ctx, k.id, k.secret); err != nil {
		r.t.Fatalf("MinIO user %s: %v", k.id, err)
	}
	if _, err := r.admin.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{"readwrite"}, User: k.id}); err != nil {
		r.t.Fatalf("MinIO policy for %s: %v", k.id, err)
	}
}

func (r *rotation) client(k s3Key) *minio.Client {
	c, err := minio.New(r.minio.addr, &minio.Options{Creds: credentials.NewStaticV4(k.id, k.secret, ""), Region: "us-east-1"})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// lokiPods are the pods of the three workloads that read the keys.
func (r *rotation) lokiPods() []corev1.Pod {
	pods, err := r.s.l.Client.CoreV1().Pods(r.s.ns).List(r.s.l.Ctx(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=loki,app.kubernetes.io/component in (write,read,backend)"})
	if err != nil {
		r.t.Fatal(err)
	}
	return pods.Items
}

func (r *rotation) podUIDs() []string {
	var out []string
	for _, p := range r.lokiPods() {
		out = append(out, string(p.UID))
	}
	return out
}

func (r *rotation) collectorUIDs() []string {
	var out []string
	pods, err := r.s.l.Client.CoreV1().Pods(r.s.spec.Collector.Namespace).List(r.s.l.Ctx(), metav1.ListOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, p := range pods.Items {
		out = append(out, string(p.UID))
	}
	slices.Sort(out)
	return out
}

// waitRolled waits until every pod of before is replaced, the three
// workloads carry the operator's restart annotation and are healthy again.
func (r *rotation) waitRolled(before []string) time.Duration {
	s := r.s
	start := time.Now()
	workloads := []struct{ kind, name string }{{"StatefulSet", "loki-write"}, {"Deployment", "loki-read"}, {"StatefulSet", "loki-backend"}}
	s.l.Eventually("the operator restarts write, read and backend, and they are healthy", 8*time.Minute, func() string {
		for _, w := range workloads {
			o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": w.kind,
				"metadata": map[string]any{"name": w.name, "namespace": s.ns}}}
			res, err := s.l.API.Resource(o)
			if err != nil {
				return err.Error()
			}
			live, err := res.Get(s.l.Ctx(), w.name, metav1.GetOptions{})
			if err != nil {
				return err.Error()
			}
			if a, _, _ := unstructured.NestedString(live.Object, "spec", "template", "metadata", "annotations", vsoRestartedAt); a == "" {
				return w.name + ": no " + vsoRestartedAt
			}
			if h := s.l.Health(o); h != "" {
				return w.name + ": " + h
			}
		}
		pods := r.lokiPods()
		for _, p := range pods {
			if slices.Contains(before, string(p.UID)) {
				return "pod " + p.Name + " not replaced yet"
			}
		}
		if len(pods) != len(before) {
			return fmt.Sprintf("%d pods, want %d", len(pods), len(before))
		}
		return ""
	})
	return time.Since(start)
}

// flushWrites asks each write pod to flush its chunks to MinIO and
// returns how many chunk objects appeared there after since: with the old
// key revoked, they prove the pods write with the new one.
func (r *rotation) flushWrites(since time.Time) int {
	s := r.s
	for _, p := range r.lokiPods() {
		if p.Labels["app.kubernetes.io/component"] != "write" {
			continue
		}
		resp, err := http.Post("http://"+p.Status.PodIP+":3100/flush", "", nil)
		if err != nil {
			r.t.Fatalf("flush %s: %v", p.Name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			r.t.Fatalf("flush %s: %s", p.Name, resp.Status)
		}
	}
	root := r.client(r.minio.root)
	n := 0
	s.l.Eventually("chunks reach MinIO after the revocation", 2*time.Minute, func() string {
		n = 0
		for o := range root.ListObjects(s.l.Ctx(), "loki-chunks", minio.ListObjectsOptions{Recursive: true}) {
			if o.Err != nil {
				return o.Err.Error()
			}
			if !o.LastModified.Before(since.Truncate(time.Second)) {
				n++
			}
		}
		if n == 0 {
			return "no object written since the revocation"
		}
		return ""
	})
	return n
}
