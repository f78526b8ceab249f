package render

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// WriteYAML writes every object of c as one YAML stream: add-ons in dependsOn order, each
// add-on's objects then its hooks, documents separated by "---" and preceded by a
// "# Source: <addon>/<kind>/<name>" comment (hooks add "# Hook: <events> weight <n>").
// The same Cluster always gives the same bytes.
func WriteYAML(w io.Writer, c *Cluster) error {
	bw := bufio.NewWriter(w)
	for _, a := range c.Addons {
		for _, o := range a.Objects {
			if err := writeDoc(bw, a.Name, o, ""); err != nil {
				return err
			}
		}
		for _, h := range a.Hooks {
			if err := writeDoc(bw, a.Name, h.Object, hookComment(h)); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func hookComment(h Hook) string {
	events := make([]string, len(h.Events))
	for i, e := range h.Events {
		events[i] = e.String()
	}
	return fmt.Sprintf("# Hook: %s weight %d delete-policy %s\n", strings.Join(events, ","), h.Weight, strings.Join(h.DeletePolicies, ","))
}

func writeDoc(w io.Writer, addon string, o *unstructured.Unstructured, comment string) error {
	data, err := yaml.Marshal(o.Object)
	if err != nil {
		return fmt.Errorf("add-on %q: %s: %w", addon, Subject(o), err)
	}
	_, err = fmt.Fprintf(w, "---\n# Source: %s/%s/%s\n%s%s", addon, o.GetKind(), o.GetName(), comment, data)
	return err
}

// WriteDir writes one file per object: <dir>/<addon>/<NN>-<kind>-<namespace>-<name>.yaml
// (no namespace part for cluster-scoped objects), hooks under <dir>/<addon>/hooks/. YAML
// files left in those directories by an earlier render are removed first.
func WriteDir(dir string, c *Cluster) error {
	for _, a := range c.Addons {
		base := filepath.Join(dir, a.Name)
		if err := writeObjects(base, a.Objects, nil); err != nil {
			return fmt.Errorf("add-on %q: %w", a.Name, err)
		}
		hooks := make([]*unstructured.Unstructured, len(a.Hooks))
		comments := make([]string, len(a.Hooks))
		for i, h := range a.Hooks {
			hooks[i], comments[i] = h.Object, hookComment(h)
		}
		if err := writeObjects(filepath.Join(base, "hooks"), hooks, comments); err != nil {
			return fmt.Errorf("add-on %q: hooks: %w", a.Name, err)
		}
	}
	return nil
}

func writeObjects(dir string, objs []*unstructured.Unstructured, comments []string) error {
	if err := removeYAML(dir); err != nil {
		return err
	}
	if len(objs) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	width := max(2, len(fmt.Sprint(len(objs))))
	for i, o := range objs {
		parts := []string{fmt.Sprintf("%0*d", width, i+1), strings.ToLower(o.GetKind())}
		if o.GetNamespace() != "" {
			parts = append(parts, o.GetNamespace())
		}
		parts = append(parts, o.GetName())
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("%s: %w", Subject(o), err)
		}
		if comments != nil {
			data = append([]byte(comments[i]), data...)
		}
		name := strings.ReplaceAll(strings.Join(parts, "-"), string(filepath.Separator), "_") + ".yaml"
		if err := writeObjectFile(filepath.Join(dir, name), data, fileMode(o)); err != nil {
			return err
		}
	}
	return nil
}

// fileMode is 0600 for a Secret (its values may be shown with --show-secrets), else 0644.
func fileMode(o *unstructured.Unstructured) os.FileMode {
	if o.GetKind() == "Secret" && o.GetAPIVersion() == "v1" {
		return 0o600
	}
	return 0o644
}

// writeObjectFile writes data with exactly mode, whatever the umask or an older file had.
func writeObjectFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	merr := f.Chmod(mode) // before the first byte, for a file that existed with another mode
	var werr error
	if merr == nil {
		_, werr = f.Write(data)
	}
	return errors.Join(merr, werr, f.Close())
}

func removeYAML(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Digest is "sha256:<hex>" of the cluster's WriteYAML output: equal digests, equal renders.
func (c *Cluster) Digest() string {
	h := sha256.New()
	if err := WriteYAML(h, c); err != nil {
		return ""
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
