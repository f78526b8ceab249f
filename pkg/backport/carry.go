package backport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/addonsync/addonsync/internal/diff3"
	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/git"
	"github.com/addonsync/addonsync/pkg/upgrade"
)

// built is the backport commit to have on a release branch.
type built struct {
	files     map[string][]byte // changed files; nil content deletes
	newFS     fs.FS             // the branch's tree with files applied
	message   string
	conflicts []diff3.FileConflict
}

// apply carries out one item.
func (e *Executor) apply(ctx context.Context, it Item) Result {
	res := Result{Item: it, Head: BranchName(it.Branch, it.Change.Commit.SHA)}
	if !it.Pending() {
		return e.retire(ctx, res, it.Reason)
	}
	bt, err := e.loadBranch(it.Branch)
	if err != nil {
		return failed(res, err)
	}
	b, err := e.build(it, bt)
	if err != nil {
		return failed(res, err)
	}
	res.Conflicts = b.conflicts
	if len(b.files) == 0 {
		res.Action, res.Reason = ActionCarried, "the branch already has these changes"
		return e.retire(ctx, res, res.Reason)
	}
	remote := e.repo.RemoteBranch(res.Head)
	commit := git.Hash("")
	if !remote.IsZero() {
		edited, upToDate, err := e.inspect(remote, bt.head, it.Change.Commit.SHA, b.files)
		if err != nil {
			return failed(res, fmt.Errorf("branch %s: %w", res.Head, err))
		}
		if edited {
			res.Outcome, res.Commit = OutcomeEditedByPerson, remote.String()
			return e.sayEdited(ctx, res)
		}
		if upToDate {
			commit = remote
		}
	}
	if commit.IsZero() {
		author := git.Signature{Name: e.spec.Commit.Name, Email: e.spec.Commit.Email, When: e.o.Now()}
		if commit, err = e.repo.WriteCommit(bt.head, b.files, b.message, author); err != nil {
			return failed(res, fmt.Errorf("branch %s: commit: %w", res.Head, err))
		}
		if !e.o.DryRun {
			if err := e.repo.Push(ctx, res.Head, commit, remote); err != nil {
				return failed(res, err)
			}
			res.Pushed = true
		}
	}
	res.Commit = commit.String()
	want := upgrade.PullRequest{
		Title: fmt.Sprintf("[%s] %s", it.Branch, e.subject(it)), Body: e.body(ctx, it, bt, b),
		Head: res.Head, Base: it.Branch, Draft: len(b.conflicts) > 0,
	}
	if e.o.DryRun {
		res.PullRequest, res.Outcome = want, OutcomeDryRun
		return res
	}
	pr, outcome, err := e.upsert(ctx, want)
	if err != nil {
		return failed(res, err)
	}
	res.PullRequest, res.Outcome = pr, outcome
	if res.Pushed && outcome == OutcomeUnchanged {
		res.Outcome = OutcomeUpdated
	}
	return res
}

func failed(res Result, err error) Result {
	res.Outcome, res.Err, res.Error = OutcomeFailed, err, err.Error()
	return res
}

func (e *Executor) subject(it Item) string {
	if u := it.Change.Upgrade; it.Action == ActionReplay {
		return upgrade.Title(u.Addon, it.From, u.To)
	}
	return it.Change.Commit.Subject()
}

// build makes the files of the backport commit: a replayed upgrade or a three-way merge.
func (e *Executor) build(it Item, bt *branchTree) (*built, error) {
	ours, err := readTree(bt.fsys)
	if err != nil {
		return nil, fmt.Errorf("branch %s: %w", bt.name, err)
	}
	sha := it.Change.Commit.SHA
	var b *built
	if it.Action == ActionReplay {
		b, err = e.buildReplay(it, bt)
	} else {
		b, err = e.buildCherryPick(it, ours)
	}
	if err != nil {
		return nil, err
	}
	for p, data := range b.files {
		if old, ok := ours[p]; ok && data != nil && bytes.Equal(old, data) {
			delete(b.files, p)
		}
	}
	tree := maps.Clone(ours)
	for p, data := range b.files {
		if data == nil {
			delete(tree, p)
		} else {
			tree[p] = data
		}
	}
	b.newFS = mapFS(tree)
	b.message += fmt.Sprintf("\n%s: %s\n", TrailerBackportOf, sha)
	return b, nil
}

