package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/pkg/git"
)

// ErrOutsideRepo is matched (errors.Is) by every error about a path that resolves, through a
// symlink or "..", outside the config repo (git.ErrOutsideRepo, shared with git trees).
var ErrOutsideRepo = git.ErrOutsideRepo

// SymlinkError is a symlink of the config repo that points outside it (git.SymlinkError,
// shared with git trees). The file it points to is never read.
type SymlinkError = git.SymlinkError

// worktreeFS serves a directory like os.DirFS, but resolves every symlink and refuses, with a
// *SymlinkError, any path that resolves outside the directory.
type worktreeFS struct {
	dir  string // as given, for os.DirFS
	real string // the directory with its own symlinks resolved
	fsys fs.FS
}

// NewWorktreeFS returns the file system of the config repo in dir, symlinks followed only
// while they stay inside it.
func NewWorktreeFS(dir string) (fs.FS, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return nil, fmt.Errorf("config repo %s: %w", dir, err)
	}
	return &worktreeFS{dir: dir, real: real, fsys: os.DirFS(dir)}, nil
}

var (
	_ fs.ReadDirFS  = (*worktreeFS)(nil)
	_ fs.ReadFileFS = (*worktreeFS)(nil)
	_ fs.StatFS     = (*worktreeFS)(nil)
)

// check resolves name's symlinks and refuses it when it leaves the repo; a missing file is
// left to the operation to report.
func (f *worktreeFS) check(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	full := filepath.Join(f.real, filepath.FromSlash(name))
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		// A dangling symlink: refused as in a git ref when its target leaves the repo, so
		// the working tree and a ref of the same commit agree; else missing, as the
		// operation reports.
		if link, lerr := os.Readlink(full); lerr == nil {
			target := link
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(full), target)
			}
			if rel, rerr := filepath.Rel(f.real, filepath.Clean(target)); rerr != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return &fs.PathError{Op: op, Path: name, Err: &SymlinkError{Target: link}}
			}
		}
		return nil
	}
	if rel, err := filepath.Rel(f.real, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		target := resolved
		if link, err := os.Readlink(filepath.Join(f.real, filepath.FromSlash(name))); err == nil {
			target = link // the symlink itself, as written, when the last element is one
		}
		return &fs.PathError{Op: op, Path: name, Err: &SymlinkError{Target: target}}
	}
	return nil
}

func (f *worktreeFS) Open(name string) (fs.File, error) {
	if err := f.check("open", name); err != nil {
		return nil, err
	}
	return f.fsys.Open(name)
}

func (f *worktreeFS) ReadFile(name string) ([]byte, error) {
	if err := f.check("read", name); err != nil {
		return nil, err
	}
	return fs.ReadFile(f.fsys, name)
}

func (f *worktreeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check("readdir", name); err != nil {
		return nil, err
	}
	return fs.ReadDir(f.fsys, name)
}

func (f *worktreeFS) Stat(name string) (fs.FileInfo, error) {
	if err := f.check("stat", name); err != nil {
		return nil, err
	}
	return fs.Stat(f.fsys, name)
}

// outsideHint says what to do about a path leaving the repo.
const outsideHint = "replace the symlink with the file itself, or point it inside the config repo"

// outside records err as a problem of file when it is about a path leaving the repo, and
// reports whether it did.
func (l *loader) outside(file string, err error) bool {
	var se *SymlinkError
	if !errors.As(err, &se) {
		return false
	}
	l.errs.fileError(file, outsideHint, "%v", se)
	return true
}

// checkPaths checks every file the config names, for every cluster and add-on: under
// addons/ and clusters/, the in-repo charts and what the kustomizations list. Each must
// resolve inside the repo and be no larger than the per-file limit.
func (l *loader) checkPaths(cfg *Config) error {
	maxFile, _ := cfg.Repository.Spec.Limits.parse()
	roots := []string{AddonsDir, ClustersDir}
	for _, name := range cfg.AddonNames() {
		if ch := cfg.Addons[name].Spec.Chart; ch != nil && ch.Path != "" && !escapes(ch.Path) {
			roots = append(roots, path.Clean(ch.Path))
		}
	}
	seen := map[string]bool{}
	for len(roots) > 0 {
		root := roots[0]
		roots = roots[1:]
		if seen[root] {
			continue
		}
		seen[root] = true
		refs, err := l.walkChecked(cfg.FS, root, maxFile)
		if err != nil {
			return err
		}
		roots = append(roots, refs...)
	}
	return nil
}

// walkChecked walks root, recording symlinks that leave the repo, files over maxFile bytes
// and bad kustomization references; it returns the local paths kustomizations refer to.
func (l *loader) walkChecked(fsys fs.FS, root string, maxFile int64) ([]string, error) {
	var refs []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			if l.outside(p, err) {
				return fs.SkipDir
			}
			return err
		case d.IsDir():
			return nil
		}
		fi, err := fs.Stat(fsys, p) // follows a symlink
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			if l.outside(p, err) {
				return nil
			}
			return err
		}
		if fi.IsDir() { // a symlink to a directory inside the repo
			refs = append(refs, p)
			return nil
		}
		if fi.Size() > maxFile {
			l.errs.fileError(p, fmt.Sprintf("shrink it, or raise spec.limits.maxFileSize in %s", RepositoryFile),
				"file is %s, over the limit of %s per file", FormatBytes(fi.Size()), FormatBytes(maxFile))
			return nil
		}
		switch path.Base(p) {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
			r, err := l.kustomizationRefs(fsys, p)
			if err != nil {
				return err
			}
			refs = append(refs, r...)
		}
		return nil
	})
	return refs, err
}

// kustomizationRefs checks the local paths a kustomization lists and returns them.
func (l *loader) kustomizationRefs(fsys fs.FS, file string) ([]string, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil {
		l.errs.fileError(file, "fix the YAML", "invalid kustomization: %v", err)
		return nil, nil
	}
	var out []string
	for _, field := range []string{"resources", "components", "bases"} {
		list, _ := k[field].([]any)
		for i, v := range list {
			ref, _ := v.(string)
			if ref == "" || strings.Contains(ref, "://") || strings.HasPrefix(ref, "github.com/") {
				continue
			}
			at := fmt.Sprintf("%s[%d]", field, i)
			p := path.Clean(path.Join(path.Dir(file), ref))
			if path.IsAbs(ref) || escapes(p) {
				l.errs.add(&Error{
					File: file, Field: at, Message: fmt.Sprintf("%q is outside the config repo", ref),
					Hint: "list a path inside the config repo",
				})
				continue
			}
			if _, err := fs.Stat(fsys, p); err != nil {
				var se *SymlinkError
				switch {
				case errors.As(err, &se):
					l.errs.add(&Error{File: file, Field: at, Message: fmt.Sprintf("%q: %v", ref, se), Hint: outsideHint})
				case !errors.Is(err, fs.ErrNotExist):
					return nil, fmt.Errorf("%s: %s: %w", file, at, err)
				}
				continue
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// escapes reports whether a cleaned relative path leaves the repo root.
func escapes(p string) bool {
	p = path.Clean(p)
	return path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../")
}

// FormatBytes prints a size in KiB or MiB (or bytes under 1 KiB), as the size limits
// of config trees and charts are reported.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
