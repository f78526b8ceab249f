package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TokenUser is the basic-auth user sent with a GitHub token over HTTPS.
const TokenUser = "x-access-token"

// ErrGitAuth is returned when the git server rejects the credentials (401 or 403).
var ErrGitAuth = errors.New("git server rejected the token")

// GitRemote locates the config repo and how to authenticate to it.
type GitRemote struct {
	// URL is the HTTPS clone URL, without credentials.
	URL string
	// Token is sent as the basic-auth password (user TokenUser); empty for no auth.
	Token string
	// Dir is a directory for a bare clone kept between runs; empty clones into memory.
	Dir string
}

// gitRepo is a bare clone of the config repo with origin's branches under refs/remotes/origin.
type gitRepo struct {
	r      *git.Repository
	remote GitRemote
}

func (g GitRemote) auth() transport.AuthMethod {
	if g.Token == "" {
		return nil
	}
	return &githttp.BasicAuth{Username: TokenUser, Password: g.Token}
}

// openRepo opens (or creates) the bare clone and fetches every branch of origin.
func openRepo(ctx context.Context, remote GitRemote) (*gitRepo, error) {
	var r *git.Repository
	var err error
	if remote.Dir == "" {
		r, err = git.Init(memory.NewStorage(), nil)
	} else {
		r, err = git.PlainOpen(remote.Dir)
		if errors.Is(err, git.ErrRepositoryNotExists) {
			if err = os.MkdirAll(remote.Dir, 0o755); err == nil {
				r, err = git.PlainInit(remote.Dir, true)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("git clone %s: %w", displayDir(remote.Dir), err)
	}
	_ = r.DeleteRemote("origin")
	if _, err := r.CreateRemote(&gitconfig.RemoteConfig{
		Name: "origin", URLs: []string{remote.URL},
		Fetch: []gitconfig.RefSpec{"+refs/heads/*:refs/remotes/origin/*"},
	}); err != nil {
		return nil, fmt.Errorf("git clone %s: %w", displayDir(remote.Dir), err)
	}
	g := &gitRepo{r: r, remote: remote}
	return g, g.fetch(ctx)
}

func displayDir(dir string) string {
	if dir == "" {
		return "(memory)"
	}
	return dir
}

// fetch updates refs/remotes/origin/* from origin, pruning deleted branches.
func (g *gitRepo) fetch(ctx context.Context) error {
	err := g.r.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Auth: g.remote.auth(), Force: true, Prune: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("git fetch %s: %w", g.remote.URL, gitErr(err))
	}
	return nil
}

// gitErr maps go-git's auth errors to ErrGitAuth; the token is never in go-git's messages.
func gitErr(err error) error {
	if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
		return fmt.Errorf("%w (%w): check the token's access to the repository", ErrGitAuth, err)
	}
	return err
}

// remoteBranch returns origin's head of branch, or the zero hash when it does not exist.
func (g *gitRepo) remoteBranch(branch string) plumbing.Hash {
	ref, err := g.r.Reference(plumbing.NewRemoteReferenceName("origin", branch), true)
	if err != nil {
		return plumbing.ZeroHash
	}
	return ref.Hash()
}

