package upgrade

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v92/github"
)

// PullRequest is the part of a GitHub pull request the executor reads and writes.
type PullRequest struct {
	// Number is the pull request number; 0 for a new one.
	Number int
	// Title of the pull request.
	Title string
	// Body is the Markdown description.
	Body string
	// Head is the branch with the changes.
	Head string
	// Base is the branch it merges into.
	Base string
	// Labels are the label names.
	Labels []string
	// URL is the pull request's web page.
	URL string
	// Draft is set for a draft pull request (a backport with conflicts).
	Draft bool
}

// PullRequests is what the executor needs from GitHub; GitHubPullRequests implements it.
type PullRequests interface {
	// ListOpen returns the open pull requests from head into base.
	ListOpen(ctx context.Context, head, base string) ([]PullRequest, error)
	// Create opens a pull request; it returns ErrPullRequestExists when one is already open
	// for the head branch.
	Create(ctx context.Context, pr PullRequest) (PullRequest, error)
	// Edit sets the title and body of pull request number.
	Edit(ctx context.Context, number int, title, body string) (PullRequest, error)
	// AddLabels adds labels to pull request number.
	AddLabels(ctx context.Context, number int, labels []string) error
}

// ErrPullRequestExists is returned by Create when GitHub answers 422 "A pull request
// already exists".
var ErrPullRequestExists = errors.New("a pull request already exists for the branch")

// ErrTokenRejected is returned when GitHub answers 401: the token is wrong, expired or revoked.
var ErrTokenRejected = errors.New("GitHub token rejected (401)")

// GitHubOptions tunes GitHubPullRequests.
type GitHubOptions struct {
	// MaxWait bounds a single wait for a rate limit reset or Retry-After; a longer wait
	// fails at once instead of sleeping (the context deadline bounds the whole call).
	MaxWait time.Duration
	// Backoff is the first wait after a 5xx; it doubles per attempt.
	Backoff time.Duration
	// Attempts bounds the tries of one call (5xx and rate limits).
	Attempts int
}

// DefaultGitHubOptions returns the options used by the CLI.
func DefaultGitHubOptions() GitHubOptions {
	return GitHubOptions{MaxWait: 15 * time.Minute, Backoff: time.Second, Attempts: 6}
}

// GitHubPullRequests implements PullRequests with go-github, retrying 5xx and rate limits.
type GitHubPullRequests struct {
	client      *github.Client
	owner, repo string
	opts        GitHubOptions
}

// NewGitHubPullRequests returns PullRequests for owner/repo through client.
func NewGitHubPullRequests(client *github.Client, owner, repo string, opts GitHubOptions) *GitHubPullRequests {
	if opts.Attempts < 1 {
		opts.Attempts = 1
	}
	return &GitHubPullRequests{client: client, owner: owner, repo: repo, opts: opts}
}

// NewGitHubClient returns a go-github client for token at baseURL ("" for api.github.com).
func NewGitHubClient(baseURL, token string) (*github.Client, error) {
	opts := []github.ClientOptionsFunc{github.WithAuthToken(token), github.WithTimeout(time.Minute)}
	if baseURL != "" && baseURL != "https://api.github.com/" {
		opts = append(opts, github.WithEnterpriseURLs(baseURL, baseURL))
	}
	c, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github: client for %s: %w", baseURL, err)
	}
	return c, nil
}

// ListOpen implements PullRequests.
func (g *GitHubPullRequests) ListOpen(ctx context.Context, head, base string) ([]PullRequest, error) {
	var out []PullRequest
	err := g.retry(ctx, "list pull requests", func() (*github.Response, error) {
		prs, resp, err := g.client.PullRequests.List(ctx, g.owner, g.repo, &github.PullRequestListOptions{
			State: "open", Head: g.owner + ":" + head, Base: base, ListOptions: github.ListOptions{PerPage: 100},
		})
		out = out[:0]
		for _, p := range prs {
			out = append(out, fromGitHub(p))
		}
		return resp, err
	})
	return out, err
}

