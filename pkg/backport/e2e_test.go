package backport

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/githubfake"
	"github.com/addonsync/addonsync/internal/testutil/gitserver"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

const (
	gitToken    = "ghs_gitTOKEN_backport_0123456789"
	githubToken = "ghp_apiTOKEN_backport_0123456789"
	repoName    = "platform-addons"
	owner       = "example-org"
	botEmail    = "bot@addonsync.example"
)

// ingressChart is a small ingress-nginx-like chart: the controller ConfigMap carries the
// chart version and the replicas value, so every bump and values change shows in a render.
func ingressChart(version, kubeVersion string) chartrepo.Chart {
	return chartrepo.Chart{Name: "ingress-nginx", Version: version, KubeVersion: kubeVersion, Files: map[string]string{
		"values.yaml": "controller:\n  replicas: 1\n  minReady: 0\n",
		"templates/controller.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\ndata:\n" +
			"  chartVersion: \"{{ .Chart.Version }}\"\n  replicas: \"{{ .Values.controller.replicas }}\"\n  minReady: \"{{ .Values.controller.minReady }}\"\n" +
			"  kubeVersion: \"{{ .Capabilities.KubeVersion.Version }}\"\n",
	}}
}

// addonYAML keeps the version two lines from the upgrade constraint, which release-1.33
// changes locally.
const addonYAML = `# ingress-nginx: the edge proxy.
apiVersion: addonsync.io/v1alpha1
kind: Addon
metadata:
  name: ingress-nginx
spec:
  namespace: ingress-nginx   # created when missing
  chart:
    repository: %s
    name: ingress-nginx
    version: "%s"   # bumped by addonsync
  upgrade:
    constraint: ">=4.0.0 <5.0.0"
`

const valuesYAML = `controller:
  # two per zone
  replicas: 2
  minReady: 1
`

func clusterYAML(name, minor string) string {
	return fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: %s\nspec:\n  kubernetesVersion: %q\n  addons:\n  - name: ingress-nginx\n", name, minor)
}

type fixture struct {
	charts *chartrepo.HTTPRepo
	git    *gitserver.Server
	gh     *githubfake.Server
	work   string // a person's clone, driven with the git CLI
	cache  string
	logs   *bytes.Buffer
	digest map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		charts: chartrepo.NewHTTP(t), git: gitserver.New(t, gitToken),
		gh:   githubfake.New(t, owner, repoName, githubToken),
		work: t.TempDir(), cache: t.TempDir(), logs: &bytes.Buffer{}, digest: map[string]string{},
	}
	f.gh.DeleteRef = func(branch string) error {
		_, err := exec.Command("git", "-C", f.git.Dir(repoName), "update-ref", "-d", "refs/heads/"+branch).CombinedOutput()
		return err
	}
	for _, v := range [][2]string{{"4.14.4", ">=1.25.0-0"}, {"4.14.5", ">=1.25.0-0"}, {"4.15.1", ">=1.30.0-0"}} {
		f.digest[v[0]] = f.charts.Add(t, ingressChart(v[0], v[1]))
	}
	lock := []byte(nil)
	for _, v := range []string{"4.14.4", "4.14.5"} {
		var err error
		if lock, err = upgrade.AddLockEntry(lock, config.LockedChart{Source: f.charts.URL(), Name: "ingress-nginx", Version: v, Digest: f.digest[v]}); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"addonsync.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Repository\nmetadata:\n  name: platform-addons\nspec:\n  github:\n    owner: " + owner +
			"\n    repo: " + repoName + "\n    labels: [addonsync]\n  commit:\n    name: addonsync-bot\n    email: " + botEmail + "\n",
		"addons/ingress-nginx/addon.yaml":  fmt.Sprintf(addonYAML, f.charts.URL(), "4.14.5"),
		"addons/ingress-nginx/values.yaml": valuesYAML,
		"clusters/prod/cluster.yaml":       clusterYAML("prod", "1.33"),
		"clusters/dev/cluster.yaml":        clusterYAML("dev", "1.34"),
		"clusters/edge/cluster.yaml":       clusterYAML("edge", "1.29"),
		"addonsync.lock":                   string(lock),
	}
	f.git.CreateRepo(t, repoName, files, "release-1.29", "release-1.33", "release-1.34")
	f.person(t, "clone", "-q", f.git.Dir(repoName), ".")
	// release-1.33: a local change two lines from the version line.
	f.edit(t, "release-1.33", "addons/ingress-nginx/addon.yaml", `constraint: ">=4.0.0 <5.0.0"`, `constraint: ">=4.0.0 <4.99.0"`, "ingress-nginx: cap below 4.99 on 1.33")
	// release-1.34: the add-on pinned differently, and its own replicas.
	f.edit(t, "release-1.34", "addons/ingress-nginx/addon.yaml", `version: "4.14.5"`, `version: "4.14.4"`, "ingress-nginx: pin 4.14.4 on 1.34")
	f.edit(t, "release-1.34", "addons/ingress-nginx/values.yaml", "replicas: 2", "replicas: 3", "ingress-nginx: 3 replicas on 1.34")
	return f
}

// person runs git as a person in the work clone.
func (f *fixture) person(t *testing.T, args ...string) string {
	t.Helper()
	return strings.TrimSpace(gitserver.Git(t, f.work, args...))
}

