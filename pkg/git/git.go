package git

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// TokenUser is the basic-auth user sent with a GitHub token over HTTPS.
const TokenUser = "x-access-token"

// RemoteName is the remote whose branches count as the repository's branches (a fresh clone
// has only main as a local branch).
const RemoteName = "origin"

var (
	// ErrGitAuth is returned when the git server rejects the credentials (401 or 403).
	ErrGitAuth = errors.New("git server rejected the token")
	// ErrNotRepository is returned by Open for a directory in no git repository.
	ErrNotRepository = gogit.ErrRepositoryNotExists
	// ErrUnknownRevision is returned by Resolve for a name that is no branch, tag or commit.
	ErrUnknownRevision = errors.New("no such branch, tag or commit")
	// ErrOutsideRepo is matched (errors.Is) by every error about a path that resolves,
	// through a symlink or "..", outside the repository.
	ErrOutsideRepo = errors.New("outside the config repo")
)

// SymlinkError is a symlink that points outside the repository. The file it points to is
// never read.
type SymlinkError struct {
	// Target is where the symlink points (as written in a git tree, resolved on disk).
	Target string
}

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("symlink to %q leaves the config repo", e.Target)
}

// Is makes errors.Is(err, ErrOutsideRepo) true.
func (e *SymlinkError) Is(target error) bool { return target == ErrOutsideRepo }

// Hash is a commit's full hex SHA-1; the zero value "" means no commit.
type Hash string

// IsZero reports whether h names no commit.
func (h Hash) IsZero() bool { return h == "" }

// String returns the full hex SHA-1.
func (h Hash) String() string { return string(h) }

// Short returns the first 12 hex digits.
func (h Hash) Short() string {
	if len(h) > 12 {
		return string(h[:12])
	}
	return string(h)
}

func hashOf(p plumbing.Hash) Hash {
	if p.IsZero() {
		return ""
	}
	return Hash(p.String())
}

func (h Hash) plumbing() plumbing.Hash {
	if h == "" {
		return plumbing.ZeroHash
	}
	return plumbing.NewHash(string(h))
}

// Signature is a commit's author or committer.
type Signature struct {
	// Name and Email identify the person.
	Name, Email string
	// When is the time of the signature.
	When time.Time
}

// Commit is a commit's metadata.
type Commit struct {
	// Hash names the commit.
	Hash Hash
	// Parents are the parent commits, first parent first.
	Parents []Hash
	// Message is the full commit message.
	Message string
	// Author and Committer sign the commit.
	Author, Committer Signature
}

// Subject returns the first line of the message.
func (c Commit) Subject() string {
	s, _, _ := strings.Cut(c.Message, "\n")
	return strings.TrimSpace(s)
}

// Trailer returns the value of the last "key: value" line of the message, or "".
func (c Commit) Trailer(key string) string {
	return Trailer(c.Message, key)
}

// Trailer returns the value of the last "key: value" line of message, or "".
func Trailer(message, key string) string {
	var v string
	for _, line := range strings.Split(message, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			v = strings.TrimSpace(rest)
		}
	}
	return v
}

// Reader reads commits, branches and trees.
type Reader interface {
	// Resolve returns the commit a revision names (branch, tag, SHA, origin/<branch>).
	Resolve(rev string) (Hash, error)
	// Branches lists local branches and origin's, sorted, without duplicates.
	Branches() ([]string, error)
	// RemoteBranch returns origin's head of branch, or "" when it has no such branch.
	RemoteBranch(branch string) Hash
	// Commit reads one commit.
	Commit(h Hash) (Commit, error)
	// Log returns the commits on head's first-parent line that base lacks, newest first.
	Log(head, base Hash, limit int) ([]Commit, error)
	// FS serves the commit's tree.
	FS(commit Hash) (fs.FS, error)
	// ParentFS serves the tree of the commit's first parent (empty for a root commit).
	ParentFS(commit Hash) (fs.FS, error)
	// ChangedFiles returns the files the commit changed against its first parent: path →
	// new content, nil for a deleted file.
	ChangedFiles(commit Hash) (map[string][]byte, error)
}

// Writer writes commits without a work tree.
type Writer interface {
	// WriteCommit writes a commit on parent that sets files (path → content; nil deletes).
	WriteCommit(parent Hash, files map[string][]byte, message string, author Signature) (Hash, error)
}

// Remote exchanges branches with origin.
type Remote interface {
	// Fetch updates origin's branches.
	Fetch(ctx context.Context) error
	// Push sets origin's branch to commit: lease "" creates it (it must not exist), else
	// origin's branch must still be at lease.
	Push(ctx context.Context, branch string, commit, lease Hash) error
}

var (
	_ Reader = (*Repository)(nil)
	_ Writer = (*Repository)(nil)
	_ Remote = (*Repository)(nil)
)

// RemoteOptions locate a remote repository and how to authenticate to it.
type RemoteOptions struct {
	// URL is the HTTPS clone URL, without credentials.
	URL string
	// Token is sent as the basic-auth password (user TokenUser); empty for no auth.
	Token string
	// Dir is the local clone, kept between runs (created when missing). OpenRemote clones
	// into memory when it is empty.
	Dir string
}

func (o RemoteOptions) auth() transport.AuthMethod {
	if o.Token == "" {
		return nil
	}
	return &githttp.BasicAuth{Username: TokenUser, Password: o.Token}
}

// mapErr maps go-git's auth errors to ErrGitAuth; the token is never in go-git's messages.
func mapErr(err error) error {
	if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
		return fmt.Errorf("%w (%w): check the token's access to the repository", ErrGitAuth, err)
	}
	return err
}
