package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// TokenUser is the basic-auth user sent with a GitHub token over HTTPS.
const TokenUser = "x-access-token"

// ErrGitAuth is returned when the git server rejects the credentials (401 or 403).
var ErrGitAuth = errors.New("git server rejected the token")

// MirrorOptions locate the config repo to mirror.
type MirrorOptions struct {
	// URL is the HTTPS clone URL, without credentials.
	URL string
	// Token is sent as the basic-auth password (user TokenUser); empty for no auth.
	Token string
	// Dir is the mirror, kept between runs (created when missing).
	Dir string
}

// Mirror creates or updates a mirror of the config repo in o.Dir: every branch of the
// remote becomes a local branch (deleted ones are pruned) and HEAD points at the remote's
// default branch, so config.OpenRef and --ref auto read it like any clone. The repository
// has a .git directory and a work tree that is never checked out (config.OpenRef finds
// repositories by their .git directory). It returns the default branch.
func Mirror(ctx context.Context, o MirrorOptions) (string, error) {
	r, err := git.PlainOpen(o.Dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err = os.MkdirAll(o.Dir, 0o755); err == nil {
			r, err = git.PlainInit(o.Dir, false)
		}
	}
	if err != nil {
		return "", fmt.Errorf("git mirror %s: %w", o.Dir, err)
	}
	_ = r.DeleteRemote("origin")
	remote, err := r.CreateRemote(&gitconfig.RemoteConfig{
		Name: "origin", URLs: []string{o.URL}, Fetch: []gitconfig.RefSpec{"+refs/heads/*:refs/heads/*"},
	})
	if err != nil {
		return "", fmt.Errorf("git mirror %s: %w", o.Dir, err)
	}
	var auth transport.AuthMethod
	if o.Token != "" {
		auth = &githttp.BasicAuth{Username: TokenUser, Password: o.Token}
	}
	err = r.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", Auth: auth, Force: true, Prune: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return "", fmt.Errorf("git fetch %s: %w", o.URL, gitErr(err))
	}
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return "", fmt.Errorf("git ls-remote %s: %w", o.URL, gitErr(err))
	}
	head := defaultBranch(refs)
	if head == "" {
		return "", fmt.Errorf("git %s: no branches: push the config repo's main branch first", o.URL)
	}
	if err := r.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(head))); err != nil {
		return "", fmt.Errorf("git mirror %s: set HEAD: %w", o.Dir, err)
	}
	return head, nil
}

// defaultBranch is the branch the remote's HEAD names; when the server does not say, main or
// master if HEAD's commit is theirs, else the first branch at HEAD's commit, else the first
// branch.
func defaultBranch(refs []*plumbing.Reference) string {
	branches := map[string]plumbing.Hash{}
	var first string
	var headHash plumbing.Hash
	for _, ref := range refs {
		switch {
		case ref.Name() == plumbing.HEAD && ref.Type() == plumbing.SymbolicReference && ref.Target().IsBranch():
			return ref.Target().Short()
		case ref.Name() == plumbing.HEAD:
			headHash = ref.Hash()
		case ref.Name().IsBranch():
			branches[ref.Name().Short()] = ref.Hash()
			if first == "" || ref.Name().Short() < first {
				first = ref.Name().Short()
			}
		}
	}
	for _, b := range []string{"main", "master"} {
		if h, ok := branches[b]; ok && (headHash.IsZero() || h == headHash) {
			return b
		}
	}
	var atHead []string
	for b, h := range branches {
		if !headHash.IsZero() && h == headHash {
			atHead = append(atHead, b)
		}
	}
	if len(atHead) > 0 {
		return slices.Min(atHead)
	}
	return first
}

// gitErr maps go-git's auth errors to ErrGitAuth; the token is never in go-git's messages.
func gitErr(err error) error {
	if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
		return fmt.Errorf("%w (%w): check the token's access to the repository", ErrGitAuth, err)
	}
	return err
}
