package gitserver

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Backend is where Debian and most distributions install git's CGI.
const Backend = "/usr/lib/git-core/git-http-backend"

// User is the basic-auth user name the server accepts (GitHub ignores it for tokens).
const User = "x-access-token"

// Server is a loopback git smart-HTTP server over a directory of bare repositories.
type Server struct {
	// Root holds the bare repositories, <name>.git.
	Root string

	srv   *httptest.Server
	token string

	mu       sync.Mutex
	requests []string
}

// New starts a server accepting basic auth with User and token; other credentials get 401.
// It skips the test when git or git-http-backend is missing, unless CI=true.
func New(t testing.TB, token string) *Server {
	t.Helper()
	for _, bin := range []string{Backend, "git"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("gitserver: %s not found: install git", bin)
			}
			t.Skipf("gitserver: %s not found: install git to run this test", bin)
		}
	}
	s := &Server{Root: t.TempDir(), token: token}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	s.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if !ok || user != User || pass != s.token {
		w.Header().Set("WWW-Authenticate", `Basic realm="gitserver"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	h := &cgi.Handler{
		Path:   Backend,
		Dir:    s.Root,
		Stderr: io.Discard, // hook messages reach the client over the protocol
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=" + user,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
		},
	}
	h.ServeHTTP(w, r)
}

// URL returns the clone URL of repository name (without credentials).
func (s *Server) URL(name string) string { return s.srv.URL + "/" + name + ".git" }

// Requests returns "METHOD path?query" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// CreateRepo creates bare repository name seeded with the files of dir (relative path →
// content) as one commit on main, and branches for every name in branches pointing at it.
func (s *Server) CreateRepo(t testing.TB, name string, files map[string]string, branches ...string) string {
	t.Helper()
	work := t.TempDir()
	for p, content := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Git(t, work, "init", "-q", "-b", "main")
	Git(t, work, "add", "-A")
	Git(t, work, "commit", "-q", "-m", "Initial config")
	for _, b := range branches {
		Git(t, work, "branch", b)
	}
	bare := s.Dir(name)
	Git(t, "", "clone", "-q", "--bare", work, bare)
	return bare
}

// Dir is the path of bare repository name.
func (s *Server) Dir(name string) string { return filepath.Join(s.Root, name+".git") }

// Rev resolves ref in repository name; "" when it does not exist.
func (s *Server) Rev(t testing.TB, name, ref string) string {
	t.Helper()
	out, err := gitCmd(s.Dir(name), "rev-parse", "--verify", "-q", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// Git runs git in repository name and returns its stdout.
func (s *Server) Git(t testing.TB, name string, args ...string) string {
	t.Helper()
	return Git(t, s.Dir(name), args...)
}

// SetHook installs an executable hook script (e.g. "pre-receive") in repository name.
func (s *Server) SetHook(t testing.TB, name, hook, script string) {
	t.Helper()
	p := filepath.Join(s.Dir(name), "hooks", hook)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// Git runs git with a fixed identity in dir ("" for the current directory) and returns stdout.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := gitCmd(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func gitCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Platform Person", "GIT_AUTHOR_EMAIL=person@example.com",
		"GIT_COMMITTER_NAME=Platform Person", "GIT_COMMITTER_EMAIL=person@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &gitError{err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

type gitError struct {
	err    error
	stderr string
}

func (e *gitError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }
