package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sync/errgroup"
	yamlv3 "gopkg.in/yaml.v3"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/pkg/config"
)

// LoadLock reads addonsync.lock from the root of fsys; a missing file is an empty lock.
func LoadLock(fsys fs.FS) (*config.Lock, error) {
	l := &config.Lock{TypeMeta: config.TypeMeta{APIVersion: config.APIVersion, Kind: "Lock"}}
	data, err := fs.ReadFile(fsys, config.LockFile)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.LockFile, err)
	}
	if err := yaml.UnmarshalStrict(data, l); err != nil {
		return nil, fmt.Errorf("%s: invalid lock file: %w (fix it, or delete it and render again to re-pin every chart)", config.LockFile, err)
	}
	sortLock(l)
	return l, nil
}

// WriteLock writes l to path, entries sorted by source, name and version, so the same lock
// always gives the same bytes. The file is replaced atomically.
func WriteLock(path string, l *config.Lock) error {
	out := *l
	out.Charts = append([]config.LockedChart(nil), l.Charts...)
	out.APIVersion, out.Kind = config.APIVersion, "Lock"
	sortLock(&out)
	if out.Charts == nil {
		out.Charts = []config.LockedChart{}
	}
	var buf bytes.Buffer
	buf.WriteString("# Chart digests pinned by addonsync; written by addonsync, reviewed in pull requests.\n")
	enc := yamlv3.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(lockFile{APIVersion: out.APIVersion, Kind: out.Kind, Charts: lockEntries(out.Charts)}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	data := buf.Bytes()
	return writeFileAtomic(path, data)
}

// LookupLock returns the digest l pins for a chart version.
func LookupLock(l *config.Lock, source, name, version string) (digest string, ok bool) {
	if l == nil {
		return "", false
	}
	for _, c := range l.Charts {
		if c.Source == source && c.Name == name && c.Version == version {
			return c.Digest, true
		}
	}
	return "", false
}

// SetLock pins digest for a chart version in l, replacing an existing entry, keeping l sorted.
func SetLock(l *config.Lock, source, name, version, digest string) {
	for i, c := range l.Charts {
		if c.Source == source && c.Name == name && c.Version == version {
			l.Charts[i].Digest = digest
			return
		}
	}
	l.Charts = append(l.Charts, config.LockedChart{Source: source, Name: name, Version: version, Digest: digest})
	sortLock(l)
}

func sortLock(l *config.Lock) {
	sort.SliceStable(l.Charts, func(i, j int) bool {
		a, b := l.Charts[i], l.Charts[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
}

// writeFileAtomic writes data to a temporary file next to path and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// lockFile orders the keys of addonsync.lock for people: apiVersion, kind, then charts.
type lockFile struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Charts     []lockEntry `yaml:"charts"`
}

type lockEntry struct {
	Source  string `yaml:"source"`
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	Digest  string `yaml:"digest"`
}

func lockEntries(cs []config.LockedChart) []lockEntry {
	out := make([]lockEntry, len(cs))
	for i, c := range cs {
		out[i] = lockEntry(c)
	}
	return out
}

// Lock pins every chart version the config's add-ons use from a repository: it pulls each
// (from the cache when addonsync.lock already pins it), checks pinned ones against their
// digest, and returns the lock with an entry for each and the entries it added. The lock
// is not written; see WriteLock.
func (r *Renderer) Lock(ctx context.Context, cfg *config.Config) (lock *config.Lock, added []config.LockedChart, err error) {
	if lock, err = LoadLock(cfg.FS); err != nil {
		return nil, nil, inputError(err)
	}
	names := cfg.AddonNames()
	infos := make([]*ChartInfo, len(names))
	errs := make([]error, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Concurrency)
	for i, name := range names {
		spec := cfg.Addons[name].Spec.Chart
		if spec == nil || spec.Repository == "" {
			continue
		}
		g.Go(func() error {
			if _, infos[i], errs[i] = r.chartFor(gctx, cfg, lock, spec, false); errs[i] != nil {
				errs[i] = fmt.Errorf("add-on %q: %w", name, errs[i])
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, inputError(err)
	}
	for _, info := range infos {
		if info == nil {
			continue
		}
		if _, ok := LookupLock(lock, info.Source, info.Name, info.Version); !ok {
			SetLock(lock, info.Source, info.Name, info.Version, info.Digest)
			added = append(added, config.LockedChart{Source: info.Source, Name: info.Name, Version: info.Version, Digest: info.Digest})
		}
	}
	return lock, added, nil
}
