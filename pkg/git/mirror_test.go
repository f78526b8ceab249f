package git

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestDefaultBranch(t *testing.T) {
	a := plumbing.NewHash("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	b := plumbing.NewHash("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	branch := func(name string, h plumbing.Hash) *plumbing.Reference {
		return plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), h)
	}
	for _, tc := range []struct {
		name string
		refs []*plumbing.Reference
		want string
	}{
		{"HEAD names its branch", []*plumbing.Reference{
			plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("trunk")),
			branch("main", a), branch("trunk", b),
		}, "trunk"},
		{"main at HEAD", []*plumbing.Reference{plumbing.NewHashReference(plumbing.HEAD, a), branch("main", a), branch("dev", a)}, "main"},
		{"main not at HEAD", []*plumbing.Reference{plumbing.NewHashReference(plumbing.HEAD, b), branch("main", a), branch("trunk", b)}, "trunk"},
		{"no HEAD: main", []*plumbing.Reference{branch("release-1.34", a), branch("main", b)}, "main"},
		{"no HEAD, no main: master", []*plumbing.Reference{branch("release-1.34", a), branch("master", b)}, "master"},
		{"no HEAD, no main or master: first", []*plumbing.Reference{branch("zeta", a), branch("alpha", b)}, "alpha"},
		{"no branches", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultBranch(tc.refs); got != tc.want {
				t.Errorf("defaultBranch = %q, want %q", got, tc.want)
			}
		})
	}
}
