package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/addonsync/addonsync/pkg/config"
)

const (
	validFixture   = "../../pkg/config/testdata/valid"
	invalidFixture = "../../pkg/config/testdata/invalid"
)

// runConfigCmd runs addonsync in-process and returns stdout, stderr and the exit code.
func runConfigCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(t.Context(), args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

// gitConfigRepo commits the files of src into a new git repository (branch main) and
// returns its directory and the commit.
func gitConfigRepo(t *testing.T, src string) (string, *git.Repository, plumbing.Hash) {
	t.Helper()
	dir := copyConfigTree(t, src)
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, repo, commitAll(t, repo, "import")
}

// copyConfigTree copies the files of src into a new temporary directory.
func copyConfigTree(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func commitAll(t *testing.T, repo *git.Repository, msg string) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestValidateCommand(t *testing.T) {
	t.Run("reports a valid config and exits 0", func(t *testing.T) {
		out, _, code := runConfigCmd(t, "validate", "--repo", validFixture)
		if code != ExitOK || out != "config OK: 5 add-ons, 2 clusters\n" {
			t.Errorf("validate = %q, exit %d; want config OK, exit 0", out, code)
		}
	})
	cases, err := os.ReadDir(invalidFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		dir := filepath.Join(invalidFixture, c.Name())
		t.Run("prints one line per problem and exits 2 for "+c.Name(), func(t *testing.T) {
			_, loadErr := config.OpenWorktree(dir)
			var want config.Errors
			if !errors.As(loadErr, &want) {
				t.Fatalf("fixture %s loads without config errors: %v", c.Name(), loadErr)
			}
			out, errOut, code := runConfigCmd(t, "validate", "-C", dir)
			if code != ExitUsage {
				t.Errorf("exit code = %d, want %d", code, ExitUsage)
			}
			if diff := cmp.Diff(want.Error()+"\n", out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			summary := "error: 1 problem in " + dir + "\n"
			if len(want) > 1 {
				summary = "error: " + strconv.Itoa(len(want)) + " problems in " + dir + "\n"
			}
			if errOut != summary {
				t.Errorf("stderr = %q, want %q", errOut, summary)
			}
		})
	}
	t.Run("lists problems structurally with -o json", func(t *testing.T) {
		dir := filepath.Join(invalidFixture, "multiple")
		out, _, code := runConfigCmd(t, "validate", "-C", dir, "-o", "json")
		var got struct {
			Dir      string
			Valid    bool
			Problems []config.Error
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if code != ExitUsage || got.Valid || got.Dir != dir || len(got.Problems) != 7 {
			t.Fatalf("exit %d, valid %v, dir %q, %d problems; want 2, false, %q, 7", code, got.Valid, got.Dir, len(got.Problems), dir)
		}
		want := config.Error{
			File: "clusters/prod/cluster.yaml", Line: 12, Column: 13, Field: "spec.addons[2].name",
			Message: `add-on "web" is already listed in spec.addons[0]`, Hint: "remove the duplicate",
		}
		if diff := cmp.Diff(want, got.Problems[6]); diff != "" {
			t.Errorf("last problem (-want +got):\n%s", diff)
		}
	})
	t.Run("reports a valid config as JSON", func(t *testing.T) {
		out, _, code := runConfigCmd(t, "validate", "-C", validFixture, "-o", "json")
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != ExitOK {
			t.Fatalf("exit %d, %v\n%s", code, err, out)
		}
		want := map[string]any{"dir": validFixture, "valid": true, "addons": 5.0, "clusters": 2.0, "problems": []any{}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("JSON (-want +got):\n%s", diff)
		}
	})
	t.Run("reads a git ref with --ref", func(t *testing.T) {
		dir, repo, first := gitConfigRepo(t, validFixture)
		if err := os.Remove(filepath.Join(dir, "addons/metallb/addon.yaml")); err != nil {
			t.Fatal(err)
		}
		if _, _, code := runConfigCmd(t, "validate", "-C", dir); code != ExitUsage {
			t.Errorf("working tree without metallb: exit %d, want 2", code)
		}
		out, _, code := runConfigCmd(t, "validate", "-C", dir, "--ref", "main")
		if want := "config OK at main (" + first.String()[:12] + "): 5 add-ons, 2 clusters\n"; code != ExitOK || out != want {
			t.Errorf("--ref main = %q, exit %d; want %q", out, code, want)
		}
		out, _, code = runConfigCmd(t, "validate", "-C", dir, "--ref", "auto")
		if want := "config OK at main (" + first.String()[:12] + "): 5 add-ons, 2 clusters\n"; code != ExitOK || out != want {
			t.Errorf("--ref auto = %q, exit %d; want %q", out, code, want)
		}
		commitAll(t, repo, "remove metallb")
		out, errOut, code := runConfigCmd(t, "validate", "-C", dir, "--ref", "main")
		if code != ExitUsage || !strings.Contains(out, "addons/metallb: directory has no addon.yaml") ||
			errOut != "error: 1 problem in "+dir+" at main\n" {
			t.Errorf("--ref main after the commit = %q %q, exit %d", out, errOut, code)
		}
	})
	t.Run("fails with exit 2 for a ref or directory that does not exist", func(t *testing.T) {
		dir, _, _ := gitConfigRepo(t, validFixture)
		if _, errOut, code := runConfigCmd(t, "validate", "-C", dir, "--ref", "nope"); code != ExitUsage || !strings.Contains(errOut, `git ref "nope"`) {
			t.Errorf("--ref nope: exit %d, %q", code, errOut)
		}
		if _, _, code := runConfigCmd(t, "validate", "-C", filepath.Join(dir, "missing")); code != ExitUsage {
			t.Errorf("missing dir: exit %d, want 2", code)
		}
		if _, _, code := runConfigCmd(t, "validate", "-C", dir, "-o", "xml"); code != ExitUsage {
			t.Errorf("-o xml: exit %d, want 2", code)
		}
	})
}