// remoteBranches lists origin's branch names, sorted.
func (g *gitRepo) remoteBranches() ([]string, error) {
	iter, err := g.r.References()
	if err != nil {
		return nil, err
	}
	var names []string
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if n := ref.Name(); n.IsRemote() && strings.HasPrefix(n.String(), "refs/remotes/origin/") {
			names = append(names, strings.TrimPrefix(n.String(), "refs/remotes/origin/"))
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// treeFS returns the files of commit as an fs.FS.
func (g *gitRepo) treeFS(commit plumbing.Hash) (fs.FS, error) {
	c, err := g.r.CommitObject(commit)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	files, err := c.Files()
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	out := fstest.MapFS{}
	err = files.ForEach(func(f *object.File) error {
		if f.Mode == filemode.Submodule {
			return nil
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if f.Mode == filemode.Executable {
			mode = 0o755
		}
		out[f.Name] = &fstest.MapFile{Data: data, Mode: mode}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("commit %s: read tree: %w", commit, err)
	}
	return out, nil
}

// commitFiles writes a commit on parent that sets files (path → content) and returns it.
func (g *gitRepo) commitFiles(parent plumbing.Hash, files map[string][]byte, message string, author object.Signature) (plumbing.Hash, error) {
	pc, err := g.r.CommitObject(parent)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("commit %s: %w", parent, err)
	}
	tree := pc.TreeHash
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		blob, err := g.writeBlob(files[p])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if tree, err = g.setPath(tree, strings.Split(p, "/"), blob); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s: %w", p, err)
		}
	}
	c := &object.Commit{
		Author: author, Committer: author, Message: message,
		TreeHash: tree, ParentHashes: []plumbing.Hash{parent},
	}
	obj := g.r.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return g.r.Storer.SetEncodedObject(obj)
}

func (g *gitRepo) writeBlob(data []byte) (plumbing.Hash, error) {
	obj := g.r.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return g.r.Storer.SetEncodedObject(obj)
}

// setPath returns a tree like treeHash (zero for an empty tree) with the file at parts set
// to blob, writing the changed trees.
func (g *gitRepo) setPath(treeHash plumbing.Hash, parts []string, blob plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !treeHash.IsZero() {
		t, err := g.r.TreeObject(treeHash)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, t.Entries...)
	}
	name := parts[0]
	idx := -1
	for i, e := range entries {
		if e.Name == name {
			idx = i
		}
	}
	entry := object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: blob}
	if len(parts) > 1 {
		sub := plumbing.ZeroHash
		if idx >= 0 && entries[idx].Mode == filemode.Dir {
			sub = entries[idx].Hash
		}
		h, err := g.setPath(sub, parts[1:], blob)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entry = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	} else if idx >= 0 && entries[idx].Mode == filemode.Executable {
		entry.Mode = filemode.Executable
	}
	if idx >= 0 {
		entries[idx] = entry
	} else {
		entries = append(entries, entry)
	}
	sort.Slice(entries, func(i, j int) bool { return treeSortKey(entries[i]) < treeSortKey(entries[j]) })
	obj := g.r.Storer.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return g.r.Storer.SetEncodedObject(obj)
}

// treeSortKey orders tree entries as git does: directories sort as if named "name/".
func treeSortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// branchCommits returns the commits on head that are not on base, newest first (at most 100).
func (g *gitRepo) branchCommits(head, base plumbing.Hash) ([]*object.Commit, error) {
	baseCommit, err := g.r.CommitObject(base)
	if err != nil {
		return nil, err
	}
	var out []*object.Commit
	c, err := g.r.CommitObject(head)
	for err == nil && len(out) < 100 {
		if c.Hash == base {
			break
		}
		if anc, aerr := c.IsAncestor(baseCommit); aerr == nil && anc {
			break
		}
		out = append(out, c)
		if c.NumParents() == 0 {
			break
		}
		c, err = c.Parent(0)
	}
	return out, err
}

// push sets origin's branch to commit. With old zero the branch must not exist yet;
// otherwise origin's branch must still be old (a lease), and is replaced.
func (g *gitRepo) push(ctx context.Context, branch string, commit, old plumbing.Hash) error {
	local := plumbing.NewBranchReferenceName(branch)
	if err := g.r.Storer.SetReference(plumbing.NewHashReference(local, commit)); err != nil {
		return err
	}
	spec := gitconfig.RefSpec(local.String() + ":" + local.String())
	opts := &git.PushOptions{RemoteName: "origin", Auth: g.remote.auth(), RefSpecs: []gitconfig.RefSpec{spec}}
	if !old.IsZero() {
		opts.RefSpecs = []gitconfig.RefSpec{"+" + spec}
		opts.ForceWithLease = &git.ForceWithLease{RefName: local, Hash: old}
	}
	err := g.r.PushContext(ctx, opts)
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("git push %s to %s: %w", branch, g.remote.URL, gitErr(err))
	}
	return nil
}

// signature is the commit author at now.
func signature(name, email string, now time.Time) object.Signature {
	return object.Signature{Name: name, Email: email, When: now}
}

// trailer returns the value of the last "key: value" line of message, or "".
func trailer(message, key string) string {
	var v string
	for _, line := range strings.Split(message, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			v = strings.TrimSpace(rest)
		}
	}
	return v
}
