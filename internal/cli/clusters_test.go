package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/addonsync/addonsync/internal/testutil/golden"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
)

// checkGolden compares got with testdata/<name>, rewriting the file with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

// clustersRepo is the valid fixture in git, with a release branch for dev's minor (1.33) only.
func clustersRepo(t *testing.T) string {
	t.Helper()
	dir, repo, head := gitConfigRepo(t, validFixture)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("release-1.33"), head)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestClustersCommand(t *testing.T) {
	dir := clustersRepo(t)
	t.Run("prints an aligned table", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, "clusters", "-C", dir)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		checkGolden(t, "clusters/table.golden", out)
	})
	t.Run("lists add-ons in sync order and kubeconfigs with -o wide", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, "clusters", "-C", dir, "-o", "wide")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		checkGolden(t, "clusters/wide.golden", out)
	})
	t.Run("says when the directory is not a git repository", func(t *testing.T) {
		out, errOut, code := runConfigCmd(t, "clusters", "-C", copyConfigTree(t, validFixture))
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		checkGolden(t, "clusters/nogit.golden", out)
	})
	t.Run("lists clusters structurally with -o json", func(t *testing.T) {
		out, _, code := runConfigCmd(t, "clusters", "-C", dir, "-o", "json")
		var got []clusterRow
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != ExitOK {
			t.Fatalf("exit %d, %v\n%s", code, err, out)
		}
		want := []clusterRow{
			{
				Name: "dev", KubernetesVersion: "1.33", Branch: "release-1.33", ReleaseBranch: "release-1.33", ReleaseBranchExists: true,
				Kubeconfig: "file ~/.kube/dev (context dev-admin)", Addons: []string{"metallb"},
			},
			{
				Name: "prod", KubernetesVersion: "1.34", Branch: "main", ReleaseBranch: "release-1.34", ReleaseBranchExists: false,
				Kubeconfig: "secret addonsync-system/prod-kubeconfig[kubeconfig]",
				Addons:     []string{"cert-manager", "local-issuers", "metallb", "ingress-nginx", "namespaces"},
			},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("clusters -o json (-want +got):\n%s", diff)
		}
	})
	t.Run("fails with exit 2 on a broken config", func(t *testing.T) {
		_, errOut, code := runConfigCmd(t, "clusters", "-C", filepath.Join(invalidFixture, "missing-addon"))
		if code != ExitUsage || !strings.Contains(errOut, `add-on "foo" does not exist`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestLoadClusterConfig(t *testing.T) {
	dir := clustersRepo(t)
	t.Run("--ref auto reads each cluster's own branch", func(t *testing.T) {
		g := &GlobalOptions{Streams: Streams{ErrOut: &strings.Builder{}}, Dir: dir, Ref: RefAuto}
		for cluster, want := range map[string]string{"dev": "release-1.33", "prod": "main"} {
			cfg, branch, err := loadClusterConfig(g, cluster)
			if err != nil || branch != want || cfg.Ref != want {
				t.Errorf("%s: branch %q, cfg.Ref %q, %v; want %q", cluster, branch, cfg.Ref, err, want)
			}
		}
	})
	t.Run("warns when the working tree is on another branch than the cluster's", func(t *testing.T) {
		var errOut strings.Builder
		g := &GlobalOptions{Streams: Streams{ErrOut: &errOut}, Dir: dir}
		if _, _, err := loadClusterConfig(g, "dev"); err != nil {
			t.Fatal(err)
		}
		want := `warning: cluster "dev" (Kubernetes 1.33) is rendered from branch release-1.33, but the working tree is on main; check out release-1.33 or pass --ref auto` + "\n"
		if errOut.String() != want {
			t.Errorf("stderr = %q, want %q", errOut.String(), want)
		}
		errOut.Reset()
		if _, _, err := loadClusterConfig(g, "prod"); err != nil || errOut.Len() != 0 {
			t.Errorf("prod on main: err %v, stderr %q; want no warning", err, errOut.String())
		}
	})
	t.Run("fails with exit 2 for an unknown cluster", func(t *testing.T) {
		g := &GlobalOptions{Streams: Streams{ErrOut: &strings.Builder{}}, Dir: dir}
		if _, _, err := loadClusterConfig(g, "staging"); ExitCode(err) != ExitUsage {
			t.Errorf("error %v, exit %d; want 2", err, ExitCode(err))
		}
	})
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run("generates a "+shell+" script", func(t *testing.T) {
			out, errOut, code := runConfigCmd(t, "completion", shell)
			if code != ExitOK || !strings.Contains(out, "addonsync") || len(out) < 1000 {
				t.Errorf("exit %d, %d bytes, stderr %q", code, len(out), errOut)
			}
		})
	}
	t.Run("completes subcommands and flags", func(t *testing.T) {
		out, _, code := runConfigCmd(t, "__complete", "cl")
		if code != ExitOK || !strings.Contains(out, "clusters") {
			t.Errorf("__complete cl = %q, exit %d", out, code)
		}
		out, _, _ = runConfigCmd(t, "__complete", "clusters", "-o", "")
		if want := "table\nwide\njson\nyaml\n:4\n"; !strings.HasPrefix(out, want) {
			t.Errorf("__complete clusters -o = %q, want %q first", out, want)
		}
	})
	t.Run("completes cluster names", func(t *testing.T) {
		g := &GlobalOptions{Dir: validFixture}
		got, _ := completeClusters(g)(nil, nil, "")
		if diff := cmp.Diff([]string{"dev", "prod"}, got); diff != "" {
			t.Errorf("completeClusters (-want +got):\n%s", diff)
		}
	})
}
