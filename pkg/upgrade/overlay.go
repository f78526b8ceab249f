package upgrade

import (
	"errors"
	"io/fs"
	"maps"
	"slices"
	"testing/fstest"

	"github.com/addonsync/addonsync/internal/fsdir"
)

// overlayFS serves files over base: a path in files reads from files, and a directory that
// holds one of them lists base's entries and files' together (files' winning).
type overlayFS struct {
	base  fs.FS
	files fstest.MapFS
}

// overlay returns base with files (path → content) replaced or added.
func overlay(base fs.FS, files map[string][]byte) fs.FS {
	m := fstest.MapFS{}
	for p, data := range files {
		m[p] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return overlayFS{base: base, files: m}
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if _, ok := o.files[name]; ok {
		return o.files.Open(name)
	}
	if _, err := fs.ReadDir(o.files, name); err != nil {
		return o.base.Open(name) // holds no overlay file
	}
	entries, err := o.ReadDir(name)
	if err != nil {
		return nil, err
	}
	f, err := o.files.Open(name)
	if err != nil {
		return nil, err
	}
	return &unionDir{File: f, Entries: fsdir.NewEntries(entries)}, nil
}

func (o overlayFS) ReadFile(name string) ([]byte, error) {
	if f, ok := o.files[name]; ok {
		return slices.Clone(f.Data), nil
	}
	return fs.ReadFile(o.base, name)
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	over, oerr := fs.ReadDir(o.files, name)
	base, berr := fs.ReadDir(o.base, name)
	if oerr != nil {
		return base, berr
	}
	if berr != nil && !errors.Is(berr, fs.ErrNotExist) {
		return nil, berr
	}
	byName := map[string]fs.DirEntry{}
	for _, e := range append(base, over...) {
		byName[e.Name()] = e
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, n := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[n])
	}
	return out, nil
}

// unionDir is an open directory of an overlayFS.
type unionDir struct {
	fs.File
	fsdir.Entries
}
