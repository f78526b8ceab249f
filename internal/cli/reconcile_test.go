package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/githubfake"
	"github.com/addonsync/addonsync/internal/testutil/gitserver"
	"github.com/addonsync/addonsync/pkg/lease"
)

// reconcileFiles returns testdata/reconcile/repo with ${NS}, ${KUBECONFIG} and
// ${BROKEN_KUBECONFIG} (an API server nobody listens on) filled in, as path → content.
func reconcileFiles(t *testing.T, ns string) map[string]string {
	t.Helper()
	broken := filepath.Join(t.TempDir(), "broken.kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: nothing}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.WriteFile(broken, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("${NS}", ns, "${KUBECONFIG}", env.Kubeconfig, "${BROKEN_KUBECONFIG}", broken)
	files := map[string]string{}
	src := "testdata/reconcile/repo"
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		files[filepath.ToSlash(rel)] = r.Replace(string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// reconcileRepo writes the fixture into a git repository (branch main) and returns its
// directory and commit.
func reconcileRepo(t *testing.T, ns string) (string, string) {
	t.Helper()
	src := t.TempDir()
	for p, content := range reconcileFiles(t, ns) {
		full := filepath.Join(src, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir, _, commit := gitConfigRepo(t, src)
	return dir, commit.String()
}

type reconcileDoc struct {
	Clusters []struct {
		Cluster  string         `json:"cluster"`
		Branch   string         `json:"branch"`
		Revision string         `json:"revision"`
		Status   string         `json:"status"`
		Summary  map[string]int `json:"summary"`
		Error    string         `json:"error"`
	} `json:"clusters"`
	Upgrades  []prRow       `json:"upgrades"`
	Backports []backportRow `json:"backports"`
	Error     string        `json:"error"`
}

func decodeReconcile(t *testing.T, stdout string) reconcileDoc {
	t.Helper()
	var d reconcileDoc
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("-o json: %v\n%s", err, stdout)
	}
	return d
}

// row is one cluster of the JSON document without the error text and duration.
type row struct {
	Cluster, Branch, Revision, Status string
	Summary                           map[string]int
}

func rows(d reconcileDoc) []row {
	var out []row
	for _, c := range d.Clusters {
		out = append(out, row{c.Cluster, c.Branch, c.Revision, c.Status, c.Summary})
	}
	return out
}

func summary(created, configured, unchanged, pruned int) map[string]int {
	return map[string]int{"created": created, "configured": configured, "unchanged": unchanged, "pruned": pruned}
}

func TestReconcileCommand(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	dir, rev := reconcileRepo(t, ns)
	cache := t.TempDir()
	run := func(t *testing.T, args ...string) (string, string, int) {
		t.Helper()
		stdout, stderr, code := runConfigCmd(t, append([]string{"reconcile", "-C", dir, "--cache-dir", cache, "--wait=false", "--no-upgrade"}, args...)...)
		if strings.Contains(stdout+stderr, "cli-secret-value-never-shown") {
			t.Errorf("a Secret value was printed:\n%s\n%s", stdout, stderr)
		}
		return stdout, stderr, code
	}

	t.Run("syncs every cluster, goes on after one fails, and exits 3", func(t *testing.T) {
		stdout, stderr, code := run(t, "-o", "json")
		if code != ExitCluster {
			t.Errorf("exit %d, want %d\n%s", code, ExitCluster, stderr)
		}
		d := decodeReconcile(t, stdout)
		want := []row{
			{"broken", "main", rev, "failed", summary(0, 0, 0, 0)},
			{"test", "main", rev, "synced", summary(3, 0, 0, 0)},
		}
		if diff := cmp.Diff(want, rows(d)); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
		if e := d.Clusters[0].Error; !strings.HasPrefix(e, `cluster "broken": `) {
			t.Errorf("broken's error %q does not name the cluster", e)
		}
		for _, line := range []string{"reconciling 2 cluster(s): broken, test\n", "test: rendering from main at " + rev[:12] + "\n", "test: web: syncing\n", "broken: failed: "} {
			if !strings.Contains(stderr, line) {
				t.Errorf("stderr lacks %q:\n%s", line, stderr)
			}
		}
	})

	t.Run("prints the same document as YAML", func(t *testing.T) {
		stdout, stderr, code := run(t, "-o", "yaml", "--cluster", "test")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		j, err := yaml.YAMLToJSON([]byte(stdout))
		if err != nil {
			t.Fatalf("-o yaml is not YAML: %v\n%s", err, stdout)
		}
		d := decodeReconcile(t, string(j))
		if len(d.Clusters) != 1 || d.Clusters[0].Cluster != "test" || d.Clusters[0].Status != "synced" {
			t.Errorf("-o yaml clusters = %+v", d.Clusters)
		}
	})

	t.Run("prints a table with one row per cluster", func(t *testing.T) {
		stdout, stderr, code := run(t, "--cluster", "test")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 3 {
			t.Fatalf("table:\n%s", stdout)
		}
		if diff := cmp.Diff(strings.Fields("CLUSTER BRANCH REVISION CREATED CONFIGURED UNCHANGED PRUNED DURATION STATUS"), strings.Fields(lines[0])); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
		got := strings.Fields(lines[1])
		if len(got) != 9 || !cmp.Equal(got[:7], []string{"test", "main", rev[:12], "0", "0", "3", "0"}) || got[8] != "synced" {
			t.Errorf("row %q", lines[1])
		}
		if lines[2] != "1 clusters: 1 synced, 0 failed, 0 locked" {
			t.Errorf("summary %q", lines[2])
		}
	})

	t.Run("reports a cluster whose lease another addonsync holds as locked", func(t *testing.T) {
		holdLease(t, ns+"-inv", "pod-x/1")
		stdout, stderr, code := run(t, "-o", "json", "--cluster", "test")
		if code != ExitCluster {
			t.Errorf("exit %d, want %d", code, ExitCluster)
		}
		d := decodeReconcile(t, stdout)
		if len(d.Clusters) != 1 || d.Clusters[0].Status != "locked" {
			t.Fatalf("clusters %+v", d.Clusters)
		}
		want := `cluster "test": another addonsync (pod-x/1) holds the sync lease ` + ns + `-inv/addonsync-sync until `
		if !strings.HasPrefix(d.Clusters[0].Error, want) || !strings.Contains(stderr, want) {
			t.Errorf("error %q, stderr:\n%s\nwant prefix %q", d.Clusters[0].Error, stderr, want)
		}
	})

	t.Run("sync refuses at once while another addonsync holds the lease", func(t *testing.T) {
		stdout, stderr, code := runConfigCmd(t, "sync", "test", "-C", dir, "--cache-dir", cache, "--wait=false")
		if code != ExitCluster || !strings.Contains(stderr, "another addonsync (pod-x/1) holds the sync lease") || stdout != "" {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if _, stderr, code := runConfigCmd(t, "sync", "test", "-C", dir, "--cache-dir", cache, "--dry-run"); code != ExitOK {
			t.Errorf("a dry run must not need the lease: exit %d\n%s", code, stderr)
		}
	})

	t.Run("releases the lease after a sync", func(t *testing.T) {
		cs := kubernetes.NewForConfigOrDie(env.Config)
		if err := cs.CoordinationV1().Leases(ns+"-inv").Delete(t.Context(), lease.DefaultName, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := run(t, "--cluster", "test"); code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		l, err := cs.CoordinationV1().Leases(ns+"-inv").Get(t.Context(), lease.DefaultName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l.Spec.HolderIdentity != nil {
			t.Errorf("lease still held by %q after the run", *l.Spec.HolderIdentity)
		}
	})

	t.Run("a shard syncs only its clusters", func(t *testing.T) {
		stdout, stderr, code := run(t, "-o", "json", "--shard-index", "1", "--shard-count", "2")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		want := []row{{"test", "main", rev, "synced", summary(0, 0, 3, 0)}}
		if diff := cmp.Diff(want, rows(decodeReconcile(t, stdout))); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
	})
}

// holdLease writes the sync lease as held by holder for the next ten minutes.
func holdLease(t *testing.T, ns, holder string) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(env.Config)
	now := metav1.NewMicroTime(time.Now())
	secs := int32(600)
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: lease.DefaultName, Namespace: ns},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
	}
	cur, err := cs.CoordinationV1().Leases(ns).Get(t.Context(), lease.DefaultName, metav1.GetOptions{})
	if err == nil {
		cur.Spec = l.Spec
		_, err = cs.CoordinationV1().Leases(ns).Update(t.Context(), cur, metav1.UpdateOptions{})
	} else {
		_, err = cs.CoordinationV1().Leases(ns).Create(t.Context(), l, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestReconcileFromRemote(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	const token = "test-token-never-printed"
	srv := gitserver.New(t, token)
	files := reconcileFiles(t, ns)
	srv.CreateRepo(t, "config", files, "release-1.35")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	args := []string{
		"reconcile", "--repo-url", srv.URL("config"), "--github-token-file", tokenFile, "--work-dir", work,
		"--cache-dir", t.TempDir(), "--wait=false", "--no-upgrade", "--cluster", "test", "-o", "json",
	}

	t.Run("mirrors the repo and renders each cluster from its release branch", func(t *testing.T) {
		stdout, stderr, code := runConfigCmd(t, args...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		want := []row{{"test", "release-1.35", srv.Rev(t, "config", "release-1.35"), "synced", summary(3, 0, 0, 0)}}
		if diff := cmp.Diff(want, rows(decodeReconcile(t, stdout))); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
		if strings.Contains(stdout+stderr, token) {
			t.Error("the token was printed")
		}
	})

	t.Run("fetches new commits on the next run", func(t *testing.T) {
		clone := t.TempDir()
		gitserver.Git(t, "", "clone", "-q", "-b", "release-1.35", srv.Dir("config"), clone)
		p := filepath.Join(clone, "addons", "web", "kustomize", "objects.yaml")
		data, _ := os.ReadFile(p)
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), "greeting: hello", "greeting: bonjour", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		gitserver.Git(t, clone, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "bonjour")
		gitserver.Git(t, clone, "push", "-q", "origin", "release-1.35")
		stdout, stderr, code := runConfigCmd(t, args...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		want := []row{{"test", "release-1.35", srv.Rev(t, "config", "release-1.35"), "synced", summary(0, 1, 2, 0)}}
		if diff := cmp.Diff(want, rows(decodeReconcile(t, stdout))); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
	})

	t.Run("names the repo when the token is rejected", func(t *testing.T) {
		if err := os.WriteFile(tokenFile, []byte("wrong"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runConfigCmd(t, args...)
		if code != ExitCluster || !strings.Contains(stderr, srv.URL("config")+": git token rejected") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
	})
}

func TestReconcileFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--no-upgrade", "--shard-index", "2", "--shard-count", "2"}, "--shard-index/--shard-count: shard index 2: must be from 0 to 1 (shard count 2)"},
		{[]string{"--no-upgrade", "--shard-count", "0"}, "shard count 0: must be at least 1"},
		{[]string{"--no-upgrade", "-o", "xml"}, `must be table, json or yaml`},
		{[]string{"--no-upgrade", "--repo-url", "git@github.com:o/r.git"}, "is not an HTTPS URL"},
		{[]string{"--no-upgrade", "--repo-url", "https://u:p@github.com/o/r.git"}, "the URL holds credentials"},
		{[]string{"--repo-url", "https://github.com/o/r.git"}, "upgrade pull requests need a GitHub token"},
		{[]string{}, "upgrade pull requests need the config repo's remote"},
		{[]string{"--no-upgrade"}, "reconcile reads each cluster's own branch (--ref auto): run it on a git clone"},
	} {
		t.Run(fmt.Sprint(tc.args), func(t *testing.T) {
			t.Setenv(envGitHubToken, "")
			t.Setenv(envRemote, "")
			_, stderr, code := runConfigCmd(t, append([]string{"reconcile", "-C", dir}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

func TestReconcileOpensUpgradePRs(t *testing.T) {
	testenv.Require(t, env)
	t.Setenv("KUBECONFIG", env.Kubeconfig) // the clusters name no kubeconfig: the default rules apply
	charts := upgradeCharts(t)
	gh := githubfake.New(t, "example-org", "platform-addons", upgradeToken)
	srv := gitserver.New(t, upgradeToken)
	// A namespace and inventory of this run's own, so that a rerun (-count) creates them anew.
	files := upgradeRepoFiles(charts.URL(), gh.URL())
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	for p, content := range files {
		content = strings.ReplaceAll(content, "namespace: demo\n", "namespace: demo-"+suffix+"\n")
		if p == "addonsync.yaml" {
			content += "  inventoryNamespace: inventory-" + suffix + "\n"
		}
		files[p] = content
	}
	// reconcile requires pinned charts: the lock pins demo 1.0.0, as addonsync lock would.
	files["addonsync.lock"] = "apiVersion: addonsync.io/v1alpha1\nkind: Lock\ncharts:\n  - source: " + charts.URL() +
		"\n    name: demo\n    version: 1.0.0\n    digest: " + chartrepo.Digest(chartrepo.BuildChart(t, upgradeChart("1.0.0", ">=1.25.0-0"))) + "\n"
	srv.CreateRepo(t, "platform-addons", files, "release-1.33", "release-1.34")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(upgradeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		return append([]string{
			"reconcile", "--repo-url", srv.URL("platform-addons"), "--github-token-file", tokenFile,
			"--work-dir", t.TempDir(), "--cache-dir", t.TempDir(), "--wait=false", "--cluster", "wsp", "-o", "json",
		}, extra...)
	}

	t.Run("shard 1 syncs and opens no pull request", func(t *testing.T) {
		stdout, stderr, code := runConfigCmd(t, args("--shard-index", "1", "--shard-count", "2")...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if d := decodeReconcile(t, stdout); len(d.Clusters) != 0 || len(d.Upgrades) != 0 {
			t.Errorf("shard 1 of 2 got %+v (wsp is shard 0's)", d)
		}
		if len(gh.Writes()) != 0 {
			t.Error("shard 1 wrote to GitHub")
		}
	})

	t.Run("shard 0 syncs wsp from its release branch, then opens the upgrade pull request", func(t *testing.T) {
		stdout, stderr, code := runConfigCmd(t, args()...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stderr, stdout)
		}
		d := decodeReconcile(t, stdout)
		want := []row{{"wsp", "release-1.33", srv.Rev(t, "platform-addons", "release-1.33"), "synced", summary(2, 0, 0, 0)}} // Namespace demo and ConfigMap demo
		if diff := cmp.Diff(want, rows(d)); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
		if len(d.Upgrades) != 1 || d.Upgrades[0].Addon != "demo" || d.Upgrades[0].Action != "opened" {
			t.Errorf("upgrades %+v", d.Upgrades)
		}
		if prs := gh.PRs(); len(prs) != 1 || prs[0].Title != "demo: 1.0.0 -> 1.1.0" {
			t.Errorf("PRs = %+v", prs)
		}
		if strings.Contains(stdout+stderr, upgradeToken) {
			t.Error("the token was printed")
		}
	})

	t.Run("after the upgrade PR is merged, reconcile opens the backports on both release branches", func(t *testing.T) {
		person := newPersonClone(t, srv, "platform-addons")
		person.squash(gh, 1)
		fix := person.commit("main", "clusters/wsp/cluster.yaml", strings.Replace(files["clusters/wsp/cluster.yaml"], "  - name: demo\n", "  - name: demo # the only add-on\n", 1),
			"wsp: note\n\nAddonsync-Backport: all")
		stdout, stderr, code := runConfigCmd(t, args()...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		opened := 0
		for _, b := range decodeReconcile(t, stdout).Backports {
			if b.Outcome == "opened" {
				opened++
			}
		}
		if opened != 3 {
			t.Errorf("-o json backports: %d opened, want 3:\n%s", opened, stdout)
		}
		bases := map[string][]string{}
		for _, pr := range gh.PRs()[1:] {
			bases[pr.Base] = append(bases[pr.Base], pr.Head)
		}
		want := map[string][]string{
			// 1.1.0 requires Kubernetes >=1.34: release-1.33 gets only the fix.
			"release-1.33": {"addonsync/backport/release-1.33/" + fix[:12]},
			"release-1.34": {"addonsync/backport/release-1.34/" + srv.Rev(t, "platform-addons", "main~1")[:12], "addonsync/backport/release-1.34/" + fix[:12]},
		}
		if diff := cmp.Diff(want, bases); diff != "" {
			t.Errorf("backport pull requests by base (-want +got):\n%s\n%s", diff, stderr)
		}
		if !strings.Contains(stderr, "backports: ") {
			t.Errorf("no backport progress on stderr:\n%s", stderr)
		}
	})
}
