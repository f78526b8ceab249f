package backport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/addonsync/addonsync/internal/diff3"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// upsert opens the pull request for want.Head or updates the open one.
func (e *Executor) upsert(ctx context.Context, want upgrade.PullRequest) (upgrade.PullRequest, Outcome, error) {
	gh := e.o.PullRequests
	if gh == nil {
		return upgrade.PullRequest{}, OutcomeFailed, errors.New("no GitHub client configured")
	}
	open, err := gh.ListOpen(ctx, want.Head, want.Base)
	if err != nil {
		return upgrade.PullRequest{}, OutcomeFailed, err
	}
	outcome := OutcomeUnchanged
	var pr upgrade.PullRequest
	if len(open) > 0 && open[0].Draft && !want.Draft {
		// GitHub's REST API cannot mark a draft ready: close it for a fresh, ready one.
		reason := "the backport no longer conflicts, so a ready pull request replaces this draft"
		if err := gh.Comment(ctx, open[0].Number, "addonsync closes this pull request: "+reason+"."); err != nil {
			return upgrade.PullRequest{}, OutcomeFailed, err
		}
		if err := gh.Close(ctx, open[0].Number); err != nil {
			return upgrade.PullRequest{}, OutcomeFailed, err
		}
		open = nil
	}
	if len(open) == 0 {
		pr, err = gh.Create(ctx, want)
		switch {
		case errors.Is(err, upgrade.ErrPullRequestExists):
			if open, err = gh.ListOpen(ctx, want.Head, want.Base); err != nil {
				return upgrade.PullRequest{}, OutcomeFailed, err
			}
			if len(open) == 0 {
				return upgrade.PullRequest{}, OutcomeFailed, fmt.Errorf("pull request %s -> %s: GitHub says one exists but lists none; run again", want.Head, want.Base)
			}
		case err != nil:
			return upgrade.PullRequest{}, OutcomeFailed, err
		default:
			outcome = OutcomeOpened
		}
	}
	if outcome != OutcomeOpened {
		pr = open[0]
		if pr.Title != want.Title || pr.Body != want.Body {
			if pr, err = gh.Edit(ctx, pr.Number, want.Title, want.Body); err != nil {
				return upgrade.PullRequest{}, OutcomeFailed, err
			}
			outcome = OutcomeUpdated
		}
	}
	if _, err := upgrade.AddMissingLabels(ctx, gh, &pr, e.spec.GitHub.Labels); err != nil {
		return pr, OutcomeFailed, err
	}
	return pr, outcome, nil
}

// retire closes the open backport pull request of an item that needs none, saying why,
// and deletes its branch.
func (e *Executor) retire(ctx context.Context, res Result, reason string) Result {
	res.Outcome = OutcomeSkipped
	if e.o.DryRun || e.o.PullRequests == nil || e.repo.RemoteBranch(res.Head).IsZero() {
		return res
	}
	pr, closed, err := upgrade.ClosePullRequest(ctx, e.o.PullRequests, res.Head, res.Branch, reason)
	if err != nil {
		return failed(res, err)
	}
	if closed {
		res.Outcome, res.PullRequest = OutcomeClosed, pr
	}
	return res
}

// sayEdited comments once on the open pull request of a bot branch a person pushed to.
func (e *Executor) sayEdited(ctx context.Context, res Result) Result {
	if e.o.DryRun || e.o.PullRequests == nil {
		return res
	}
	if err := upgrade.SayEdited(ctx, e.o.PullRequests, res.Head, res.Branch); err != nil {
		return failed(res, err)
	}
	return res
}

// body builds the backport pull request body: what is carried, the conflicts, and the
// branch's rendered diff per cluster (the upgrade pull request's sections).
func (e *Executor) body(ctx context.Context, it Item, bt *branchTree, b *built) string {
	var head strings.Builder
	c := it.Change.Commit
	fmt.Fprintf(&head, "Backport of %s (`%s`) from `%s` to `%s` (Kubernetes %s).\n\n", c.SHA, c.Subject(), e.main.name, it.Branch, it.KubernetesVersion)
	if it.Action == ActionReplay {
		u := it.Change.Upgrade
		fmt.Fprintf(&head, "The upgrade is replayed on this branch, not patched: add-on `%s` is set from **%s** to **%s** in this branch's `addon.yaml` and `%s`.\n\n", u.Addon, it.From, u.To, config.LockFile)
	} else {
		head.WriteString("The commit is merged three-way into this branch, as `git cherry-pick` does.\n\n")
	}
	head.WriteString(conflictSection(b.conflicts, b.newFS))
	diffs := e.renderDiffs(ctx, it, bt, b)
	if len(diffs) == 0 {
		fmt.Fprintf(&head, "No cluster runs Kubernetes %s, so nothing renders from `%s`.\n\n", it.KubernetesVersion, it.Branch)
	}
	head.WriteString(upgrade.SummaryTable(diffs))
	footer := fmt.Sprintf("\n<sub>Opened by addonsync backport. Edits to this branch by a person stop addonsync from updating it.</sub>\n\n%s: %s\n", TrailerBackportOf, c.SHA)
	return head.String() + upgrade.RenderedChanges(diffs, e.o.BodyLimit-head.Len()-len(footer)) + footer
}

