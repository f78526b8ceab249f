package diff3

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitMergeFile runs `git merge-file -p` and returns its output and conflict count.
func gitMergeFile(t *testing.T, base, ours, theirs []byte) ([]byte, int) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string][]byte{"base": base, "ours": ours, "theirs": theirs} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("git", "merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs", "ours", "base", "theirs")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &exit) && exit.ExitCode() > 0 && exit.ExitCode() < 127:
		return out, exit.ExitCode()
	default:
		t.Fatalf("git merge-file: %v: %s", err, stderr.String())
		return nil, 0
	}
}

func mergeFileOptions() Options {
	return Options{OursLabel: "ours", TheirsLabel: "theirs", Level: LevelZealousAlnum, Algorithm: Myers}
}

// checkAgainstGit asserts Merge gives git merge-file's bytes and conflict count.
func checkAgainstGit(t *testing.T, name string, base, ours, theirs []byte) {
	t.Helper()
	want, wantN := gitMergeFile(t, base, ours, theirs)
	got := Merge(base, ours, theirs, mergeFileOptions())
	if len(got.Conflicts) != wantN {
		t.Errorf("%s: %d conflicts, git merge-file has %d\nbase:\n%s\nours:\n%s\ntheirs:\n%s\ngit:\n%s\ngot:\n%s",
			name, len(got.Conflicts), wantN, base, ours, theirs, want, got.Merged)
		return
	}
	if !bytes.Equal(want, got.Merged) {
		t.Errorf("%s: output differs from git merge-file (%d conflicts)\nbase:\n%s\nours:\n%s\ntheirs:\n%s\ngit:\n%q\ngot:\n%q",
			name, wantN, base, ours, theirs, want, got.Merged)
	}
}

func lines(ls ...string) []byte {
	if len(ls) == 0 {
		return nil
	}
	return []byte(strings.Join(ls, "\n") + "\n")
}

func TestMergeHandCases(t *testing.T) {
	base := lines("apiVersion: addonsync.io/v1alpha1", "kind: Addon", "spec:", "  chart:", "    name: ingress-nginx",
		"    version: 4.14.5", "    repository: https://kubernetes.github.io/ingress-nginx", "  namespace: ingress-nginx", "  prune: true")
	edit := func(data []byte, line int, text string) []byte {
		ls := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		ls[line] = text
		return lines(ls...)
	}
	del := func(data []byte, line int) []byte {
		ls := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		return lines(append(ls[:line:line], ls[line+1:]...)...)
	}
	ins := func(data []byte, line int, text string) []byte {
		ls := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		return lines(append(append(ls[:line:line], text), ls[line:]...)...)
	}
	cases := []struct {
		name          string
		ours, theirs  []byte
		wantConflicts int
		base          []byte // default: the addon.yaml above
	}{
		{"theirs only", base, edit(base, 5, "    version: 4.15.1"), 0, nil},
		{"ours only", edit(base, 5, "    version: 4.13.0"), base, 0, nil},
		{"edits two lines apart", edit(base, 7, "  namespace: ingress"), edit(base, 5, "    version: 4.15.1"), 0, nil},
		{"edits one line apart", edit(base, 6, "    repository: https://mirror.example/ingress"), edit(base, 4, "    name: nginx"), 0, nil},
		{"adjacent edits", edit(base, 6, "    repository: https://mirror.example/ingress"), edit(base, 5, "    version: 4.15.1"), 1, nil},
		{"same line differently", edit(base, 5, "    version: 4.13.0"), edit(base, 5, "    version: 4.15.1"), 1, nil},
		{"both sides same change", edit(base, 5, "    version: 4.15.1"), edit(base, 5, "    version: 4.15.1"), 0, nil},
		{"same change plus another", edit(edit(base, 5, "    version: 4.15.1"), 0, "apiVersion: v1"), edit(base, 5, "    version: 4.15.1"), 0, nil},
		{"delete vs edit elsewhere", del(base, 8), edit(base, 5, "    version: 4.15.1"), 0, nil},
		{"delete vs edit same", del(base, 5), edit(base, 5, "    version: 4.15.1"), 1, nil},
		{"both delete", del(base, 5), del(base, 5), 0, nil},
		{"insert at same place", ins(base, 3, "  # pinned"), ins(base, 3, "  # mirror"), 1, nil},
		{"insert at end both", ins(base, 9, "  x: 1"), ins(base, 9, "  y: 2"), 1, nil},
		{"ours no final newline", bytes.TrimSuffix(base, []byte("\n")), edit(base, 2, "spec: {}"), 0, nil},
		{"theirs no final newline at edit", base, bytes.TrimSuffix(edit(base, 8, "  prune: false"), []byte("\n")), 0, nil},
		{"both change last line, no newline", bytes.TrimSuffix(edit(base, 8, "  prune: no"), []byte("\n")), bytes.TrimSuffix(edit(base, 8, "  prune: false"), []byte("\n")), 1, nil},
		{"ours emptied, theirs edits", nil, edit(base, 5, "    version: 4.15.1"), 1, nil},
		{"empty base", nil, lines("a: 1"), 0, []byte{}},
		{"empty base both add", lines("a: 1"), lines("b: 2"), 1, []byte{}},
		{"empty base same add", lines("a: 1"), lines("a: 1"), 0, []byte{}},
		{"conflicts joined across three lines", edit(edit(base, 1, "kind: A"), 5, "    version: 1"), edit(edit(base, 1, "kind: B"), 5, "    version: 2"), 1, nil},
		{"conflicts apart", edit(edit(base, 0, "apiVersion: a"), 8, "  prune: a"), edit(edit(base, 0, "apiVersion: b"), 8, "  prune: b"), 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := base
			if c.base != nil {
				base = c.base
			}
			got := Merge(base, c.ours, c.theirs, mergeFileOptions())
			if len(got.Conflicts) != c.wantConflicts {
				t.Errorf("%d conflicts, want %d:\n%s", len(got.Conflicts), c.wantConflicts, got.Merged)
			}
			checkAgainstGit(t, c.name, base, c.ours, c.theirs)
		})
	}
}

