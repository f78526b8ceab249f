package backport

import (
	"slices"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/githubfake"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

func TestBackportAcrossReleaseBranches(t *testing.T) {
	f := &flow{fixture: newFixture(t)}

	// The upgrade PR against main, squash-merged as GitHub does.
	ups := f.upgradePR(t)
	if len(ups) != 1 || ups[0].Action != upgrade.ActionOpened || ups[0].To != "4.15.1" {
		t.Fatalf("upgrade pr: %+v", ups)
	}
	f.upgradeSHA = f.squash(t, ups[0].PullRequest.Number)
	// A fix on main that asks for a backport everywhere.
	f.fixSHA = f.edit(t, "main", valuesFile, "replicas: 2", "replicas: 4", "ingress-nginx: 4 controller replicas\n\nAddonsync-Backport: all")

	f.results = f.backport(t)
	f.opened = f.openPRs()

	t.Run("the upgrade body rendered each cluster from its own branch", f.bodyFromBranches)
	t.Run("the upgrade is replayed where it belongs and skipped with the reason where not", f.replays)
	t.Run("a commit merges cleanly where git cherry-pick does and is a draft with markers where git conflicts", f.cherryPicks)
	t.Run("each pull request body has its branch's render diff per cluster", f.bodies)
	t.Run("rerunning opens nothing new and pushes nothing", f.rerun)
	t.Run("when the release branch moves, the open backports are rebuilt on it and updated", f.branchMoved)
	t.Run("after the backport is squash-merged, rerunning opens nothing", f.squashMerged)
	t.Run("a bot branch with a person's commit is not pushed to, and the PR says so once", f.humanCommit)
	t.Run("a superseded pull request is closed with a comment and its branch deleted", f.superseded)
}

// flow is the state TestBackportAcrossReleaseBranches's steps share, in order.
type flow struct {
	*fixture
	upgradeSHA, fixSHA string
	results            []Result
	opened             map[string]githubfake.PR
}

const addonFile, valuesFile = "addons/ingress-nginx/addon.yaml", "addons/ingress-nginx/values.yaml"

func (f *flow) bodyFromBranches(t *testing.T) {
	body := f.gh.PRs()[0].Body
	// dev renders from release-1.34, pinned at 4.14.4: its diff starts there.
	if !strings.Contains(body, `-  chartVersion: 4.14.4`) || !strings.Contains(body, `-  chartVersion: 4.14.5`) {
		t.Errorf("upgrade PR body does not diff dev from release-1.34 (4.14.4) and prod from 4.14.5:\n%s", body)
	}
}

func (f *flow) replays(t *testing.T) {
	r := find(t, f.results, "release-1.29", f.upgradeSHA)
	if r.Action != ActionSkip || !strings.Contains(r.Reason, `requires Kubernetes ">=1.30.0-0", which excludes 1.29`) {
		t.Errorf("release-1.29: %s %q, want a skip naming the kubeVersion", r.Action, r.Reason)
	}
	for _, br := range []string{"release-1.33", "release-1.34"} {
		r := find(t, f.results, br, f.upgradeSHA)
		if r.Action != ActionReplay || r.Outcome != OutcomeOpened || r.PullRequest.Draft {
			t.Errorf("%s: %s %s draft=%v, want a replay f.opened as a ready pull request", br, r.Action, r.Outcome, r.PullRequest.Draft)
		}
		if got := f.fileAt(t, r.Head, addonFile); !strings.Contains(got, `version: "4.15.1"   # bumped by addonsync`) {
			t.Errorf("%s: addon.yaml on %s does not have 4.15.1 with its comment:\n%s", br, r.Head, got)
		}
		if lock := f.fileAt(t, r.Head, "addonsync.lock"); !strings.Contains(lock, f.digest["4.15.1"]) {
			t.Errorf("%s: lock on %s lacks the 4.15.1 digest:\n%s", br, r.Head, lock)
		}
	}
	near := f.fileAt(t, find(t, f.results, "release-1.33", f.upgradeSHA).Head, addonFile)
	if !strings.Contains(near, `constraint: ">=4.0.0 <4.99.0"`) {
		t.Errorf("release-1.33 lost its local change two lines from the version:\n%s", near)
	}
	// A plain cherry-pick of the upgrade conflicts on the pinned branch; the replay did not.
	if conflicted, _ := f.gitCherryPick(t, "release-1.34", f.upgradeSHA, addonFile); !conflicted {
		t.Errorf("git cherry-pick of the upgrade onto release-1.34 was expected to conflict (the fixture pins 4.14.4)")
	}
}

func (f *flow) cherryPicks(t *testing.T) {
	for _, br := range []string{"release-1.29", "release-1.33", "release-1.34"} {
		r := find(t, f.results, br, f.fixSHA)
		gitConflicted, gitContent := f.gitCherryPick(t, br, f.fixSHA, valuesFile)
		got := f.fileAt(t, r.Head, valuesFile)
		if gitConflicted != (len(r.Conflicts) > 0) || gitConflicted != r.PullRequest.Draft {
			t.Errorf("%s: git conflicted=%v, backport conflicts=%v draft=%v", br, gitConflicted, r.Conflicts, r.PullRequest.Draft)
		}
		if stripLabels(got) != stripLabels(gitContent) {
			t.Errorf("%s: %s on %s differs from git cherry-pick's:\n--- git\n%s\n--- backport\n%s", br, valuesFile, r.Head, gitContent, got)
		}
		if gitConflicted {
			if !strings.Contains(got, "<<<<<<< release-1.34\n") || !strings.Contains(r.PullRequest.Body, "`"+valuesFile+"` (content)") ||
				!strings.Contains(r.PullRequest.Body, "this branch has `replicas: 3`, the commit has `replicas: 4`") {
				t.Errorf("%s: draft lacks the markers or the conflict list:\n%s\n%s", br, got, r.PullRequest.Body)
			}
		}
	}
}

func (f *flow) bodies(t *testing.T) {
	want := map[string][]string{
		BranchName("release-1.33", f.upgradeSHA): {"#### prod (Kubernetes 1.33)", `+  chartVersion: 4.15.1`, `-  chartVersion: 4.14.5`, "Addonsync-Backport-Of: " + f.upgradeSHA},
		BranchName("release-1.34", f.upgradeSHA): {"#### dev (Kubernetes 1.34)", `+  chartVersion: 4.15.1`, `-  chartVersion: 4.14.4`},
		BranchName("release-1.33", f.fixSHA):     {"#### prod (Kubernetes 1.33)", `-  replicas: "2"`, `+  replicas: "4"`, "Addonsync-Backport-Of: " + f.fixSHA},
		BranchName("release-1.29", f.fixSHA):     {"#### edge (Kubernetes 1.29)", `+  replicas: "4"`},
	}
	for head, parts := range want {
		pr, ok := f.opened[head]
		if !ok {
			t.Errorf("no open pull request from %s; open: %v", head, slices.Collect(mapKeys(f.opened)))
			continue
		}
		for _, p := range parts {
			if !strings.Contains(pr.Body, p) {
				t.Errorf("%s: body lacks %q:\n%s", head, p, pr.Body)
			}
		}
		for _, other := range []string{"#### prod", "#### dev", "#### edge"} {
			if !strings.Contains(parts[0], other) && strings.Contains(pr.Body, other) {
				t.Errorf("%s: body renders %s, a cluster of another branch", head, other)
			}
		}
	}
	if len(f.opened) != 5 {
		t.Errorf("%d open pull requests, want 5 (2 replays, 3 cherry-picks): %v", len(f.opened), slices.Collect(mapKeys(f.opened)))
	}
}

func (f *flow) rerun(t *testing.T) {
	before, heads := len(f.gh.PRs()), f.heads(t)
	for _, r := range f.backport(t) {
		if r.Outcome == OutcomeOpened || r.Pushed {
			t.Errorf("%s on %s: %s pushed=%v on a rerun", r.Change.Commit.Short(), r.Branch, r.Outcome, r.Pushed)
		}
	}
	if len(f.gh.PRs()) != before || !equalMaps(heads, f.heads(t)) {
		t.Errorf("rerun changed pull requests (%d -> %d) or branches", before, len(f.gh.PRs()))
	}
}

func (f *flow) branchMoved(t *testing.T) {
	before := len(f.gh.PRs())
	moved := f.edit(t, "release-1.33", "clusters/prod/cluster.yaml", "  - name: ingress-nginx\n", "  - name: ingress-nginx # edge proxy\n", "prod: note")
	r := find(t, f.backport(t), "release-1.33", f.fixSHA)
	if r.Outcome != OutcomeUpdated || !r.Pushed || len(f.gh.PRs()) != before {
		t.Errorf("fix on release-1.33 after the branch moved: %s pushed=%v, %d -> %d pull requests", r.Outcome, r.Pushed, before, len(f.gh.PRs()))
	}
	if parent := f.git.Rev(t, repoName, r.Head+"~1"); parent != moved {
		t.Errorf("%s is on %s, want the moved release-1.33 %s", r.Head, parent, moved)
	}
}

func (f *flow) squashMerged(t *testing.T) {
	n := f.opened[BranchName("release-1.33", f.upgradeSHA)].Number
	f.squash(t, n)
	before := len(f.gh.PRs())
	rs := f.backport(t)
	if r := find(t, rs, "release-1.33", f.upgradeSHA); r.Action != ActionCarried {
		t.Errorf("release-1.33 after the squash merge: %s %q, want carried", r.Action, r.Reason)
	}
	if len(f.gh.PRs()) != before {
		t.Errorf("a pull request was f.opened after the squash merge")
	}
}

func (f *flow) humanCommit(t *testing.T) {
	head := BranchName("release-1.34", f.fixSHA)
	human := f.edit(t, head, valuesFile, "<<<<<<< release-1.34\n  replicas: 3\n=======\n  replicas: 4\n>>>>>>> ", "  replicas: 4\n# ", "resolve the conflict")
	for range 2 {
		r := find(t, f.backport(t), "release-1.34", f.fixSHA)
		if r.Outcome != OutcomeEditedByPerson || r.Pushed {
			t.Errorf("outcome %s pushed=%v, want edited by a person and no push", r.Outcome, r.Pushed)
		}
	}
	if got := f.git.Rev(t, repoName, head); got != human {
		t.Errorf("%s is at %s, want the person's commit %s", head, got, human)
	}
	pr := f.openPRs()[head]
	if len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0], "no longer pushes") {
		t.Errorf("comments on the edited pull request: %q, want one saying addonsync stopped", pr.Comments)
	}
}

func (f *flow) superseded(t *testing.T) {
	f.digest["4.16.0"] = f.charts.Add(t, ingressChart("4.16.0", ">=1.30.0-0"))
	ups := f.upgradePR(t)
	if len(ups) != 1 || ups[0].To != "4.16.0" || ups[0].Action == upgrade.ActionFailed {
		t.Fatalf("upgrade pr to 4.16.0: %+v", ups)
	}
	upgradeHead := ups[0].Branch
	// A person bumps main to 4.16.0 by hand: the open upgrade PR is moot.
	f.edit(t, "main", addonFile, `version: "4.15.1"`, `version: "4.16.0"`, "ingress-nginx: 4.16.0 by hand\n\nAddonsync-Upgrade: ingress-nginx 4.15.1 -> 4.16.0")
	f.person(t, "checkout", "-q", "main")
	ups = f.upgradePR(t)
	if len(ups) != 1 || ups[0].Action != upgrade.ActionClosed {
		t.Fatalf("upgrade rerun after main has 4.16.0: %+v, want the PR closed", ups)
	}
	assertClosed(t, f.fixture, ups[0].PullRequest.Number, upgradeHead)

	// On release-1.34 the open 4.15.1 replay is superseded by 4.16.0.
	oldHead := BranchName("release-1.34", f.upgradeSHA)
	oldN := f.openPRs()[oldHead].Number
	rs := f.backport(t)
	if r := find(t, rs, "release-1.34", f.upgradeSHA); r.Outcome != OutcomeClosed || !strings.Contains(r.Reason, "superseded by ingress-nginx 4.16.0") {
		t.Errorf("release-1.34 4.15.1 replay: %s %q, want closed as superseded", r.Outcome, r.Reason)
	}
	assertClosed(t, f.fixture, oldN, oldHead)
	if _, ok := f.openPRs()[BranchName("release-1.34", f.git.Rev(t, repoName, "main"))]; !ok {
		t.Errorf("no replay of 4.16.0 f.opened on release-1.34: %v", slices.Collect(mapKeys(f.openPRs())))
	}
}

