package upgrade

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/addonsync/addonsync/internal/testutil/githubfake"
)

func TestGitHubPullRequests(t *testing.T) {
	const token = "ghp_unitTOKEN"
	newPRs := func(t *testing.T, gh *githubfake.Server, opts GitHubOptions) *GitHubPullRequests {
		return NewGitHubPullRequests(gh.Client(t, token), "o", "r", opts)
	}
	want := PullRequest{Title: "demo: 1 -> 2", Body: "body", Head: "addonsync/upgrade/demo", Base: "main"}

	t.Run("creates, then reports a duplicate as ErrPullRequestExists", func(t *testing.T) {
		gh := githubfake.New(t, "o", "r", token)
		prs := newPRs(t, gh, DefaultGitHubOptions())
		got, err := prs.Create(context.Background(), want)
		if err != nil || got.Number != 1 || got.Head != want.Head || got.Base != "main" {
			t.Fatalf("Create() = %+v, %v", got, err)
		}
		if _, err := prs.Create(context.Background(), want); !errors.Is(err, ErrPullRequestExists) {
			t.Fatalf("second Create() error = %v, want ErrPullRequestExists", err)
		}
		open, err := prs.ListOpen(context.Background(), want.Head, "main")
		if err != nil || len(open) != 1 || open[0].Number != 1 {
			t.Fatalf("ListOpen() = %+v, %v", open, err)
		}
	})
	t.Run("401 is ErrTokenRejected and names no token", func(t *testing.T) {
		gh := githubfake.New(t, "o", "r", "another-token")
		_, err := newPRs(t, gh, DefaultGitHubOptions()).ListOpen(context.Background(), want.Head, "main")
		if !errors.Is(err, ErrTokenRejected) || strings.Contains(err.Error(), token) {
			t.Fatalf("ListOpen() error = %v", err)
		}
		if n := len(gh.Requests()); n != 1 {
			t.Errorf("requests = %d, want 1 (a 401 is not retried)", n)
		}
	})
	t.Run("a rate limit longer than MaxWait fails at once", func(t *testing.T) {
		gh := githubfake.New(t, "o", "r", token)
		gh.Inject("", "", githubfake.RateLimitHour)
		start := time.Now()
		_, err := newPRs(t, gh, GitHubOptions{MaxWait: time.Minute, Backoff: time.Millisecond, Attempts: 5}).ListOpen(context.Background(), want.Head, "main")
		if err == nil || !strings.Contains(err.Error(), "longer than the 1m0s allowed") {
			t.Fatalf("ListOpen() error = %v", err)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("waited %s", time.Since(start))
		}
	})
	t.Run("a wait past the context deadline fails at once", func(t *testing.T) {
		gh := githubfake.New(t, "o", "r", token)
		gh.Inject("", "", githubfake.RateLimitHour)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := newPRs(t, gh, GitHubOptions{MaxWait: 2 * time.Hour, Backoff: time.Millisecond, Attempts: 5}).ListOpen(ctx, want.Head, "main")
		if err == nil || !strings.Contains(err.Error(), "would pass the deadline") {
			t.Fatalf("ListOpen() error = %v", err)
		}
	})
	t.Run("5xx is retried up to Attempts", func(t *testing.T) {
		gh := githubfake.New(t, "o", "r", token)
		for range 3 {
			gh.Inject("", "", githubfake.ServerError)
		}
		_, err := newPRs(t, gh, GitHubOptions{Backoff: time.Millisecond, Attempts: 3}).ListOpen(context.Background(), want.Head, "main")
		if err == nil || !strings.Contains(err.Error(), "502") {
			t.Fatalf("ListOpen() error = %v, want the 502", err)
		}
		if n := len(gh.Requests()); n != 3 {
			t.Errorf("requests = %d, want 3", n)
		}
	})
}

func BenchmarkPlan(b *testing.B) {
	var current []Current
	avail := map[string][]Available{}
	for i := range 50 {
		name := "addon" + strconv.Itoa(i)
		current = append(current, Current{Addon: name, Version: "1.0.0"})
		for p := range 200 {
			avail[name] = append(avail[name], Available{Version: "1." + strconv.Itoa(p/20) + "." + strconv.Itoa(p%20), KubeVersion: ">=1.25.0-0"})
		}
	}
	branches := []Branch{{Name: "release-1.33", KubernetesVersion: "1.33"}, {Name: "release-1.34", KubernetesVersion: "1.34"}}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		Plan(current, avail, branches, now)
	}
}
