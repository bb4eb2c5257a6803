package argocd

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// deployFS is an in-memory copy of deploy/, with Argo CD's install.yaml of
// the release these tests run (test/argocd/go.mod) at /upstream/install.yaml,
// from that release's module in the Go module cache (the network is closed
// to tests). It stands for the Argo CD an administrator already runs:
// deploy/ pins none.
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
	install, err := os.ReadFile(filepath.Join(moduleDir(t, "github.com/argoproj/argo-cd/v3@"+argoCDVersion(t)), "manifests/install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/upstream/install.yaml", install); err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/upstream/kustomization.yaml", []byte("namespace: argocd\nresources: [install.yaml]\n")); err != nil {
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

// releaseImage is the image `make release` builds and pushes:
// IMAGE_NAME of the Makefile and the version in VERSION.
func releaseImage(t *testing.T) string {
	t.Helper()
	mk := mustRead(t, filepath.Join(repoRoot(), "Makefile"))
	m := regexp.MustCompile(`(?m)^IMAGE_NAME \?= (\S+)$`).FindStringSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no IMAGE_NAME ?= line")
	}
	return m[1] + ":" + strings.TrimSpace(mustRead(t, filepath.Join(repoRoot(), "VERSION")))
}

// TestDeployExisting: deploy/existing renders only what the plugin adds to a
// running Argo CD (no Argo CD install, so no other version of it), and that,
// merged into the live repo-server as the server-side apply does
// (containers and volumes by name), is the complete sidecar.
func TestDeployExisting(t *testing.T) {
	fs := deployFS(t)
	m := kustomize(t, fs, "/deploy/existing")
	kinds := map[string]int{}
	for _, r := range m.Resources() {
		kinds[r.GetKind()]++
		if r.GetNamespace() != "argocd" {
			t.Errorf("%s %s in namespace %q, want argocd", r.GetKind(), r.GetName(), r.GetNamespace())
		}
	}
	if diff := gocmp.Diff(map[string]int{"Deployment": 1, "ConfigMap": 2}, kinds); diff != "" {
		t.Errorf("deploy/existing renders (-want +got):\n%s", diff)
	}
	var partial appsv1.Deployment
	decode(t, m, "Deployment", "argocd-repo-server", &partial)
	if len(partial.Spec.Template.Spec.Containers) != 1 || partial.Spec.Selector != nil || partial.Spec.Replicas != nil {
		t.Errorf("the partial Deployment sets more than the sidecar: %d containers, selector %v, replicas %v", len(partial.Spec.Template.Spec.Containers), partial.Spec.Selector, partial.Spec.Replicas)
	}
	for _, v := range partial.Spec.Template.Spec.Volumes {
		if !strings.HasPrefix(v.Name, "loki-cmp-") {
			t.Errorf("the partial Deployment declares volume %s, which is Argo CD's", v.Name)
		}
	}
	var d appsv1.Deployment
	decode(t, merged(t), "Deployment", "argocd-repo-server", &d)
	checkSidecar(t, m, &d, releaseImage(t), defaultVault)

	// The documented removal gives up the fields the apply owned: it names
	// the object and nothing else.
	docs := strings.Split(mustRead(t, filepath.Join(repoRoot(), "deploy/existing/remove.yaml")), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("remove.yaml holds %d documents, want the repo-server and argocd-cm", len(docs))
	}
	var rm appsv1.Deployment
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &rm); err != nil {
		t.Fatal(err)
	}
	if rm.Name != "argocd-repo-server" || rm.Namespace != "argocd" || len(rm.Spec.Template.Spec.Containers) != 0 {
		t.Errorf("remove.yaml is not the bare argocd/argocd-repo-server: %+v", rm.ObjectMeta)
	}
	var rmCM corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &rmCM); err != nil {
		t.Fatal(err)
	}
	if rmCM.Name != "argocd-cm" || rmCM.Namespace != "argocd" || len(rmCM.Data) != 0 {
		t.Errorf("remove.yaml's second document is not the bare argocd/argocd-cm: %+v", rmCM)
	}
	// Only the one key of argocd-cm: the apply must not own Argo CD's others.
	var cm corev1.ConfigMap
	decode(t, m, "ConfigMap", "argocd-cm", &cm)
	if diff := gocmp.Diff(map[string]string{hardReconciliationKey: hardReconciliation}, cm.Data); diff != "" {
		t.Errorf("deploy/existing's argocd-cm (-want +got):\n%s", diff)
	}
}

// The periodic hard reconciliation deploy/ sets (docs/argocd.md,
// "Rotating credentials").
const (
	hardReconciliationKey = "timeout.hard.reconciliation"
	hardReconciliation    = "1h"
)

