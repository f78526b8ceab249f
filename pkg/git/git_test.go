package git_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/internal/testutil/gitserver"
	"github.com/addonsync/addonsync/pkg/git"
)

const token = "s3cret-token"

var seed = map[string]string{
	"addonsync.yaml":             "kind: Repository\n",
	"addons/coredns/addon.yaml":  "version: 1\n",
	"addons/coredns/run.sh":      "#!/bin/sh\n",
	"clusters/prod/cluster.yaml": "kind: Cluster\n",
}

func author(email string) git.Signature {
	return git.Signature{Name: "addonsync", Email: email, When: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
}

func TestOpenRemoteWriteCommitPush(t *testing.T) {
	ctx := context.Background()
	srv := gitserver.New(t, token)
	for _, dir := range []string{"", filepath.Join(t.TempDir(), "clone")} {
		name := "memory"
		if dir != "" {
			name = "disk"
		}
		t.Run(name, func(t *testing.T) {
			srv.CreateRepo(t, name, seed, "release-1.34")
			repo, err := git.OpenRemote(ctx, git.RemoteOptions{URL: srv.URL(name), Token: token, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			main := repo.RemoteBranch("main")
			if string(main) != srv.Rev(t, name, "main") {
				t.Fatalf("RemoteBranch(main) = %q, want %q", main, srv.Rev(t, name, "main"))
			}
			if h := repo.RemoteBranch("nosuch"); !h.IsZero() {
				t.Errorf("RemoteBranch(nosuch) = %q, want zero", h)
			}
			branches, err := repo.Branches()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"main", "release-1.34"}, branches); diff != "" {
				t.Errorf("Branches (-want +got):\n%s", diff)
			}

			t.Run("writes a commit that sets and deletes files", func(t *testing.T) {
				files := map[string][]byte{
					"addons/coredns/addon.yaml":  []byte("version: 2\n"),
					"addonsync.lock":             []byte("lock\n"),
					"clusters/prod/cluster.yaml": nil,
				}
				c, err := repo.WriteCommit(main, files, "Bump coredns\n\nAddonsync-Upgrade: coredns 1 -> 2\n", author("bot@example.com"))
				if err != nil {
					t.Fatal(err)
				}
				fsys, err := repo.FS(c)
				if err != nil {
					t.Fatal(err)
				}
				got := readAll(t, fsys)
				want := map[string]string{
					"addonsync.yaml": "kind: Repository\n", "addonsync.lock": "lock\n",
					"addons/coredns/addon.yaml": "version: 2\n", "addons/coredns/run.sh": "#!/bin/sh\n",
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("files of the new commit (-want +got):\n%s", diff)
				}
				if _, err := fs.Stat(fsys, "clusters"); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Stat(clusters) = %v, want not exist (empty directory left)", err)
				}
				if fi, err := fs.Stat(fsys, "addons/coredns/run.sh"); err != nil || fi.Mode() != 0o644 {
					t.Errorf("run.sh mode = %v, %v (seeded without +x)", fi, err)
				}
				changed, err := repo.ChangedFiles(c)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(files, changed); diff != "" {
					t.Errorf("ChangedFiles (-want +got):\n%s", diff)
				}
				parent, err := repo.ParentFS(c)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(seed, readAll(t, parent)); diff != "" {
					t.Errorf("ParentFS (-want +got):\n%s", diff)
				}

				branch := "upgrade/" + name
				if err := repo.Push(ctx, branch, c, ""); err != nil {
					t.Fatal(err)
				}
				if got := srv.Rev(t, name, branch); got != string(c) {
					t.Fatalf("server %s = %q, want %q", branch, got, c)
				}
				t.Run("a push without lease does not replace an existing branch", func(t *testing.T) {
					if err := repo.Push(ctx, branch, main, ""); err == nil {
						t.Fatal("push over an existing branch without a lease succeeded")
					}
					if got := srv.Rev(t, name, branch); got != string(c) {
						t.Errorf("server %s = %q, want unchanged %q", branch, got, c)
					}
				})
				t.Run("a push with a stale lease does not overwrite", func(t *testing.T) {
					if err := repo.Push(ctx, branch, main, main); err == nil {
						t.Fatal("push with a stale lease succeeded")
					}
					if got := srv.Rev(t, name, branch); got != string(c) {
						t.Errorf("server %s = %q, want unchanged %q", branch, got, c)
					}
				})
				t.Run("a push with the current lease replaces", func(t *testing.T) {
					if err := repo.Push(ctx, branch, main, c); err != nil {
						t.Fatal(err)
					}
					if got := srv.Rev(t, name, branch); got != string(main) {
						t.Errorf("server %s = %q, want %q", branch, got, main)
					}
				})
			})
		})
	}
}

