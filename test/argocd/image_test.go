package argocd

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/thedevops/loki-cmp/internal/testtools"
)

// buildah runs buildah with its own storage in a temp dir (vfs: no overlay
// or fuse needed; tests never touch the machine's images), as root, the way
// `make image` builds the image.
type buildah struct {
	t    *testing.T
	bin  string
	root string
}

func newBuildah(t *testing.T) *buildah {
	bin := testtools.Find(t, "buildah")
	if os.Geteuid() != 0 {
		// vfs storage and chroot isolation need root (CI runs as root).
		msg := "buildah tests run as root"
		if testtools.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	root, err := os.MkdirTemp("", "loki-cmp-buildah-")
	if err != nil {
		t.Fatal(err)
	}
	b := &buildah{t: t, bin: bin, root: root}
	t.Cleanup(func() {
		// Layers are files owned by root and others: remove as root.
		b.run("rmi", "--all", "--force")
		if err := os.RemoveAll(root); err != nil {
			t.Errorf("removing buildah storage: %v", err)
		}
	})
	return b
}

func (b *buildah) cmd(args ...string) *exec.Cmd {
	all := append([]string{"--root", filepath.Join(b.root, "root"), "--runroot", filepath.Join(b.root, "run"), "--storage-driver", "vfs"}, args...)
	c := exec.Command(b.bin, all...)
	// Registries are not consulted: the image is FROM scratch.
	c.Env = append(os.Environ(), "TMPDIR="+b.root, "BUILDAH_ISOLATION=chroot")
	return c
}

// run runs buildah and returns stdout, stderr and the error.
func (b *buildah) run(args ...string) (string, string, error) {
	c := b.cmd(args...)
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	return o.String(), e.String(), err
}

func (b *buildah) must(args ...string) string {
	b.t.Helper()
	o, e, err := b.run(args...)
	if err != nil {
		b.t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, e)
	}
	return o
}

// buildImage builds the image from the repository's Dockerfile in the build
// context `make image` uses: the repository with bin/loki-cmp built (here the
// binary TestMain built from this checkout).
func (b *buildah) buildImage() string {
	t := b.t
	t.Helper()
	root := repoRoot()
	ctxDir := t.TempDir()
	for _, f := range []string{"Dockerfile", ".dockerignore", "plugin.yaml"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(ctxDir, f), 0o644)
	}
	copyFile(t, lokiCmp, filepath.Join(ctxDir, "bin/loki-cmp"), 0o755)
	// Things .dockerignore must keep out of the image.
	writeFile(t, filepath.Join(ctxDir, "testdata/secret.env"), []byte("LOKI_ADMIN_PASSWORD="+plantedPassword+"\n"), 0o600)

	const image = "localhost/loki-cmp:argocd-test"
	b.must("bud", "--isolation", "chroot", "--layers=false", "-f", filepath.Join(ctxDir, "Dockerfile"), "-t", image, ctxDir)
	return image
}

// TestImage builds the sidecar image from the repository's Dockerfile with
// buildah, then runs loki-cmp inside it.
func TestImage(t *testing.T) {
	b := newBuildah(t)
	root := repoRoot()

	image := b.buildImage()

	user := strings.TrimSpace(b.must("inspect", "--type", "image", "--format", "{{.OCIv1.Config.User}}", image))
	if user != "999:999" {
		t.Errorf("image user %q, want 999:999 (Argo CD's uid; the pod requires runAsNonRoot)", user)
	}
	env := strings.TrimSpace(b.must("inspect", "--type", "image", "--format", "{{.OCIv1.Config.Env}}", image))
	if !strings.Contains(env, "PATH=/usr/local/bin") {
		t.Errorf("image env %s: the cmp-server finds loki-cmp through PATH", env)
	}
	size := strings.TrimSpace(b.must("images", "--format", "{{.Size}}", image))
	t.Logf("image %s: user %s, size %s, env %s", image, user, size, env)

	c := strings.TrimSpace(b.must("from", "--pull-never", image))
	t.Cleanup(func() {
		if _, e, err := b.run("rm", c); err != nil {
			t.Errorf("buildah rm %s: %v: %s", c, err, e)
		}
	})

	// Nothing but the binary and plugin.yaml (no shell, no secrets from the
	// build context).
	mnt := strings.TrimSpace(b.must("mount", c))
	var files []string
	err := filepath.WalkDir(mnt, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(mnt, path)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if want := []string{"home/argocd/cmp-server/config/plugin.yaml", "usr/local/bin/loki-cmp"}; strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("image files %v, want %v", files, want)
	}
	if got, want := mustRead(t, filepath.Join(mnt, "home/argocd/cmp-server/config/plugin.yaml")), mustRead(t, filepath.Join(root, "plugin.yaml")); got != want {
		t.Error("the image's plugin.yaml is not the repository's")
	}
	b.must("umount", c)

	run := func(extra []string, args ...string) (string, string, error) {
		all := append([]string{"run", "--isolation", "chroot"}, extra...)
		return b.run(append(append(all, c, "--"), args...)...)
	}

	out, e, err := run(nil, "loki-cmp", "version")
	if err != nil || strings.TrimSpace(out) != "loki-cmp "+testVersion {
		t.Errorf("loki-cmp version in the image: %q, %v: %s", out, err, e)
	}
	t.Logf("in the image: %s", strings.TrimSpace(out))
	if _, _, err := run(nil, "/bin/sh", "-c", "true"); err == nil {
		t.Error("the image has a shell")
	}

	// generate --dry-run of the seed, in the application's directory as the
	// cmp-server runs it, gives exactly what it gives outside.
	src := t.TempDir()
	copyFile(t, filepath.Join(root, "testdata/examples/seed/loki.yaml"), filepath.Join(src, "loki.yaml"), 0o644)
	if err := os.Chmod(src, 0o755); err != nil {
		t.Fatal(err)
	}
	mount := []string{"--volume", src + ":/src:ro", "--workingdir", "/src"}
	out, e, err = run(mount, "loki-cmp", "generate", "--dry-run")
	if err != nil {
		t.Fatalf("loki-cmp generate --dry-run in the image: %v: %s", err, e)
	}
	want, stderr, code := runLokiCmp(t, src, nil, "generate", "--dry-run")
	if code != 0 {
		t.Fatalf("loki-cmp generate --dry-run: %s", stderr)
	}
	if out != want {
		t.Errorf("generate --dry-run in the image differs from outside (%d vs %d bytes)", len(out), len(want))
	}
	if n := strings.Count(out, "\nkind: "); n < 10 {
		t.Errorf("generate --dry-run in the image printed %d objects", n)
	}

	// It runs as uid 999: a file only root may read is refused, a file only
	// 999 may read is read. The refusal is told by its exit status, 3
	// (loki.yaml unreadable or invalid; the same file passes below): buildah
	// run now and then loses the last stderr of a process that exits at
	// once (seen in CI: only buildah's "Error: exit status 3" arrived), so
	// loki-cmp's message is checked only where it came through.
	f := filepath.Join(src, "loki.yaml")
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, e, err := run(mount, "loki-cmp", "validate"); !refusedUnreadable(err, e) {
		t.Errorf("a root-only loki.yaml was read in the image (%v: %s): the process runs as root", err, e)
	}
	if err := os.Chown(f, 999, 999); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o400); err != nil {
		t.Fatal(err)
	}
	if out, e, err := run(mount, "loki-cmp", "validate"); err != nil || !strings.Contains(out, "valid") {
		t.Errorf("loki.yaml owned by 999 (mode 0400) not readable in the image: %v: %s", err, e)
	}
}