// maxHunksListed bounds the conflict blocks listed per file in a body.
const maxHunksListed = 10

var (
	secretManifest = regexp.MustCompile(`(?m)^kind:\s*Secret\s*$`)
	secretKey      = regexp.MustCompile(`(?i)(password|passwd|secret|token|apikey|api_key|private_?key|credentials?)["']?\s*[:=]`)
)

// conflictSection lists the conflicting files and blocks. The lines of a block are shown
// only when they cannot hold a secret: not in a Secret manifest, no password- or
// token-like key; otherwise only the line number.
func conflictSection(conflicts []diff3.FileConflict, tree fs.FS) string {
	if len(conflicts) == 0 {
		return ""
	}
	var s strings.Builder
	s.WriteString("> [!WARNING]\n> This backport conflicts, so it is a draft: the conflict markers are committed. Resolve them on this branch, then mark the pull request ready for review.\n\n### Conflicts\n\n")
	for _, c := range conflicts {
		fmt.Fprintf(&s, "- `%s` (%s): %s\n", c.Path, c.Kind, c.Message)
		data, _ := fs.ReadFile(tree, c.Path)
		hideAll := secretManifest.Match(data)
		for i, h := range c.Hunks {
			if i == maxHunksListed {
				fmt.Fprintf(&s, "  - ... and %d more conflict blocks\n", len(c.Hunks)-i)
				break
			}
			if hideAll || secretKey.MatchString(strings.Join(h.Ours, "\n")+"\n"+strings.Join(h.Theirs, "\n")) {
				fmt.Fprintf(&s, "  - line %d (lines not shown: they may hold a secret)\n", h.Line)
				continue
			}
			fmt.Fprintf(&s, "  - line %d: this branch has `%s`, the commit has `%s`\n", h.Line, oneLine(h.Ours), oneLine(h.Theirs))
		}
	}
	s.WriteString("\n")
	return s.String()
}

func oneLine(lines []string) string {
	s := strings.TrimSpace(strings.Join(lines, " ⏎ "))
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return strings.ReplaceAll(s, "`", "'")
}

// renderDiffs renders each cluster of the branch's minor before and after the backport.
func (e *Executor) renderDiffs(ctx context.Context, it Item, bt *branchTree, b *built) []upgrade.ClusterDiff {
	newCfg, loadErr := e.o.Load(b.newFS)
	var addons []string
	if it.Action == ActionReplay {
		addons = []string{it.Change.Upgrade.Addon}
	}
	var diffs []upgrade.ClusterDiff
	for _, name := range bt.cfg.ClusterNames() {
		cl := bt.cfg.Clusters[name]
		if cl.Spec.KubernetesVersion != it.KubernetesVersion {
			continue
		}
		if len(addons) > 0 && !runs(cl, addons[0]) {
			continue
		}
		if loadErr != nil {
			diffs = append(diffs, upgrade.ClusterDiff{Cluster: name, KubernetesVersion: it.KubernetesVersion, Err: loadErr.Error()})
			continue
		}
		diffs = append(diffs, ClusterDiff(ctx, e.o.Renderer, bt.cfg, newCfg, name, addons))
	}
	return diffs
}

func runs(cl *config.Cluster, addon string) bool {
	for _, a := range cl.Spec.Addons {
		if a.Name == addon {
			return true
		}
	}
	return false
}

// ClusterDiff renders cluster from oldCfg and newCfg (only addons, or all when empty) and
// joins the per add-on diffs into one.
func ClusterDiff(ctx context.Context, r upgrade.Renderer, oldCfg, newCfg *config.Config, cluster string, addons []string) upgrade.ClusterDiff {
	minor := newCfg.Clusters[cluster].Spec.KubernetesVersion
	out := upgrade.ClusterDiff{Cluster: cluster, KubernetesVersion: minor}
	if r == nil {
		out.Err = "no renderer configured"
		return out
	}
	newC, err := r.RenderCluster(ctx, newCfg, cluster, render.RenderOptions{Addons: addons})
	if err != nil {
		out.Err = err.Error()
		return out
	}
	oldByName := map[string]*render.Addon{}
	if oldC, err := r.RenderCluster(ctx, oldCfg, cluster, render.RenderOptions{Addons: addons}); err == nil {
		for i := range oldC.Addons {
			oldByName[oldC.Addons[i].Name] = &oldC.Addons[i]
		}
	}
	var diff strings.Builder
	for i := range newC.Addons {
		a := &newC.Addons[i]
		d := upgrade.DiffAddon(cluster, minor, oldByName[a.Name], a)
		delete(oldByName, a.Name)
		out.Added, out.Changed, out.Removed = append(out.Added, d.Added...), append(out.Changed, d.Changed...), append(out.Removed, d.Removed...)
		out.CRDs, out.APIChanges = append(out.CRDs, d.CRDs...), append(out.APIChanges, d.APIChanges...)
		diff.WriteString(d.Diff)
	}
	for _, name := range slices.Sorted(maps.Keys(oldByName)) { // add-ons the change removed
		d := upgrade.DiffAddon(cluster, minor, oldByName[name], nil)
		out.Removed = append(out.Removed, d.Removed...)
		diff.WriteString(d.Diff)
	}
	out.Diff = diff.String()
	return out
}
