package upgrade

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/addonsync/addonsync/pkg/config"
	"github.com/addonsync/addonsync/pkg/render"
)

// SetChartVersion returns addon.yaml with spec.chart.version set to version, changing only
// the bytes of that scalar: comments, key order, indentation and quoting are kept. file names
// the file in errors.
func SetChartVersion(file string, data []byte, version string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: parse: %w", file, err)
	}
	node := lookup(&doc, "spec", "chart", "version")
	if node == nil || node.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("%s: spec.chart.version not found: add-on has no chart version to bump", file)
	}
	start, err := offsetOf(data, node.Line, node.Column)
	if err != nil {
		return nil, fmt.Errorf("%s: spec.chart.version: %w", file, err)
	}
	var raw, repl string
	switch node.Style {
	case 0:
		raw, repl = node.Value, version
	case yaml.DoubleQuotedStyle:
		raw, repl = `"`+node.Value+`"`, `"`+version+`"`
	case yaml.SingleQuotedStyle:
		raw, repl = `'`+node.Value+`'`, `'`+version+`'`
	default:
		return nil, fmt.Errorf("%s:%d: spec.chart.version: unsupported scalar style; write it plain or quoted", file, node.Line)
	}
	if !bytes.HasPrefix(data[start:], []byte(raw)) {
		return nil, fmt.Errorf("%s:%d: spec.chart.version: value %q not found at line %d column %d; write it on one line without escapes", file, node.Line, node.Value, node.Line, node.Column)
	}
	out := make([]byte, 0, len(data)+len(repl)-len(raw))
	out = append(out, data[:start]...)
	out = append(out, repl...)
	out = append(out, data[start+len(raw):]...)
	return out, nil
}

// lookup walks mapping keys from a document node.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// offsetOf converts yaml's 1-based line and column (counted in characters) to a byte offset.
func offsetOf(data []byte, line, column int) (int, error) {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return 0, fmt.Errorf("line %d beyond end of file", line)
		}
		off += i + 1
	}
	for c := 1; c < column; c++ {
		if off >= len(data) || data[off] == '\n' {
			return 0, fmt.Errorf("column %d beyond end of line %d", column, line)
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	return off, nil
}

// AddLockEntry returns addonsync.lock with entry added (replacing an entry with the same
// source, name and version), written exactly as render.WriteLock writes it. data may be
// empty when the repo has no lock yet.
func AddLockEntry(data []byte, entry config.LockedChart) ([]byte, error) {
	fsys := fstest.MapFS{}
	if len(data) > 0 {
		fsys[config.LockFile] = &fstest.MapFile{Data: data}
	}
	lock, err := render.LoadLock(fsys)
	if err != nil {
		return nil, err
	}
	render.SetLock(lock, entry.Source, entry.Name, entry.Version, entry.Digest)
	dir, err := os.MkdirTemp("", "addonsync-lock-")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.LockFile, err)
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, config.LockFile)
	if err := render.WriteLock(p, lock); err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
