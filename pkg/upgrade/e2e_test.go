package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/githubfake"
	"github.com/addonsync/addonsync/internal/testutil/gitserver"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/render"
)

const (
	gitToken     = "ghs_gitTOKEN_0123456789abcdef"
	githubToken  = "ghp_apiTOKEN_0123456789abcdef"
	secretValue  = "hunter2-super-secret"
	secretValue2 = "correct-horse-battery"
	repoName     = "platform-addons"
)

// demoVersion is the chart demo at version: a ConfigMap, a Secret and, from 1.1.0, a CRD.
func demoVersion(version, kubeVersion, secret string, withCRD bool) chartrepo.Chart {
	files := map[string]string{
		"values.yaml":           "replicas: 1\n",
		"templates/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  version: \"" + version + "\"\n  replicas: \"{{ .Values.replicas }}\"\n",
		"templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo\nstringData:\n  password: " + secret + "\n",
	}
	if withCRD {
		files["crds/widgets.yaml"] = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.demo.example.com\nspec:\n  group: demo.example.com\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n"
	}
	ann := map[string]string{AnnotationChanges: "- kind: added\n  description: Widget CRD for " + version + "\n"}
	return chartrepo.Chart{Name: "demo", Version: version, KubeVersion: kubeVersion, Files: files, Annotations: ann}
}

const addonYAML = `# The demo add-on.
apiVersion: addonsync.io/v1alpha1
kind: Addon
metadata:
  name: demo
spec:
  namespace: demo-system   # created when missing
  chart:
    repository: %s
    name: demo
    # Bumped by addonsync upgrade pr.
    version: "1.0.0"   # keep quoted
  upgrade:
    constraint: ">=1.0.0 <2.0.0"
`

type fixture struct {
	charts *chartrepo.HTTPRepo
	git    *gitserver.Server
	gh     *githubfake.Server
	logs   *bytes.Buffer
	// work is the bare clone every run of a test reuses (fetching, not cloning, after the first).
	work string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		charts: chartrepo.NewHTTP(t),
		git:    gitserver.New(t, gitToken),
		gh:     githubfake.New(t, "example-org", repoName, githubToken),
		logs:   &bytes.Buffer{},
		work:   t.TempDir(),
	}
	d1 := f.charts.Add(t, demoVersion("1.0.0", ">=1.25.0-0", secretValue, false))
	f.charts.Add(t, demoVersion("1.1.0", ">=1.34.0-0", secretValue2, true))
	f.charts.Add(t, demoVersion("2.0.0", ">=1.34.0-0", secretValue2, true))
	files := map[string]string{
		"addonsync.yaml":             "apiVersion: addonsync.io/v1alpha1\nkind: Repository\nmetadata:\n  name: platform-addons\nspec:\n  github:\n    owner: example-org\n    repo: " + repoName + "\n    labels: [addonsync, dependencies]\n  commit:\n    name: addonsync-bot\n    email: bot@addonsync.example\n",
		"addons/demo/addon.yaml":     fmt.Sprintf(addonYAML, f.charts.URL()),
		"addons/demo/values.yaml":    "replicas: 2\n",
		"clusters/prod/cluster.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: prod\nspec:\n  kubernetesVersion: \"1.34\"\n  addons:\n  - name: demo\n",
		"clusters/wsp/cluster.yaml":  "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: wsp\nspec:\n  kubernetesVersion: \"1.33\"\n  addons:\n  - name: demo\n",
		"addonsync.lock":             fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Lock\ncharts:\n- source: %s\n  name: demo\n  version: 1.0.0\n  digest: %s\n", f.charts.URL(), d1),
	}
	f.git.CreateRepo(t, repoName, files, "release-1.33", "release-1.34")
	return f
}