// edit commits a one-line replacement on branch as a person and pushes it.
func (f *fixture) edit(t *testing.T, branch, file, old, new, msg string) string {
	t.Helper()
	f.person(t, "fetch", "-q", "origin")
	f.person(t, "checkout", "-q", "-B", branch, "origin/"+branch)
	p := filepath.Join(f.work, file)
	data, err := os.ReadFile(p)
	if err != nil || !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s on %s: %q not found (%v)", file, branch, old, err)
	}
	if err := os.WriteFile(p, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	f.person(t, "commit", "-q", "-am", msg)
	f.person(t, "push", "-q", "origin", branch)
	return f.person(t, "rev-parse", "HEAD")
}

// squash merges head into base as GitHub's squash button does with "pull request title and
// description" as the message, and marks pull request n merged.
func (f *fixture) squash(t *testing.T, n int) string {
	t.Helper()
	pr := f.gh.PRs()[n-1]
	f.person(t, "fetch", "-q", "origin")
	f.person(t, "checkout", "-q", "-B", pr.Base, "origin/"+pr.Base)
	f.person(t, "merge", "-q", "--squash", "origin/"+pr.Head)
	f.person(t, "commit", "-q", "-m", fmt.Sprintf("%s (#%d)", pr.Title, n), "-m", pr.Body)
	f.person(t, "push", "-q", "origin", pr.Base)
	f.gh.Merge(n)
	return f.person(t, "rev-parse", "HEAD")
}

func (f *fixture) pullRequests(t *testing.T) *upgrade.GitHubPullRequests {
	return upgrade.NewGitHubPullRequests(f.gh.Client(t, githubToken), owner, repoName, upgrade.GitHubOptions{MaxWait: 10 * time.Second, Backoff: 10 * time.Millisecond, Attempts: 4})
}

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func (f *fixture) backport(t *testing.T) []Result {
	t.Helper()
	ex := NewExecutor(ExecutorOptions{
		Remote:       git.RemoteOptions{URL: f.git.URL(repoName), Token: gitToken},
		PullRequests: f.pullRequests(t),
		Renderer:     render.New(render.Options{CacheDir: f.cache}),
		Now:          func() time.Time { return now },
		Logger:       slog.New(slog.NewTextHandler(f.logs, nil)),
	})
	_, results, err := ex.Run(context.Background())
	if err != nil {
		t.Fatalf("backport Run: %v", err)
	}
	for _, r := range results {
		if r.Outcome == OutcomeFailed {
			t.Fatalf("backport of %s to %s failed: %v", r.Change.Commit.Short(), r.Branch, r.Err)
		}
	}
	return results
}

func (f *fixture) upgradePR(t *testing.T) []upgrade.Result {
	t.Helper()
	ex := upgrade.NewExecutor(upgrade.ExecutorOptions{
		Remote:       git.RemoteOptions{URL: f.git.URL(repoName), Token: gitToken},
		PullRequests: f.pullRequests(t),
		Renderer:     render.New(render.Options{CacheDir: f.cache}),
		Now:          func() time.Time { return now },
	})
	_, results, err := ex.Run(context.Background(), upgrade.DiscoverOptions{}, nil)
	if err != nil {
		t.Fatalf("upgrade Run: %v", err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("upgrade of %s: %v", r.Addon, r.Err)
		}
	}
	return results
}

// find returns the result for the change sha on branch.
func find(t *testing.T, rs []Result, branch, sha string) Result {
	t.Helper()
	for _, r := range rs {
		if r.Branch == branch && r.Change.Commit.SHA == sha {
			return r
		}
	}
	t.Fatalf("no result for %s on %s in %+v", sha, branch, rs)
	return Result{}
}

func (f *fixture) openPRs() map[string]githubfake.PR {
	out := map[string]githubfake.PR{}
	for _, pr := range f.gh.PRs() {
		if pr.State == "open" {
			out[pr.Head] = pr
		}
	}
	return out
}

// gitCherryPick runs `git cherry-pick sha` onto branch in the person's clone and reports
// whether git conflicts, with the file as git leaves it.
func (f *fixture) gitCherryPick(t *testing.T, branch, sha, file string) (conflicted bool, content string) {
	t.Helper()
	f.person(t, "fetch", "-q", "origin")
	f.person(t, "checkout", "-q", "-B", "try", "origin/"+branch)
	cmd := exec.Command("git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "merge.conflictStyle=merge", "cherry-pick", sha)
	cmd.Dir = f.work
	out, err := cmd.CombinedOutput()
	data, _ := os.ReadFile(filepath.Join(f.work, file))
	if err != nil {
		if !strings.Contains(string(out), "CONFLICT") {
			t.Fatalf("git cherry-pick %s onto %s: %v\n%s", sha, branch, err, out)
		}
		f.person(t, "cherry-pick", "--abort")
		return true, string(data)
	}
	return false, string(data)
}

var markerLine = regexp.MustCompile(`(?m)^(<<<<<<<|>>>>>>>) .*$`)

// stripLabels drops the labels after conflict markers, which name the sides differently.
func stripLabels(s string) string { return markerLine.ReplaceAllString(s, "$1") }

func (f *fixture) fileAt(t *testing.T, ref, file string) string {
	t.Helper()
	return f.git.Git(t, repoName, "show", ref+":"+file)
}
