package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/proc"
)

// Gitea is the lab's git server, the one the reference architecture runs:
// real Gitea (built without its frontend bundle: the web UI is unstyled,
// the API, webhooks and git over HTTP are whole) with SQLite, on the lab's
// host address. Its one user owns the repositories; pushes go through
// Gitea's own git hooks, which fire its webhooks.
type Gitea struct {
	URL            string // http://198.18.0.1:3000
	User, Password string
	Proc           *proc.Process

	l   *Lab
	dir string
}

const giteaPort = "3000"

// StartGitea runs Gitea with a fresh database and an admin user.
func (l *Lab) StartGitea() *Gitea {
	t := l.t
	t.Helper()
	bin := testtools.Find(t, "gitea")
	// The templates, options and public files the build keeps beside the
	// binary (hack/test-tools.sh): Gitea reads them at run time.
	static, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	g := &Gitea{URL: "http://" + HostIP + ":" + giteaPort, User: "thedevops", Password: "lab-" + randomHex(8),
		l: l, dir: filepath.Join(l.Dir, "gitea")}
	conf := g.writeConfig(filepath.Dir(static))
	run := func(args ...string) {
		cmd := g.command(bin, append(args, "--config", conf)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gitea %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("migrate")
	run("admin", "user", "create", "--admin", "--username", g.User, "--password", g.Password,
		"--email", g.User+"@example.org", "--must-change-password=false")
	g.Proc = proc.Start(t, l.Dir, "gitea", g.command(bin, "web", "--config", conf))
	l.Eventually("Gitea answers its API", time.Minute, func() string {
		if _, err := g.api("GET", "/api/v1/version", nil, nil); err != nil {
			if done, how := g.Proc.Exited(); done {
				return fmt.Sprintf("%v; gitea exited (%s): %s", err, how, g.Proc.Tail(2000))
			}
			return err.Error()
		}
		return ""
	})
	return g
}

// writeConfig writes app.ini: SQLite, no SSH, no mail, no cron, no
// registration, offline (no CDN avatars), webhooks (and migrations) allowed
// to the lab's host address alone (Gitea refuses private ones by default).
func (g *Gitea) writeConfig(static string) string {
	t := g.l.t
	for _, d := range []string{"data", "repos", "log", "home"} {
		if err := os.MkdirAll(filepath.Join(g.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ini := fmt.Sprintf(`APP_NAME = lab
RUN_MODE = prod
WORK_PATH = %[1]s

[server]
PROTOCOL = http
HTTP_ADDR = %[2]s
HTTP_PORT = %[3]s
ROOT_URL = http://%[2]s:%[3]s/
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false
STATIC_ROOT_PATH = %[4]s
APP_DATA_PATH = %[1]s/data

[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db

[repository]
ROOT = %[1]s/repos
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = %[5]s
INTERNAL_TOKEN = %[6]s
ALLOWED_HOST_LIST = %[2]s

[service]
DISABLE_REGISTRATION = true

[webhook]
DELIVER_TIMEOUT = 10

[mailer]
ENABLED = false

[cron]
ENABLED = false

[log]
MODE = console
LEVEL = Info
ROOT_PATH = %[1]s/log
`, g.dir, HostIP, giteaPort, static, randomHex(16), randomHex(32))
	p := filepath.Join(g.dir, "app.ini")
	if err := os.WriteFile(p, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (g *Gitea) command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = g.dir
	// The lab runs as root; Gitea refuses to unless told.
	cmd.Env = append(os.Environ(), "GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT=true", "GITEA_WORK_DIR="+g.dir,
		"HOME="+filepath.Join(g.dir, "home"))
	return cmd
}

// api calls Gitea's API as its user; a status other than 2xx is an error.
// out, when set, receives the JSON answer.
func (g *Gitea) api(method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.URL+path, body)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(g.User, g.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, nil
}

// CreateRepo makes a public repository of the user and returns its clone
// URL (what an Application's repoURL names).
func (g *Gitea) CreateRepo(name string) string {
	var repo struct {
		CloneURL string `json:"clone_url"`
	}
	if _, err := g.api("POST", "/api/v1/user/repos", map[string]any{"name": name, "private": false,
		"default_branch": "main"}, &repo); err != nil {
		g.l.t.Fatal(err)
	}
	return repo.CloneURL
}

// AddWebhook adds a push webhook of Gitea's own type to the repository,
// signed with secret, as docs/argocd.md tells users to.
func (g *Gitea) AddWebhook(repo, url, secret string) {
	if _, err := g.api("POST", "/api/v1/repos/"+g.User+"/"+repo+"/hooks", map[string]any{
		"type": "gitea", "active": true, "events": []string{"push"},
		"config": map[string]string{"url": url, "content_type": "json", "secret": secret},
	}, nil); err != nil {
		g.l.t.Fatal(err)
	}
}

// SetWebhooksActive turns every webhook of repo on or off and returns
// how many there are.
func (g *Gitea) SetWebhooksActive(repo string, active bool) int {
	var hooks []struct {
		ID int64 `json:"id"`
	}
	base := "/api/v1/repos/" + g.User + "/" + repo + "/hooks"
	if _, err := g.api("GET", base, nil, &hooks); err != nil {
		g.l.t.Fatal(err)
	}
	for _, h := range hooks {
		if _, err := g.api("PATCH", fmt.Sprintf("%s/%d", base, h.ID), map[string]any{"active": active}, nil); err != nil {
			g.l.t.Fatal(err)
		}
	}
	return len(hooks)
}

// Clone is a working copy of one of Gitea's repositories, where a test
// commits and pushes as a user would.
type Clone struct {
	Dir string
	g   *Gitea
	env []string
}

// Clone makes an empty working copy of repo (created by CreateRepo) whose
// pushes go to Gitea as its user.
func (g *Gitea) Clone(repo string) *Clone {
	t := g.l.t
	dir := filepath.Join(g.l.Dir, "clone-"+repo)
	home := filepath.Join(g.l.Dir, "clone-home")
	for _, d := range []string{dir, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &Clone{Dir: dir, g: g, env: append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Lab", "GIT_AUTHOR_EMAIL=lab@example.org",
		"GIT_COMMITTER_NAME=Lab", "GIT_COMMITTER_EMAIL=lab@example.org", "GIT_TERMINAL_PROMPT=0")}
	remote := strings.Replace(g.URL, "http://", "http://"+g.User+":"+g.Password+"@", 1) + "/" + g.User + "/" + repo + ".git"
	c.Git("init", "-q", "-b", "main")
	c.Git("remote", "add", "origin", remote)
	return c
}

// Git runs git in the working copy and returns its output.
func (c *Clone) Git(args ...string) string {
	t := c.g.l.t
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = c.Dir, c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		// The remote holds the password: never print it.
		t.Fatalf("git %s: %v\n%s", args[0], err, strings.ReplaceAll(string(out), c.g.Password, "<password>"))
	}
	return strings.TrimSpace(string(out))
}

// WriteFile writes a file of the working copy (path relative to it).
func (c *Clone) WriteFile(path string, data []byte) {
	p := filepath.Join(c.Dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.g.l.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		c.g.l.t.Fatal(err)
	}
}

// CommitAndPush commits every change with message and pushes main; it
// returns the commit's SHA and when the push finished.
func (c *Clone) CommitAndPush(message string) (string, time.Time) {
	c.Git("add", "-A")
	c.Git("commit", "-q", "-m", message)
	sha := c.Git("rev-parse", "HEAD")
	c.Git("push", "-q", "origin", "main")
	return sha, time.Now()
}