func TestBackportOfAMergeCommit(t *testing.T) {
	f := newFixture(t)
	// A pull request merged with a merge commit: the trailer is on the merged commit.
	f.person(t, "checkout", "-q", "-B", "topic", "origin/main")
	f.person(t, "push", "-q", "origin", "topic")
	f.edit(t, "topic", "clusters/prod/cluster.yaml", "  - name: ingress-nginx\n", "  - name: ingress-nginx # edge proxy\n", "prod: note\n\nAddonsync-Backport: release-1.33")
	f.person(t, "checkout", "-q", "-B", "main", "origin/main")
	f.person(t, "merge", "-q", "--no-ff", "origin/topic", "-m", "Merge pull request #99 from example-org/topic")
	f.person(t, "push", "-q", "origin", "main")
	merge := f.person(t, "rev-parse", "HEAD")

	rs := f.backport(t)
	r := find(t, rs, "release-1.33", merge)
	if r.Outcome != OutcomeOpened || r.Action != ActionCherryPick {
		t.Fatalf("merge commit on release-1.33: %s %s, want a cherry-pick opened", r.Action, r.Outcome)
	}
	if got := f.fileAt(t, r.Head, "clusters/prod/cluster.yaml"); !strings.Contains(got, "# edge proxy") {
		t.Errorf("the merged change is not on %s:\n%s", r.Head, got)
	}
	for _, res := range rs {
		if res.Branch != "release-1.33" && res.Change.Commit.SHA == merge {
			t.Errorf("the merge asked for release-1.33 only, but %s got %s", res.Branch, res.Outcome)
		}
	}
}