func (f *fixture) executor(t *testing.T, gitTok, ghTok string, dryRun bool) *Executor {
	t.Helper()
	return NewExecutor(ExecutorOptions{
		Remote:       git.RemoteOptions{URL: f.git.URL(repoName), Token: gitTok, Dir: f.work},
		PullRequests: NewGitHubPullRequests(f.gh.Client(t, ghTok), "example-org", repoName, GitHubOptions{MaxWait: 10 * time.Second, Backoff: 10 * time.Millisecond, Attempts: 4}),
		Renderer:     render.New(render.Options{CacheDir: t.TempDir()}),
		DryRun:       dryRun,
		Now:          func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
		Logger:       slog.New(slog.NewTextHandler(f.logs, nil)),
	})
}

func (f *fixture) run(t *testing.T, ex *Executor) ([]Bump, []Result) {
	t.Helper()
	bumps, results, err := ex.Run(context.Background(), DiscoverOptions{}, nil)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	return bumps, results
}

// assertNoSecrets fails when a token or Secret value appears in anything captured.
func (f *fixture) assertNoSecrets(t *testing.T, captured ...string) {
	t.Helper()
	all := append([]string{f.logs.String()}, captured...)
	for _, pr := range f.gh.PRs() {
		all = append(all, pr.Title, pr.Body)
	}
	for _, r := range f.gh.Requests() {
		all = append(all, r.Path, r.Query, r.Body)
	}
	all = append(all, f.git.Requests()...)
	for _, s := range all {
		for _, secret := range []string{gitToken, githubToken, secretValue, secretValue2} {
			if strings.Contains(s, secret) {
				t.Errorf("secret %q leaked in: %.200s", secret[:6]+"…", s)
			}
		}
	}
}

func resultText(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%+v %v %s %s\n", r, r.Err, r.FileDiff, r.PullRequest.Body)
	}
	return b.String()
}

