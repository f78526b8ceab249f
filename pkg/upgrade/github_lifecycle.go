package upgrade

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v92/github"
)

// Lifecycle closes pull requests addonsync no longer needs and talks on them;
// GitHubPullRequests implements it.
type Lifecycle interface {
	// Comments returns the bodies of the comments on pull request number, oldest first.
	Comments(ctx context.Context, number int) ([]string, error)
	// Comment adds a comment to pull request number.
	Comment(ctx context.Context, number int, body string) error
	// Close closes pull request number without merging it.
	Close(ctx context.Context, number int) error
	// DeleteBranch deletes branch on GitHub; a branch already gone is not an error.
	DeleteBranch(ctx context.Context, branch string) error
}

var _ Lifecycle = (*GitHubPullRequests)(nil)

// Comments implements Lifecycle.
func (g *GitHubPullRequests) Comments(ctx context.Context, number int) ([]string, error) {
	var out []string
	err := g.retry(ctx, fmt.Sprintf("list comments of pull request #%d", number), func() (*github.Response, error) {
		cs, resp, err := g.client.Issues.ListComments(ctx, g.owner, g.repo, number, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}})
		out = out[:0]
		for _, c := range cs {
			out = append(out, c.GetBody())
		}
		return resp, err
	})
	return out, err
}

// Comment implements Lifecycle.
func (g *GitHubPullRequests) Comment(ctx context.Context, number int, body string) error {
	return g.retry(ctx, fmt.Sprintf("comment on pull request #%d", number), func() (*github.Response, error) {
		_, resp, err := g.client.Issues.CreateComment(ctx, g.owner, g.repo, number, github.IssueCommentRequest{Body: body})
		return resp, err
	})
}

// Close implements Lifecycle.
func (g *GitHubPullRequests) Close(ctx context.Context, number int) error {
	closed := "closed"
	return g.retry(ctx, fmt.Sprintf("close pull request #%d", number), func() (*github.Response, error) {
		_, resp, err := g.client.PullRequests.Edit(ctx, g.owner, g.repo, number, &github.PullRequest{State: &closed})
		return resp, err
	})
}

// DeleteBranch implements Lifecycle.
func (g *GitHubPullRequests) DeleteBranch(ctx context.Context, branch string) error {
	err := g.retry(ctx, fmt.Sprintf("delete branch %s", branch), func() (*github.Response, error) {
		resp, err := g.client.Git.DeleteRef(ctx, g.owner, g.repo, "heads/"+branch)
		return resp, err
	})
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity && strings.Contains(er.Message, "Reference does not exist") {
		return nil
	}
	return err
}

// LifecyclePullRequests is PullRequests with Lifecycle.
type LifecyclePullRequests interface {
	PullRequests
	Lifecycle
}

// editedMarker marks the comment saying a person edited the bot branch, so it is made once.
const editedMarker = "<!-- addonsync:edited-by-person -->"

// ClosePullRequest closes the open pull request from head into base with a comment giving
// reason, and deletes head. closed is false when no such pull request is open.
func ClosePullRequest(ctx context.Context, gh LifecyclePullRequests, head, base, reason string) (PullRequest, bool, error) {
	open, err := gh.ListOpen(ctx, head, base)
	if err != nil || len(open) == 0 {
		return PullRequest{}, false, err
	}
	pr := open[0]
	msg := fmt.Sprintf("addonsync closes this pull request: %s. The branch `%s` is deleted.", reason, head)
	if err := gh.Comment(ctx, pr.Number, msg); err != nil {
		return pr, false, err
	}
	if err := gh.Close(ctx, pr.Number); err != nil {
		return pr, false, err
	}
	if err := gh.DeleteBranch(ctx, head); err != nil {
		return pr, true, err
	}
	return pr, true, nil
}

// SayEdited comments, once, on the open pull request from head into base that addonsync
// stopped updating it because someone else pushed to head.
func SayEdited(ctx context.Context, gh LifecyclePullRequests, head, base string) error {
	open, err := gh.ListOpen(ctx, head, base)
	if err != nil || len(open) == 0 {
		return err
	}
	comments, err := gh.Comments(ctx, open[0].Number)
	if err != nil {
		return err
	}
	for _, c := range comments {
		if strings.Contains(c, editedMarker) {
			return nil
		}
	}
	return gh.Comment(ctx, open[0].Number, fmt.Sprintf("%s\naddonsync no longer pushes to `%s`: it holds a commit addonsync did not make. "+
		"Merge or close this pull request yourself, or delete the branch to let addonsync open a fresh one.", editedMarker, head))
}
