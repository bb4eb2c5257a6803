package lab_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/thedevops/loki-cmp/internal/testtools"
	"github.com/thedevops/loki-cmp/test/internal/lab"
	"github.com/thedevops/loki-cmp/test/internal/render"
)

// The lab's poll period (argocd-cm timeout.reconciliation, jitter 0) and
// the repo-server's revision cache: install.yaml's are 120 s + up to 60 s
// of jitter and 3 min, with which a push without a webhook was applied
// 2m42s after it here even at a 60 s poll (docs/argocd.md); shorter here so
// that the run without a webhook takes one poll (30 s: 60 s made this lab
// the whole lab's critical path, a sync starting 77-114 s after the push).
// Which of the two started a sync is read from the controller's log, not
// guessed from timing.
const (
	gitopsPoll          = 30 * time.Second
	gitopsRevisionCache = 10 * time.Second
)

// gitops is the seed deployed the way users deploy it: loki.yaml in
// apps/loki of the k3s-gitops repository on Gitea, deploy/application's
// Application pointed at it, Argo CD syncing through loki-cmp's sidecar.
type gitops struct {
	t       *testing.T
	l       *lab.Lab
	argo    *lab.ArgoCD
	gitea   *lab.Gitea
	clone   *lab.Clone
	repoURL string // the repository's clone URL on Gitea
	vault   *testtools.Vault
	c       *client // to Loki through Traefik, trusting Pebble's root
	app     string  // the Application's name
	seed    string  // the loki.yaml the cluster should have (the seed, then each good commit)
	pw      string  // the admin password the sidecar holds
	size    string  // the seed's volume size
	head    string  // the last commit pushed
}

const gitopsRepo = "k3s-gitops"