func TestUpgradePR(t *testing.T) {
	f := newFixture(t)
	branch := "addonsync/upgrade/demo"
	var firstHead string

	t.Run("check plans the newest allowed version and fits branches", func(t *testing.T) {
		bumps, _ := f.run(t, f.executor(t, gitToken, githubToken, true))
		b := bumps[0]
		if b.To != "1.1.0" || b.Newest != "2.0.0" || !b.Actionable() {
			t.Fatalf("bump = %+v, want 1.0.0 -> 1.1.0 (newest 2.0.0), actionable", b)
		}
		want := []BranchFit{{Branch: "release-1.33", KubernetesVersion: "1.33"}, {Branch: "release-1.34", KubernetesVersion: "1.34", Compatible: true}}
		if diff := cmp.Diff(want, b.Branches); diff != "" {
			t.Errorf("branches (-want +got):\n%s", diff)
		}
	})

	t.Run("dry run pushes nothing and writes nothing to GitHub", func(t *testing.T) {
		_, results := f.run(t, f.executor(t, gitToken, githubToken, true))
		if len(results) != 1 || results[0].Action != ActionDryRun || results[0].Err != nil {
			t.Fatalf("results = %s", resultText(results))
		}
		if !strings.Contains(results[0].FileDiff, `+    version: "1.1.0"   # keep quoted`) || results[0].PullRequest.Title != "demo: 1.0.0 -> 1.1.0" {
			t.Errorf("dry run shows diff %q title %q", results[0].FileDiff, results[0].PullRequest.Title)
		}
		if rev := f.git.Rev(t, repoName, branch); rev != "" {
			t.Errorf("dry run pushed %s", rev)
		}
		if w := f.gh.Writes(); len(w) != 0 {
			t.Errorf("dry run wrote to GitHub: %+v", w)
		}
		f.assertNoSecrets(t, resultText(results))
	})

	t.Run("pushes a one-line version change and opens one PR", func(t *testing.T) {
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionOpened || !results[0].Pushed {
			t.Fatalf("results = %s", resultText(results))
		}
		diff := f.git.Git(t, repoName, "diff", "main", branch, "--", "addons/demo/addon.yaml")
		wantDiff := "diff --git a/addons/demo/addon.yaml b/addons/demo/addon.yaml\n"
		if !strings.Contains(diff, "-    version: \"1.0.0\"   # keep quoted\n+    version: \"1.1.0\"   # keep quoted\n") ||
			strings.Count(diff, "\n-") != 2 || strings.Count(diff, "\n+") != 2 || !strings.HasPrefix(diff, wantDiff) {
			t.Errorf("addon.yaml diff is not a one-line version change:\n%s", diff)
		}
		lock := f.git.Git(t, repoName, "show", branch+":addonsync.lock")
		if !strings.Contains(lock, "version: 1.0.0") || !strings.Contains(lock, "version: 1.1.0") {
			t.Errorf("lock does not pin both versions:\n%s", lock)
		}
		msg := f.git.Git(t, repoName, "log", "-1", "--format=%an <%ae>%n%B", branch)
		if !strings.HasPrefix(msg, "addonsync-bot <bot@addonsync.example>\ndemo: 1.0.0 -> 1.1.0") || !strings.Contains(msg, "Addonsync-Upgrade: demo 1.0.0 -> 1.1.0") {
			t.Errorf("commit = %q", msg)
		}
		if n := f.git.Git(t, repoName, "rev-list", "--count", "main.."+branch); strings.TrimSpace(n) != "1" {
			t.Errorf("branch has %s commits on main, want 1", n)
		}
		prs := f.gh.PRs()
		if len(prs) != 1 {
			t.Fatalf("PRs = %d, want 1", len(prs))
		}
		pr := prs[0]
		if pr.Title != "demo: 1.0.0 -> 1.1.0" || pr.Head != branch || pr.Base != "main" || !cmp.Equal(pr.Labels, []string{"addonsync", "dependencies"}) {
			t.Errorf("PR = %+v", pr)
		}
		for _, want := range []string{
			"| prod | 1.34 | 1 | 2 | 0 | ⚠️ 1 CRD change(s) |",
			"#### wsp (Kubernetes 1.33)",
			"<details><summary>Diff for prod</summary>",
			"-  version: 1.0.0\n+  version: 1.1.0\n",
			"-  password: (masked)\n+  password: (masked, changed)\n",
			"`release-1.33`: not backported",
			"`release-1.34`: backported by `addonsync backport` once this is merged",
			"description: Widget CRD for 1.1.0",
		} {
			if !strings.Contains(pr.Body, want) {
				t.Errorf("PR body lacks %q:\n%s", want, pr.Body)
			}
		}
		firstHead = f.git.Rev(t, repoName, branch)
		f.assertNoSecrets(t, resultText(results))
	})

	t.Run("second run pushes nothing and writes nothing to GitHub", func(t *testing.T) {
		writes := len(f.gh.Writes())
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionUnchanged || results[0].Pushed {
			t.Fatalf("results = %s", resultText(results))
		}
		if got := f.git.Rev(t, repoName, branch); got != firstHead {
			t.Errorf("branch moved %s -> %s", firstHead, got)
		}
		if w := f.gh.Writes(); len(w) != writes {
			t.Errorf("second run wrote to GitHub: %+v", w[writes:])
		}
	})

	t.Run("newer version updates the same PR and branch", func(t *testing.T) {
		f.charts.Add(t, demoVersion("1.2.0", ">=1.33.0-0", secretValue2, true))
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionUpdated || !results[0].Pushed {
			t.Fatalf("results = %s", resultText(results))
		}
		prs := f.gh.PRs()
		if len(prs) != 1 || prs[0].Title != "demo: 1.0.0 -> 1.2.0" || !strings.Contains(prs[0].Body, "`release-1.33`: backported by `addonsync backport` once this is merged") {
			t.Fatalf("PRs = %+v", prs)
		}
		if n := f.git.Git(t, repoName, "rev-list", "--count", "main.."+branch); strings.TrimSpace(n) != "1" {
			t.Errorf("branch has %s commits on main, want 1 (replaced, not stacked)", n)
		}
		if !strings.Contains(f.git.Git(t, repoName, "show", branch+":addons/demo/addon.yaml"), `version: "1.2.0"`) {
			t.Error("branch does not carry 1.2.0")
		}
		f.assertNoSecrets(t, resultText(results))
	})

	t.Run("a branch edited by a person is left alone", func(t *testing.T) {
		work := t.TempDir()
		gitserver.Git(t, work, "clone", "-q", "-b", branch, f.git.Dir(repoName), ".")
		gitserver.Git(t, work, "commit", "-q", "--allow-empty", "-m", "tweak values by hand")
		gitserver.Git(t, work, "push", "-q", "origin", branch)
		edited := f.git.Rev(t, repoName, branch)
		f.charts.Add(t, demoVersion("1.3.0", "", secretValue2, true))
		writes := len(f.gh.Writes())
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionEditedByPerson {
			t.Fatalf("results = %s", resultText(results))
		}
		if got := f.git.Rev(t, repoName, branch); got != edited {
			t.Errorf("person's commit lost: branch %s, want %s", got, edited)
		}
		// The only write is one comment saying addonsync stopped; a rerun does not repeat it.
		if w := f.gh.Writes(); len(w) != writes+1 || !strings.HasSuffix(w[writes].Path, "/issues/1/comments") || !strings.Contains(w[writes].Body, "no longer pushes") {
			t.Errorf("wrote to GitHub: %+v", w[writes:])
		}
		f.run(t, f.executor(t, gitToken, githubToken, false))
		if w := f.gh.Writes(); len(w) != writes+1 {
			t.Errorf("a rerun wrote to GitHub again: %+v", w[writes+1:])
		}
	})
}