func TestBackportDraftBecomesReady(t *testing.T) {
	f := newFixture(t)
	fix := f.edit(t, "main", valuesFile, "replicas: 2", "replicas: 4", "ingress-nginx: 4 replicas\n\nAddonsync-Backport: release-1.34")
	r := find(t, f.backport(t), "release-1.34", fix)
	if !r.PullRequest.Draft || len(r.Conflicts) != 1 {
		t.Fatalf("release-1.34 (3 replicas) should conflict: draft=%v conflicts=%v", r.PullRequest.Draft, r.Conflicts)
	}
	// The branch drops its own replicas: the backport now merges cleanly.
	f.edit(t, "release-1.34", valuesFile, "replicas: 3", "replicas: 2", "ingress-nginx: back to 2 replicas")
	r2 := find(t, f.backport(t), "release-1.34", fix)
	if r2.Outcome != OutcomeOpened || r2.PullRequest.Draft || len(r2.Conflicts) != 0 || r2.PullRequest.Number == r.PullRequest.Number {
		t.Fatalf("after the conflict went away: %s draft=%v #%d, want a new ready pull request", r2.Outcome, r2.PullRequest.Draft, r2.PullRequest.Number)
	}
	if old := f.gh.PRs()[r.PullRequest.Number-1]; old.State != "closed" || len(old.Comments) != 1 {
		t.Errorf("the draft #%d: state %s, comments %q; want closed saying why", old.Number, old.State, old.Comments)
	}
	if got := f.fileAt(t, r2.Head, valuesFile); strings.Contains(got, "<<<<<<<") || !strings.Contains(got, "replicas: 4") {
		t.Errorf("%s has:\n%s", r2.Head, got)
	}
}

func assertClosed(t *testing.T, f *fixture, n int, head string) {
	t.Helper()
	pr := f.gh.PRs()[n-1]
	if pr.State != "closed" || len(pr.Comments) == 0 || !strings.Contains(pr.Comments[len(pr.Comments)-1], "addonsync closes this pull request") {
		t.Errorf("pull request #%d (%s): state %s, comments %q; want closed with a comment saying why", n, head, pr.State, pr.Comments)
	}
	if rev := f.git.Rev(t, repoName, head); rev != "" {
		t.Errorf("branch %s still exists at %s", head, rev)
	}
}

// heads returns every branch head on the git server.
func (f *fixture) heads(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(f.git.Git(t, repoName, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads")), "\n") {
		k, v, _ := strings.Cut(line, " ")
		out[k] = v
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