// TestDeployHardReconciliation: the component sets the key in Argo CD's own
// argocd-cm, and that key is the one upstream's application controller
// reads (by a configMapKeyRef of install.yaml) as its hard reconciliation.
func TestDeployHardReconciliation(t *testing.T) {
	fs := deployFS(t)
	if err := fs.WriteFile("/withcomponent/kustomization.yaml", []byte("resources: [../upstream]\ncomponents: [../deploy/plugin]\n")); err != nil {
		t.Fatal(err)
	}
	m := kustomize(t, fs, "/withcomponent")
	var cm corev1.ConfigMap
	decode(t, m, "ConfigMap", "argocd-cm", &cm)
	if got := cm.Data[hardReconciliationKey]; got != hardReconciliation {
		t.Errorf("argocd-cm %s = %q, want %q", hardReconciliationKey, got, hardReconciliation)
	}
	var ctrl appsv1.StatefulSet
	decode(t, m, "StatefulSet", "argocd-application-controller", &ctrl)
	found := false
	for _, e := range ctrl.Spec.Template.Spec.Containers[0].Env {
		if r := e.ValueFrom; r != nil && r.ConfigMapKeyRef != nil && r.ConfigMapKeyRef.Name == "argocd-cm" && r.ConfigMapKeyRef.Key == hardReconciliationKey {
			found = e.Name == "ARGOCD_HARD_RECONCILIATION_TIMEOUT"
		}
	}
	if !found {
		t.Errorf("upstream's application controller does not read argocd-cm %s as ARGOCD_HARD_RECONCILIATION_TIMEOUT", hardReconciliationKey)
	}
	// The Helm values set the same (the chart writes configs.cm into argocd-cm).
	var values struct {
		Configs struct {
			CM map[string]string `json:"cm"`
		} `json:"configs"`
	}
	if err := yaml.Unmarshal([]byte(mustRead(t, filepath.Join(repoRoot(), "deploy/helm/values-loki-cmp.yaml"))), &values); err != nil {
		t.Fatal(err)
	}
	if got := values.Configs.CM[hardReconciliationKey]; got != hardReconciliation {
		t.Errorf("Helm values configs.cm %s = %q, want %q", hardReconciliationKey, got, hardReconciliation)
	}
}

// TestDeployComponentAlone: applied on its own the component fails, instead
// of rendering a ConfigMap and no sidecar.
func TestDeployComponentAlone(t *testing.T) {
	_, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(deployFS(t), "/deploy/plugin")
	if err == nil {
		t.Fatal("kustomize build deploy/plugin succeeded: kubectl apply -k deploy/plugin would add no sidecar, silently")
	}
	t.Logf("deploy/plugin alone: %v", err)
}

// TestDeployHelmValues: the argo-cd chart values add the same sidecar as the
// component: the container and volumes decode strictly, and added to the
// repo-server Deployment (upstream's, whose volumes the chart's shares) they
// meet the component's expectations, with the ConfigMap of extraObjects.
func TestDeployHelmValues(t *testing.T) {
	var values struct {
		RepoServer struct {
			PodAnnotations  map[string]string  `json:"podAnnotations"`
			ExtraContainers []corev1.Container `json:"extraContainers"`
			Volumes         []corev1.Volume    `json:"volumes"`
		} `json:"repoServer"`
		ExtraObjects []corev1.ConfigMap `json:"extraObjects"`
		Configs      struct {
			CM map[string]string `json:"cm"`
		} `json:"configs"`
	}
	if err := yaml.UnmarshalStrict([]byte(mustRead(t, filepath.Join(repoRoot(), "deploy/helm/values-loki-cmp.yaml"))), &values); err != nil {
		t.Fatalf("deploy/helm/values-loki-cmp.yaml: %v", err)
	}
	rs := values.RepoServer
	if len(rs.ExtraContainers) != 1 || len(values.ExtraObjects) != 1 {
		t.Fatalf("%d extra containers, %d extra objects, want 1 and 1", len(rs.ExtraContainers), len(values.ExtraObjects))
	}
	// The chart names the repo-server's container repo-server.
	if got := rs.PodAnnotations["kubectl.kubernetes.io/default-container"]; got != "repo-server" {
		t.Errorf("podAnnotations default-container %q, want the chart's repo-server", got)
	}
	fs := deployFS(t)
	up := kustomize(t, fs, "/upstream")
	var d appsv1.Deployment
	decode(t, up, "Deployment", "argocd-repo-server", &d)
	d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/default-container": "argocd-repo-server"}
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, rs.ExtraContainers...)
	d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, rs.Volumes...)
	cm := values.ExtraObjects[0]
	cmYAML, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/helm/cm.yaml", cmYAML); err != nil {
		t.Fatal(err)
	}
	if err := fs.WriteFile("/helm/kustomization.yaml", []byte("resources: [cm.yaml]\n")); err != nil {
		t.Fatal(err)
	}
	checkSidecarWith(t, kustomize(t, fs, "/helm"), &d, releaseImage(t), defaultVault, "loki-cmp-vault")

	// The same container as the component's, but for the image reference
	// and the ConfigMap's name (hash-suffixed there).
	var comp appsv1.Deployment
	decode(t, merged(t), "Deployment", "argocd-repo-server", &comp)
	want := sidecarOf(t, &comp)
	got := rs.ExtraContainers[0]
	want.Image, want.EnvFrom[0].ConfigMapRef.Name = got.Image, "loki-cmp-vault"
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Helm sidecar differs from the component's (-component +helm):\n%s", diff)
	}
}

