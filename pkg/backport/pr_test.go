package backport

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/addonsync/addonsync/internal/diff3"
)

func TestConflictSectionHidesSecrets(t *testing.T) {
	tree := fstest.MapFS{
		"addons/a/values.yaml":        {Data: []byte("replicas: <<<\n")},
		"addons/a/kustomize/sec.yaml": {Data: []byte("apiVersion: v1\nkind: Secret\nstringData:\n  x: <<<\n")},
	}
	conflicts := []diff3.FileConflict{
		{Path: "addons/a/values.yaml", Kind: diff3.KindContent, Hunks: []diff3.Conflict{
			{Line: 3, Ours: []string{"replicas: 3"}, Theirs: []string{"replicas: 4"}},
			{Line: 9, Ours: []string{"  adminPassword: hunter2"}, Theirs: []string{"  adminPassword: correct-horse"}},
		}},
		{Path: "addons/a/kustomize/sec.yaml", Kind: diff3.KindContent, Hunks: []diff3.Conflict{
			{Line: 4, Ours: []string{"  x: abc"}, Theirs: []string{"  x: def"}},
		}},
	}
	got := conflictSection(conflicts, tree)
	for _, want := range []string{
		"line 3: this branch has `replicas: 3`, the commit has `replicas: 4`",
		"line 9 (lines not shown: they may hold a secret)",
		"line 4 (lines not shown: they may hold a secret)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"hunter2", "correct-horse", "abc", "def"} {
		if strings.Contains(got, secret) {
			t.Errorf("section shows %q:\n%s", secret, got)
		}
	}
}
