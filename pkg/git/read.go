package git

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Resolve returns the commit rev names: a branch, a tag, a commit SHA or any revision
// git-rev-parse accepts; a branch that exists only as origin/<rev> is found too. A name
// that is none of these gives ErrUnknownRevision.
func (g *Repository) Resolve(rev string) (Hash, error) {
	h, err := g.r.ResolveRevision(plumbing.Revision(rev))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		if h := g.RemoteBranch(rev); !h.IsZero() {
			return h, nil
		}
		return "", ErrUnknownRevision
	}
	if err != nil {
		return "", err
	}
	return hashOf(*h), nil
}

// RemoteBranch returns origin's head of branch (refs/remotes/origin/<branch>), or "" when
// origin has no such branch.
func (g *Repository) RemoteBranch(branch string) Hash {
	ref, err := g.r.Reference(plumbing.NewRemoteReferenceName(RemoteName, branch), true)
	if err != nil {
		return ""
	}
	return hashOf(ref.Hash())
}

// HasBranch reports whether branch exists as a local branch or as origin/<branch>.
func (g *Repository) HasBranch(branch string) (bool, error) {
	for _, name := range []plumbing.ReferenceName{
		plumbing.NewBranchReferenceName(branch),
		plumbing.NewRemoteReferenceName(RemoteName, branch),
	} {
		_, err := g.r.Reference(name, false)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, plumbing.ErrReferenceNotFound) {
			return false, fmt.Errorf("%s: reference %s: %w", displayDir(g.dir), name, err)
		}
	}
	return false, nil
}

// Branches lists the local branches and origin's remote-tracking branches by name, sorted,
// each once.
func (g *Repository) Branches() ([]string, error) {
	iter, err := g.r.References()
	if err != nil {
		return nil, fmt.Errorf("%s: list branches: %w", displayDir(g.dir), err)
	}
	var names []string
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		n := ref.Name()
		switch {
		case n.IsBranch():
			names = append(names, n.Short())
		case n.IsRemote() && strings.HasPrefix(n.String(), "refs/remotes/"+RemoteName+"/"):
			if b := strings.TrimPrefix(n.String(), "refs/remotes/"+RemoteName+"/"); b != "HEAD" {
				names = append(names, b)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: list branches: %w", displayDir(g.dir), err)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Commit reads the commit h.
func (g *Repository) Commit(h Hash) (Commit, error) {
	c, err := g.r.CommitObject(h.plumbing())
	if err != nil {
		return Commit{}, fmt.Errorf("commit %s: %w", h, err)
	}
	return commitOf(c), nil
}

func commitOf(c *object.Commit) Commit {
	out := Commit{
		Hash: hashOf(c.Hash), Message: c.Message,
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
	}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, hashOf(p))
	}
	return out
}

// Log returns the commits on head's first-parent line down to (excluding) the first one
// that is base or an ancestor of base, newest first, at most limit of them (limit <= 0:
// 100). With base "" it walks to the root commit.
func (g *Repository) Log(head, base Hash, limit int) ([]Commit, error) {
	if limit <= 0 {
		limit = 100
	}
	var baseCommit *object.Commit
	if !base.IsZero() {
		var err error
		if baseCommit, err = g.r.CommitObject(base.plumbing()); err != nil {
			return nil, fmt.Errorf("commit %s: %w", base, err)
		}
	}
	var out []Commit
	c, err := g.r.CommitObject(head.plumbing())
	for err == nil && len(out) < limit {
		if baseCommit != nil {
			if c.Hash == baseCommit.Hash {
				break
			}
			if anc, aerr := c.IsAncestor(baseCommit); aerr == nil && anc {
				break
			}
		}
		out = append(out, commitOf(c))
		if c.NumParents() == 0 {
			break
		}
		c, err = c.Parent(0)
	}
	if err != nil {
		return nil, fmt.Errorf("log %s..%s: %w", base.Short(), head.Short(), err)
	}
	return out, nil
}

// FS serves the tree of commit as a read-only file system (see the package doc).
func (g *Repository) FS(commit Hash) (fs.FS, error) {
	c, tree, err := g.commitTree(commit)
	if err != nil {
		return nil, err
	}
	return NewTreeFS(g.r.Storer, tree, c.Committer.When), nil
}

// commitTree reads commit and its tree.
func (g *Repository) commitTree(commit Hash) (*object.Commit, *object.Tree, error) {
	c, err := g.r.CommitObject(commit.plumbing())
	if err != nil {
		return nil, nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("tree of commit %s: %w", commit, err)
	}
	return c, tree, nil
}

// ParentFS serves the tree of commit's first parent; a root commit's parent tree is empty.
func (g *Repository) ParentFS(commit Hash) (fs.FS, error) {
	c, err := g.r.CommitObject(commit.plumbing())
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	if c.NumParents() == 0 {
		return NewTreeFS(g.r.Storer, &object.Tree{}, c.Committer.When), nil
	}
	return g.FS(hashOf(c.ParentHashes[0]))
}

// ChangedFiles returns the files commit changed against its first parent (all its files for
// a root commit): path → new content, nil for a deleted file. A symlink's content is its
// target; submodules are left out.
func (g *Repository) ChangedFiles(commit Hash) (map[string][]byte, error) {
	c, tree, err := g.commitTree(commit)
	if err != nil {
		return nil, err
	}
	parent := &object.Tree{}
	if c.NumParents() > 0 {
		p, err := c.Parent(0)
		if err == nil {
			parent, err = p.Tree()
		}
		if err != nil {
			return nil, fmt.Errorf("parent of commit %s: %w", commit, err)
		}
	}
	changes, err := object.DiffTree(parent, tree)
	if err != nil {
		return nil, fmt.Errorf("commit %s: diff with parent: %w", commit, err)
	}
	out := map[string][]byte{}
	for _, ch := range changes {
		from, to := ch.From, ch.To
		if from.Name != "" && from.TreeEntry.Mode != filemode.Submodule && from.Name != to.Name {
			out[from.Name] = nil
		}
		if to.Name != "" && to.TreeEntry.Mode != filemode.Submodule {
			data, err := g.blob(to.TreeEntry.Hash)
			if err != nil {
				return nil, fmt.Errorf("commit %s: %s: %w", commit, to.Name, err)
			}
			out[to.Name] = data
		}
	}
	return out, nil
}

func (g *Repository) blob(h plumbing.Hash) ([]byte, error) {
	b, err := g.r.BlobObject(h)
	if err != nil {
		return nil, err
	}
	s, err := object.NewFile("", filemode.Regular, b).Contents()
	return []byte(s), err
}
