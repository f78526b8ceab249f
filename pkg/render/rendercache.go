package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/addonsync/addonsync/internal/jsonvalue"
)

// renderCacheMagic is the first line of every render cache entry; the schema version in it
// changes whenever the entry layout does, and entries of another schema are ignored.
const renderCacheMagic = "addonsync-render-cache/v1"

// DefaultRenderCacheMaxBytes bounds the render cache when Options.RenderCacheMaxBytes is 0.
const DefaultRenderCacheMaxBytes = 1 << 30

// renderStore keeps the rendered objects of add-ons on disk, content-addressed by a key
// that covers everything the render depends on (see clusterCacheKey), under
// <CacheDir>/renders/<2 hex>/<key>. An entry is
//
//	addonsync-render-cache/v1
//	sha256:<hex of the payload>
//	<payload length in bytes>
//	<payload>
//
// and the payload a JSON header line (key, add-on, chart, hooks) followed by one line of
// JSON per object, then per hook object. An entry that is truncated, altered, of another
// schema or written for another key is ignored (and later overwritten), never returned.
// Entries hold Secrets as rendered: files are 0600 in 0700 directories.
type renderStore struct {
	dir      string
	maxBytes int64
}

// entryHeader is the first line of an entry's payload.
type entryHeader struct {
	Key       string       `json:"key"`
	Addon     string       `json:"addon"`
	Namespace string       `json:"namespace"`
	Chart     *ChartInfo   `json:"chart,omitempty"`
	Objects   int          `json:"objects"`
	Hooks     []hookHeader `json:"hooks"`
}

type hookHeader struct {
	Events         []HookEvent `json:"events"`
	Weight         int         `json:"weight"`
	DeletePolicies []string    `json:"deletePolicies"`
}

func newRenderStore(dir string, maxBytes int64) *renderStore {
	if maxBytes == 0 {
		maxBytes = DefaultRenderCacheMaxBytes
	}
	return &renderStore{dir: dir, maxBytes: maxBytes}
}

func (s *renderStore) path(key string) string {
	return filepath.Join(s.dir, key[:2], key)
}

// get returns the add-on stored under key; ok is false when there is none or it is not
// intact. Spec is left empty: it comes from the config, not from the render.
func (s *renderStore) get(key string) (a *Addon, ok bool) {
	data, err := os.ReadFile(s.path(key))
	if err != nil {
		return nil, false
	}
	payload, ok := checkEntry(data)
	if !ok {
		return nil, false
	}
	a, err = decodeEntry(key, payload)
	if err != nil {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(s.path(key), now, now) // recently used: kept longest when the cache is trimmed
	return a, true
}

// checkEntry verifies the magic line, the length and the digest, and returns the payload.
func checkEntry(data []byte) ([]byte, bool) {
	lines := bytes.SplitN(data, []byte("\n"), 4)
	if len(lines) != 4 || string(lines[0]) != renderCacheMagic {
		return nil, false
	}
	n, err := strconv.Atoi(string(lines[2]))
	payload := lines[3]
	if err != nil || n != len(payload) {
		return nil, false
	}
	sum := sha256.Sum256(payload)
	if string(lines[1]) != "sha256:"+hex.EncodeToString(sum[:]) {
		return nil, false
	}
	return payload, true
}

// decodeEntry decodes a verified payload; objects are decoded concurrently.
func decodeEntry(key string, payload []byte) (*Addon, error) {
	lines := bytes.Split(payload, []byte("\n"))
	var h entryHeader
	if err := json.Unmarshal(lines[0], &h); err != nil {
		return nil, err
	}
	if h.Key != key || len(lines) != 1+h.Objects+len(h.Hooks) {
		return nil, errors.New("render cache: entry does not match its key")
	}
	objs := make([]*unstructured.Unstructured, h.Objects+len(h.Hooks))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range objs {
		g.Go(func() error {
			m, err := jsonvalue.DecodeObject(lines[1+i])
			if err != nil {
				return fmt.Errorf("render cache: %w", err)
			}
			objs[i] = &unstructured.Unstructured{Object: m}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	a := &Addon{Name: h.Addon, Namespace: h.Namespace, Chart: h.Chart, Objects: objs[:h.Objects:h.Objects]}
	for i, hh := range h.Hooks {
		a.Hooks = append(a.Hooks, Hook{Object: objs[h.Objects+i], Events: hh.Events, Weight: hh.Weight, DeletePolicies: hh.DeletePolicies})
	}
	return a, nil
}

// put stores a rendered add-on under key, atomically (temporary file, then rename).
func (s *renderStore) put(key string, a *Addon) error {
	var payload bytes.Buffer
	h := entryHeader{Key: key, Addon: a.Name, Namespace: a.Namespace, Chart: a.Chart, Objects: len(a.Objects), Hooks: []hookHeader{}}
	for _, hk := range a.Hooks {
		h.Hooks = append(h.Hooks, hookHeader{Events: hk.Events, Weight: hk.Weight, DeletePolicies: hk.DeletePolicies})
	}
	line := func(v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		payload.Write(data)
		return nil
	}
	if err := line(h); err != nil {
		return fmt.Errorf("render cache: add-on %q: %w", a.Name, err)
	}
	objs := slicesConcat(a.Objects, a.Hooks)
	for _, o := range objs {
		payload.WriteByte('\n')
		if err := line(o.Object); err != nil {
			return fmt.Errorf("render cache: add-on %q: %s: %w", a.Name, Subject(o), err)
		}
	}
	sum := sha256.Sum256(payload.Bytes())
	header := fmt.Sprintf("%s\nsha256:%s\n%d\n", renderCacheMagic, hex.EncodeToString(sum[:]), payload.Len())
	return writePrivateFileAtomic(s.path(key), []byte(header), payload.Bytes())
}

func slicesConcat(objs []*unstructured.Unstructured, hooks []Hook) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(objs)+len(hooks))
	out = append(out, objs...)
	for _, h := range hooks {
		out = append(out, h.Object)
	}
	return out
}

// writePrivateFileAtomic writes the chunks to path through a temporary file in the same
// directory, readable by the owner only (0600, directories 0700).
func writePrivateFileAtomic(path string, chunks ...[]byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("render cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*") // CreateTemp creates files 0600
	if err != nil {
		return fmt.Errorf("render cache: %w", err)
	}
	tmp := f.Name()
	var werr error
	for _, c := range chunks {
		if _, werr = f.Write(c); werr != nil {
			break
		}
	}
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("render cache: %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("render cache: %s: %w", path, err)
	}
	return nil
}

// trim removes the least recently used entries (by modification time, which get refreshes)
// until the cache holds at most three quarters of maxBytes; it does nothing while the cache
// is within maxBytes. A negative maxBytes disables trimming.
func (s *renderStore) trim() error {
	if s.maxBytes < 0 {
		return nil
	}
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		files = append(files, file{p, fi.Size(), fi.ModTime()})
		total += fi.Size()
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("render cache %s: %w", s.dir, err)
	}
	if total <= s.maxBytes {
		return nil
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for _, f := range files {
		if total <= s.maxBytes*3/4 {
			break
		}
		if err := os.Remove(f.path); err == nil {
			total -= f.size
		}
	}
	return nil
}
