package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
)

// gitRepo is a real git repository in a temporary directory, written with go-git.
type gitRepo struct {
	t    testing.TB
	dir  string
	repo *git.Repository
	when time.Time
}

func newGitRepo(t testing.TB, dir string) *gitRepo {
	t.Helper()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &gitRepo{t: t, dir: dir, repo: repo, when: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
}

// copyTree copies the files of src into the work tree under sub.
func (g *gitRepo) copyTree(src, sub string) {
	g.t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		g.write(filepath.Join(sub, rel), string(data))
		return nil
	})
	if err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitRepo) write(name, data string) {
	g.t.Helper()
	p := filepath.Join(g.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// commit commits every change in the work tree and returns the commit.
func (g *gitRepo) commit(msg string) plumbing.Hash {
	g.t.Helper()
	wt, err := g.repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		g.t.Fatal(err)
	}
	g.when = g.when.Add(time.Hour)
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: g.when}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		g.t.Fatal(err)
	}
	return h
}

func (g *gitRepo) setRef(name plumbing.ReferenceName, h plumbing.Hash) {
	g.t.Helper()
	if err := g.repo.Storer.SetReference(plumbing.NewHashReference(name, h)); err != nil {
		g.t.Fatal(err)
	}
}

const clusterV2 = `apiVersion: addonsync.io/v1alpha1
kind: Cluster
metadata:
  name: dev
spec:
  kubernetesVersion: "1.34"
  addons:
    - name: metallb
    - name: cert-manager
`

