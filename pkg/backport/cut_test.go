package backport

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/render"
)

func (f *fixture) executor(t *testing.T, dryRun bool) *Executor {
	t.Helper()
	return NewExecutor(ExecutorOptions{
		Remote:       git.RemoteOptions{URL: f.git.URL(repoName), Token: gitToken},
		PullRequests: f.pullRequests(t),
		Renderer:     render.New(render.Options{CacheDir: f.cache}),
		DryRun:       dryRun,
		Now:          func() time.Time { return now },
		Logger:       slog.New(slog.NewTextHandler(f.logs, nil)),
	})
}

func TestBranchCut(t *testing.T) {
	f := newFixture(t)
	t.Run("cuts a minor every chart admits, at main", func(t *testing.T) {
		res, err := f.executor(t, false).Cut(context.Background(), "1.35")
		if err != nil {
			t.Fatalf("Cut(1.35): %v", err)
		}
		if main := f.git.Rev(t, repoName, "main"); f.git.Rev(t, repoName, "release-1.35") != main || res.Commit != main || !res.Pushed {
			t.Errorf("release-1.35 at %q, want main %s (result %+v)", f.git.Rev(t, repoName, "release-1.35"), main, res)
		}
		if strings.Join(res.Rendered, ",") != "dev,edge,prod" || len(res.Checked) != 1 {
			t.Errorf("checked %v, rendered %v", res.Checked, res.Rendered)
		}
	})
	t.Run("refuses an existing branch", func(t *testing.T) {
		if _, err := f.executor(t, false).Cut(context.Background(), "1.35"); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("Cut(1.35) again: %v, want already exists", err)
		}
	})
	t.Run("refuses a minor a chart does not admit, naming the chart", func(t *testing.T) {
		f.edit(t, "main", "addons/ingress-nginx/addon.yaml", `version: "4.14.5"`, `version: "4.15.1"`, "ingress-nginx 4.15.1\n\nAddonsync-Upgrade: ingress-nginx 4.14.5 -> 4.15.1")
		_, err := f.executor(t, false).Cut(context.Background(), "1.28")
		var na *NotAdmittedError
		if !errors.As(err, &na) || na.Chart != "ingress-nginx" || na.Version != "4.15.1" ||
			!strings.Contains(err.Error(), `add-on "ingress-nginx": chart ingress-nginx 4.15.1 requires Kubernetes ">=1.30.0-0", which excludes 1.28`) {
			t.Fatalf("Cut(1.28): %v, want a NotAdmittedError naming the chart", err)
		}
		if rev := f.git.Rev(t, repoName, "release-1.28"); rev != "" {
			t.Errorf("release-1.28 was created at %s", rev)
		}
	})
	t.Run("branches lists each branch's clusters and what it lacks", func(t *testing.T) {
		sts, err := f.executor(t, true).Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]BranchStatus{}
		for _, s := range sts {
			got[s.Branch] = s
		}
		if len(sts) != 4 || strings.Join(got["release-1.33"].Clusters, ",") != "prod" || len(got["release-1.35"].Clusters) != 0 {
			t.Errorf("status: %+v", sts)
		}
		if l := got["release-1.33"].Lacks; len(l) != 1 || l[0].Action != ActionReplay || l[0].Change.Upgrade.To != "4.15.1" {
			t.Errorf("release-1.33 lacks %+v, want the 4.15.1 replay", l)
		}
		if s := got["release-1.29"].Skipped; len(s) != 1 || !strings.Contains(s[0].Reason, "excludes 1.29") || len(got["release-1.29"].Lacks) != 0 {
			t.Errorf("release-1.29: lacks %+v, skipped %+v; want the upgrade skipped for its kubeVersion", got["release-1.29"].Lacks, s)
		}
	})
}