// merged is the live repo-server after the server-side apply of
// deploy/existing: upstream's Deployment with the rendered partial merged in
// by name (containers and volumes are keyed by name in both).
func merged(t *testing.T) resmap.ResMap {
	t.Helper()
	fs := deployFS(t)
	var rendered []byte
	for _, r := range kustomize(t, fs, "/deploy/existing").Resources() {
		if r.GetKind() == "Deployment" {
			y, err := r.AsYAML()
			if err != nil {
				t.Fatal(err)
			}
			rendered = y
		}
	}
	for name, data := range map[string][]byte{
		"partial.yaml":       rendered,
		"kustomization.yaml": []byte("resources: [../upstream]\npatches: [{path: partial.yaml}]\n"),
	} {
		if err := fs.WriteFile("/live/"+name, data); err != nil {
			t.Fatal(err)
		}
	}
	return kustomize(t, fs, "/live")
}

func sidecarOf(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "loki-cmp" {
			return c
		}
	}
	t.Fatal("no loki-cmp container")
	return corev1.Container{}
}

// defaultVault is the Vault environment deploy/ ships.
var defaultVault = map[string]string{
	"VAULT_ADDR":                   "https://vault.vault.svc:8200",
	"LOKI_CMP_VAULT_AUTH":          "kubernetes",
	"LOKI_CMP_VAULT_K8S_ROLE":      "loki-cmp",
	"LOKI_CMP_VAULT_K8S_MOUNT":     "kubernetes",
	"LOKI_CMP_VAULT_ALLOWED_PATHS": "secret/loki/*",
	"LOKI_CMP_VAULT_TIMEOUT":       "15s",
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
	install, err := fs.ReadFile("/upstream/install.yaml")
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
	decode(t, merged(t), "Deployment", "argocd-repo-server", &def)
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

// checkSidecar checks the repo-server Deployment with the loki-cmp sidecar,
// whose Vault settings are the generated (hash-suffixed) ConfigMap in m.
func checkSidecar(t *testing.T, m resmap.ResMap, d *appsv1.Deployment, image string, vaultEnv map[string]string) (configMap string) {
	t.Helper()
	return checkSidecarWith(t, m, d, image, vaultEnv, "")
}

// checkSidecarWith is checkSidecar with the ConfigMap's fixed name, or ""
// for the generated one.
func checkSidecarWith(t *testing.T, m resmap.ResMap, d *appsv1.Deployment, image string, vaultEnv map[string]string, fixedConfigMap string) (configMap string) {
	t.Helper()
	spec := d.Spec.Template.Spec
	// kubectl logs deploy/argocd-repo-server keeps meaning the repo-server.
	if got := d.Spec.Template.Annotations["kubectl.kubernetes.io/default-container"]; got != "argocd-repo-server" {
		t.Errorf("pod annotation kubectl.kubernetes.io/default-container %q, want argocd-repo-server", got)
	}
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
	if fixedConfigMap != "" && cmRef != fixedConfigMap {
		t.Fatalf("envFrom ConfigMap %q, want %s", cmRef, fixedConfigMap)
	}
	if fixedConfigMap == "" && !regexp.MustCompile(`^loki-cmp-vault-[a-z0-9]{10}$`).MatchString(cmRef) {
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
	// v3: prune and selfHeal are *bool (unset = off).
	if sp == nil || sp.Automated == nil || !isTrue(sp.Automated.Prune) || !isTrue(sp.Automated.SelfHeal) {
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

func isTrue(b *bool) bool { return b != nil && *b }