func TestOpenRef(t *testing.T) {
	g := newGitRepo(t, t.TempDir())
	g.copyTree("testdata/valid", ".")
	first := g.commit("first")
	g.setRef(plumbing.NewBranchReferenceName("release-1.33"), first)
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: g.when}
	if _, err := g.repo.CreateTag("v1", first, &git.CreateTagOptions{Tagger: sig, Message: "v1"}); err != nil {
		t.Fatal(err)
	}
	g.write("clusters/dev/cluster.yaml", clusterV2)
	second := g.commit("dev on 1.34")
	g.write("clusters/dev/cluster.yaml", "broken: [") // uncommitted: OpenRef must not see it

	for _, tc := range []struct{ ref, wantMinor, wantRev string }{
		{"main", "1.34", second.String()},
		{"HEAD", "1.34", second.String()},
		{"release-1.33", "1.33", first.String()},
		{"v1", "1.33", first.String()},
		{first.String(), "1.33", first.String()},
		{first.String()[:8], "1.33", first.String()},
		{"main~1", "1.33", first.String()},
	} {
		t.Run("reads "+tc.ref+" without a checkout", func(t *testing.T) {
			cfg, err := OpenRef(g.dir, tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Clusters["dev"].Spec.KubernetesVersion; got != tc.wantMinor {
				t.Errorf("dev kubernetesVersion = %q, want %q", got, tc.wantMinor)
			}
			if cfg.Ref != tc.ref || cfg.Revision != tc.wantRev {
				t.Errorf("Ref, Revision = %q, %q; want %q, %q", cfg.Ref, cfg.Revision, tc.ref, tc.wantRev)
			}
		})
	}
	t.Run("serves files and directories of the commit", func(t *testing.T) {
		cfg, err := OpenRef(g.dir, "main")
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(cfg.FS, "addonsync.yaml", "charts/local-issuers/Chart.yaml",
			"charts/local-issuers/templates/issuer.yaml", "addons/namespaces/kustomize/namespaces.yaml"); err != nil {
			t.Error(err)
		}
		data, err := fs.ReadFile(cfg.FS, "clusters/dev/cluster.yaml")
		if err != nil || string(data) != clusterV2 {
			t.Errorf("ReadFile = %q, %v; want the committed file", data, err)
		}
		fi, err := fs.Stat(cfg.FS, "addons/metallb/values.yaml")
		if err != nil || !fi.ModTime().Equal(g.when) {
			t.Errorf("Stat = %v, %v; want the commit time %v", fi, err, g.when)
		}
		if _, err := fs.Stat(cfg.FS, "nope/addon.yaml"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(missing) error = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("reports a ref that does not exist", func(t *testing.T) {
		_, err := OpenRef(g.dir, "release-9.99")
		want := g.dir + `: git ref "release-9.99": no such branch, tag or commit`
		if err == nil || err.Error() != want {
			t.Errorf("error = %v, want %s", err, want)
		}
	})
	t.Run("reports config errors at the ref", func(t *testing.T) {
		g.commit("break dev")
		_, err := OpenRef(g.dir, "main")
		var errs Errors
		if !errors.As(err, &errs) || errs[0].File != "clusters/dev/cluster.yaml" {
			t.Errorf("error = %v, want a config error in clusters/dev/cluster.yaml", err)
		}
	})
}

func TestOpenRefInSubdirectory(t *testing.T) {
	g := newGitRepo(t, t.TempDir())
	g.copyTree("testdata/valid", "platform/config")
	g.write("README.md", "monorepo\n")
	g.commit("first")
	cfg, err := OpenRef(filepath.Join(g.dir, "platform", "config"), "main")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"dev", "prod"}, cfg.ClusterNames()); diff != "" {
		t.Errorf("clusters (-want +got):\n%s", diff)
	}
}

func TestTreeFSSymlinks(t *testing.T) {
	g := newGitRepo(t, t.TempDir())
	g.copyTree("testdata/valid", ".")
	if err := os.Symlink("local-issuers", filepath.Join(g.dir, "charts", "issuers")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../etc/passwd", filepath.Join(g.dir, "charts", "escape")); err != nil {
		t.Fatal(err)
	}
	g.commit("links")
	cfg, err := OpenRef(g.dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("follows a symlink inside the tree", func(t *testing.T) {
		data, err := fs.ReadFile(cfg.FS, "charts/issuers/Chart.yaml")
		if err != nil || len(data) == 0 {
			t.Errorf("ReadFile through symlink = %q, %v", data, err)
		}
	})
	t.Run("refuses a symlink out of the tree", func(t *testing.T) {
		_, err := fs.ReadFile(cfg.FS, "charts/escape")
		if !errors.Is(err, ErrOutsideRepo) || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(escape) error = %v, want ErrOutsideRepo (not a missing file)", err)
		}
	})
}

func TestBranchForCluster(t *testing.T) {
	g := newGitRepo(t, t.TempDir())
	g.copyTree("testdata/valid", ".")
	h := g.commit("first")
	cfg, err := OpenWorktree(g.dir)
	if err != nil {
		t.Fatal(err)
	}
	check := func(cluster, wantBranch string, wantExists bool) {
		t.Helper()
		branch, exists, err := BranchForCluster(g.dir, cfg, cluster)
		if err != nil || branch != wantBranch || exists != wantExists {
			t.Errorf("BranchForCluster(%s) = %q, %v, %v; want %q, %v", cluster, branch, exists, err, wantBranch, wantExists)
		}
	}
	t.Run("falls back to main without a release branch", func(t *testing.T) {
		check("prod", "main", false)
		check("dev", "main", false)
	})
	t.Run("finds a local release branch", func(t *testing.T) {
		g.setRef(plumbing.NewBranchReferenceName("release-1.33"), h)
		check("dev", "release-1.33", true)
	})
	t.Run("finds a release branch that exists only on origin", func(t *testing.T) {
		g.setRef(plumbing.NewRemoteReferenceName("origin", "release-1.34"), h)
		check("prod", "release-1.34", true)
		if _, err := OpenRef(g.dir, "release-1.34"); err != nil {
			t.Errorf("OpenRef(release-1.34) for origin/release-1.34: %v", err)
		}
	})
	t.Run("names the release branch with the configured prefix", func(t *testing.T) {
		r := DefaultRepository()
		r.Spec.Branches.ReleasePrefix = "k8s/"
		if got := ReleaseBranch(r, "1.34"); got != "k8s/1.34" {
			t.Errorf("ReleaseBranch = %q", got)
		}
	})
	t.Run("fails for a directory that is not a git repository", func(t *testing.T) {
		_, _, err := BranchForCluster(t.TempDir(), cfg, "prod")
		if !errors.Is(err, git.ErrRepositoryNotExists) {
			t.Errorf("error = %v, want git.ErrRepositoryNotExists", err)
		}
	})
}

func TestCurrentBranch(t *testing.T) {
	g := newGitRepo(t, t.TempDir())
	if got, err := CurrentBranch(g.dir); err != nil || got != "main" {
		t.Errorf("CurrentBranch before the first commit = %q, %v; want main", got, err)
	}
	g.write("addonsync.yaml", "x: 1\n")
	h := g.commit("first")
	wt, _ := g.repo.Worktree()
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("release-1.34"), Create: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := CurrentBranch(g.dir); err != nil || got != "release-1.34" {
		t.Errorf("CurrentBranch = %q, %v; want release-1.34", got, err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: h}); err != nil {
		t.Fatal(err)
	}
	if got, err := CurrentBranch(g.dir); err != nil || got != "" {
		t.Errorf("CurrentBranch detached = %q, %v; want empty", got, err)
	}
}

// TestTreeFSConcurrentReads reads one tree from many goroutines (render reads add-ons in
// parallel); run with -race.
func TestTreeFSConcurrentReads(t *testing.T) {
	g := newGitRepo(t, t.TempDir())
	g.copyTree("testdata/valid", ".")
	g.commit("first")
	cfg, err := OpenRef(g.dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	var eg errgroup.Group
	eg.SetLimit(8)
	for range 32 {
		eg.Go(func() error {
			return fs.WalkDir(cfg.FS, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				_, err = fs.ReadFile(cfg.FS, p)
				return err
			})
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestSymlinkOutOfRepo checks that the working tree and a git ref of the same commit both
// refuse a values file, an overlay and a kustomize component symlinked out of the repo,
// with the same problems, and never read what the links point to.
func TestSymlinkOutOfRepo(t *testing.T) {
	outside := t.TempDir() // a sibling of the repo's directory below
	secret := filepath.Join(outside, "secret.yaml")
	if err := os.WriteFile(secret, []byte("password: hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := newGitRepo(t, t.TempDir())
	g.copyTree("testdata/valid", ".")
	values := filepath.Join(g.dir, "clusters", "prod", "values", "ingress-nginx.yaml")
	for _, f := range []string{values, filepath.Join(g.dir, "addons", "metallb", "values.yaml")} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		values: "../../../../" + filepath.Base(outside) + "/secret.yaml",
		filepath.Join(g.dir, "addons", "cert-manager", "kustomize"):                           "../../../" + filepath.Base(outside),
		filepath.Join(g.dir, "clusters", "prod", "kustomize", "ingress-nginx", "escape.yaml"): "../../../../../" + filepath.Base(outside) + "/secret.yaml",
		filepath.Join(g.dir, "addons", "metallb", "values.yaml"):                              "../../../" + filepath.Base(outside) + "/missing.yaml", // dangling
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	g.commit("links out of the repo")
	want := []string{
		`addons/cert-manager/kustomize: symlink to "../../../` + filepath.Base(outside) + `" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)`,
		`addons/metallb/values.yaml: symlink to "../../../` + filepath.Base(outside) + `/missing.yaml" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)`,
		`clusters/prod/kustomize/ingress-nginx/escape.yaml: symlink to "../../../../../` + filepath.Base(outside) + `/secret.yaml" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)`,
		`clusters/prod/values/ingress-nginx.yaml: symlink to "../../../../` + filepath.Base(outside) + `/secret.yaml" leaves the config repo (replace the symlink with the file itself, or point it inside the config repo)`,
	}
	for name, open := range map[string]func() (*Config, error){
		"working tree": func() (*Config, error) { return OpenWorktree(g.dir) },
		"git ref":      func() (*Config, error) { return OpenRef(g.dir, "main") },
	} {
		t.Run("refuses them in the "+name, func(t *testing.T) {
			cfg, err := open()
			if cfg != nil {
				t.Fatal("got a config")
			}
			if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the linked file's content")
			}
		})
	}
}
