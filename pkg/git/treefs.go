package git

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/addonsync/addonsync/internal/fsdir"
)

// maxSymlinks bounds how many symlinks one lookup follows.
const maxSymlinks = 40

// treeFS serves a git tree as a read-only file system, without a checkout. It implements
// fs.FS, fs.ReadDirFS, fs.ReadFileFS and fs.StatFS, follows symlinks that stay inside the
// tree, and reports every file's modification time as the commit time. Submodules are not
// served. It is safe for concurrent use.
type treeFS struct {
	mu      sync.Mutex // guards the object storer and trees, which are not safe for concurrent use
	objects storer.EncodedObjectStorer
	root    *object.Tree
	trees   map[plumbing.Hash]*object.Tree
	modTime time.Time
}

// NewTreeFS returns a file system serving a git tree read from objects, with modTime as
// every file's modification time.
func NewTreeFS(objects storer.EncodedObjectStorer, tree *object.Tree, modTime time.Time) fs.FS {
	return &treeFS{objects: objects, root: tree, trees: map[plumbing.Hash]*object.Tree{}, modTime: modTime}
}

var (
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
)

// node is a resolved path: a tree entry, or the root when entry is nil.
type node struct {
	name  string // base name ("." for the root)
	entry *object.TreeEntry
}

func (n node) isDir() bool { return n.entry == nil || n.entry.Mode == filemode.Dir }

// resolve finds name in the tree, following symlinks (also the final one when follow is set).
func (f *treeFS) resolve(op, name string, follow bool) (node, error) {
	if !fs.ValidPath(name) {
		return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	orig := name
hops:
	for hop := 0; hop <= maxSymlinks; hop++ {
		if name == "." {
			return node{name: "."}, nil
		}
		parts := strings.Split(name, "/")
		tree := f.root
		for i, part := range parts {
			e, err := tree.FindEntry(part)
			if err != nil || e.Mode == filemode.Submodule {
				return node{}, &fs.PathError{Op: op, Path: orig, Err: fs.ErrNotExist}
			}
			last := i == len(parts)-1
			if e.Mode == filemode.Symlink && (!last || follow) {
				target, err := f.blob(e.Hash)
				if err != nil {
					return node{}, &fs.PathError{Op: op, Path: orig, Err: err}
				}
				next, err := followSymlink(path.Join(parts[:i]...), string(target), path.Join(parts[i+1:]...))
				if err != nil {
					return node{}, &fs.PathError{Op: op, Path: orig, Err: err}
				}
				name = next
				continue hops
			}
			if last {
				return node{name: part, entry: e}, nil
			}
			if e.Mode != filemode.Dir {
				return node{}, &fs.PathError{Op: op, Path: orig, Err: fs.ErrNotExist}
			}
			if tree, err = f.tree(e.Hash); err != nil {
				return node{}, &fs.PathError{Op: op, Path: orig, Err: err}
			}
		}
	}
	return node{}, &fs.PathError{Op: op, Path: orig, Err: errors.New("too many levels of symbolic links")}
}

// followSymlink returns the path a symlink in dir pointing to target leads to, with rest
// (what follows the symlink in the looked-up path) appended. A target that leaves the
// tree, absolute or through "..", is a *SymlinkError: it is refused, never served as
// missing, so a ref renders exactly as the working tree of the same commit does.
func followSymlink(dir, target, rest string) (string, error) {
	next := path.Join(dir, target, rest)
	if path.IsAbs(target) || !fs.ValidPath(next) || !fs.ValidPath(path.Join(dir, target)) {
		return "", &SymlinkError{Target: target}
	}
	return next, nil
}

func (f *treeFS) tree(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := f.trees[h]; ok {
		return t, nil
	}
	t, err := object.GetTree(f.objects, h)
	if err != nil {
		return nil, err
	}
	f.trees[h] = t
	return t, nil
}

func (f *treeFS) blob(h plumbing.Hash) ([]byte, error) {
	b, err := object.GetBlob(f.objects, h)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// info describes a node; it reads the blob size for files.
func (f *treeFS) info(n node) (fileInfo, error) {
	fi := fileInfo{name: n.name, modTime: f.modTime, mode: fs.ModeDir | 0o755}
	if n.entry == nil || n.entry.Mode == filemode.Dir {
		return fi, nil
	}
	switch n.entry.Mode {
	case filemode.Executable:
		fi.mode = 0o755
	case filemode.Symlink:
		fi.mode = fs.ModeSymlink | 0o777
	default:
		fi.mode = 0o644
	}
	size, err := f.objects.EncodedObjectSize(n.entry.Hash)
	if err != nil {
		return fileInfo{}, err
	}
	fi.size = size
	return fi, nil
}

// stat resolves name (following symlinks) and describes it; errors are *fs.PathError
// with op. The caller holds f.mu.
func (f *treeFS) stat(op, name string) (node, fileInfo, error) {
	n, err := f.resolve(op, name, true)
	if err != nil {
		return node{}, fileInfo{}, err
	}
	fi, err := f.info(n)
	if err != nil {
		return node{}, fileInfo{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return n, fi, nil
}

func (f *treeFS) Open(name string) (fs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, fi, err := f.stat("open", name)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		entries, err := f.readDir(n)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: fi, Entries: fsdir.NewEntries(entries)}, nil
	}
	data, err := f.blob(n.entry.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &file{info: fi, Reader: bytes.NewReader(data)}, nil
}

func (f *treeFS) ReadFile(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.resolve("read", name, true)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	data, err := f.blob(n.entry.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	entries, err := f.readDir(n)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return entries, nil
}

func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, fi, err := f.stat("stat", name)
	if err != nil {
		return nil, err
	}
	return fi, nil
}

// readDir lists a directory node, sorted by name, without submodules.
func (f *treeFS) readDir(n node) ([]fs.DirEntry, error) {
	t := f.root
	if n.entry != nil {
		var err error
		if t, err = f.tree(n.entry.Hash); err != nil {
			return nil, err
		}
	}
	out := make([]fs.DirEntry, 0, len(t.Entries))
	for i := range t.Entries {
		e := &t.Entries[i]
		if e.Mode == filemode.Submodule {
			continue
		}
		fi, err := f.info(node{name: e.Name, entry: e})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return fi.modTime }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi fileInfo) Sys() any           { return nil }

// file is an open regular file; its contents are read in full when opened.
type file struct {
	info fileInfo
	*bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

// dirFile is an open directory.
type dirFile struct {
	info fileInfo
	fsdir.Entries
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
