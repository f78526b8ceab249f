package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// RenderedFile is the file an overlay lists in its resources: the objects rendered so far.
const RenderedFile = "rendered.yaml"

// overlay is a kustomize directory of the config repo, read into memory.
type overlay struct {
	dir    string            // path relative to the repo root
	files  map[string][]byte // path relative to dir -> content
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
	h := sha256.New()
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, dir+"/")
		ov.files[rel] = data
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	ov.digest = hex.EncodeToString(h.Sum(nil))
	return ov, nil
}

// build runs kustomize on the overlay; input, when not nil, is written to rendered.yaml first.
func (ov *overlay) build(input []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	mem := filesys.MakeFsInMemory()
	root := "/" + ov.dir
	for rel, data := range ov.files {
		p := path.Join(root, rel)
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
		return nil, fmt.Errorf("kustomize %s: %w%s", ov.dir, err, hint)
	}
	data, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", ov.dir, err)
	}
	out, err := parseManifests(string(data))
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: output: %w", ov.dir, err)
	}
	return out, nil
}

func (ov *overlay) kustomization() []byte {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if data, ok := ov.files[name]; ok {
			return data
		}
	}
	return nil
}