// TestMakeImagePath runs the documented path, make image then make
// image-archive, with the Makefile and the storage flags it passes to every
// buildah call (here pointed at the test's storage): the image `make image`
// builds is the one image-archive finds, and the archive (what k3s ctr
// images import loads) names exactly the image deploy/ runs. make push uses
// the same storage and name.
func TestMakeImagePath(t *testing.T) {
	b := newBuildah(t)
	root := repoRoot()
	dir := t.TempDir()
	for _, f := range []string{"Makefile", "VERSION", "Dockerfile", ".dockerignore", "plugin.yaml"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(dir, f), 0o644)
	}
	copyFile(t, lokiCmp, filepath.Join(dir, "bin/loki-cmp"), 0o755)
	storage := "BUILDAH=" + b.bin + " --root " + filepath.Join(b.root, "root") + " --runroot " + filepath.Join(b.root, "run") + " --storage-driver vfs"
	runMake := func(targets ...string) string {
		t.Helper()
		// -o build: the binary is there already (built by TestMain); DOCKER=
		// takes the buildah path, as on a machine without a docker daemon.
		args := append([]string{"-o", "build", storage, "DOCKER="}, targets...)
		c := exec.Command("make", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "TMPDIR="+b.root, "BUILDAH_ISOLATION=chroot")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("make %s: %v\n%s", strings.Join(targets, " "), err, out)
		}
		return string(out)
	}
	want := releaseImage(t)
	out := runMake("image", "image-archive")
	if !strings.Contains(out, "image "+want+"\n") {
		t.Errorf("make image did not build %s:\n%s", want, out)
	}
	tags := strings.TrimSpace(b.must("images", "--format", "{{.Name}}:{{.Tag}}"))
	if tags != want {
		t.Errorf("images in make's storage: %q, want %s", tags, want)
	}

	// The archive's manifest names the image as deploy/ does.
	archive, err := os.Open(filepath.Join(dir, "bin/loki-cmp-image.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	tr := tar.NewReader(archive)
	var repoTags []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Name == "manifest.json" {
			var manifest []struct{ RepoTags []string }
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				t.Fatal(err)
			}
			for _, m := range manifest {
				repoTags = append(repoTags, m.RepoTags...)
			}
		}
	}
	if strings.Join(repoTags, " ") != want {
		t.Errorf("archive names %v, want [%s] (the pod's image)", repoTags, want)
	}

	// make push pushes that same image, from that same storage.
	c := exec.Command("make", "-n", storage, "DOCKER=", "push")
	c.Dir = dir
	dry, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n push: %v\n%s", err, dry)
	}
	if !strings.Contains(string(dry), b.bin+" --root "+filepath.Join(b.root, "root")) || !strings.Contains(string(dry), " push "+want+" docker://"+want) {
		t.Errorf("make push would run:\n%s\nwant a push of %s from the storage make image used", dry, want)
	}
}

// refusedUnreadable: loki-cmp in the image exited 3 (cli.ExitInvalid) and,
// if its message reached stderr, the message is a permission error.
func refusedUnreadable(err error, stderr string) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		return false
	}
	if strings.Contains(stderr, "loki-cmp:") {
		return strings.Contains(stderr, "permission denied")
	}
	return true
}
