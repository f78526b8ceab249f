package githubfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v92/github"
)

// Fault is an error the server answers with instead of handling a request.
type Fault string

// Faults that can be injected.
const (
	// RateLimit answers 403 with X-RateLimit-Remaining: 0 and a reset one second ahead.
	RateLimit Fault = "rate-limit"
	// RateLimitHour answers 403 with X-RateLimit-Remaining: 0 and a reset an hour ahead.
	RateLimitHour Fault = "rate-limit-hour"
	// SecondaryRateLimit answers 429 with Retry-After: 1.
	SecondaryRateLimit Fault = "secondary-rate-limit"
	// ServerError answers 502 Bad Gateway.
	ServerError Fault = "server-error"
	// BadCredentials answers 401 Bad credentials.
	BadCredentials Fault = "bad-credentials"
	// StaleList answers a list with no items, as GitHub's replicas do for a moment after a
	// pull request is opened.
	StaleList Fault = "stale-list"
)

// Request is one request the server received.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path without the /api/v3 prefix.
	Path string
	// Query is the raw query.
	Query string
	// Body is the request body.
	Body string
	// Authorization is the Authorization header.
	Authorization string
}

// PR is a pull request as the fake stores it.
type PR struct {
	Number int
	Title  string
	Body   string
	Head   string
	Base   string
	State  string
	Draft  bool
	Labels []string
	// Merged is set by Merge.
	Merged bool
	// Comments are the bodies of the comments, oldest first.
	Comments []string
}

// Server is a fake GitHub API for one repository owner/repo.
type Server struct {
	// Owner and Repo name the one repository served.
	Owner, Repo string

	srv   *httptest.Server
	token string

	// DeleteRef, when set, is called for DELETE /repos/o/r/git/refs/heads/<branch> (to
	// delete the branch on the git server); an error answers 422 "Reference does not exist".
	DeleteRef func(branch string) error

	mu       sync.Mutex
	deleted  []string
	prs      []*PR
	faults   []fault
	requests []Request
}

type fault struct {
	method, path string // path prefix; empty matches any
	fault        Fault
}

// New starts a fake GitHub for owner/repo accepting "Bearer <token>" or "token <token>".
func New(t testing.TB, owner, repo, token string) *Server {
	t.Helper()
	s := &Server{Owner: owner, Repo: repo, token: token}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API base URL, with a trailing slash.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client returns a go-github client for the server authenticating with token.
func (s *Server) Client(t testing.TB, token string) *github.Client {
	t.Helper()
	base := s.URL()
	c, err := github.NewClient(github.WithAuthToken(token), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatalf("githubfake: client: %v", err)
	}
	return c
}

// Inject makes the next request with method whose path starts with pathPrefix (either may
// be empty to match anything) answer with f. Faults are used in the order injected.
func (s *Server) Inject(method, pathPrefix string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method: method, path: pathPrefix, fault: f})
}

// AddPR stores an open pull request as if someone had opened it, and returns its number.
func (s *Server) AddPR(pr PR) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr.Number = len(s.prs) + 1
	if pr.State == "" {
		pr.State = "open"
	}
	s.prs = append(s.prs, &pr)
	return pr.Number
}

// Merge marks pull request n merged and closed, as GitHub does after the merge button
// (the test makes the merge commit on the git server itself).
func (s *Server) Merge(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prs[n-1].State, s.prs[n-1].Merged = "closed", true
}

// DeletedRefs returns the branches deleted through the API, in order.
func (s *Server) DeletedRefs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deleted...)
}

// PRs returns copies of every pull request.
func (s *Server) PRs() []PR {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PR, len(s.prs))
	for i, p := range s.prs {
		out[i] = *p
		out[i].Labels = append([]string(nil), p.Labels...)
	}
	return out
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Writes returns the requests that were not GETs.
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

