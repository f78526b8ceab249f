package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// chartStore is the content-addressed chart cache: archives on disk under
// <dir>/blobs/sha256/<hex>.tgz, (source, name, version) -> digest references under
// <dir>/refs/<sha256 of the triple>, and decompressed charts in memory by digest.
type chartStore struct {
	dir string

	mu     sync.Mutex
	loaded map[string]*chartFiles // digest -> files
}

// chartFiles is a chart's decompressed files; every render loads a fresh *chart.Chart from
// them, because Helm mutates the chart while it processes dependencies.
type chartFiles struct {
	digest string
	files  []*loader.BufferedFile
	meta   *chart.Metadata
	// crdKinds are the group/version/Kind entries served by the CRDs in the crds/
	// directories of the chart and every sub-chart.
	crdKinds []crdKind
	// crds are the objects of those CRD files, parsed once, by file content (Helm renames
	// a sub-chart to its alias, so the path a render sees may differ). Shared, never changed.
	crds map[string][]*unstructured.Unstructured
	// probesAPIs is true when a template mentions Capabilities.APIVersions.
	probesAPIs bool
}

func newChartStore(dir string) *chartStore {
	return &chartStore{dir: dir, loaded: map[string]*chartFiles{}}
}

// digestOf returns "sha256:<hex>" of data.
func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (s *chartStore) blobPath(digest string) string {
	return filepath.Join(s.dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")+".tgz")
}

func (s *chartStore) refPath(source, name, version string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + name + "\x00" + version))
	return filepath.Join(s.dir, "refs", hex.EncodeToString(sum[:]))
}

// ref returns the digest the cache recorded for a chart version, if any.
func (s *chartStore) ref(source, name, version string) string {
	data, err := os.ReadFile(s.refPath(source, name, version))
	if err != nil {
		return ""
	}
	d := strings.TrimSpace(string(data))
	if !strings.HasPrefix(d, "sha256:") {
		return ""
	}
	return d
}

// get returns the chart with digest from memory or disk; nil when the cache lacks it. A
// cached archive whose bytes no longer match its digest is removed and reported missing.
func (s *chartStore) get(digest string) (*chartFiles, error) {
	s.mu.Lock()
	cf := s.loaded[digest]
	s.mu.Unlock()
	if cf != nil {
		return cf, nil
	}
	p := s.blobPath(digest)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chart cache %s: %w", p, err)
	}
	if digestOf(data) != digest {
		_ = os.Remove(p)
		return nil, nil
	}
	return s.remember(digest, data)
}

// put stores a downloaded archive on disk and records (source, name, version) -> digest.
func (s *chartStore) put(source, name, version string, data []byte) (*chartFiles, error) {
	digest := digestOf(data)
	cf, err := s.remember(digest, data)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(s.blobPath(digest), data); err != nil {
		return nil, fmt.Errorf("chart cache: %w", err)
	}
	if err := writeFileAtomic(s.refPath(source, name, version), []byte(digest+"\n")); err != nil {
		return nil, fmt.Errorf("chart cache: %w", err)
	}
	return cf, nil
}

// remember decompresses an archive and keeps its files in memory.
func (s *chartStore) remember(digest string, data []byte) (*chartFiles, error) {
	files, err := loader.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart archive %s: %w", digest, err)
	}
	return s.rememberFiles(digest, files)
}

func (s *chartStore) rememberFiles(digest string, files []*loader.BufferedFile) (*chartFiles, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cf := s.loaded[digest]; cf != nil {
		return cf, nil
	}
	cf := &chartFiles{digest: digest, files: files}
	ch, err := cf.load()
	if err != nil {
		return nil, err
	}
	cf.meta = ch.Metadata
	cf.crds = map[string][]*unstructured.Unstructured{}
	for _, crd := range ch.CRDObjects() {
		objs, err := parseManifests(string(crd.File.Data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", crd.Filename, err)
		}
		cf.crds[string(crd.File.Data)] = objs
		for _, o := range objs {
			cf.crdKinds = append(cf.crdKinds, crdKindsOf(o)...)
		}
	}
	cf.probesAPIs = probesAPIVersions(ch)
	s.loaded[digest] = cf
	return cf, nil
}

// crdObjects returns the objects of a file of a crds/ directory, parsed once.
func (cf *chartFiles) crdObjects(data []byte) ([]*unstructured.Unstructured, error) {
	if objs, ok := cf.crds[string(data)]; ok {
		return objs, nil
	}
	return parseManifests(string(data))
}

// load returns a fresh chart built from the files.
func (cf *chartFiles) load() (*chart.Chart, error) {
	ch, err := loader.LoadFiles(cf.files)
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	return ch, nil
}

// probesAPIVersions reports whether any template of ch or its sub-charts mentions
// Capabilities.APIVersions.
func probesAPIVersions(ch *chart.Chart) bool {
	for _, t := range ch.Templates {
		if bytes.Contains(t.Data, []byte("APIVersions")) {
			return true
		}
	}
	for _, d := range ch.Dependencies() {
		if probesAPIVersions(d) {
			return true
		}
	}
	return false
}