// yamlVocabulary makes lines that repeat like YAML does: keys, list items, braces,
// blank lines and document separators (lines without letters exercise the alnum rule).
var yamlVocabulary = []string{
	"---", "", "spec:", "  replicas: 1", "  replicas: 2", "  - name: controller", "  - name: webhook",
	"    enabled: true", "    enabled: false", "    image: registry.k8s.io/ingress-nginx/controller",
	"metadata:", "  name: ingress-nginx", "  namespace: ingress-nginx", "  labels: {}", "  }", "]", "#",
	"    version: 4.14.5", "    version: 4.15.1", "      - 10.0.0.0/24", "      - 10.0.1.0/24", "  resources:",
	"    limits:", "      cpu: 100m", "      memory: 128Mi", "    requests:",
}

func randLine(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return fmt.Sprintf("  key%d: value%d", r.IntN(40), r.IntN(5))
	}
	return yamlVocabulary[r.IntN(len(yamlVocabulary))]
}

func randFile(r *rand.Rand) []string {
	n := r.IntN(40)
	out := make([]string, n)
	for i := range out {
		out[i] = randLine(r)
	}
	return out
}

// mutate applies a few random line edits: replace, insert, delete, duplicate a run.
func mutate(r *rand.Rand, ls []string) []string {
	out := append([]string(nil), ls...)
	for range 1 + r.IntN(4) {
		at := 0
		if len(out) > 0 {
			at = r.IntN(len(out) + 1)
		}
		switch op := r.IntN(4); {
		case op == 0 && at < len(out):
			out[at] = randLine(r)
		case op == 1:
			block := []string{randLine(r)}
			if r.IntN(2) == 0 {
				block = append(block, randLine(r))
			}
			out = append(out[:at], append(block, out[at:]...)...)
		case op == 2 && at < len(out):
			n := min(1+r.IntN(3), len(out)-at)
			out = append(out[:at], out[at+n:]...)
		case op == 3 && at < len(out):
			n := min(1+r.IntN(3), len(out)-at)
			run := append([]string(nil), out[at:at+n]...)
			out = append(out[:at], append(run, out[at:]...)...)
		}
	}
	return out
}

func render(r *rand.Rand, ls []string) []byte {
	data := lines(ls...)
	if len(data) > 0 && r.IntN(8) == 0 {
		data = data[:len(data)-1] // no newline at end of file
	}
	return data
}

func TestMergeMatchesGitMergeFileOnGeneratedInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2026))
	const cases = 600
	var clean, conflicted int
	for i := range cases {
		base := randFile(r)
		ours := mutate(r, base)
		var theirs []string
		switch r.IntN(5) {
		case 0: // theirs repeats ours' edits and adds its own
			theirs = mutate(r, ours)
		case 1: // same change on both sides
			theirs = ours
		default:
			theirs = mutate(r, base)
		}
		b, o, th := render(r, base), render(r, ours), render(r, theirs)
		name := fmt.Sprintf("case %d", i)
		checkAgainstGit(t, name, b, o, th)
		if Merge(b, o, th, mergeFileOptions()).Clean() {
			clean++
		} else {
			conflicted++
		}
		if t.Failed() {
			t.Fatalf("stopping at the first difference (%s)", name)
		}
	}
	// The generator must exercise both verdicts, or the comparison proves little.
	if clean < cases/5 || conflicted < cases/5 {
		t.Fatalf("generator gave %d clean and %d conflicting merges of %d; want at least %d of each", clean, conflicted, cases, cases/5)
	}
	t.Logf("%d clean, %d conflicting merges identical to git merge-file", clean, conflicted)
}