// TestGitOps walks the GitOps flow: Gitea → webhook or poll → Argo CD's
// controller → repo-server → loki-cmp's sidecar → the cluster, asserted
// from the Application's status and the live objects.
func TestGitOps(t *testing.T) {
	start := time.Now()
	g := startGitOps(t)
	t.Run("first sync", g.checkFirstSync)
	t.Run("webhook", g.checkWebhook)
	t.Run("poll", g.checkPoll)
	t.Run("broken render", g.checkBrokenRender)
	t.Run("self-heal", g.checkSelfHeal)
	t.Run("prune", g.checkPrune)
	t.Run("password rotation in Vault", g.checkVaultRotation)
	t.Run("namespace move", g.checkNamespaceMove)
	times := g.argo.GenerateTimes()
	if len(times) == 0 {
		t.Error("the sidecar logged no GenerateManifest call")
	}
	slices.Sort(times)
	if len(times) > 0 {
		g.l.Logf("the sidecar's GenerateManifest calls: %d, median %s, max %s", len(times),
			times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
	}
	g.l.Logf("GitOps lab run: %s in all", time.Since(start).Round(100*time.Millisecond))
}

func startGitOps(t *testing.T) *gitops {
	g := newGitOps(t, filepath.Join(render.RepoRoot(t), "testdata", "examples", "seed", "loki.yaml"), true)
	g.clone.WriteFile("apps/loki/loki.yaml", []byte(g.seed))
	g.head, _ = g.clone.CommitAndPush("loki: the seed stack")
	g.createApplication(nil)
	return g
}

// newGitOps starts the lab for file's stack: Traefik, the ACME server and
// the ClusterIssuer the seed names, the stack's volume, Gitea with an empty
// repository and its push webhook, and Argo CD with loki-cmp's sidecar
// holding file's password (and, withVault, a Vault that holds it too).
func newGitOps(t *testing.T, file string, withVault bool) *gitops {
	l := lab.Start(t)
	l.StartTraefik()
	acme := l.StartACME()
	// The ClusterIssuer the seed names, as the cluster has it before
	// loki-cmp: a stand-in at Pebble (TestTLSModes has the same).
	if err := l.API.ApplyAs(l.Ctx(), acme.ClusterIssuer("letsencrypt-prod", platformEmail), "helm"); err != nil {
		t.Fatal(err)
	}
	doc := render.Stack(t, file)
	spec := doc.Stack.Spec
	l.ProvideVolume(doc.Stack.Metadata.Namespace, "loki-data-loki-0", spec.Storage.Size)
	if err := l.API.EnsureNamespace(l.Ctx(), spec.Monitoring.GrafanaDatasource.Namespace); err != nil {
		t.Fatal(err)
	}
	envVar := spec.Auth.Users[0].Password.FromEnv
	g := &gitops{t: t, l: l, app: "loki", pw: render.Password(envVar), size: spec.Storage.Size}
	g.c = &client{t: t, http: l.HTTPClient(spec.Host, acme.Roots()), base: "https://" + spec.Host}
	pluginEnv := []string{envVar + "=" + g.pw, opsPasswordVar + "=" + render.Password(opsPasswordVar)}
	if withVault {
		// The sidecar's Vault (token auth, as README's table has it), for
		// the rotation scenario; loki.yaml starts with the password in its env.
		g.vault = testtools.StartVault(t, false)
		g.vault.CLI(t, "kv", "put", "-mount=secret", "loki/basic-auth", "admin="+g.pw)
		pluginEnv = append(pluginEnv, "VAULT_ADDR="+g.vault.Addr, "VAULT_TOKEN="+g.vault.RootToken, "LOKI_CMP_VAULT_ALLOWED_PATHS=secret/loki/*")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g.seed = string(data)
	g.gitea = l.StartGitea()
	g.repoURL = g.gitea.CreateRepo(gitopsRepo)
	g.argo = l.StartArgoCD(lab.ArgoCDOptions{Reconciliation: gitopsPoll, RevisionCache: gitopsRevisionCache, PluginEnv: pluginEnv})
	g.gitea.AddWebhook(gitopsRepo, g.argo.Server+"/api/webhook", g.argo.WebhookSecret)
	g.clone = g.gitea.Clone(gitopsRepo)
	return g
}

// application is deploy/application's Application with only the
// repository URL changed to the lab's Gitea.
func (g *gitops) application() *unstructured.Unstructured {
	t := g.t
	data, err := os.ReadFile(filepath.Join(render.RepoRoot(t), "deploy", "application", "loki-application.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	app := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &app.Object); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(app.Object, g.repoURL, "spec", "source", "repoURL"); err != nil {
		t.Fatal(err)
	}
	return app
}

// createApplication creates application(), changed first by edit if set.
func (g *gitops) createApplication(edit func(app *unstructured.Unstructured)) {
	app := g.application()
	if edit != nil {
		edit(app)
	}
	g.app = app.GetName()
	if _, err := g.l.API.Dynamic.Resource(lab.ApplicationGVR).Namespace(app.GetNamespace()).Create(g.l.Ctx(), app, metav1.CreateOptions{}); err != nil {
		g.t.Fatal(err)
	}
}

// appState is what the tests read of the Application's status.
type appState struct {
	Sync, Health, Revision   string
	Phase, OpRevision, OpMsg string
	Started, Finished        string
	ReconciledAt             string
	Conditions               []string
	Results                  []syncResult
}

type syncResult struct {
	Kind, Namespace, Name, Status, Message, SyncPhase string
}

func (g *gitops) state() appState {
	g.t.Helper()
	app, err := g.argo.Application(g.app)
	if err != nil {
		g.t.Fatal(err)
	}
	s := func(path ...string) string {
		v, _, _ := unstructured.NestedString(app.Object, append([]string{"status"}, path...)...)
		return v
	}
	st := appState{Sync: s("sync", "status"), Health: s("health", "status"), Revision: s("sync", "revision"),
		Phase: s("operationState", "phase"), OpRevision: s("operationState", "syncResult", "revision"),
		OpMsg: s("operationState", "message"), Started: s("operationState", "startedAt"),
		Finished: s("operationState", "finishedAt"), ReconciledAt: s("reconciledAt")}
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	for _, c := range conds {
		c, _ := c.(map[string]any)
		st.Conditions = append(st.Conditions, fmt.Sprintf("%v: %v", c["type"], c["message"]))
	}
	res, _, _ := unstructured.NestedSlice(app.Object, "status", "operationState", "syncResult", "resources")
	for _, r := range res {
		r, _ := r.(map[string]any)
		str := func(k string) string { v, _ := r[k].(string); return v }
		st.Results = append(st.Results, syncResult{str("kind"), str("namespace"), str("name"), str("status"), str("message"), str("syncPhase")})
	}
	return st
}

func (s appState) String() string {
	return fmt.Sprintf("sync %s at %.7s, health %s, operation %s at %.7s (%s), conditions %v",
		s.Sync, s.Revision, s.Health, s.Phase, s.OpRevision, s.OpMsg, s.Conditions)
}

// waitSynced waits until the Application is Synced and Healthy at
// revision, by a sync operation that succeeded at it, and returns when.
func (g *gitops) waitSynced(what, revision string, timeout time.Duration) appState {
	g.t.Helper()
	var st appState
	lab.Eventually(g.t, what+": Synced and Healthy at "+revision[:7], timeout, func() string {
		st = g.state()
		if st.Sync != "Synced" || st.Health != "Healthy" || st.Revision != revision ||
			st.Phase != "Succeeded" || st.OpRevision != revision {
			return st.String()
		}
		return ""
	})
	return st
}

// waitAt waits until the Application is Synced and Healthy at revision
// with no error condition, whether or not a sync ran: a commit that
// renders what the cluster already has needs none.
func (g *gitops) waitAt(what, revision string, timeout time.Duration) appState {
	g.t.Helper()
	var st appState
	lab.Eventually(g.t, what+": Synced and Healthy at "+revision[:7]+", no error", timeout, func() string {
		st = g.state()
		if st.Sync != "Synced" || st.Health != "Healthy" || st.Revision != revision || len(st.Conditions) != 0 {
			return st.String()
		}
		return ""
	})
	return st
}

// rendered is what loki-cmp makes of loki.yaml content in the sidecar's
// environment (the objects the cluster should have).
// A password from Vault is rendered from the test's environment instead:
// the callers compare objects by kind, namespace and name.
func (g *gitops) rendered(content string) []*unstructured.Unstructured {
	g.t.Helper()
	content = strings.Replace(content, "password: {fromVault: {path: secret/loki/basic-auth, key: admin}}",
		"password: {fromEnv: LOKI_ADMIN_PASSWORD}", 1)
	f := filepath.Join(g.t.TempDir(), "loki.yaml")
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
	return render.Objects(g.t, f)
}

// fingerprints is, per object of objs that exists (and is not being
// deleted), its UID and its
// generation (or, for kinds without one, its resourceVersion): what
// changes when the object is re-created or its spec is written.
func (g *gitops) fingerprints(objs []*unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		res, err := g.l.API.Resource(o)
		if err != nil {
			g.t.Fatal(err)
		}
		live, err := res.Get(g.l.Ctx(), o.GetName(), metav1.GetOptions{})
		if err != nil {
			continue
		}
		if live.GetDeletionTimestamp() != nil {
			continue // being deleted
		}
		v := live.GetResourceVersion()
		if live.GetGeneration() > 0 {
			v = fmt.Sprint("gen ", live.GetGeneration())
		}
		out[key(o)] = string(live.GetUID()) + " " + v
	}
	return out
}

// dropped is the objects of was that now no longer has (by kind,
// namespace and name): what a sync from was to now prunes.
func dropped(was, now []*unstructured.Unstructured) []*unstructured.Unstructured {
	keep := map[string]bool{}
	for _, o := range now {
		keep[key(o)] = true
	}
	var out []*unstructured.Unstructured
	for _, o := range was {
		if !keep[key(o)] {
			out = append(out, o)
		}
	}
	return out
}

func key(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// checkFirstSync: the first sync ends Synced and Healthy; the waves were
// applied in order, each only once the one before it was healthy; a hard
// refresh afterwards finds no difference and applies nothing.
func (g *gitops) checkFirstSync(t *testing.T) {
	g.t = t
	objs := g.rendered(g.seed)
	w := watchWaves(g.l, objs)
	created := time.Now()
	st := g.waitSynced("first sync", g.head, 6*time.Minute)
	w.stop()
	t.Logf("first sync: %s %s after %s (Application created → Synced/Healthy)", st.Sync, st.Health, time.Since(created).Round(100*time.Millisecond))
	w.check(t)
	// The last operation's result: the first sync's, unless Argo CD synced
	// again right after it (seen once: one resource), which is logged.
	if len(st.Results) < len(objs) {
		t.Logf("the last sync operation applied %d of the %d objects: %v", len(st.Results), len(objs), st.Results)
	}
	for _, r := range st.Results {
		if r.Status != "Synced" {
			t.Errorf("sync result %s %s/%s: %s %s", r.Kind, r.Namespace, r.Name, r.Status, r.Message)
		}
	}

	before := g.fingerprints(objs)
	g.argo.Refresh(g.app, "hard")
	g.waitReconciled(st.ReconciledAt)
	after := g.state()
	if after.Sync != "Synced" || after.Health != "Healthy" || after.Started != st.Started {
		t.Errorf("after a hard refresh: %s (operation started %s, was %s): want still Synced, Healthy, no new sync", after, after.Started, st.Started)
	}
	if diff := diffFingerprints(before, g.fingerprints(objs)); diff != "" {
		t.Errorf("a hard refresh re-applied objects:\n%s", diff)
	}
	t.Logf("hard refresh: still %s %s, no sync started, %d objects unchanged", after.Sync, after.Health, len(before))
	g.checkAccess(t, g.pw, "")
}

// checkAccess: through Traefik, no credentials → 401, password → 200 and,
// if old is set, old → 401.
func (g *gitops) checkAccess(t *testing.T, password, old string) {
	g.c.t = t
	lab.Eventually(t, "Traefik serves Loki with the issued certificate", time.Minute, func() string {
		if _, _, err := g.c.do("GET", "/loki/api/v1/labels", "", "", nil); err != nil {
			return err.Error()
		}
		return ""
	})
	if code, _, body := g.c.must("GET", "/loki/api/v1/labels", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d %s, want 401", code, body)
	}
	if code, _, body := g.c.must("GET", "/loki/api/v1/labels", "admin", password, nil); code != http.StatusOK {
		t.Errorf("the password: %d %s, want 200", code, body)
	}
	if old != "" {
		if code, _, body := g.c.must("GET", "/loki/api/v1/labels", "admin", old, nil); code != http.StatusUnauthorized {
			t.Errorf("the old password: %d %s, want 401", code, body)
		}
	}
}

// waitReconciled waits until the controller has reconciled the
// Application again (status.reconciledAt after since).
func (g *gitops) waitReconciled(since string) {
	lab.Eventually(g.t, "the Application reconciled after "+since, 2*time.Minute, func() string {
		if r := g.state().ReconciledAt; r <= since {
			return "reconciledAt " + r
		}
		return ""
	})
}

func diffFingerprints(before, after map[string]string) string {
	var out []string
	for k, v := range before {
		if after[k] != v {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, v, after[k]))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// commit writes loki.yaml and pushes it; it returns the new head and when
// the push finished.
func (g *gitops) commit(content, message string) (string, time.Time) {
	g.clone.WriteFile("apps/loki/loki.yaml", []byte(content))
	sha, at := g.clone.CommitAndPush(message)
	g.head = sha
	return sha, at
}

// withRetention is the seed with spec.loki.retention set (added, or
// replaced where a commit before set it).
func withRetention(seed, retention string) string {
	if set := retentionLine.FindString(seed); set != "" {
		return replaceOnce(seed, set, "    retention: "+retention+"\n")
	}
	return replaceOnce(seed, "  host: loki.thedevops.dev\n", "  host: loki.thedevops.dev\n  loki:\n    retention: "+retention+"\n")
}

var retentionLine = regexp.MustCompile(`(?m)^    retention: .*\n`)

// withUser is the seed with a second basic-auth user, ops, whose password
// the sidecar holds in LOKI_OPS_PASSWORD.
func withUser(seed string) string {
	const admin = "        password: {fromEnv: LOKI_ADMIN_PASSWORD}\n"
	return replaceOnce(seed, admin, admin+"      - name: ops\n        password: {fromEnv: "+opsPasswordVar+"}\n")
}

const opsPasswordVar = "LOKI_OPS_PASSWORD"

func replaceOnce(s, old, new string) string {
	if strings.Count(s, old) != 1 {
		panic(fmt.Sprintf("%q is not once in the seed", old))
	}
	return strings.Replace(s, old, new, 1)
}

// checkWebhook: a commit that changes retention, announced by Gitea's
// push webhook, is applied without waiting for the poll: the refresh that
// started the sync is the one the webhook requested.
func (g *gitops) checkWebhook(t *testing.T) {
	g.t = t
	serverLog := g.argo.LogSize("argocd-server")
	next := withRetention(g.seed, "14d")
	sha, pushed := g.commit(next, "loki: keep logs 14 days")
	g.seed = next // what the later scenarios start from, even if this one fails
	// Standalone it takes ~52 s (Loki restarts on the new config); beside
	// the other labs, over 60. That the webhook, not the poll, started the
	// sync is read from the controller's log below, not from the time.
	st := g.waitSynced("webhook", sha, 3*time.Minute)
	took := time.Since(pushed)
	g.checkConfig(t, "retention_period: 14d")
	log := g.argo.LogSince("argocd-server", serverLog)
	if !strings.Contains(log, "Received push event repo: "+g.gitea.URL+"/"+g.gitea.User+"/"+gitopsRepo) ||
		!strings.Contains(log, "Requested app '"+g.app+"' refresh") {
		t.Errorf("argocd-server did not log Gitea's push event and the refresh:\n%s", log)
	}
	if why := g.syncTrigger(sha); why != "normal refresh requested" {
		t.Errorf("the sync to %.7s was started by a refresh for %q, want the webhook's (normal refresh requested)", sha, why)
	}
	t.Logf("webhook: push → sync started %s, %s %s at %.7s in %s (Loki restarted on the new config), started by the webhook's refresh",
		g.syncStarted(pushed), st.Sync, st.Health, sha, took.Round(100*time.Millisecond))
}

// syncStarted is how long after pushed the last sync operation started
// (status.operationState.startedAt, whole seconds).
func (g *gitops) syncStarted(pushed time.Time) time.Duration {
	at, err := time.Parse(time.RFC3339, g.state().Started)
	if err != nil {
		g.t.Fatal(err)
	}
	return at.Sub(pushed.Truncate(time.Second))
}

// syncTrigger is the reason the controller logged for the refresh in
// which it started the automated sync to sha ("" if it did not).
func (g *gitops) syncTrigger(sha string) string {
	log := g.argo.LogSince("argocd-application-controller", 0)
	i := strings.Index(log, "Initiated automated sync to '"+sha)
	if i < 0 {
		return ""
	}
	const mark = "Refreshing app status ("
	j := strings.LastIndex(log[:i], mark)
	if j < 0 {
		return ""
	}
	reason := log[j+len(mark) : i]
	if k := strings.Index(reason, "), level"); k >= 0 {
		reason = reason[:k]
	}
	return reason
}

// checkConfig: the live loki-config ConfigMap holds want.
func (g *gitops) checkConfig(t *testing.T, want string) {
	cm, err := g.l.Client.CoreV1().ConfigMaps("loki").Get(g.l.Ctx(), "loki-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var all string
	for _, v := range cm.Data {
		all += v
	}
	if !strings.Contains(all, want) {
		t.Errorf("loki-config does not hold %q:\n%s", want, all)
	}
}

// checkPoll: with Gitea's webhook off, a push that a forged webhook (the
// wrong secret) announces is refused and triggers nothing; the poll
// applies it. The push adds a user: a change of the basic-auth Secret
// alone, which Traefik takes at once (a change of Loki's config, as in the
// webhook's run, adds Loki's restart, ~40 s, to the time measured).
func (g *gitops) checkPoll(t *testing.T) {
	g.t = t
	hook := g.gitea.SetWebhooksActive(gitopsRepo, false)
	defer g.gitea.SetWebhooksActive(gitopsRepo, true)
	was := g.state()
	serverLog := g.argo.LogSize("argocd-server")
	next := withUser(g.seed)
	sha, pushed := g.commit(next, "loki: a user for the ops team")
	g.seed = next
	// Argo CD v3.6.1 answers a Gogs/Gitea event that fails its HMAC check
	// with 400 "Webhook processing failed" (401 is for registry events).
	code := g.sendWebhook(gogsPush(g.gitea, sha, was.Revision), "not-the-secret")
	if code != http.StatusBadRequest {
		t.Errorf("a webhook signed with the wrong secret: %d, want 400", code)
	}
	st := g.waitSynced("poll", sha, gitopsPoll+2*time.Minute)
	took := time.Since(pushed)
	log := g.argo.LogSince("argocd-server", serverLog)
	if strings.Contains(log, "Requested app '"+g.app+"' refresh") {
		t.Errorf("argocd-server refreshed the Application on the forged webhook:\n%s", log)
	}
	if !strings.Contains(log, "HMAC verification failed") {
		t.Errorf("argocd-server did not log the failed HMAC check:\n%s", log)
	}
	if why := g.syncTrigger(sha); !strings.HasPrefix(why, "comparison expired") {
		t.Errorf("the sync to %.7s was started by a refresh for %q, want the poll's (comparison expired)", sha, why)
	}
	g.c.t = t
	lab.Eventually(t, "Traefik takes the new user", time.Minute, func() string {
		if code, _, _ := g.c.must("GET", "/loki/api/v1/labels", "ops", render.Password(opsPasswordVar), nil); code != http.StatusOK {
			return fmt.Sprintf("ops → %d", code)
		}
		return ""
	})
	t.Logf("no webhook (%d hook(s) off): a forged webhook with the wrong secret → %d, HMAC check failed, no refresh; the poll: push → sync started %s, %s %s in %s, then Traefik 200 for the new user after %s",
		hook, code, g.syncStarted(pushed), st.Sync, st.Health, took.Round(100*time.Millisecond), time.Since(pushed).Round(100*time.Millisecond))
}

// gogsPush is a push event as Gitea sends it (its Gogs-compatible form,
// which Argo CD parses), for the commit sha after before.
func gogsPush(gitea *lab.Gitea, sha, before string) []byte {
	repoURL := gitea.URL + "/" + gitea.User + "/" + gitopsRepo
	body, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": before, "after": sha,
		"commits": []map[string]any{{"id": sha, "modified": []string{"apps/loki/loki.yaml"}}},
		"repository": map[string]any{"name": gitopsRepo, "full_name": gitea.User + "/" + gitopsRepo,
			"html_url": repoURL, "clone_url": repoURL + ".git", "default_branch": "main"},
	})
	return body
}

// sendWebhook posts a push event to argocd-server signed with secret, as
// Gitea signs (HMAC-SHA256 of the body in X-Gogs-Signature), and returns
// the status.
func (g *gitops) sendWebhook(body []byte, secret string) int {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest("POST", g.argo.Server+"/api/webhook", bytes.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gogs-Event", "push")
	req.Header.Set("X-Gitea-Event", "push")
	req.Header.Set("X-Gogs-Signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// lineColumn is loki-cmp's position of an error in loki.yaml.
var lineColumn = regexp.MustCompile(`loki\.yaml:\d+:\d+: `)

// checkBrokenRender: commits that break the render (an unset variable, an
// invalid value) show loki-cmp's error with file:line:col and no secret
// in the Application, change and prune nothing, and the next good commit
// recovers.
func (g *gitops) checkBrokenRender(t *testing.T) {
	g.t = t
	good := g.seed
	objs := g.rendered(good)
	before := g.fingerprints(objs)
	for _, c := range []struct{ name, content, want string }{
		{"unset variable", strings.Replace(good, "fromEnv: LOKI_ADMIN_PASSWORD", "fromEnv: LOKI_UNSET_PASSWORD", 1), "LOKI_UNSET_PASSWORD"},
		{"invalid value", withRetention(g.seed, "forever"), "retention"},
	} {
		sha, _ := g.commit(c.content, "loki: "+c.name)
		g.argo.Refresh(g.app, "normal")
		var msg string
		lab.Eventually(g.t, c.name+": the Application shows loki-cmp's error", 2*time.Minute, func() string {
			st := g.state()
			for _, cond := range st.Conditions {
				if strings.HasPrefix(cond, "ComparisonError") && strings.Contains(cond, c.want) {
					msg = cond
					return ""
				}
			}
			return st.String()
		})
		if !lineColumn.MatchString(msg) {
			t.Errorf("%s: the error has no loki.yaml:line:col: %s", c.name, msg)
		}
		if strings.Contains(msg, g.pw) {
			t.Errorf("%s: the error shows the password", c.name)
		}
		t.Logf("%s (%.7s): %s; %s", c.name, sha, g.state().Sync, msg)
	}
	if diff := diffFingerprints(before, g.fingerprints(objs)); diff != "" {
		t.Errorf("a broken render changed the cluster:\n%s", diff)
	}
	// The fix renders what the cluster already has: Synced at the new
	// commit, the error gone, and no sync needed.
	sha, pushed := g.commit(good, "loki: fix the render")
	st := g.waitAt("recovery", sha, 3*time.Minute)
	t.Logf("broken renders: nothing of %d objects changed or pruned; the good commit → %s %s in %s", len(before), st.Sync, st.Health,
		time.Since(pushed).Round(100*time.Millisecond))
	g.seed = good
}

// checkSelfHeal: a deleted Middleware and an edited Secret are restored.
func (g *gitops) checkSelfHeal(t *testing.T) {
	g.t = t
	l := g.l
	mw := render.Find(t, g.rendered(g.seed), "Middleware", "loki-basic-auth")
	res, err := l.API.Resource(mw)
	if err != nil {
		t.Fatal(err)
	}
	old, err := res.Get(l.Ctx(), mw.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Delete(l.Ctx(), mw.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	lab.Eventually(t, "the Middleware restored", 2*time.Minute, func() string {
		o, err := res.Get(l.Ctx(), mw.GetName(), metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if o.GetUID() == old.GetUID() {
			return "not deleted yet"
		}
		return ""
	})
	t.Logf("Middleware deleted → restored in %s", time.Since(deleted).Round(100*time.Millisecond))

	secrets := l.Client.CoreV1().Secrets("loki")
	sec, err := secrets.Get(l.Ctx(), "loki-basic-auth", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := maps(sec.Data)
	for k := range sec.Data {
		sec.Data[k] = []byte("tampered")
	}
	if _, err := secrets.Update(l.Ctx(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	edited := time.Now()
	lab.Eventually(t, "the Secret restored", 2*time.Minute, func() string {
		s, err := secrets.Get(l.Ctx(), "loki-basic-auth", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if got := maps(s.Data); got != want {
			return "data still edited"
		}
		return ""
	})
	t.Logf("Secret edited → restored in %s", time.Since(edited).Round(100*time.Millisecond))
}

// maps is a byte map as a comparable string (keys sorted).
func maps(m map[string][]byte) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%x;", k, m[k])
	}
	return b.String()
}

// checkPrune: switching the ServiceMonitor and the collector off deletes
// exactly their objects; everything else stays as it was.
func (g *gitops) checkPrune(t *testing.T) {
	g.t = t
	off := replaceOnce(replaceOnce(g.seed, "  collector:\n    type: promtail\n", "  collector:\n    enabled: false\n"),
		"    serviceMonitor:\n      labels: {release: kube-prometheus-stack}\n", "    serviceMonitor:\n      enabled: false\n")
	now := g.rendered(off)
	gone := dropped(g.rendered(g.seed), now)
	kept := g.fingerprints(now)
	sha, pushed := g.commit(off, "loki: no ServiceMonitor, no collector")
	st := g.waitSynced("prune", sha, 3*time.Minute)
	// A Namespace is gone once its contents are: being deleted counts.
	var left map[string]string
	lab.Eventually(t, "the pruned objects gone", time.Minute, func() string {
		if left = g.fingerprints(gone); len(left) != 0 {
			return fmt.Sprint("still there: ", left)
		}
		return ""
	})
	var names []string
	for _, o := range gone {
		names = append(names, key(o))
	}
	if len(left) != 0 {
		t.Errorf("not pruned: %v", left)
	}
	// Spec changes are expected where the render changed (e.g. the
	// NetworkPolicy's rules for the collector); re-creation is not.
	after := g.fingerprints(now)
	for k, v := range kept {
		if strings.Fields(after[k])[0] != strings.Fields(v)[0] {
			t.Errorf("%s was re-created or deleted (%s → %q)", k, v, after[k])
		}
	}
	t.Logf("prune: push → %s %s in %s; deleted exactly %d objects: %s", st.Sync, st.Health,
		time.Since(pushed).Round(100*time.Millisecond), len(gone), strings.Join(names, ", "))
	g.seed = off
}

// waveWatch records, while a sync runs, in which round of reads each
// wave's first object exists and in which round all of a wave's objects
// are first healthy. Each round reads later waves first, so an object of a
// later wave seen in a round before the one in which an earlier wave was
// first all healthy was applied before that wave was healthy. A wave that
// is healthy and later is not (a probe that fails once) is no ordering
// fault: it is counted and logged.
type waveWatch struct {
	l     *lab.Lab
	waves []lab.Wave
	done  chan struct{}
	wg    sync.WaitGroup

	mu          sync.Mutex
	round       int
	seen        map[int]int       // wave -> first round with an object of it
	healthy     map[int]int       // wave -> first round with all of it healthy
	seenAt      map[int]time.Time // wave -> when seen
	healthyAt   map[int]time.Time
	regressions []string // "wave N: object: why" after it was healthy
}

func watchWaves(l *lab.Lab, objs []*unstructured.Unstructured) *waveWatch {
	waves, err := lab.Waves(objs)
	if err != nil {
		l.T().Fatal(err)
	}
	w := &waveWatch{l: l, waves: waves, done: make(chan struct{}), seen: map[int]int{}, healthy: map[int]int{},
		seenAt: map[int]time.Time{}, healthyAt: map[int]time.Time{}}
	w.wg.Add(1)
	go w.loop()
	return w
}

func (w *waveWatch) loop() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case <-time.After(250 * time.Millisecond):
		}
		w.round++
		for i := len(w.waves) - 1; i >= 0; i-- {
			w.read(w.waves[i])
		}
	}
}

// read reads one wave's objects in this round.
func (w *waveWatch) read(wave lab.Wave) {
	all := true
	for _, o := range wave.Objects {
		why := w.l.Health(o)
		exists := why == "" || !strings.Contains(why, "not found")
		w.mu.Lock()
		if _, ok := w.seen[wave.Number]; exists && !ok {
			w.seen[wave.Number], w.seenAt[wave.Number] = w.round, time.Now()
		}
		if _, was := w.healthy[wave.Number]; was && why != "" && len(w.regressions) < 10 {
			w.regressions = append(w.regressions, fmt.Sprintf("wave %d: %s: %s", wave.Number, key(o), why))
		}
		w.mu.Unlock()
		all = all && why == ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.healthy[wave.Number]; all && !ok {
		w.healthy[wave.Number], w.healthyAt[wave.Number] = w.round, time.Now()
	}
}

func (w *waveWatch) stop() { close(w.done); w.wg.Wait() }

// check fails t where a wave appeared before an earlier one was healthy,
// and logs the order seen.
func (w *waveWatch) check(t *testing.T) {
	var order []string
	for i, wave := range w.waves {
		seen, ok := w.seen[wave.Number]
		if !ok {
			t.Errorf("wave %d: no object seen", wave.Number)
			continue
		}
		for _, earlier := range w.waves[:i] {
			if h, ok := w.healthy[earlier.Number]; !ok || seen < h {
				t.Errorf("wave %d appeared (round %d) before wave %d was healthy (round %d, 0: never)", wave.Number, seen, earlier.Number, h)
			}
		}
		healthy := "not seen healthy before the sync ended"
		if at, ok := w.healthyAt[wave.Number]; ok {
			healthy = "healthy " + at.Format("15:04:05.0")
		}
		order = append(order, fmt.Sprintf("wave %d (%s) applied %s, %s", wave.Number, kindsOf(wave),
			w.seenAt[wave.Number].Format("15:04:05.0"), healthy))
	}
	t.Logf("waves, as observed:\n  %s", strings.Join(order, "\n  "))
	if len(w.regressions) > 0 {
		t.Logf("healthy, then not for a while (not an ordering fault): %s", strings.Join(w.regressions, "; "))
	}
}

func kindsOf(w lab.Wave) string {
	var kinds []string
	for _, o := range w.Objects {
		if !slices.Contains(kinds, o.GetKind()) {
			kinds = append(kinds, o.GetKind())
		}
	}
	return strings.Join(kinds, ", ")
}

// checkVaultRotation: the password moves to Vault by a commit; a new
// version in Vault reaches the cluster by the documented path, a hard
// refresh (a normal one serves the cached manifests of the same commit),
// and Traefik then takes the new password and refuses the old.
func (g *gitops) checkVaultRotation(t *testing.T) {
	g.t = t
	inVault := replaceOnce(g.seed, "password: {fromEnv: LOKI_ADMIN_PASSWORD}",
		"password: {fromVault: {path: secret/loki/basic-auth, key: admin}}")
	// Vault holds the same password: the same hash, nothing to sync.
	sha, _ := g.commit(inVault, "loki: the admin password from Vault")
	g.waitAt("password from Vault", sha, 3*time.Minute)
	g.seed = inVault
	g.checkAccess(t, g.pw, "")
	secrets := g.l.Client.CoreV1().Secrets("loki")
	hash := func() string {
		s, err := secrets.Get(g.l.Ctx(), "loki-basic-auth", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return maps(s.Data)
	}
	was := hash()
	next := "rotated-" + g.pw
	g.vault.CLI(t, "kv", "put", "-mount=secret", "loki/basic-auth", "admin="+next)

	st := g.state()
	g.argo.Refresh(g.app, "normal")
	g.waitReconciled(st.ReconciledAt)
	if hash() != was {
		t.Fatal("a normal refresh changed the Secret: the manifests were not cached")
	}
	refreshed := time.Now()
	g.argo.Refresh(g.app, "hard")
	lab.Eventually(g.t, "the new hash in the cluster", 2*time.Minute, func() string {
		if hash() == was {
			return "Secret unchanged"
		}
		return ""
	})
	applied := time.Since(refreshed)
	lab.Eventually(g.t, "Traefik takes the new password", time.Minute, func() string {
		if code, _, _ := g.c.must("GET", "/loki/api/v1/labels", "admin", next, nil); code != http.StatusOK {
			return fmt.Sprintf("new password → %d", code)
		}
		return ""
	})
	g.checkAccess(t, next, g.pw)
	t.Logf("Vault rotation: a normal refresh kept the cached hash; a hard refresh applied the new one in %s, Traefik 200 for the new password after %s, 401 for the old",
		applied.Round(100*time.Millisecond), time.Since(refreshed).Round(100*time.Millisecond))
	g.pw = next
}

// checkNamespaceMove: a commit that moves the stack to another namespace
// (docs/upgrades.md, "Moving the stack to another namespace") syncs the
// stack there, prunes the old namespace's objects but neither the old
// Namespace nor its volume claim: no data is deleted unless the user
// deletes the namespace. The Application then lists the Namespace as
// requiring pruning (skipped).
func (g *gitops) checkNamespaceMove(t *testing.T) {
	g.t = t
	l := g.l
	const from, to = "loki", "loki-next"
	moved := replaceOnce(g.seed, "  namespace: loki\n", "  namespace: "+to+"\n")
	was, now := g.rendered(g.seed), g.rendered(moved)
	l.ProvideVolume(to, "loki-data-loki-0", g.size)
	claim, err := l.Client.CoreV1().PersistentVolumeClaims(from).Get(l.Ctx(), "loki-data-loki-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sha, pushed := g.commit(moved, "loki: move to namespace "+to)
	var st appState
	var prune []string
	lab.Eventually(t, "the stack synced in "+to, 4*time.Minute, func() string {
		st = g.state()
		if st.Phase != "Succeeded" || st.OpRevision != sha || st.Health != "Healthy" {
			return st.String()
		}
		return ""
	})
	took := time.Since(pushed)
	prune = g.requiresPruning()
	ns, err := l.Client.CoreV1().Namespaces().Get(l.Ctx(), from, metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp != nil {
		t.Fatalf("the old Namespace %s: %v (deleting: %v), want kept", from, err, ns != nil && ns.DeletionTimestamp != nil)
	}
	c, err := l.Client.CoreV1().PersistentVolumeClaims(from).Get(l.Ctx(), claim.Name, metav1.GetOptions{})
	if err != nil || c.UID != claim.UID || c.DeletionTimestamp != nil {
		t.Fatalf("the old volume claim %s/%s: %v, want kept (same UID, not deleting)", from, claim.Name, err)
	}
	// The old Namespace is kept (checked above): the rest must go.
	var gone []*unstructured.Unstructured
	for _, o := range dropped(was, now) {
		if o.GetKind() != "Namespace" {
			gone = append(gone, o)
		}
	}
	if left := g.fingerprints(gone); len(left) != 0 {
		t.Errorf("not pruned from %s: %v", from, left)
	}
	if !slices.Contains(prune, "Namespace /"+from) {
		t.Errorf("the Application's resources requiring pruning: %v, want Namespace %s", prune, from)
	}
	t.Logf("namespace move: push → operation %s, health %s, sync %s in %s; %d objects of %s pruned; Namespace %s and claim %s (phase %s, volume %s) kept; requiring pruning (skipped): %v",
		st.Phase, st.Health, st.Sync, took.Round(100*time.Millisecond), len(gone), from, from, c.Name, c.Status.Phase, c.Spec.VolumeName, prune)
}

// requiresPruning lists the Application's resources marked
// requiresPruning ("Kind namespace/name").
func (g *gitops) requiresPruning() []string {
	app, err := g.argo.Application(g.app)
	if err != nil {
		g.t.Fatal(err)
	}
	res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	var out []string
	for _, r := range res {
		r, _ := r.(map[string]any)
		str := func(k string) string { v, _ := r[k].(string); return v }
		if p, _ := r["requiresPruning"].(bool); p {
			out = append(out, str("kind")+" "+str("namespace")+"/"+str("name"))
		}
	}
	return out
}