func TestRemoteAuth(t *testing.T) {
	ctx := context.Background()
	srv := gitserver.New(t, token)
	srv.CreateRepo(t, "config", seed)
	_, err := git.OpenRemote(ctx, git.RemoteOptions{URL: srv.URL("config"), Token: "wrong-token"})
	if !errors.Is(err, git.ErrGitAuth) {
		t.Fatalf("OpenRemote with a wrong token: %v, want ErrGitAuth", err)
	}
	_, err = git.Mirror(ctx, git.RemoteOptions{URL: srv.URL("config"), Token: "wrong-token", Dir: t.TempDir()})
	if !errors.Is(err, git.ErrGitAuth) {
		t.Fatalf("Mirror with a wrong token: %v, want ErrGitAuth", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("error shows the token: %v", err)
	}
}

func TestMirrorOpenResolve(t *testing.T) {
	ctx := context.Background()
	srv := gitserver.New(t, token)
	srv.CreateRepo(t, "config", seed, "release-1.34", "release-1.35")
	dir := filepath.Join(t.TempDir(), "mirror")
	o := git.RemoteOptions{URL: srv.URL("config"), Token: token, Dir: dir}
	head, err := git.Mirror(ctx, o)
	if err != nil || head != "main" {
		t.Fatalf("Mirror = %q, %v; want main", head, err)
	}
	srv.Git(t, "config", "branch", "-D", "release-1.35")
	if _, err := git.Mirror(ctx, o); err != nil {
		t.Fatal(err)
	}
	repo, err := git.Open(filepath.Join(dir, "clusters")) // a subdirectory finds the repository
	if err != nil {
		t.Fatal(err)
	}
	branches, err := repo.Branches()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"main", "release-1.34"}, branches); diff != "" {
		t.Errorf("Branches after the remote deleted release-1.35 (-want +got):\n%s", diff)
	}
	if cur, err := repo.CurrentBranch(); err != nil || cur != "main" {
		t.Errorf("CurrentBranch = %q, %v; want main", cur, err)
	}
	if h, err := repo.Resolve("release-1.34"); err != nil || string(h) != srv.Rev(t, "config", "main") {
		t.Errorf("Resolve(release-1.34) = %q, %v", h, err)
	}
	if _, err := repo.Resolve("nosuch"); !errors.Is(err, git.ErrUnknownRevision) {
		t.Errorf("Resolve(nosuch) = %v, want ErrUnknownRevision", err)
	}
	if ok, err := repo.HasBranch("release-1.35"); err != nil || ok {
		t.Errorf("HasBranch(release-1.35) = %v, %v; want false", ok, err)
	}
	if repo.RemoteURL() != o.URL {
		t.Errorf("RemoteURL = %q, want %q", repo.RemoteURL(), o.URL)
	}
	if _, err := git.Open(t.TempDir()); !errors.Is(err, git.ErrNotRepository) {
		t.Errorf("Open(no repository) = %v, want ErrNotRepository", err)
	}
}

// TestLogTrailersSymlinks reads commits a person made with the git CLI: the log between two
// branches with trailers, and symlinks inside and out of the tree.
func TestLogTrailersSymlinks(t *testing.T) {
	work := t.TempDir()
	gitserver.Git(t, work, "init", "-q", "-b", "main")
	write(t, work, "addons/a/addon.yaml", "v1\n")
	gitserver.Git(t, work, "add", "-A")
	gitserver.Git(t, work, "commit", "-q", "-m", "base")
	gitserver.Git(t, work, "checkout", "-q", "-b", "topic")
	write(t, work, "addons/a/addon.yaml", "v2\n")
	gitserver.Git(t, work, "commit", "-q", "-am", "Bump a\n\nAddonsync-Upgrade: a 1 -> 2\nCo-authored-by: x")
	must(t, os.Symlink("addons/a/addon.yaml", filepath.Join(work, "inside")))
	must(t, os.Symlink("../../etc/passwd", filepath.Join(work, "outside")))
	gitserver.Git(t, work, "add", "-A")
	gitserver.Git(t, work, "commit", "-q", "-m", "links")

	repo, err := git.Open(work)
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Resolve("topic")
	must(t, err)
	base, err := repo.Resolve("main")
	must(t, err)
	log, err := repo.Log(head, base, 0)
	must(t, err)
	var subjects []string
	for _, c := range log {
		subjects = append(subjects, c.Subject())
	}
	if diff := cmp.Diff([]string{"links", "Bump a"}, subjects); diff != "" {
		t.Fatalf("Log(topic, main) subjects (-want +got):\n%s", diff)
	}
	if got := log[1].Trailer("Addonsync-Upgrade"); got != "a 1 -> 2" {
		t.Errorf("Trailer = %q, want %q", got, "a 1 -> 2")
	}
	if log[1].Author.Email != "person@example.com" || len(log[1].Parents) != 1 || log[1].Parents[0] != base {
		t.Errorf("commit metadata = %+v", log[1])
	}
	fsys, err := repo.FS(head)
	must(t, err)
	if data, err := fs.ReadFile(fsys, "inside"); err != nil || string(data) != "v2\n" {
		t.Errorf("ReadFile(inside) = %q, %v; want the target's content", data, err)
	}
	var se *git.SymlinkError
	if _, err := fs.ReadFile(fsys, "outside"); !errors.Is(err, git.ErrOutsideRepo) || !errors.As(err, &se) || se.Target != "../../etc/passwd" {
		t.Errorf("ReadFile(outside) = %v, want a *git.SymlinkError (outside the repo)", err)
	}
}

func readAll(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		out[p] = string(data)
		return err
	})
	must(t, err)
	return out
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, name)
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