func TestUpgradePRErrors(t *testing.T) {
	branch := "addonsync/upgrade/demo"
	t.Run("wrong git token is a clear error and opens nothing", func(t *testing.T) {
		f := newFixture(t)
		_, _, err := f.executor(t, "wrong-token", githubToken, false).Run(context.Background(), DiscoverOptions{}, nil)
		if !errors.Is(err, git.ErrGitAuth) {
			t.Fatalf("Run() error = %v, want ErrGitAuth", err)
		}
		if len(f.gh.Requests()) != 0 {
			t.Errorf("GitHub called: %+v", f.gh.Requests())
		}
		f.assertNoSecrets(t, err.Error())
	})
	t.Run("GitHub 401 is a clear error and opens nothing", func(t *testing.T) {
		f := newFixture(t)
		_, results := f.run(t, f.executor(t, gitToken, "wrong-token", false))
		if len(results) != 1 || !errors.Is(results[0].Err, ErrTokenRejected) {
			t.Fatalf("results = %s", resultText(results))
		}
		if len(f.gh.PRs()) != 0 {
			t.Errorf("PRs opened: %+v", f.gh.PRs())
		}
		f.assertNoSecrets(t, resultText(results))
	})
	t.Run("a rejected push is retried after a fetch", func(t *testing.T) {
		f := newFixture(t)
		f.git.SetHook(t, repoName, "pre-receive", "#!/bin/sh\nif [ ! -f \"$GIT_DIR/rejected-once\" ]; then touch \"$GIT_DIR/rejected-once\"; echo 'busy, try again' >&2; exit 1; fi\n")
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionOpened || len(f.gh.PRs()) != 1 {
			t.Fatalf("results = %s", resultText(results))
		}
	})
	t.Run("a push rejected for good fails and opens no PR", func(t *testing.T) {
		f := newFixture(t)
		f.git.SetHook(t, repoName, "pre-receive", "#!/bin/sh\necho 'protected' >&2\nexit 1\n")
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionFailed || !strings.Contains(results[0].Err.Error(), "git push") {
			t.Fatalf("results = %s", resultText(results))
		}
		if f.git.Rev(t, repoName, branch) != "" || len(f.gh.Requests()) != 0 {
			t.Errorf("branch pushed or GitHub called")
		}
		f.assertNoSecrets(t, resultText(results))
	})
	t.Run("a 422 duplicate finds and updates the open PR", func(t *testing.T) {
		f := newFixture(t)
		n := f.gh.AddPR(githubfake.PR{Title: "demo: old", Body: "old", Head: branch, Base: "main", Labels: []string{"addonsync", "dependencies"}})
		f.gh.Inject("GET", "/repos/example-org/"+repoName+"/pulls", githubfake.StaleList)
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionUpdated || results[0].PullRequest.Number != n {
			t.Fatalf("results = %s", resultText(results))
		}
		prs := f.gh.PRs()
		if len(prs) != 1 || prs[0].Title != "demo: 1.0.0 -> 1.1.0" {
			t.Errorf("PRs = %+v", prs)
		}
		if got := countRequests(f.gh, "POST", "/pulls"); got != 1 {
			t.Errorf("create calls = %d, want 1 (answered 422)", got)
		}
	})
	t.Run("rate limits and 5xx are waited out, then one PR", func(t *testing.T) {
		f := newFixture(t)
		f.gh.Inject("GET", "/repos/", githubfake.ServerError)
		f.gh.Inject("POST", "/repos/example-org/"+repoName+"/pulls", githubfake.RateLimit)
		f.gh.Inject("POST", "/repos/example-org/"+repoName+"/issues/", githubfake.SecondaryRateLimit)
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Action != ActionOpened {
			t.Fatalf("results = %s", resultText(results))
		}
		prs := f.gh.PRs()
		if len(prs) != 1 || len(prs[0].Labels) != 2 {
			t.Errorf("PRs = %+v", prs)
		}
		for _, c := range []struct {
			method, suffix string
			want           int
		}{{"GET", "/pulls", 2}, {"POST", "/pulls", 2}, {"POST", "/labels", 2}} {
			if got := countRequests(f.gh, c.method, c.suffix); got != c.want {
				t.Errorf("%s %s calls = %d, want %d (one failed, one retried)", c.method, c.suffix, got, c.want)
			}
		}
	})
}

func countRequests(gh *githubfake.Server, method, suffix string) int {
	n := 0
	for _, r := range gh.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func TestBodyLimit(t *testing.T) {
	long := strings.Repeat("+  key: "+strings.Repeat("v", 70)+"\n", 3000)
	diffs := []ClusterDiff{
		{Cluster: "dev", KubernetesVersion: "1.34", Changed: []string{"ConfigMap/x/big"}, Diff: long},
		{Cluster: "prod", KubernetesVersion: "1.34", Changed: []string{"ConfigMap/x/big"}, Diff: long},
		{Cluster: "wsp", KubernetesVersion: "1.33", Changed: []string{"ConfigMap/x/small"}, Diff: "+  a: b\n"},
	}
	body := Body(Bump{Addon: "demo", From: "1", To: "2"}, diffs, MaxBodyLength)
	if len(body) > MaxBodyLength {
		t.Fatalf("body is %d characters, over %d", len(body), MaxBodyLength)
	}
	for _, want := range []string{"#### dev", "#### prod", "#### wsp", "+  a: b\n", "more lines exceed GitHub's body limit"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "+  key: ") && len(line) != len("+  key: ")+70 {
			t.Errorf("line cut mid-way: %q", line)
		}
	}
}

// pushToMain commits a change made by a person to main on the server.
func (f *fixture) pushToMain(t *testing.T, file, content, msg string) {
	t.Helper()
	work := t.TempDir()
	gitserver.Git(t, work, "clone", "-q", "-b", "main", f.git.Dir(repoName), ".")
	writeFile(t, work+"/"+file, content)
	gitserver.Git(t, work, "commit", "-q", "-am", msg)
	gitserver.Git(t, work, "push", "-q", "origin", "main")
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUpgradePRMainMoves(t *testing.T) {
	f := newFixture(t)
	branch := "addonsync/upgrade/demo"
	_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
	if len(results) != 1 || results[0].Action != ActionOpened {
		t.Fatalf("results = %s", resultText(results))
	}
	first := f.git.Rev(t, repoName, branch)

	t.Run("an unrelated commit on main pushes nothing", func(t *testing.T) {
		f.pushToMain(t, "addons/demo/values.yaml", "replicas: 3\n", "more replicas")
		writes := len(f.gh.Writes())
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || results[0].Pushed || f.git.Rev(t, repoName, branch) != first {
			t.Fatalf("results = %s", resultText(results))
		}
		// Both clusters render from their release branches (release-1.33, release-1.34), which
		// main's commit does not touch, so the body stays and nothing is written.
		if results[0].Action != ActionUnchanged || len(f.gh.Writes()) != writes || strings.Contains(f.gh.PRs()[0].Body, `replicas: "3"`) {
			t.Errorf("action %s, writes %+v", results[0].Action, f.gh.Writes()[writes:])
		}
	})
	t.Run("main changing addon.yaml rebuilds the branch on it", func(t *testing.T) {
		addon := f.git.Git(t, repoName, "show", "main:addons/demo/addon.yaml")
		f.pushToMain(t, "addons/demo/addon.yaml", strings.Replace(addon, "# The demo add-on.", "# The demo add-on, owned by team platform.", 1), "owner comment")
		_, results := f.run(t, f.executor(t, gitToken, githubToken, false))
		if len(results) != 1 || !results[0].Pushed || results[0].Action != ActionUpdated {
			t.Fatalf("results = %s", resultText(results))
		}
		if base := strings.TrimSpace(f.git.Git(t, repoName, "merge-base", "main", branch)); base != f.git.Rev(t, repoName, "main") {
			t.Errorf("branch not rebuilt on main: merge-base %s", base)
		}
		got := f.git.Git(t, repoName, "show", branch+":addons/demo/addon.yaml")
		if !strings.Contains(got, "owned by team platform") || !strings.Contains(got, `version: "1.1.0"`) {
			t.Errorf("addon.yaml on the branch:\n%s", got)
		}
		if len(f.gh.PRs()) != 1 {
			t.Errorf("PRs = %d, want 1", len(f.gh.PRs()))
		}
	})
	t.Run("the push lease refuses to replace a commit it has not seen", func(t *testing.T) {
		ctx := context.Background()
		repo, err := git.OpenRemote(ctx, git.RemoteOptions{URL: f.git.URL(repoName), Token: gitToken})
		if err != nil {
			t.Fatal(err)
		}
		seen := repo.RemoteBranch(branch)
		work := t.TempDir()
		gitserver.Git(t, work, "clone", "-q", "-b", branch, f.git.Dir(repoName), ".")
		gitserver.Git(t, work, "commit", "-q", "--allow-empty", "-m", "a person's commit")
		gitserver.Git(t, work, "push", "-q", "origin", branch)
		persons := f.git.Rev(t, repoName, branch)
		mine, err := repo.WriteCommit(repo.RemoteBranch("main"), map[string][]byte{"x": []byte("x")}, "x", git.Signature{Name: "a", Email: "b@c", When: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.Push(ctx, branch, mine, seen); err == nil {
			t.Fatal("push over an unseen commit succeeded")
		}
		if got := f.git.Rev(t, repoName, branch); got != persons {
			t.Errorf("branch = %s, want the person's commit %s", got, persons)
		}
	})
}

func TestUpgradePRMainAlreadyUpgraded(t *testing.T) {
	f := newFixture(t)
	ex := f.executor(t, gitToken, githubToken, false)
	if _, _, err := ex.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := ex.Apply(context.Background(), Bump{Addon: "demo", From: "0.9.0", To: "1.0.0", Status: StatusUpgrade, Due: true})
	if res.Action != ActionUnchanged || res.Pushed || len(f.gh.Requests()) != 0 {
		t.Errorf("result = %+v", res)
	}
}
