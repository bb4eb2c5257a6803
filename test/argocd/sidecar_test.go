package argocd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/app/discovery"
	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/status"

	"github.com/thedevops/loki-cmp/internal/testtools"
)

// TestSidecar runs the sidecar as Argo CD does: Argo CD's argocd-cmp-server
// (built from the pinned release, as the copyutil init container would
// provide it in var-files) started INSIDE the loki-cmp image as its user
// 999, reading plugin.yaml from the image and running loki-cmp through the
// image's PATH; the repo-server's side (plugin lookup by name, manifest
// generation) talks to it over the socket in the shared plugins directory.
func TestSidecar(t *testing.T) {
	b := newBuildah(t)
	image := b.buildImage()

	// The pod's volumes: var-files (argocd-cmp-server), plugins (the
	// socket), the sidecar's private /tmp.
	varFiles, plugins, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	// The binary itself, not the tools' symlink (the volume holds files
	// only), under the name it dispatches on.
	cmpServer, err := filepath.EvalSymlinks(testtools.Find(t, "argocd-cmp-server"))
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, cmpServer, filepath.Join(varFiles, "argocd-cmp-server"), 0o755)
	for dir, mode := range map[string]os.FileMode{varFiles: 0o755, plugins: 0o1777, tmp: 0o1777} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}

	c := strings.TrimSpace(b.must("from", "--pull-never", image))
	t.Cleanup(func() {
		if _, e, err := b.run("rm", c); err != nil {
			t.Errorf("buildah rm %s: %v: %s", c, err, e)
		}
	})
	// The container's command, /var/run/argocd/argocd-cmp-server, with the
	// sidecar's environment: the password, as Kubernetes would set it from
	// a Secret. (buildah takes it only as an argument; it is a test value.)
	cmd := b.cmd("run", "--isolation", "chroot",
		"--env", "LOKI_ADMIN_PASSWORD="+plantedPassword,
		"--volume", varFiles+":/var/run/argocd:ro",
		"--volume", plugins+":/home/argocd/cmp-server/plugins",
		"--volume", tmp+":/tmp",
		c, "--", "/var/run/argocd/argocd-cmp-server")
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// As the kubelet stops a container: SIGTERM, then SIGKILL.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		t.Logf("sidecar log:\n%s", log.String())
		checkNoSecret(t, "sidecar log", log.String())
	})

	sock := filepath.Join(plugins, "loki-cmp-v1.sock")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if st, err := os.Stat(sock); err == nil && st.Mode()&os.ModeSocket != 0 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("argocd-cmp-server exited in the image: %v\n%s", err, log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 60 s:\n%s", sock, log.String())
		}
	}
	if st, _ := os.Stat(sock); st.Sys().(*syscall.Stat_t).Uid != 999 {
		t.Errorf("the socket belongs to uid %d, want 999: the cmp-server does not run as the image's user", st.Sys().(*syscall.Stat_t).Uid)
	}

	// The repo-server's side.
	t.Setenv("ARGOCD_PLUGINSOCKFILEPATH", plugins)
	repo := gitRepo(t)
	a := app{name: "loki", namespace: "loki", path: "apps/loki", apiVersions: allAPIs,
		params: v1alpha1.ApplicationSourcePluginParameters{strParam("retention", "31d")}}
	env := a.manifestEnv(t)
	conn, client, err := discovery.DetectConfigManagementPlugin(rpcContext(t), filepath.Join(repo, a.path), repo, "loki-cmp-v1", env, nil)
	if err != nil {
		t.Fatalf("the repo-server does not find plugin loki-cmp-v1: %v\n%s", err, log.String())
	}
	defer conn.Close()

	got, err := generateManifest(t, client, repo, a.path, env)
	if err != nil {
		t.Fatalf("GenerateManifest in the sidecar: %v", err)
	}
	stdout, stderr, code := runLokiCmp(t, filepath.Join(repo, a.path), append(env, "LOKI_ADMIN_PASSWORD="+plantedPassword), "generate")
	if code != 0 {
		t.Fatalf("loki-cmp generate: %s", stderr)
	}
	gotObjs := objects(t, got...)
	if diff := gocmp.Diff(objects(t, stdout), gotObjs); diff != "" {
		t.Errorf("sidecar manifests differ from `loki-cmp generate` (-generate +sidecar):\n%s", diff)
	}
	for _, o := range gotObjs {
		if o["kind"] == "Secret" {
			checkHtpasswd(t, o, "admin", plantedPassword)
		}
	}
	t.Logf("GenerateManifest in the sidecar: %d manifests", len(got))

	// An error from inside the image reaches the repo-server.
	a.params = v1alpha1.ApplicationSourcePluginParameters{strParam("storage-size", "lots")}
	_, err = generateManifest(t, client, repo, a.path, a.manifestEnv(t))
	msg := status.Convert(err).Message()
	t.Logf("GenerateManifest in the sidecar, bad parameter: %v", msg)
	if err == nil || !strings.Contains(msg, "exit status 3") || !strings.Contains(msg, `Argo CD parameter "storage-size"`) {
		t.Errorf("got %v, want loki-cmp's error for parameter storage-size", err)
	}

	anns, err := parametersAnnouncement(t, client, repo, a.path, a.detailsEnv(t))
	if err != nil || len(anns) == 0 || anns[0].Name != "host" || anns[0].String_ != "loki.thedevops.dev" {
		t.Errorf("GetParametersAnnouncement in the sidecar: %v, %v", anns, err)
	}
	if l := log.String(); !strings.Contains(l, "serving on /home/argocd/cmp-server/plugins/loki-cmp-v1.sock") {
		t.Errorf("sidecar log does not show the cmp-server serving loki-cmp-v1:\n%s", l)
	}
}