var (
	rePulls    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls$`)
	rePull     = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)$`)
	reLabels   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/labels$`)
	reComments = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$`)
	reRef      = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/git/refs/heads/(.+)$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: p, Query: r.URL.RawQuery, Body: string(body), Authorization: r.Header.Get("Authorization")})
	f, ok := s.takeFault(r.Method, p)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if ok {
		writeFault(w, f)
		return
	}
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+s.token && auth != "token "+s.token {
		writeFault(w, BadCredentials)
		return
	}
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	switch {
	case rePulls.MatchString(p) && s.repoMatches(rePulls.FindStringSubmatch(p)):
		switch r.Method {
		case http.MethodGet:
			s.listPRs(w, r.URL.Query())
		case http.MethodPost:
			s.createPR(w, body)
		default:
			writeError(w, http.StatusNotFound, "Not Found")
		}
	case rePull.MatchString(p) && s.repoMatches(rePull.FindStringSubmatch(p)):
		n, _ := strconv.Atoi(rePull.FindStringSubmatch(p)[3])
		switch r.Method {
		case http.MethodGet:
			s.withPR(w, n, func(pr *PR) {})
		case http.MethodPatch:
			s.editPR(w, n, body)
		default:
			writeError(w, http.StatusNotFound, "Not Found")
		}
	case reLabels.MatchString(p) && r.Method == http.MethodPost && s.repoMatches(reLabels.FindStringSubmatch(p)):
		n, _ := strconv.Atoi(reLabels.FindStringSubmatch(p)[3])
		s.addLabels(w, n, body)
	case reComments.MatchString(p) && s.repoMatches(reComments.FindStringSubmatch(p)):
		n, _ := strconv.Atoi(reComments.FindStringSubmatch(p)[3])
		s.comments(w, r.Method, n, body)
	case reRef.MatchString(p) && r.Method == http.MethodDelete && s.repoMatches(reRef.FindStringSubmatch(p)):
		branch, _ := url.PathUnescape(reRef.FindStringSubmatch(p)[3])
		s.deleteRef(w, branch)
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) repoMatches(m []string) bool { return m[1] == s.Owner && m[2] == s.Repo }

func (s *Server) takeFault(method, p string) (Fault, bool) {
	for i, f := range s.faults {
		if (f.method == "" || f.method == method) && strings.HasPrefix(p, f.path) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f.fault, true
		}
	}
	return "", false
}

func writeFault(w http.ResponseWriter, f Fault) {
	switch f {
	case RateLimit, RateLimitHour:
		reset := time.Second
		if f == RateLimitHour {
			reset = time.Hour
		}
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Used", "5000")
		w.Header().Set("X-RateLimit-Resource", "core")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(reset).Unix(), 10))
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "API rate limit exceeded for user ID 1.",
			"documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
		})
	case SecondaryRateLimit:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
	case StaleList:
		writeJSON(w, http.StatusOK, []any{})
	case BadCredentials:
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401",
		})
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(code)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) listPRs(w http.ResponseWriter, q url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	out := []map[string]any{}
	for _, pr := range s.prs {
		if state != "all" && pr.State != state {
			continue
		}
		if h := q.Get("head"); h != "" && h != s.Owner+":"+pr.Head {
			continue
		}
		if b := q.Get("base"); b != "" && b != pr.Base {
			continue
		}
		out = append(out, s.prJSON(pr))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createPR(w http.ResponseWriter, body []byte) {
	var in struct {
		Title, Head, Base, Body string
		Draft                   bool
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if in.Title == "" || in.Head == "" || in.Base == "" {
		writeValidation(w, "PullRequest", "missing_field", "")
		return
	}
	if len(in.Body) > 65536 {
		writeValidation(w, "Issue", "custom", "body is too long (maximum is 65536 characters)")
		return
	}
	head := strings.TrimPrefix(in.Head, s.Owner+":")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pr := range s.prs {
		if pr.State == "open" && pr.Head == head && pr.Base == in.Base {
			writeValidation(w, "PullRequest", "custom", "A pull request already exists for "+s.Owner+":"+head+".")
			return
		}
	}
	pr := &PR{Number: len(s.prs) + 1, Title: in.Title, Body: in.Body, Head: head, Base: in.Base, State: "open", Draft: in.Draft}
	s.prs = append(s.prs, pr)
	writeJSON(w, http.StatusCreated, s.prJSON(pr))
}

func writeValidation(w http.ResponseWriter, resource, code, msg string) {
	e := map[string]string{"resource": resource, "code": code}
	if msg != "" {
		e["message"] = msg
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]string{e},
		"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
		"status":            "422",
	})
}

// withPR runs f on pull request n and answers with the pull request.
func (s *Server) withPR(w http.ResponseWriter, n int, f func(*PR)) {
	s.onPR(w, n, func(pr *PR) {
		f(pr)
		writeJSON(w, http.StatusOK, s.prJSON(pr))
	})
}

// onPR runs f on pull request n with the lock held; f answers. A missing one is a 404.
func (s *Server) onPR(w http.ResponseWriter, n int, f func(*PR)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 1 || n > len(s.prs) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	f(s.prs[n-1])
}

func (s *Server) editPR(w http.ResponseWriter, n int, body []byte) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if b, ok := in["body"].(string); ok && len(b) > 65536 {
		writeValidation(w, "Issue", "custom", "body is too long (maximum is 65536 characters)")
		return
	}
	s.withPR(w, n, func(pr *PR) {
		if v, ok := in["title"].(string); ok {
			pr.Title = v
		}
		if v, ok := in["body"].(string); ok {
			pr.Body = v
		}
		if v, ok := in["state"].(string); ok {
			pr.State = v
		}
	})
}

