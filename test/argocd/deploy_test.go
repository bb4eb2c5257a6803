package argocd

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The upstream install that deploy/argocd pins. The test renders it from the
// same release's module in the Go module cache, so it checks the exact file
// `kubectl kustomize deploy/argocd` downloads.
const installURL = "https://raw.githubusercontent.com/argoproj/argo-cd/%s/manifests/install.yaml"

// deployFS is an in-memory copy of deploy/, with the remote install.yaml
// replaced by the pinned file (the network is closed to tests).
func deployFS(t *testing.T) filesys.FileSystem {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	root := filepath.Join(repoRoot(), "deploy")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return fs.WriteFile(filepath.Join("/deploy", rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}

	version := argoCDVersion(t)
	url := strings.Replace(installURL, "%s", version, 1)
	k, err := fs.ReadFile("/deploy/argocd/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(k), "  - "+url+"\n") {
		t.Fatalf("deploy/argocd/kustomization.yaml does not install %s, the Argo CD release these tests run (test/argocd/go.mod)", url)
	}
	if err := fs.WriteFile("/deploy/argocd/kustomization.yaml", []byte(strings.Replace(string(k), url, "upstream-install.yaml", 1))); err != nil {
		t.Fatal(err)
	}
	install, err := os.ReadFile(filepath.Join(moduleDir(t, "github.com/argoproj/argo-cd/v2@"+version), "manifests/install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/deploy/argocd/upstream-install.yaml", install); err != nil {
		t.Fatal(err)
	}
	return fs
}

// kustomize renders dir as `kubectl kustomize` does (same library, default
// options: load restrictor root-only, no plugins).
func kustomize(t *testing.T, fs filesys.FileSystem, dir string) resmap.ResMap {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return m
}

// decode finds the one object of kind/name and decodes it strictly into out.
func decode(t *testing.T, m resmap.ResMap, kind, name string, out any) {
	t.Helper()
	var found []string
	for _, r := range m.Resources() {
		if r.GetKind() == kind && (r.GetName() == name || name == "") {
			y, err := r.AsYAML()
			if err != nil {
				t.Fatal(err)
			}
			found = append(found, string(y))
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s named %q, want 1", len(found), kind, name)
	}
	if err := yaml.UnmarshalStrict([]byte(found[0]), out); err != nil {
		t.Fatalf("%s %s: %v", kind, name, err)
	}
}

func TestDeployArgoCD(t *testing.T) {
	fs := deployFS(t)
	m := kustomize(t, fs, "/deploy/argocd")
	t.Logf("deploy/argocd: %d objects", m.Size())

	for _, r := range m.Resources() {
		if r.GetNamespace() != "" && r.GetNamespace() != "argocd" {
			t.Errorf("%s %s in namespace %q, want argocd", r.GetKind(), r.GetName(), r.GetNamespace())
		}
	}
	var ns corev1.Namespace
	decode(t, m, "Namespace", "argocd", &ns)

	var d appsv1.Deployment
	decode(t, m, "Deployment", "argocd-repo-server", &d)
	checkSidecar(t, m, &d, "gitea.thedevops.dev/thedevops/loki-cmp:v0.1.0", map[string]string{
		"VAULT_ADDR":                   "https://vault.vault.svc:8200",
		"LOKI_CMP_VAULT_AUTH":          "kubernetes",
		"LOKI_CMP_VAULT_K8S_ROLE":      "loki-cmp",
		"LOKI_CMP_VAULT_K8S_MOUNT":     "kubernetes",
		"LOKI_CMP_VAULT_ALLOWED_PATHS": "secret/loki/*",
		"LOKI_CMP_VAULT_TIMEOUT":       "15s",
	})
}

// TestDeployComponent: the component in an administrator's own
// kustomization, as its header and docs/argocd.md show (an existing Argo CD,
// Vault settings patched into the generated ConfigMap, own image). A
// configMapGenerator with behavior: merge does not work there: a
// kustomization's generators run before its components.
func TestDeployComponent(t *testing.T) {
	fs := deployFS(t)
	k := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: argocd
resources:
  - install.yaml
components:
  - ../deploy/plugin
images:
  - {name: loki-cmp, newName: registry.example.org/loki-cmp, newTag: "1.2.3"}
patches:
  - patch: |-
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: loki-cmp-vault
      data:
        VAULT_ADDR: https://vault.example.org:8200
        VAULT_CACERT: /etc/vault-ca/ca.crt
        LOKI_CMP_VAULT_ALLOWED_PATHS: secret/loki/*,secret/shared/loki-*
`
	// The existing Argo CD's manifests, next to the kustomization (files
	// outside a kustomization's root are refused by default).
	install, err := fs.ReadFile("/deploy/argocd/upstream-install.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/mine/install.yaml", install); err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/mine/kustomization.yaml", []byte(k)); err != nil {
		t.Fatal(err)
	}
	m := kustomize(t, fs, "/mine")
	var d appsv1.Deployment
	decode(t, m, "Deployment", "argocd-repo-server", &d)
	cm := checkSidecar(t, m, &d, "registry.example.org/loki-cmp:1.2.3", map[string]string{
		"VAULT_ADDR":                   "https://vault.example.org:8200",
		"VAULT_CACERT":                 "/etc/vault-ca/ca.crt",
		"LOKI_CMP_VAULT_AUTH":          "kubernetes",
		"LOKI_CMP_VAULT_K8S_ROLE":      "loki-cmp",
		"LOKI_CMP_VAULT_K8S_MOUNT":     "kubernetes",
		"LOKI_CMP_VAULT_ALLOWED_PATHS": "secret/loki/*,secret/shared/loki-*",
		"LOKI_CMP_VAULT_TIMEOUT":       "15s",
	})
	// The name's hash covers the patched data: a change rolls the pod.
	var def appsv1.Deployment
	decode(t, kustomize(t, fs, "/deploy/argocd"), "Deployment", "argocd-repo-server", &def)
	var defaultConfigMap string
	for _, c := range def.Spec.Template.Spec.Containers {
		for _, ef := range c.EnvFrom {
			if c.Name == "loki-cmp" && ef.ConfigMapRef != nil {
				defaultConfigMap = ef.ConfigMapRef.Name
			}
		}
	}
	if defaultConfigMap == "" || cm == defaultConfigMap {
		t.Errorf("patched ConfigMap keeps the default's name %s: changing it would not roll the repo-server", cm)
	}
}

// checkSidecar checks the repo-server Deployment with the loki-cmp sidecar.
func checkSidecar(t *testing.T, m resmap.ResMap, d *appsv1.Deployment, image string, vaultEnv map[string]string) (configMap string) {
	t.Helper()
	spec := d.Spec.Template.Spec
	containers := map[string]corev1.Container{}
	for _, c := range spec.Containers {
		containers[c.Name] = c
	}
	if _, ok := containers["argocd-repo-server"]; !ok || len(spec.Containers) != 2 {
		t.Fatalf("containers %v, want argocd-repo-server and loki-cmp", names(spec.Containers))
	}
	if len(spec.InitContainers) != 1 || spec.InitContainers[0].Name != "copyutil" {
		t.Errorf("init containers %v, want Argo CD's copyutil (it copies argocd-cmp-server into var-files)", names(spec.InitContainers))
	}
	// Vault's kubernetes auth sees the pod's service account.
	if spec.ServiceAccountName != "argocd-repo-server" {
		t.Errorf("serviceAccountName %q, want argocd-repo-server", spec.ServiceAccountName)
	}
	c, ok := containers["loki-cmp"]
	if !ok {
		t.Fatal("no loki-cmp container")
	}
	if c.Image != image {
		t.Errorf("image %q, want %q", c.Image, image)
	}
	if diff := gocmp.Diff([]string{"/var/run/argocd/argocd-cmp-server"}, c.Command); diff != "" || len(c.Args) != 0 {
		t.Errorf("command %q args %q, want [/var/run/argocd/argocd-cmp-server] and no args", c.Command, c.Args)
	}
	f, tr := false, true
	uid := int64(999)
	wantSC := &corev1.SecurityContext{
		RunAsNonRoot: &tr, RunAsUser: &uid, RunAsGroup: &uid,
		ReadOnlyRootFilesystem: &tr, AllowPrivilegeEscalation: &f,
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if diff := gocmp.Diff(wantSC, c.SecurityContext); diff != "" {
		t.Errorf("securityContext (-want +got):\n%s", diff)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Error("no memory limit")
	}

	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = vm
		if _, ok := volumes[vm.Name]; !ok {
			t.Errorf("mount %s: no volume %q in the pod", vm.MountPath, vm.Name)
		}
	}
	for path, vol := range map[string]string{
		"/var/run/argocd":                 "var-files",
		"/home/argocd/cmp-server/plugins": "plugins",
	} {
		if mounts[path].Name != vol {
			t.Errorf("%s: mounted from %q, want Argo CD's %q", path, mounts[path].Name, vol)
		}
		if volumes[vol].EmptyDir == nil {
			t.Errorf("volume %s is not Argo CD's emptyDir", vol)
		}
	}
	// A private /tmp: loki-cmp's and the cmp-server's work dir, not shared
	// with the repo-server container.
	tmp := mounts["/tmp"]
	if v := volumes[tmp.Name]; v.EmptyDir == nil || tmp.Name == "tmp" {
		t.Errorf("/tmp: volume %q, want a private emptyDir (not the repo-server's tmp)", tmp.Name)
	}
	for _, other := range spec.Containers {
		for _, vm := range other.VolumeMounts {
			if other.Name != "loki-cmp" && vm.Name == tmp.Name {
				t.Errorf("container %s also mounts %s", other.Name, tmp.Name)
			}
		}
	}

	// Kubernetes auth: a projected token for audience vault, in this
	// container only, and its path in the environment.
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("env %s from %v: secrets belong in Vault or in the optional Secret loki-cmp-env", e.Name, e.ValueFrom)
		}
		env[e.Name] = e.Value
	}
	tokenFile := env["LOKI_CMP_VAULT_K8S_TOKEN_FILE"]
	tm, ok := mounts[filepath.Dir(tokenFile)]
	if !ok || !tm.ReadOnly {
		t.Fatalf("LOKI_CMP_VAULT_K8S_TOKEN_FILE=%q: no read-only mount of its directory", tokenFile)
	}
	tv := volumes[tm.Name]
	if tv.Projected == nil || len(tv.Projected.Sources) != 1 || tv.Projected.Sources[0].ServiceAccountToken == nil {
		t.Fatalf("volume %s: want a projected service account token", tm.Name)
	}
	sat := tv.Projected.Sources[0].ServiceAccountToken
	if sat.Audience != "vault" || sat.Path != filepath.Base(tokenFile) || sat.ExpirationSeconds == nil || *sat.ExpirationSeconds > 3600 {
		t.Errorf("service account token %+v, want audience vault, path %s, expiry of at most 1 h", sat, filepath.Base(tokenFile))
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the pod now automounts its service account token; the sidecar needs only its projected token")
	}

	// Vault settings from the generated ConfigMap (hash-suffixed name,
	// referenced by its final name), and the optional Secret for fromEnv.
	var cmRef, secretRef string
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cmRef = ef.ConfigMapRef.Name
		case ef.SecretRef != nil:
			secretRef = ef.SecretRef.Name
			if ef.SecretRef.Optional == nil || !*ef.SecretRef.Optional {
				t.Errorf("envFrom Secret %s is not optional", secretRef)
			}
		}
	}
	if secretRef != "loki-cmp-env" {
		t.Errorf("envFrom Secret %q, want optional loki-cmp-env", secretRef)
	}
	if !regexp.MustCompile(`^loki-cmp-vault-[a-z0-9]{10}$`).MatchString(cmRef) {
		t.Fatalf("envFrom ConfigMap %q, want the generated loki-cmp-vault-<hash>", cmRef)
	}
	var cm corev1.ConfigMap
	decode(t, m, "ConfigMap", cmRef, &cm)
	if diff := gocmp.Diff(vaultEnv, cm.Data); diff != "" {
		t.Errorf("ConfigMap %s (-want +got):\n%s", cmRef, diff)
	}
	// Every variable is one loki-cmp reads (README's table), none a credential.
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range sortedKeys(cm.Data) {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("ConfigMap key %s is not a variable README.md documents", k)
		}
		if strings.Contains(k, "TOKEN") || strings.Contains(k, "SECRET") {
			t.Errorf("ConfigMap key %s holds a credential; ConfigMaps are not secret", k)
		}
	}
	if ca := volumes[mounts["/etc/vault-ca"].Name]; ca.ConfigMap == nil || ca.ConfigMap.Name != "loki-cmp-vault-ca" || ca.ConfigMap.Optional == nil || !*ca.ConfigMap.Optional {
		t.Errorf("/etc/vault-ca: want the optional ConfigMap loki-cmp-vault-ca, got %+v", ca)
	}
	return cmRef
}

func names(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestDeployApplication(t *testing.T) {
	m := kustomize(t, deployFS(t), "/deploy/application")
	if m.Size() != 1 {
		t.Fatalf("deploy/application renders %d objects, want 1 Application", m.Size())
	}
	var a v1alpha1.Application
	decode(t, m, "Application", "loki", &a) // strict: every field is one Argo CD knows
	if a.APIVersion != "argoproj.io/v1alpha1" || a.Namespace != "argocd" {
		t.Errorf("%s in %q, want argoproj.io/v1alpha1 in argocd", a.APIVersion, a.Namespace)
	}
	src := a.Spec.Source
	if src == nil || src.Plugin == nil {
		t.Fatal("no source.plugin")
	}
	want := v1alpha1.ApplicationSource{
		RepoURL: "https://gitea.thedevops.dev/thedevops/k3s-gitops.git", TargetRevision: "main", Path: "apps/loki",
		Plugin: &v1alpha1.ApplicationSourcePlugin{Name: "loki-cmp-v1"},
	}
	if diff := gocmp.Diff(want, *src); diff != "" {
		t.Errorf("source (-want +got):\n%s", diff)
	}
	if a.Spec.Destination.Namespace != "loki" || a.Spec.Destination.Server != "https://kubernetes.default.svc" {
		t.Errorf("destination %+v, want namespace loki in the local cluster", a.Spec.Destination)
	}
	sp := a.Spec.SyncPolicy
	if sp == nil || sp.Automated == nil || !sp.Automated.Prune || !sp.Automated.SelfHeal {
		t.Fatalf("syncPolicy %+v, want automated prune and selfHeal", sp)
	}
	wantRetry := &v1alpha1.RetryStrategy{Limit: 5, Backoff: &v1alpha1.Backoff{Duration: "10s", Factor: ptr(int64(2)), MaxDuration: "3m"}}
	if diff := gocmp.Diff(wantRetry, sp.Retry); diff != "" {
		t.Errorf("retry (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(v1alpha1.SyncOptions{"CreateNamespace=true"}, sp.SyncOptions); diff != "" {
		t.Errorf("syncOptions (-want +got):\n%s", diff)
	}
	// The name the plugin answers to: <metadata.name>-<spec.version> of
	// plugin.yaml (checked against the cmp-server in TestCMPServer).
	var p struct {
		Metadata struct{ Name string }
		Spec     struct{ Version string }
	}
	data, err := os.ReadFile(filepath.Join(repoRoot(), "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Metadata.Name + "-" + p.Spec.Version; got != src.Plugin.Name {
		t.Errorf("plugin.yaml answers to %q, the Application asks for %q", got, src.Plugin.Name)
	}
}

func ptr[T any](v T) *T { return &v }
