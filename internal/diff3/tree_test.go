package diff3

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gitRepo is a scratch repository driven by the git CLI.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	g := &gitRepo{t: t, dir: t.TempDir()}
	g.run("init", "-q", "-b", "main")
	return g
}

func (g *gitRepo) git(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{
		"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "core.autocrlf=false",
		"-c", "commit.gpgsign=false", "-c", "merge.conflictStyle=merge",
	}, args...)...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (g *gitRepo) run(args ...string) string {
	g.t.Helper()
	out, err := g.git(args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// write replaces the work tree with tree and commits it.
func (g *gitRepo) commit(tree Tree, msg string) {
	g.t.Helper()
	g.run("rm", "-r", "-q", "--ignore-unmatch", ".")
	for p, data := range tree {
		full := filepath.Join(g.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
	g.run("add", "-A")
	g.run("commit", "-q", "--allow-empty", "-m", msg)
}

// workTree reads every file outside .git.
func (g *gitRepo) workTree() Tree {
	g.t.Helper()
	out := Tree{}
	err := filepath.WalkDir(g.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(g.dir, p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		g.t.Fatal(err)
	}
	return out
}

// gitCherryPick commits base, then theirs on top of it and ours on top of it, and
// cherry-picks theirs onto ours. It returns the work tree, the conflicted paths and
// the label git gives the picked commit.
func gitCherryPick(t *testing.T, base, ours, theirs Tree) (Tree, []string, string) {
	g := newGitRepo(t)
	g.commit(base, "base")
	g.run("checkout", "-q", "-b", "topic")
	g.commit(theirs, "change")
	label := g.run("rev-parse", "--short", "topic") + " (change)"
	g.run("checkout", "-q", "-B", "release", "main")
	g.commit(ours, "release")
	out, err := g.git("cherry-pick", "--keep-redundant-commits", "topic")
	conflicted := strings.Fields(g.run("diff", "--name-only", "--diff-filter=U"))
	if err == nil && len(conflicted) > 0 {
		t.Fatalf("git cherry-pick succeeded with conflicts %v", conflicted)
	}
	if err != nil && len(conflicted) == 0 && !strings.Contains(out, "CONFLICT") {
		t.Fatalf("git cherry-pick: %v\n%s", err, out)
	}
	return g.workTree(), conflicted, label
}

func conflictPaths(r TreeResult) []string {
	seen := map[string]bool{}
	for _, c := range r.Conflicts {
		seen[c.Path] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// checkTreeAgainstGit asserts MergeTrees conflicts on the paths git cherry-pick does,
// and leaves the same work tree.
func checkTreeAgainstGit(t *testing.T, name string, base, ours, theirs Tree) {
	t.Helper()
	wantTree, wantConflicts, label := gitCherryPick(t, base, ours, theirs)
	got := MergeTrees(base, ours, theirs, TreeOptions{OursLabel: "HEAD", TheirsLabel: label})
	if diff := cmp.Diff(wantConflicts, conflictPaths(got), cmpEmpty); diff != "" {
		t.Errorf("%s: conflicting paths differ from git cherry-pick (-git +got):\n%s\nconflicts: %+v\n%s", name, diff, got.Conflicts, describe(base, ours, theirs))
		return
	}
	if diff := cmp.Diff(stringTree(wantTree), stringTree(got.Tree)); diff != "" {
		t.Errorf("%s: result tree differs from git cherry-pick (-git +got):\n%s\n%s", name, diff, describe(base, ours, theirs))
	}
}

var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func stringTree(t Tree) map[string]string {
	out := map[string]string{}
	for p, d := range t {
		out[p] = string(d)
	}
	return out
}

func describe(trees ...Tree) string {
	var b strings.Builder
	for i, t := range trees {
		fmt.Fprintf(&b, "--- %s\n", []string{"base", "ours", "theirs"}[i])
		for _, p := range slices.Sorted(maps.Keys(t)) {
			fmt.Fprintf(&b, "%s:\n%s\n", p, t[p])
		}
	}
	return b.String()
}

func TestMergeTreesHandCases(t *testing.T) {
	addon := lines("apiVersion: addonsync.io/v1alpha1", "kind: Addon", "spec:", "  chart:", "    name: ingress-nginx",
		"    version: 4.14.5", "    repository: https://kubernetes.github.io/ingress-nginx", "  namespace: ingress-nginx")
	bumped := bytes.Replace(addon, []byte("4.14.5"), []byte("4.15.1"), 1)
	pinned := bytes.Replace(addon, []byte("4.14.5"), []byte("4.12.0"), 1)
	localNS := bytes.Replace(addon, []byte("  namespace: ingress-nginx"), []byte("  namespace: ingress"), 1)
	values := lines("controller:", "  replicaCount: 2")
	cases := []struct {
		name               string
		base, ours, theirs Tree
		wantKinds          []ConflictKind
	}{
		{
			"change merges beside a local change",
			Tree{"a.yaml": addon},
			Tree{"a.yaml": localNS},
			Tree{"a.yaml": bumped},
			nil,
		},
		{
			"pinned differently conflicts",
			Tree{"a.yaml": addon},
			Tree{"a.yaml": pinned},
			Tree{"a.yaml": bumped},
			[]ConflictKind{KindContent},
		},
		{
			"addition",
			Tree{"a.yaml": addon},
			Tree{"a.yaml": addon},
			Tree{"a.yaml": addon, "values.yaml": values},
			nil,
		},
		{
			"deletion",
			Tree{"a.yaml": addon, "values.yaml": values},
			Tree{"a.yaml": localNS, "values.yaml": values},
			Tree{"a.yaml": addon},
			nil,
		},
		{
			"modify/delete",
			Tree{"a.yaml": addon, "values.yaml": values},
			Tree{"a.yaml": addon},
			Tree{"a.yaml": addon, "values.yaml": lines("controller: {}")},
			[]ConflictKind{KindModifyDelete},
		},
		{
			"delete/modify",
			Tree{"a.yaml": addon, "values.yaml": values},
			Tree{"a.yaml": addon, "values.yaml": lines("x: 1")},
			Tree{"a.yaml": addon},
			[]ConflictKind{KindModifyDelete},
		},
		{
			"rename on ours, edit on theirs",
			Tree{"a.yaml": addon},
			Tree{"addon.yaml": addon},
			Tree{"a.yaml": bumped},
			nil,
		},
		{
			"rename on theirs, edit on ours",
			Tree{"a.yaml": addon},
			Tree{"a.yaml": localNS},
			Tree{"addon.yaml": addon},
			nil,
		},
		{
			"rename on theirs, conflicting edit on ours",
			Tree{"a.yaml": addon, "b.yaml": values},
			Tree{"a.yaml": pinned, "b.yaml": values},
			Tree{"addon.yaml": bumped, "b.yaml": values},
			[]ConflictKind{KindContent},
		},
		{
			"rename with an edit on theirs, edit on ours",
			Tree{"a.yaml": addon, "b.yaml": values},
			Tree{"a.yaml": localNS, "b.yaml": values},
			Tree{"addon.yaml": bumped, "b.yaml": values},
			nil,
		},
		{
			"rename/delete",
			Tree{"a.yaml": addon, "b.yaml": values},
			Tree{"b.yaml": values},
			Tree{"addon.yaml": addon, "b.yaml": values},
			[]ConflictKind{KindRenameDelete},
		},
		{"add/add same", Tree{}, Tree{"a.yaml": addon}, Tree{"a.yaml": addon}, nil},
		{"add/add different", Tree{}, Tree{"a.yaml": addon}, Tree{"a.yaml": bumped}, []ConflictKind{KindAddAdd}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MergeTrees(c.base, c.ours, c.theirs, TreeOptions{})
			var kinds []ConflictKind
			for _, fc := range got.Conflicts {
				kinds = append(kinds, fc.Kind)
			}
			if diff := cmp.Diff(c.wantKinds, kinds); diff != "" {
				t.Errorf("conflict kinds (-want +got):\n%s\n%+v", diff, got.Conflicts)
			}
			checkTreeAgainstGit(t, c.name, c.base, c.ours, c.theirs)
		})
	}
	t.Run("the nearby local change is kept", func(t *testing.T) {
		got := MergeTrees(Tree{"a.yaml": addon}, Tree{"a.yaml": localNS}, Tree{"a.yaml": bumped}, TreeOptions{})
		want := bytes.Replace(localNS, []byte("4.14.5"), []byte("4.15.1"), 1)
		if diff := cmp.Diff(string(want), string(got.Tree["a.yaml"])); diff != "" {
			t.Errorf("merged a.yaml (-want +got):\n%s", diff)
		}
	})
}

// uniqueFile makes a file of lines found nowhere else, so git sees no similarity rename.
func uniqueFile(r *rand.Rand, tag string) []byte {
	var ls []string
	for i := range 2 + r.IntN(4) {
		ls = append(ls, fmt.Sprintf("%s-%d: %d", tag, i, r.Int64()))
	}
	return lines(ls...)
}

var treePaths = []string{
	"addonsync.yaml", "addons/ingress-nginx/addon.yaml", "addons/ingress-nginx/values.yaml",
	"addons/metallb/addon.yaml", "clusters/prod/cluster.yaml", "clusters/prod/values/metallb.yaml",
}

func randTree(r *rand.Rand) Tree {
	t := Tree{}
	for _, p := range treePaths {
		if r.IntN(4) > 0 {
			t[p] = append(uniqueFile(r, "id"), render(r, randFile(r))...)
		}
	}
	return t
}

// mutateTree changes a tree as a commit does: edits, deletions, exact renames, additions.
// addTag names the added files; sharedAdd (if set) is added on both sides.
func mutateTree(r *rand.Rand, base Tree, renames map[string]string, tag string) Tree {
	out := Tree{}
	for _, p := range slices.Sorted(maps.Keys(base)) {
		switch n := r.IntN(20); {
		case n < 9:
			out[p] = base[p]
		case n < 16:
			ls := strings.Split(strings.TrimSuffix(string(base[p]), "\n"), "\n")
			out[p] = render(r, mutate(r, ls))
		case n < 17:
			// deleted
		case n < 18 && strings.Count(string(base[p]), "\n") >= 8:
			// renamed with one line changed: a similarity rename for git
			ls := strings.Split(strings.TrimSuffix(string(base[p]), "\n"), "\n")
			ls[len(ls)/2] = fmt.Sprintf("  changed-%s: %d", tag, r.IntN(100))
			renames[p] = strings.TrimSuffix(p, ".yaml") + "-moved.yaml"
			out[renames[p]] = lines(ls...)
		case n < 18:
			out[p] = base[p]
		default:
			to := strings.TrimSuffix(p, ".yaml") + "-moved.yaml"
			renames[p] = to
			out[to] = base[p]
		}
	}
	if r.IntN(4) == 0 {
		out[fmt.Sprintf("addons/new-%s/addon.yaml", tag)] = uniqueFile(r, tag)
	}
	return out
}

func TestMergeTreesMatchesGitCherryPickOnGeneratedTrees(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 2026))
	const cases = 80
	var clean, conflicted int
	for i := range cases {
		base := randTree(r)
		ours := mutateTree(r, base, map[string]string{}, "ours")
		theirs := mutateTree(r, base, map[string]string{}, "theirs")
		if r.IntN(6) == 0 { // both add the same path
			ours["addons/shared/addon.yaml"] = uniqueFile(r, "shared")
			theirs["addons/shared/addon.yaml"] = append(bytes.Clone(ours["addons/shared/addon.yaml"]), []byte("extra: 1\n")[:r.IntN(2)*9]...)
		}
		name := fmt.Sprintf("case %d", i)
		checkTreeAgainstGit(t, name, base, ours, theirs)
		if t.Failed() {
			t.Fatalf("stopping at the first difference (%s)", name)
		}
		if MergeTrees(base, ours, theirs, TreeOptions{}).Clean() {
			clean++
		} else {
			conflicted++
		}
	}
	if clean < cases/5 || conflicted < cases/5 {
		t.Fatalf("generator gave %d clean and %d conflicting cherry-picks of %d; want at least %d of each", clean, conflicted, cases, cases/5)
	}
	t.Logf("%d clean, %d conflicting cherry-picks identical to git", clean, conflicted)
}
