package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderErrorNamesTheClusterOnce: a render error says `cluster "test": nothing applied:`
// and does not repeat the cluster, in sync and in reconcile.
func TestRenderErrorNamesTheClusterOnce(t *testing.T) {
	dir := copyConfigTree(t, "testdata/sync/repo")
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.NewReplacer("${NS}", "render-error", "${KUBECONFIG}", filepath.Join(dir, "no-kubeconfig")).Replace(string(data))
		if filepath.Base(p) == "kustomization.yaml" {
			s = "resources: [objects.yaml, missing.yaml]\n"
		}
		return os.WriteFile(p, []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sync", "test", "-C", dir, "--cache-dir", t.TempDir()},
		{"reconcile", "-C", dir, "--ref", "", "--no-upgrade", "--cache-dir", t.TempDir()},
	} {
		t.Run(args[0], func(t *testing.T) {
			_, stderr, code := runConfigCmd(t, args...)
			if code == ExitOK || !strings.Contains(stderr, `cluster "test": nothing applied: `) {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.Count(line, `cluster "test"`) > 1 {
					t.Errorf("the cluster is named twice: %s", line)
				}
			}
		})
	}
}
