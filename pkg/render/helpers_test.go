package render

import (
	"bytes"
	"io/fs"
	"os"
	"testing"
)

func osDirFS(dir string) fs.FS { return os.DirFS(dir) }

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}

func mustRead(t testing.TB, p string) string {
	t.Helper()
	s, err := readFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func yamlOf(t testing.TB, c *Cluster) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteYAML(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}
