package config

import (
	"io/fs"
	"testing"
)

func BenchmarkLoadWorktree(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenWorktree("testdata/valid"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenRef(b *testing.B) {
	g := newGitRepo(b, b.TempDir())
	g.copyTree("testdata/valid", ".")
	g.commit("first")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := OpenRef(g.dir, "main"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTreeFSWalk(b *testing.B) {
	g := newGitRepo(b, b.TempDir())
	g.copyTree("testdata/valid", ".")
	g.commit("first")
	cfg, err := OpenRef(g.dir, "main")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		err := fs.WalkDir(cfg.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			_, err = fs.ReadFile(cfg.FS, p)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
