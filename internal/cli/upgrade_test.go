package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/githubfake"
	"github.com/addonsync/addonsync/internal/testutil/gitserver"
)

const upgradeToken = "ghp_cliTOKEN_abcdef0123456789"

func upgradeChart(version, kubeVersion string) chartrepo.Chart {
	return chartrepo.Chart{
		Name: "demo", Version: version, KubeVersion: kubeVersion,
		Files: map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  version: \"" + version + "\"\n"},
	}
}

// upgradeRepoFiles is a config repo with add-ons demo (HTTP chart, range <2.0.0) and pinned
// (upgrades disabled), on clusters prod (1.34) and wsp (1.33).
func upgradeRepoFiles(chartURL, githubURL string) map[string]string {
	return map[string]string{
		"addonsync.yaml":             fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Repository\nmetadata:\n  name: t\nspec:\n  github:\n    owner: example-org\n    repo: platform-addons\n    url: %s\n", githubURL),
		"addons/demo/addon.yaml":     fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: demo\nspec:\n  namespace: demo\n  chart:\n    repository: %s\n    name: demo\n    version: 1.0.0 # pinned\n  upgrade:\n    constraint: \"<2.0.0\"\n", chartURL),
		"addons/pinned/addon.yaml":   fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: pinned\nspec:\n  namespace: demo\n  chart:\n    repository: %s\n    name: demo\n    version: 1.0.0\n  upgrade:\n    enabled: false\n", chartURL),
		"clusters/prod/cluster.yaml": "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: prod\nspec:\n  kubernetesVersion: \"1.34\"\n  addons:\n  - name: demo\n  - name: pinned\n",
		"clusters/wsp/cluster.yaml":  "apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: wsp\nspec:\n  kubernetesVersion: \"1.33\"\n  addons:\n  - name: demo\n",
	}
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func upgradeCharts(t *testing.T) *chartrepo.HTTPRepo {
	t.Helper()
	charts := chartrepo.NewHTTP(t)
	charts.Add(t, upgradeChart("1.0.0", ">=1.25.0-0"))
	charts.Add(t, upgradeChart("1.1.0", ">=1.34.0-0"))
	charts.Add(t, upgradeChart("2.0.0", ">=1.34.0-0"))
	return charts
}

func TestUpgradeCheck(t *testing.T) {
	charts := upgradeCharts(t)
	dir := t.TempDir()
	writeTree(t, dir, upgradeRepoFiles(charts.URL(), "https://api.github.com/"))
	gitserver.Git(t, dir, "init", "-q", "-b", "main")
	gitserver.Git(t, dir, "add", "-A")
	gitserver.Git(t, dir, "commit", "-q", "-m", "config")
	gitserver.Git(t, dir, "branch", "release-1.33")
	gitserver.Git(t, dir, "branch", "release-1.34")

	t.Run("json lists the allowed version and the branches its kubeVersion admits", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, "upgrade", "check", "-C", dir, "-o", "json")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got struct {
			Addons []struct {
				Addon         string `json:"addon"`
				Status        string `json:"status"`
				Current       string `json:"current"`
				NewestAllowed string `json:"newestAllowed"`
				Newest        string `json:"newest"`
				Due           bool   `json:"due"`
				Target        struct {
					KubeVersion string `json:"kubeVersion"`
					Digest      string `json:"digest"`
				} `json:"target"`
				Branches []struct {
					Branch     string `json:"branch"`
					Compatible bool   `json:"compatible"`
				} `json:"branches"`
			} `json:"addons"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if len(got.Addons) != 2 {
			t.Fatalf("addons = %d, want 2:\n%s", len(got.Addons), out)
		}
		demo, pinned := got.Addons[0], got.Addons[1]
		if demo.Addon != "demo" || demo.Status != "upgrade" || demo.Current != "1.0.0" || demo.NewestAllowed != "1.1.0" || demo.Newest != "2.0.0" || !demo.Due {
			t.Errorf("demo = %+v", demo)
		}
		if demo.Target.KubeVersion != ">=1.34.0-0" || !strings.HasPrefix(demo.Target.Digest, "sha256:") {
			t.Errorf("demo target = %+v", demo.Target)
		}
		wantBranches := "release-1.33=false release-1.34=true"
		var gotBranches []string
		for _, b := range demo.Branches {
			gotBranches = append(gotBranches, fmt.Sprintf("%s=%v", b.Branch, b.Compatible))
		}
		if diff := cmp.Diff(wantBranches, strings.Join(gotBranches, " ")); diff != "" {
			t.Errorf("branches (-want +got):\n%s", diff)
		}
		if pinned.Addon != "pinned" || pinned.Status != "disabled" || pinned.NewestAllowed != "" {
			t.Errorf("pinned = %+v", pinned)
		}
	})
	t.Run("table is aligned", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, "upgrade", "check", "-C", dir)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		checkGolden(t, "upgrade/check.golden", out)
	})
	t.Run("unknown add-on is a usage error", func(t *testing.T) {
		_, errOut, code := runConfigCmd(t, "upgrade", "check", "-C", dir, "--addon", "nope")
		if code != ExitUsage || !strings.Contains(errOut, `add-on "nope"`) {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}

func TestUpgradePRCommand(t *testing.T) {
	charts := upgradeCharts(t)
	gh := githubfake.New(t, "example-org", "platform-addons", upgradeToken)
	srv := gitserver.New(t, upgradeToken)
	srv.CreateRepo(t, "platform-addons", upgradeRepoFiles(charts.URL(), gh.URL()), "release-1.33", "release-1.34")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(upgradeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		return append([]string{
			"upgrade", "pr", "-C", t.TempDir(), "--remote", srv.URL("platform-addons"),
			"--work-dir", t.TempDir(), "--cache-dir", t.TempDir(),
		}, extra...)
	}
	noToken := func(t *testing.T, s string) {
		t.Helper()
		if strings.Contains(s, upgradeToken) {
			t.Errorf("token in output:\n%s", s)
		}
	}

	t.Run("no token is a usage error", func(t *testing.T) {
		t.Setenv("GITHUB_TOKEN", "")
		_, errOut, code := runConfigCmd(t, args()...)
		if code != ExitUsage || !strings.Contains(errOut, "--github-token-file") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("a token git rejects is a clear error", func(t *testing.T) {
		wrong := filepath.Join(t.TempDir(), "wrong")
		if err := os.WriteFile(wrong, []byte("not-the-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runConfigCmd(t, args("--github-token-file", wrong)...)
		if code != ExitCluster || !strings.Contains(errOut, "git token rejected: check --github-token-file") || strings.Contains(out+errOut, "not-the-token") {
			t.Errorf("exit %d: %s\n%s", code, errOut, out)
		}
	})
	t.Run("dry run prints the diff and the pull request", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, args("--dry-run", "--github-token-file", tokenFile)...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s\n%s", code, errOut, out)
		}
		for _, want := range []string{"-    version: 1.0.0 # pinned\n+    version: 1.1.0 # pinned\n", "--- pull request: demo: 1.0.0 -> 1.1.0", "dry-run"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if srv.Rev(t, "platform-addons", "addonsync/upgrade/demo") != "" || len(gh.Writes()) != 0 {
			t.Error("dry run pushed or wrote to GitHub")
		}
		noToken(t, out+errOut)
	})
	t.Run("GitHub 401 says the token was rejected", func(t *testing.T) {
		gh.Inject("", "", githubfake.BadCredentials)
		out, errOut, code := runConfigCmd(t, args("--github-token-file", tokenFile)...)
		if code != ExitCluster || !strings.Contains(errOut, "GitHub token rejected (401): check --github-token-file") {
			t.Errorf("exit %d: %s\n%s", code, errOut, out)
		}
		noToken(t, out+errOut)
	})
	t.Run("opens the pull request", func(t *testing.T) {
		t.Setenv("GITHUB_TOKEN", upgradeToken)
		out, errOut, code := runConfigCmd(t, args("-o", "json")...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s\n%s", code, errOut, out)
		}
		var got struct {
			Results []struct{ Addon, Action string } `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Results) != 1 || got.Results[0].Action != "opened" {
			t.Errorf("results = %+v (%v)\n%s", got, err, out)
		}
		if prs := gh.PRs(); len(prs) != 1 || prs[0].Title != "demo: 1.0.0 -> 1.1.0" {
			t.Errorf("PRs = %+v", prs)
		}
		noToken(t, out+errOut)
	})
}
