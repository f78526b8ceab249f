package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
	"sigs.k8s.io/yaml"

	"github.com/addonsync/addonsync/internal/redact"
	"github.com/addonsync/addonsync/pkg/config"
)

// DigestMismatchError is returned when a pulled chart differs from the one addonsync.lock pins.
type DigestMismatchError struct {
	Source, Name, Version string
	// Locked is the digest in addonsync.lock; Pulled the digest of what was downloaded.
	Locked, Pulled string
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("chart %s %s from %s: pulled archive has digest %s but %s pins %s; the chart was "+
		"republished upstream or altered on the way: check the upstream release, and only if you trust "+
		"the new archive replace the entry in %s", e.Name, e.Version, redact.URL(e.Source), e.Pulled, config.LockFile, e.Locked, config.LockFile)
}

// NotLockedError is returned with Options.RequireLocked for a chart addonsync.lock does not pin.
type NotLockedError struct {
	Source, Name, Version, Digest string
}

func (e *NotLockedError) Error() string {
	return fmt.Sprintf("chart %s %s from %s is not pinned in %s (pulled digest %s): add the entry "+
		"(run addonsync lock, and review and commit the new entry)", e.Name, e.Version, redact.URL(e.Source), config.LockFile, e.Digest)
}

// chartFor fetches the chart of an add-on: from the cache, a repository or the config repo.
// With requireLocked (Options.RequireLocked for renders), a chart the lock does not pin is a
// *NotLockedError.
func (r *Renderer) chartFor(ctx context.Context, cfg *config.Config, lock *config.Lock, spec *config.ChartSpec, requireLocked bool) (*chartFiles, *ChartInfo, error) {
	if spec.Path != "" {
		return r.dirChart(cfg.FS, spec.Path)
	}
	source := strings.TrimSuffix(spec.Repository, "/")
	info := &ChartInfo{Name: spec.Name, Version: spec.Version, Source: source}
	locked, isLocked := LookupLock(lock, source, spec.Name, spec.Version)

	digest := locked
	if !isLocked {
		digest = r.charts.ref(source, spec.Name, spec.Version)
	}
	var cf *chartFiles
	if digest != "" {
		var err error
		if cf, err = r.charts.get(digest); err != nil {
			return nil, nil, err
		}
	}
	if cf == nil {
		v, err, _ := r.flight.Do("chart\x00"+source+"\x00"+spec.Name+"\x00"+spec.Version, func() (any, error) {
			rm, err := r.resolveRemote(cfg, source)
			if err != nil {
				return nil, err
			}
			r.log.Debug("downloading chart", "source", redact.URL(rm.URL), "chart", spec.Name, "version", spec.Version)
			data, err := r.download(ctx, rm, spec.Name, spec.Version)
			if err != nil {
				return nil, err
			}
			if isLocked && digestOf(data) != locked {
				return nil, &DigestMismatchError{Source: source, Name: spec.Name, Version: spec.Version, Locked: locked, Pulled: digestOf(data)}
			}
			return r.charts.put(source, spec.Name, spec.Version, data)
		})
		if err != nil {
			return nil, nil, err
		}
		cf = v.(*chartFiles)
	}
	if !isLocked && requireLocked {
		return nil, nil, &NotLockedError{Source: source, Name: spec.Name, Version: spec.Version, Digest: cf.digest}
	}
	if cf.meta.Name != spec.Name || cf.meta.Version != spec.Version {
		return nil, nil, fmt.Errorf("chart %s %s from %s: the archive contains chart %s %s", spec.Name, spec.Version, redact.URL(source), cf.meta.Name, cf.meta.Version)
	}
	info.Digest = cf.digest
	info.KubeVersion = cf.meta.KubeVersion
	return cf, info, nil
}

// dirChart loads a chart directory of the config repo, honouring .helmignore. Its digest
// is of the file tree (paths and contents).
func (r *Renderer) dirChart(fsys fs.FS, dir string) (*chartFiles, *ChartInfo, error) {
	dir = path.Clean(dir)
	rules := ignore.Empty()
	if data, err := fs.ReadFile(fsys, path.Join(dir, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.Parse(strings.NewReader(string(data))); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path.Join(dir, ignore.HelmIgnore), err)
		}
	}
	rules.AddDefaults()
	var files []*loader.BufferedFile
	h := sha256.New()
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if rel == "" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(rel, fi) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(data))
		h.Write(data)
		files = append(files, &loader.BufferedFile{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("chart directory %s: %w", dir, err)
	}
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	cf, err := r.charts.rememberFiles(digest, files)
	if err != nil {
		return nil, nil, fmt.Errorf("chart directory %s: %w", dir, err)
	}
	ch, err := cf.load()
	if err != nil {
		return nil, nil, fmt.Errorf("chart directory %s: %w", dir, err)
	}
	if reqs := ch.Metadata.Dependencies; len(reqs) > 0 {
		if err := action.CheckDependencies(ch, reqs); err != nil {
			return nil, nil, fmt.Errorf("chart directory %s: %w (run `helm dependency build %s` and commit %s/charts)", dir, err, dir, dir)
		}
	}
	return cf, &ChartInfo{Name: cf.meta.Name, Version: cf.meta.Version, Source: dir, Digest: digest, KubeVersion: cf.meta.KubeVersion}, nil
}

// valuesFile reads a values file of the config repo; a missing file is empty.
func readValuesFile(fsys fs.FS, file string) ([]byte, map[string]any, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		if errorsIsNotExist(err) {
			return nil, map[string]any{}, nil
		}
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, nil, fmt.Errorf("%s: invalid YAML: %w", file, err)
	}
	if vals == nil {
		vals = map[string]any{}
	}
	return data, vals, nil
}
