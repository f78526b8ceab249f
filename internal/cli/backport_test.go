package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/githubfake"
	"github.com/addonsync/addonsync/internal/testutil/gitserver"
)

// personClone clones the bare repo for a person's commits; commit edits file on branch.
type personClone struct {
	t   *testing.T
	dir string
}

func newPersonClone(t *testing.T, srv *gitserver.Server, name string) *personClone {
	t.Helper()
	p := &personClone{t: t, dir: t.TempDir()}
	gitserver.Git(t, p.dir, "clone", "-q", srv.Dir(name), ".")
	return p
}

func (p *personClone) commit(branch, file, content, msg string) string {
	p.t.Helper()
	gitserver.Git(p.t, p.dir, "fetch", "-q", "origin")
	gitserver.Git(p.t, p.dir, "checkout", "-q", "-B", branch, "origin/"+branch)
	writeTree(p.t, p.dir, map[string]string{file: content})
	gitserver.Git(p.t, p.dir, "commit", "-q", "-am", msg)
	gitserver.Git(p.t, p.dir, "push", "-q", "origin", branch)
	return strings.TrimSpace(gitserver.Git(p.t, p.dir, "rev-parse", "HEAD"))
}

// squash merges pull request n as GitHub's squash button (title and description).
func (p *personClone) squash(gh *githubfake.Server, n int) {
	p.t.Helper()
	pr := gh.PRs()[n-1]
	gitserver.Git(p.t, p.dir, "fetch", "-q", "origin")
	gitserver.Git(p.t, p.dir, "checkout", "-q", "-B", pr.Base, "origin/"+pr.Base)
	gitserver.Git(p.t, p.dir, "merge", "-q", "--squash", "origin/"+pr.Head)
	gitserver.Git(p.t, p.dir, "commit", "-q", "-m", fmt.Sprintf("%s (#%d)", pr.Title, n), "-m", pr.Body)
	gitserver.Git(p.t, p.dir, "push", "-q", "origin", pr.Base)
	gh.Merge(n)
}

type backportDoc struct {
	Results []backportRow `json:"results"`
}

func TestBackportCommands(t *testing.T) {
	charts := upgradeCharts(t)
	gh := githubfake.New(t, "example-org", "platform-addons", upgradeToken)
	srv := gitserver.New(t, upgradeToken)
	files := upgradeRepoFiles(charts.URL(), gh.URL())
	// pinned renders the same ConfigMap as demo: give it its own namespace so prod renders.
	files["addons/pinned/addon.yaml"] = strings.Replace(files["addons/pinned/addon.yaml"], "namespace: demo", "namespace: pinned", 1)
	srv.CreateRepo(t, "platform-addons", files, "release-1.33", "release-1.34")
	person := newPersonClone(t, srv, "platform-addons")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(upgradeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	remote := []string{"--remote", srv.URL("platform-addons"), "--github-token-file", tokenFile, "--work-dir", t.TempDir(), "--cache-dir", t.TempDir()}
	run := func(t *testing.T, want int, args ...string) string {
		t.Helper()
		out, errOut, code := runConfigCmd(t, append(args, remote...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, want, errOut, out)
		}
		if strings.Contains(out+errOut, upgradeToken) {
			t.Errorf("the token was printed")
		}
		return out
	}
	// main gets the 1.1.0 upgrade (kubeVersion >=1.34) and a fix asking for every branch.
	upgradeSHA := person.commit("main", "addons/demo/addon.yaml", strings.Replace(files["addons/demo/addon.yaml"], "version: 1.0.0 # pinned", "version: 1.1.0 # pinned", 1),
		"demo: 1.0.0 -> 1.1.0\n\nAddonsync-Upgrade: demo 1.0.0 -> 1.1.0")
	fixSHA := person.commit("main", "clusters/wsp/cluster.yaml", strings.Replace(files["clusters/wsp/cluster.yaml"], "  - name: demo\n", "  - name: demo # the only add-on\n", 1),
		"wsp: note\n\nAddonsync-Backport: all")

	t.Run("branches lists each branch's clusters and what it lacks", func(t *testing.T) {
		var doc struct {
			Branches []struct {
				Branch   string   `json:"branch"`
				Clusters []string `json:"clusters"`
				Lacks    []struct {
					Change struct {
						Commit struct{ SHA string } `json:"commit"`
					} `json:"change"`
				} `json:"lacks"`
			} `json:"branches"`
		}
		if err := json.Unmarshal([]byte(run(t, ExitOK, "branches", "-o", "json")), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Branches) != 2 || doc.Branches[0].Branch != "release-1.33" || strings.Join(doc.Branches[0].Clusters, ",") != "wsp" ||
			len(doc.Branches[0].Lacks) != 1 || doc.Branches[0].Lacks[0].Change.Commit.SHA != fixSHA || len(doc.Branches[1].Lacks) != 2 {
			t.Errorf("branches: %+v", doc)
		}
		table := run(t, ExitOK, "branches")
		if !regexp.MustCompile(`(?m)^BRANCH\s+KUBERNETES\s+CLUSTERS\s+LACKS\nrelease-1\.33\s+1\.33\s+wsp\s+` + fixSHA[:12] + ` wsp: note$`).MatchString(table) {
			t.Errorf("table:\n%s", table)
		}
	})
	t.Run("dry run opens nothing", func(t *testing.T) {
		var doc backportDoc
		if err := json.Unmarshal([]byte(run(t, ExitOK, "backport", "--dry-run", "-o", "json")), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Results) != 4 || len(gh.Writes()) != 0 || srv.Rev(t, "platform-addons", "addonsync/backport/release-1.34/"+upgradeSHA[:12]) != "" {
			t.Errorf("dry run: %+v, writes %d", doc.Results, len(gh.Writes()))
		}
	})
	t.Run("backport opens a pull request per pending change and says why it skips", func(t *testing.T) {
		out := run(t, ExitOK, "backport")
		for _, want := range []string{
			`requires Kubernetes ">=1.34.0-0", which excludes 1.33`,
			"3 opened, 1 skipped",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if n := len(gh.PRs()); n != 3 {
			t.Errorf("%d pull requests, want 3: %+v", n, gh.PRs())
		}
		again := run(t, ExitOK, "backport", "-o", "json")
		var doc backportDoc
		if err := json.Unmarshal([]byte(again), &doc); err != nil {
			t.Fatal(err)
		}
		for _, r := range doc.Results {
			if r.Outcome == "opened" {
				t.Errorf("rerun opened %+v", r)
			}
		}
	})
	t.Run("branch cut refuses a minor a chart does not admit, naming it", func(t *testing.T) {
		_, errOut, code := runConfigCmd(t, append([]string{"branch", "cut", "1.32"}, remote...)...)
		if code != ExitUsage || !strings.Contains(errOut, `add-on "demo": chart demo 1.1.0 requires Kubernetes ">=1.34.0-0", which excludes 1.32`) {
			t.Errorf("exit %d: %s", code, errOut)
		}
		out := run(t, ExitOK, "branch", "cut", "1.35")
		if !strings.Contains(out, "created release-1.35") || srv.Rev(t, "platform-addons", "release-1.35") != srv.Rev(t, "platform-addons", "main") {
			t.Errorf("cut 1.35: %s", out)
		}
	})
}