// Create implements PullRequests.
func (g *GitHubPullRequests) Create(ctx context.Context, pr PullRequest) (PullRequest, error) {
	var out PullRequest
	err := g.retry(ctx, "create pull request", func() (*github.Response, error) {
		p, resp, err := g.client.PullRequests.Create(ctx, g.owner, g.repo, github.CreatePullRequest{
			Title: &pr.Title, Head: pr.Head, Base: pr.Base, Body: &pr.Body, Draft: &pr.Draft,
		})
		if err == nil {
			out = fromGitHub(p)
		}
		return resp, err
	})
	if isAlreadyExists(err) {
		return PullRequest{}, fmt.Errorf("pull request %s -> %s: %w", pr.Head, pr.Base, ErrPullRequestExists)
	}
	return out, err
}

// Edit implements PullRequests.
func (g *GitHubPullRequests) Edit(ctx context.Context, number int, title, body string) (PullRequest, error) {
	var out PullRequest
	err := g.retry(ctx, fmt.Sprintf("edit pull request #%d", number), func() (*github.Response, error) {
		p, resp, err := g.client.PullRequests.Edit(ctx, g.owner, g.repo, number, &github.PullRequest{Title: &title, Body: &body})
		if err == nil {
			out = fromGitHub(p)
		}
		return resp, err
	})
	return out, err
}

// AddLabels implements PullRequests.
func (g *GitHubPullRequests) AddLabels(ctx context.Context, number int, labels []string) error {
	return g.retry(ctx, fmt.Sprintf("label pull request #%d", number), func() (*github.Response, error) {
		_, resp, err := g.client.Issues.AddLabelsToIssue(ctx, g.owner, g.repo, number, labels)
		return resp, err
	})
}

func fromGitHub(p *github.PullRequest) PullRequest {
	out := PullRequest{
		Number: p.GetNumber(), Title: p.GetTitle(), Body: p.GetBody(),
		Head: p.GetHead().GetRef(), Base: p.GetBase().GetRef(), URL: p.GetHTMLURL(), Draft: p.GetDraft(),
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// retry runs call until it succeeds, fails for good, or ctx ends; it waits out rate limits
// (until X-RateLimit-Reset or Retry-After) and backs off on 5xx.
func (g *GitHubPullRequests) retry(ctx context.Context, what string, call func() (*github.Response, error)) error {
	backoff := g.opts.Backoff
	for attempt := 1; ; attempt++ {
		resp, err := call()
		if err == nil {
			return nil
		}
		wait, retryable := retryAfter(resp, err, backoff)
		if !retryable || attempt >= g.opts.Attempts {
			return fmt.Errorf("github %s/%s: %s: %w", g.owner, g.repo, what, classify(resp, err))
		}
		if g.opts.MaxWait > 0 && wait > g.opts.MaxWait {
			return fmt.Errorf("github %s/%s: %s: rate limited for %s, longer than the %s allowed: %w", g.owner, g.repo, what, wait.Round(time.Second), g.opts.MaxWait, err)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("github %s/%s: %s: retry in %s would pass the deadline: %w", g.owner, g.repo, what, wait.Round(time.Second), err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("github %s/%s: %s: %w", g.owner, g.repo, what, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
}

// retryAfter says how long to wait before retrying err, and whether to retry at all.
func retryAfter(resp *github.Response, err error, backoff time.Duration) (time.Duration, bool) {
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		return max(time.Until(rl.Rate.Reset.Time), 0) + time.Second/2, true
	case errors.As(err, &abuse):
		if abuse.RetryAfter != nil {
			return *abuse.RetryAfter, true
		}
		return time.Minute, true
	case resp != nil && resp.StatusCode >= 500:
		return backoff, true
	case resp == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return backoff, true // connection reset, timeout: transient
	}
	return 0, false
}

// classify turns a 401 into ErrTokenRejected; other errors pass through.
func classify(resp *github.Response, err error) error {
	if resp != nil && resp.StatusCode == http.StatusUnauthorized {
		return ErrTokenRejected
	}
	return err
}

func isAlreadyExists(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range er.Errors {
		if strings.Contains(e.Message, "already exists") {
			return true
		}
	}
	return strings.Contains(er.Message, "already exists")
}
