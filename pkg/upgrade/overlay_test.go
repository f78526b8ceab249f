package upgrade

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestOverlayFS(t *testing.T) {
	base := fstest.MapFS{
		"addonsync.yaml":         {Data: []byte("repo\n")},
		"addons/a/addon.yaml":    {Data: []byte("version: 1\n")},
		"addons/a/values.yaml":   {Data: []byte("x: 1\n")},
		"clusters/p/cluster.yml": {Data: []byte("p\n")},
	}
	fsys := overlay(base, map[string][]byte{"addons/a/addon.yaml": []byte("version: 2\n"), "addonsync.lock": []byte("lock\n")})
	got := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		got[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"addonsync.yaml": "repo\n", "addonsync.lock": "lock\n", "addons/a/addon.yaml": "version: 2\n",
		"addons/a/values.yaml": "x: 1\n", "clusters/p/cluster.yml": "p\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if err := fstest.TestFS(fsys, "addonsync.lock", "addons/a/addon.yaml", "addons/a/values.yaml", "clusters/p/cluster.yml"); err != nil {
		t.Error(err)
	}
}