func (s *Server) addLabels(w http.ResponseWriter, n int, body []byte) {
	var names []string
	if err := json.Unmarshal(body, &names); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	s.onPR(w, n, func(pr *PR) {
		for _, l := range names {
			if !contains(pr.Labels, l) {
				pr.Labels = append(pr.Labels, l)
			}
		}
		sort.Strings(pr.Labels)
		out := make([]map[string]any, len(pr.Labels))
		for i, l := range pr.Labels {
			out[i] = map[string]any{"id": i + 1, "name": l, "color": "ededed", "default": false}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *Server) comments(w http.ResponseWriter, method string, n int, body []byte) {
	s.onPR(w, n, func(pr *PR) {
		commentJSON := func(i int) map[string]any {
			return map[string]any{"id": 5000 + n*100 + i, "body": pr.Comments[i], "user": map[string]any{"login": "addonsync[bot]"}}
		}
		switch method {
		case http.MethodGet:
			out := []map[string]any{}
			for i := range pr.Comments {
				out = append(out, commentJSON(i))
			}
			writeJSON(w, http.StatusOK, out)
		case http.MethodPost:
			var in struct{ Body string }
			if err := json.Unmarshal(body, &in); err != nil || in.Body == "" {
				writeValidation(w, "IssueComment", "missing_field", "")
				return
			}
			pr.Comments = append(pr.Comments, in.Body)
			writeJSON(w, http.StatusCreated, commentJSON(len(pr.Comments)-1))
		default:
			writeError(w, http.StatusNotFound, "Not Found")
		}
	})
}

func (s *Server) deleteRef(w http.ResponseWriter, branch string) {
	if s.DeleteRef != nil {
		if err := s.DeleteRef(branch); err != nil {
			writeError(w, http.StatusUnprocessableEntity, "Reference does not exist")
			return
		}
	}
	s.mu.Lock()
	s.deleted = append(s.deleted, branch)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) prJSON(pr *PR) map[string]any {
	base := s.srv.URL
	labels := make([]map[string]any, len(pr.Labels))
	for i, l := range pr.Labels {
		labels[i] = map[string]any{"id": i + 1, "name": l}
	}
	repo := map[string]any{"name": s.Repo, "full_name": s.Owner + "/" + s.Repo, "owner": map[string]any{"login": s.Owner}}
	return map[string]any{
		"id":       1000 + pr.Number,
		"number":   pr.Number,
		"state":    pr.State,
		"title":    pr.Title,
		"body":     pr.Body,
		"draft":    pr.Draft,
		"merged":   pr.Merged,
		"labels":   labels,
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d", s.Owner, s.Repo, pr.Number),
		"url":      fmt.Sprintf("%s/repos/%s/%s/pulls/%d", base, s.Owner, s.Repo, pr.Number),
		"head":     map[string]any{"ref": pr.Head, "label": s.Owner + ":" + pr.Head, "repo": repo},
		"base":     map[string]any{"ref": pr.Base, "label": s.Owner + ":" + pr.Base, "repo": repo},
		"user":     map[string]any{"login": "addonsync[bot]"},
	}
}