func (e *Executor) buildReplay(it Item, bt *branchTree) (*built, error) {
	u := it.Change.Upgrade
	a := bt.cfg.Addons[u.Addon]
	if a == nil || a.Spec.Chart == nil {
		return nil, fmt.Errorf("branch %s: add-on %q has no chart", bt.name, u.Addon)
	}
	data, err := fs.ReadFile(bt.fsys, a.File)
	if err != nil {
		return nil, fmt.Errorf("branch %s: %w", bt.name, err)
	}
	edited, err := upgrade.SetChartVersion(a.File, data, u.To)
	if err != nil {
		return nil, fmt.Errorf("branch %s: %w", bt.name, err)
	}
	digest := e.digests[Key(u.Addon, u.To)]
	if digest == "" {
		return nil, fmt.Errorf("add-on %q: chart %s %s: its repository publishes no digest for the lock; run `addonsync upgrade pr` on the branch instead", u.Addon, a.Spec.Chart.Name, u.To)
	}
	lock, err := fs.ReadFile(bt.fsys, config.LockFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("branch %s: %w", bt.name, err)
	}
	chart := a.Spec.Chart
	newLock, err := upgrade.AddLockEntry(lock, config.LockedChart{Source: chart.Repository, Name: chart.Name, Version: u.To, Digest: digest})
	if err != nil {
		return nil, fmt.Errorf("branch %s: %s: %w", bt.name, config.LockFile, err)
	}
	msg := fmt.Sprintf("[%s] %s\n\nReplays the upgrade %s of main on %s: chart %s of add-on %s set from %s to %s in %s and %s.\n",
		bt.name, upgrade.Title(u.Addon, it.From, u.To), it.Change.Commit.Short(), bt.name, chart.Name, u.Addon, it.From, u.To, a.File, config.LockFile)
	return &built{files: map[string][]byte{a.File: edited, config.LockFile: newLock}, message: msg}, nil
}

func (e *Executor) buildCherryPick(it Item, ours diff3.Tree) (*built, error) {
	h := git.Hash(it.Change.Commit.SHA)
	baseFS, err := e.repo.ParentFS(h)
	if err != nil {
		return nil, err
	}
	theirsFS, err := e.repo.FS(h)
	if err != nil {
		return nil, err
	}
	base, err := readTree(baseFS)
	if err != nil {
		return nil, fmt.Errorf("parent of %s: %w", h.Short(), err)
	}
	theirs, err := readTree(theirsFS)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h.Short(), err)
	}
	r := diff3.MergeTrees(base, ours, theirs, diff3.TreeOptions{
		OursLabel: it.Branch, TheirsLabel: fmt.Sprintf("%s (%s)", it.Change.Commit.Short(), it.Change.Commit.Subject()),
	})
	files := map[string][]byte{}
	for p, data := range r.Tree {
		if old, ok := ours[p]; !ok || !bytes.Equal(old, data) {
			files[p] = data
		}
	}
	for p := range ours {
		if _, ok := r.Tree[p]; !ok {
			files[p] = nil
		}
	}
	msg := strings.TrimRight(it.Change.Commit.Message, "\n") + fmt.Sprintf("\n\n(cherry picked from commit %s)\n", it.Change.Commit.SHA)
	if len(r.Conflicts) > 0 {
		msg += "\nConflicts (markers committed, resolve them on this branch):\n"
		for _, c := range r.Conflicts {
			msg += fmt.Sprintf("\t%s (%s)\n", c.Path, c.Kind)
		}
	}
	return &built{files: files, message: msg, conflicts: r.Conflicts}, nil
}

// inspect looks at the commits of an existing backport branch on top of the release
// branch: edited when one was not made by addonsync for this change; upToDate when it is
// one commit on the branch's head whose files equal files.
func (e *Executor) inspect(remote, base git.Hash, sha string, files map[string][]byte) (edited, upToDate bool, err error) {
	commits, err := e.repo.Log(remote, base, 50)
	if err != nil {
		return false, false, err
	}
	for _, c := range commits {
		if c.Author.Email != e.spec.Commit.Email || !slices.Contains(CarriedBy(c.Message), sha) {
			return true, false, nil
		}
	}
	if len(commits) != 1 || len(commits[0].Parents) == 0 || commits[0].Parents[0] != base {
		return false, false, nil
	}
	fsys, err := e.repo.FS(remote)
	if err != nil {
		return false, false, err
	}
	for p, want := range files {
		got, err := fs.ReadFile(fsys, p)
		switch {
		case want == nil && errors.Is(err, fs.ErrNotExist):
		case err != nil || !bytes.Equal(got, want):
			return false, false, nil
		}
	}
	return false, true, nil
}

// readTree reads every file of fsys.
func readTree(fsys fs.FS) (diff3.Tree, error) {
	out := diff3.Tree{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		out[p] = data
		return err
	})
	return out, err
}

func mapFS(tree diff3.Tree) fs.FS {
	out := fstest.MapFS{}
	for p, data := range tree {
		out[p] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return out
}
