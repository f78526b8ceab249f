package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// loader reads one config repo; it keeps every decoded document for locating errors
// found after decoding.
type loader struct {
	fsys     fs.FS
	errs     problems
	repoDoc  *document
	addonDoc map[string]*document // by add-on (directory) name
	// broken are add-on directories whose addon.yaml is missing or unreadable; their
	// problem is reported once, not again where a cluster or dependsOn names them.
	broken   map[string]bool
	clustDoc map[string]*document // by cluster (directory) name
	// maxFile is the per-file size limit of addonsync.yaml.
	maxFile int64
}

// Load reads, defaults and validates the config repo at the root of fsys: addonsync.yaml
// (optional), addons/*/addon.yaml and clusters/*/cluster.yaml. Every problem found is
// returned as an Errors, sorted by file and line; the Config is nil then. Other failures
// (a file that cannot be read) are returned as they are.
func Load(fsys fs.FS) (*Config, error) {
	l := &loader{fsys: fsys, addonDoc: map[string]*document{}, clustDoc: map[string]*document{}, broken: map[string]bool{}}
	cfg := &Config{FS: fsys, Addons: map[string]*Addon{}, Clusters: map[string]*Cluster{}}

	var err error
	if cfg.Repository, err = l.loadRepository(); err != nil {
		return nil, err
	}
	l.maxFile, _ = cfg.Repository.Spec.Limits.parse()
	addonDirs, err := l.subdirs(AddonsDir)
	if err != nil {
		return nil, err
	}
	clusterDirs, err := l.subdirs(ClustersDir)
	if err != nil {
		return nil, err
	}
	if l.repoDoc == nil && addonDirs == nil && clusterDirs == nil {
		return nil, Errors{{File: ".", Message: "not an addonsync config repo: no " + RepositoryFile + ", " +
			AddonsDir + "/ or " + ClustersDir + "/", Hint: "run addonsync in the config repo or pass --repo DIR"}}
	}
	for _, name := range addonDirs {
		a := &Addon{File: path.Join(AddonsDir, name, AddonFile), Dir: path.Join(AddonsDir, name)}
		doc, err := l.loadObject(a.File, KindAddon, a)
		if err != nil {
			return nil, err
		}
		if doc != nil {
			cfg.Addons[name], l.addonDoc[name] = a, doc
		} else {
			l.broken[name] = true
		}
	}
	for _, name := range clusterDirs {
		c := &Cluster{File: path.Join(ClustersDir, name, ClusterFile), Dir: path.Join(ClustersDir, name)}
		doc, err := l.loadObject(c.File, KindCluster, c)
		if err != nil {
			return nil, err
		}
		if doc != nil {
			cfg.Clusters[name], l.clustDoc[name] = c, doc
		}
	}

	if err := l.validate(cfg); err != nil {
		return nil, err
	}
	if err := l.errs.err(); err != nil {
		return nil, err
	}
	applyDefaults(cfg)
	return cfg, nil
}

// loadRepository reads addonsync.yaml, or returns the defaults when there is none.
func (l *loader) loadRepository() (*Repository, error) {
	r := &Repository{File: RepositoryFile}
	doc, err := l.loadObject(RepositoryFile, KindRepository, r)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d := DefaultRepository()
		d.File = ""
		return d, nil
	case err != nil:
		return nil, err
	}
	l.repoDoc = doc
	return r, nil
}

// loadObject reads one config file into out and checks its apiVersion and kind. It returns a
// nil document (and records the problem) when the file is not valid YAML or not a mapping.
func (l *loader) loadObject(file, kind string, out any) (*document, error) {
	data, err := fs.ReadFile(l.fsys, file)
	if l.outside(file, err) {
		return nil, nil
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && file != RepositoryFile {
			l.errs.fileError(path.Dir(file), "add "+file+" or remove the directory",
				"directory has no %s", path.Base(file))
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	root, perr := parseYAML(file, data)
	switch {
	case perr != nil:
		l.errs.add(perr)
		return nil, nil
	case root == nil:
		l.errs.fileError(file, "start it with apiVersion: "+APIVersion+" and kind: "+kind, "file is empty")
		return nil, nil
	}
	doc := decodeFile(file, kind, root, out, &l.errs)
	tm := typeMetaOf(out)
	if tm.APIVersion != "" && tm.APIVersion != APIVersion {
		l.errs.add(doc.at("apiVersion", "", "must be %q, got %q", APIVersion, tm.APIVersion))
	}
	if tm.Kind != "" && tm.Kind != kind {
		l.errs.add(doc.at("kind", "", "must be %q in %s, got %q", kind, path.Base(file), tm.Kind))
	}
	return doc, nil
}

func typeMetaOf(obj any) TypeMeta {
	switch o := obj.(type) {
	case *Repository:
		return o.TypeMeta
	case *Addon:
		return o.TypeMeta
	case *Cluster:
		return o.TypeMeta
	}
	return TypeMeta{}
}

// subdirs lists the directories directly under dir, sorted; nil when dir does not exist.
// Files and dot-directories are ignored.
func (l *loader) subdirs(dir string) ([]string, error) {
	entries, err := fs.ReadDir(l.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	names := []string{}
	for _, e := range entries {
		if e.Name()[0] == '.' {
			continue
		}
		if ok, err := isDir(l.fsys, path.Join(dir, e.Name()), e); err != nil {
			return nil, err
		} else if ok {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// isDir reports whether the entry is a directory, following a symlink.
func isDir(fsys fs.FS, name string, e fs.DirEntry) (bool, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	fi, err := fs.Stat(fsys, name)
	if errors.Is(err, ErrOutsideRepo) {
		return false, nil // checkPaths reports it
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return fi.IsDir(), nil
}

// exists reports whether name exists in fsys, and whether it is a directory.
func exists(fsys fs.FS, name string) (found, dir bool, err error) {
	fi, err := fs.Stat(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("%s: %w", name, err)
	}
	return true, fi.IsDir(), nil
}
