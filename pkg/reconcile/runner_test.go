package reconcile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/addonsync/addonsync/internal/testenv"
	"github.com/addonsync/addonsync/internal/testutil/chartrepo"
	"github.com/addonsync/addonsync/internal/testutil/githubfake"
	"github.com/addonsync/addonsync/internal/testutil/gitserver"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/lease"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

const (
	gitToken    = "git-token-never-printed"
	githubToken = "github-token-never-printed"
)

// webChart is the add-on's chart: a ConfigMap with fields rendered as false/0/"", a Secret,
// and a post-install hook, like the real add-ons have.
func webChart(version string) chartrepo.Chart {
	return chartrepo.Chart{
		Name: "web", Version: version, KubeVersion: ">=1.30.0-0",
		Files: map[string]string{
			"values.yaml": "greeting: hello\nreplicas: 0\nenabled: false\n",
			"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n" +
				"  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n" +
				"  enabled: {{ .Values.enabled | quote }}\n  empty: \"\"\n  version: " + version + "\n",
			"templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\nstringData:\n  password: runner-secret-never-shown\n",
			"templates/hook.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-hook\n  annotations:\n" +
				"    helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-delete-policy: before-hook-creation\ndata:\n  ran: \"yes\"\n",
		},
	}
}

// runnerRepo is a config repo with add-on web (a chart) on clusters test (the test API
// server, Kubernetes 1.35) and broken (an API server nobody listens on, 1.34); the
// release-1.35 branch greets in French, main in English, and there is no release-1.34.
func runnerRepo(t *testing.T, ns, chartURL, githubURL string) (*gitserver.Server, map[string]string) {
	t.Helper()
	broken := filepath.Join(t.TempDir(), "broken.kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\", insecure-skip-tls-verify: true}}]\n" +
		"users: [{name: u, user: {token: nothing}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"
	if err := os.WriteFile(broken, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	cluster := func(name, minor, kubeconfig string) string {
		return fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: %s\nspec:\n  kubernetesVersion: %q\n"+
			"  kubeconfig:\n    path: %s\n  addons:\n    - name: web\n", name, minor, kubeconfig)
	}
	files := map[string]string{
		"addonsync.yaml": fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Repository\nmetadata:\n  name: runner-test\nspec:\n"+
			"  inventoryNamespace: %s-inv\n  github:\n    owner: example-org\n    repo: platform-addons\n    url: %s\n", ns, githubURL),
		"addons/web/addon.yaml": fmt.Sprintf("apiVersion: addonsync.io/v1alpha1\nkind: Addon\nmetadata:\n  name: web\nspec:\n"+
			"  namespace: %s\n  chart:\n    repository: %s\n    name: web\n    version: 1.0.0\n  upgrade:\n    constraint: \"<2.0.0\"\n", ns, chartURL),
		"clusters/test/cluster.yaml":   cluster("test", "1.35", env.Kubeconfig),
		"clusters/broken/cluster.yaml": cluster("broken", "1.34", broken),
	}
	srv := gitserver.New(t, gitToken)
	srv.CreateRepo(t, "config", files)
	work := t.TempDir()
	gitserver.Git(t, "", "clone", "-q", srv.Dir("config"), work)
	gitserver.Git(t, work, "checkout", "-q", "-b", "release-1.35")
	values := filepath.Join(work, "clusters", "test", "values", "web.yaml")
	if err := os.MkdirAll(filepath.Dir(values), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(values, []byte("greeting: bonjour\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitserver.Git(t, work, "add", "-A")
	gitserver.Git(t, work, "commit", "-q", "-m", "bonjour on 1.35")
	gitserver.Git(t, work, "push", "-q", "origin", "release-1.35")
	return srv, files
}

// tick is a clock that moves one second each time it is read.
func tick() func() time.Time {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		now = now.Add(time.Second)
		return now
	}
}

type runnerFixture struct {
	ns    string
	srv   *gitserver.Server
	gh    *githubfake.Server
	work  string
	cache string
}

func (f *runnerFixture) options(t *testing.T) RunnerOptions {
	o := DefaultRunnerOptions()
	o.Source = RepoSource{
		Dir: filepath.Join(f.work, "config"), Ref: config.RefAuto,
		Remote: git.RemoteOptions{URL: f.srv.URL("config"), Token: gitToken},
	}
	o.Connector = KubeConnector{}
	o.Renderer = render.New(render.Options{CacheDir: f.cache})
	o.Wait = false
	o.LeaseHolder = "runner-test/1"
	o.Now = tick()
	o.Steps = []Step{&UpgradeStep{
		Remote:       git.RemoteOptions{URL: f.srv.URL("config"), Token: gitToken, Dir: filepath.Join(f.work, "upgrade.git")},
		Renderer:     o.Renderer,
		PullRequests: upgrade.NewGitHubPullRequests(f.gh.Client(t, githubToken), "example-org", "platform-addons", upgrade.DefaultGitHubOptions()),
	}}
	return o
}

func (f *runnerFixture) run(t *testing.T, o RunnerOptions) (*Report, []Event) {
	t.Helper()
	var events []Event
	o.Progress = func(e Event) { events = append(events, e) }
	r, err := NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	rep := r.Run(t.Context())
	if s := fmt.Sprintf("%v %+v", rep.Error(), rep); strings.Contains(s, "never-") {
		t.Errorf("a secret reached the report: %s", s)
	}
	return rep, events
}

// clusterRow is a ClusterResult without its error and change set.
type clusterRow struct {
	Cluster, Branch, Revision string
	Status                    Status
	Counts                    Counts
	Duration                  time.Duration
}

func clusterRows(rep *Report) []clusterRow {
	var out []clusterRow
	for _, c := range rep.Clusters {
		out = append(out, clusterRow{c.Cluster, c.Branch, c.Revision, c.Status, c.Counts, c.Duration})
	}
	return out
}

// TestRunnerEndToEnd runs reconciles without the CLI: a mirror of a config repo on a git
// server, a chart from a chart repository, a real API server, a GitHub fake for the upgrade
// pull request.
func TestRunnerEndToEnd(t *testing.T) {
	testenv.Require(t, env)
	ns := env.Namespace(t)
	charts := chartrepo.NewHTTP(t)
	charts.Add(t, webChart("1.0.0"))
	charts.Add(t, webChart("1.1.0"))
	gh := githubfake.New(t, "example-org", "platform-addons", githubToken)
	srv, _ := runnerRepo(t, ns, charts.URL(), gh.URL())
	f := &runnerFixture{ns: ns, srv: srv, gh: gh, work: t.TempDir(), cache: t.TempDir()}
	release := srv.Rev(t, "config", "release-1.35")
	main := srv.Rev(t, "config", "main")
	cs := kubernetes.NewForConfigOrDie(env.Config)

	t.Run("syncs each cluster from its branch, goes on after one fails, then opens the upgrade pull request", func(t *testing.T) {
		rep, events := f.run(t, f.options(t))
		want := []clusterRow{
			{"broken", "main", main, StatusFailed, Counts{}, time.Second},
			{"test", "release-1.35", release, StatusSynced, Counts{Created: 3}, time.Second},
		}
		if diff := cmp.Diff(want, clusterRows(rep)); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
		var ce *ClusterError
		if msg := fmt.Sprint(rep.Clusters[0].Err); !errors.As(rep.Clusters[0].Err, &ce) || strings.Count(msg, `cluster "broken"`) != 1 {
			t.Errorf("broken's error names the cluster once: %q", msg)
		}
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantData := map[string]string{"greeting": "bonjour", "replicas": "0", "enabled": "false", "empty": "", "version": "1.0.0"}
		if diff := cmp.Diff(wantData, cm.Data); diff != "" {
			t.Errorf("ConfigMap web (-want +got):\n%s", diff)
		}
		if len(rep.Steps) != 1 || rep.Steps[0].Err != nil || len(rep.Steps[0].Items) != 1 {
			t.Fatalf("steps %+v", rep.Steps)
		}
		if it := rep.Steps[0].Items[0]; it.Subject != "web" || it.Change != "1.0.0 -> 1.1.0" || it.Action != "opened" {
			t.Errorf("upgrade item %+v", it)
		}
		if prs := gh.PRs(); len(prs) != 1 || prs[0].Title != "web: 1.0.0 -> 1.1.0" {
			t.Errorf("pull requests %+v", prs)
		}
		if rep.Duration != 5*time.Second { // read at the start, at each cluster's start and end, at the end
			t.Errorf("run duration %s, want 5s on the ticking clock", rep.Duration)
		}
		var types []EventType
		for _, e := range events {
			if e.Type != EventSync {
				types = append(types, e.Type)
			}
		}
		wantTypes := []EventType{
			EventFetch, EventRunStarted, EventClusterRendering, EventClusterFinished, EventClusterRendering,
			EventClusterFinished, EventStepStarted, EventStepFinished,
		}
		if diff := cmp.Diff(wantTypes, types); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})

	t.Run("a second run changes nothing and runs no hook", func(t *testing.T) {
		o := f.options(t)
		o.Clusters = []string{"test"}
		rep, _ := f.run(t, o)
		if err := rep.Error(); err != nil {
			t.Fatal(err)
		}
		// main's sync planner runs no hook on an unchanged cluster (PRODUCT.md).
		want := []clusterRow{{"test", "release-1.35", release, StatusSynced, Counts{Unchanged: 2}, time.Second}}
		if diff := cmp.Diff(want, clusterRows(rep)); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
		if it := rep.Steps[0].Items[0]; it.Action != "unchanged" {
			t.Errorf("upgrade item %+v, want unchanged", it)
		}
	})

	t.Run("a cluster whose lease another addonsync holds is locked, and its objects are left alone", func(t *testing.T) {
		holdLease(t, cs, ns+"-inv", "pod-x/1")
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data["greeting"] = "edited by hand"
		if _, err := cs.CoreV1().ConfigMaps(ns).Update(t.Context(), cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		o := f.options(t)
		o.Clusters, o.Steps = []string{"test"}, nil
		rep, _ := f.run(t, o)
		if len(rep.Clusters) != 1 || rep.Clusters[0].Status != StatusLocked {
			t.Fatalf("clusters %+v", rep.Clusters)
		}
		var he *lease.HeldError
		if msg := rep.Clusters[0].Err.Error(); !errors.As(rep.Clusters[0].Err, &he) ||
			!strings.HasPrefix(msg, `cluster "test": another addonsync (pod-x/1) holds the sync lease `+ns+"-inv/addonsync-sync until ") {
			t.Errorf("error %q", msg)
		}
		if got := getConfigMap(t, cs, ns).Data["greeting"]; got != "edited by hand" {
			t.Errorf("greeting %q: a locked cluster was synced", got)
		}
		if err := cs.CoordinationV1().Leases(ns+"-inv").Delete(t.Context(), lease.DefaultName, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		rep, _ = f.run(t, o)
		if err := rep.Error(); err != nil || rep.Clusters[0].Counts.Configured != 1 {
			t.Errorf("after the lease was freed: %v, %+v", err, rep.Clusters)
		}
		if got := getConfigMap(t, cs, ns).Data["greeting"]; got != "bonjour" {
			t.Errorf("greeting %q, want the hand edit reverted", got)
		}
	})

	t.Run("a shard syncs only its clusters", func(t *testing.T) {
		o := f.options(t)
		o.ShardIndex, o.ShardCount, o.Steps = 0, 2, nil // broken is cluster 0, test cluster 1
		rep, _ := f.run(t, o)
		if got := clusterRows(rep); len(got) != 1 || got[0].Cluster != "broken" {
			t.Errorf("shard 0 of 2 synced %+v", got)
		}
	})

	t.Run("an unknown cluster is a config error and nothing runs", func(t *testing.T) {
		o := f.options(t)
		o.Clusters = []string{"nosuch"}
		rep, _ := f.run(t, o)
		var ce *ConfigError
		if !errors.As(rep.Err, &ce) || len(rep.Clusters) != 0 || len(rep.Steps) != 0 {
			t.Errorf("report %+v, want a ConfigError and nothing run", rep)
		}
	})
}

func getConfigMap(t *testing.T, cs kubernetes.Interface, ns string) *corev1.ConfigMap {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

// holdLease writes the sync lease as held by holder for the next ten minutes.
func holdLease(t *testing.T, cs kubernetes.Interface, ns, holder string) {
	t.Helper()
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

func TestClusterErrorNamesTheClusterOnce(t *testing.T) {
	for _, tc := range []struct {
		err  *ClusterError
		want string
	}{
		{
			&ClusterError{Cluster: "prod", Stage: "nothing applied", Err: errors.New(`cluster "prod": add-on "web": render failed`)},
			`cluster "prod": nothing applied: add-on "web": render failed`,
		},
		{
			&ClusterError{Cluster: "prod", Err: fmt.Errorf(`cluster "prod": %w`, errors.New("connection refused"))},
			`cluster "prod": connection refused`,
		},
		{
			&ClusterError{Cluster: "prod", Err: errors.New(`cluster "dev" is another one`)},
			`cluster "prod": cluster "dev" is another one`,
		},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
