package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// RenderedFile is the file an overlay lists in its resources: the objects rendered so far.
const RenderedFile = "rendered.yaml"

// overlay is a kustomize directory of the config repo read into memory, with the
// directories its kustomizations refer to (resources, components, bases) outside it.
type overlay struct {
	dir    string            // path relative to the repo root
	files  map[string][]byte // path relative to the repo root -> content
	digest string            // of paths and contents
}

// readOverlay reads a kustomize directory; nil when the directory does not exist.
func readOverlay(fsys fs.FS, dir string) (*overlay, error) {
	if _, err := fs.Stat(fsys, dir); err != nil {
		if errorsIsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	ov := &overlay{dir: dir, files: map[string][]byte{}}
	queue := []string{dir}
	var read []string
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if covered(read, d) {
			continue
		}
		read = append(read, d)
		refs, err := ov.readDir(fsys, d)
		if err != nil {
			return nil, err
		}
		queue = append(queue, refs...)
	}
	paths := make([]string, 0, len(ov.files))
	for p := range ov.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(ov.files[p]))
		h.Write(ov.files[p])
	}
	ov.digest = hex.EncodeToString(h.Sum(nil))
	return ov, nil
}

// covered reports whether d or a parent of it is among the directories read.
func covered(read []string, d string) bool {
	for _, r := range read {
		if r == d || r == "." || strings.HasPrefix(d, r+"/") {
			return true
		}
	}
	return false
}

// readDir reads the files under d and returns the local directories its kustomizations
// refer to.
func (ov *overlay) readDir(fsys fs.FS, d string) ([]string, error) {
	var refs []string
	err := fs.WalkDir(fsys, d, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ov.files[p] = data
		switch path.Base(p) {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
			r, err := kustomizationRefs(fsys, p, data)
			if err != nil {
				return err
			}
			refs = append(refs, r...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	return refs, nil
}

// kustomizationRefs returns the local directories a kustomization lists in resources,
// components or bases; remote references are left to kustomize (and fail: no network).
func kustomizationRefs(fsys fs.FS, file string, data []byte) ([]string, error) {
	var k struct {
		Resources  []string `json:"resources"`
		Components []string `json:"components"`
		Bases      []string `json:"bases"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []string
	for _, ref := range append(append(k.Resources, k.Components...), k.Bases...) {
		if strings.Contains(ref, "://") || strings.HasPrefix(ref, "github.com/") || path.IsAbs(ref) {
			continue
		}
		p := path.Clean(path.Join(path.Dir(file), ref))
		if p == ".." || strings.HasPrefix(p, "../") {
			return nil, fmt.Errorf("%s: %q is outside the config repo", file, ref)
		}
		if fi, err := fs.Stat(fsys, p); err == nil && fi.IsDir() {
			out = append(out, p)
		}
	}
	return out, nil
}

// build runs kustomize on the overlay; input, when not nil, is written to rendered.yaml first.
func (ov *overlay) build(input []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	mem := filesys.MakeFsInMemory()
	root := "/" + ov.dir
	for rel, data := range ov.files {
		p := path.Join("/", rel)
		if err := mem.MkdirAll(path.Dir(p)); err != nil {
			return nil, err
		}
		if err := mem.WriteFile(p, data); err != nil {
			return nil, err
		}
	}
	if input != nil {
		var buf bytes.Buffer
		for _, o := range input {
			data, err := yaml.Marshal(o.Object)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", Subject(o), err)
			}
			buf.WriteString("---\n")
			buf.Write(data)
		}
		if err := mem.WriteFile(path.Join(root, RenderedFile), buf.Bytes()); err != nil {
			return nil, err
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(mem, root)
	if err != nil {
		hint := ""
		if input != nil && !bytes.Contains(ov.kustomization(), []byte(RenderedFile)) {
			hint = fmt.Sprintf(" (an overlay must list %s in its resources)", RenderedFile)
		}
		return nil, fmt.Errorf("kustomize %s: %w%s", ov.file(), err, hint)
	}
	data, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", ov.file(), err)
	}
	out, err := parseManifests(string(data))
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: output: %w", ov.file(), err)
	}
	return out, nil
}

// file names the overlay's kustomization file, for errors.
func (ov *overlay) file() string {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, ok := ov.files[path.Join(ov.dir, name)]; ok {
			return path.Join(ov.dir, name)
		}
	}
	return ov.dir + " (no kustomization.yaml)"
}

func (ov *overlay) kustomization() []byte {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if data, ok := ov.files[path.Join(ov.dir, name)]; ok {
			return data
		}
	}
	return nil
}
